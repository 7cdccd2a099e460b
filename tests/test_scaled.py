"""Images kept as bytes: read exactly as load_mnist(normalize=True) reads them, and a run
that keeps them so trains bit for bit as one on the float arrays."""

from __future__ import annotations

import numpy as np
import pytest

from dvzero import DeepVisionZeroNet, Trainer
from dvzero.data.scaled import ScaledImages
from dvzero.networks import SimpleConvNet


@pytest.fixture(scope="module")
def pixels(mnist_raw):
    x_train, t_train, x_test, t_test = mnist_raw
    return (x_train[:3000].reshape(3000, 784), t_train[:3000],
            x_test[:1000].reshape(1000, 784), t_test[:1000])


def normalized(pixels: np.ndarray, dtype=np.float32) -> np.ndarray:
    """What load_mnist(normalize=True) computes, then the cast a run makes."""
    return (pixels / np.float32(255.0)).astype(np.float32).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rows_read_as_the_normalised_floats(pixels, dtype):
    x = pixels[0]
    images = ScaledImages(x, dtype)
    assert len(images) == len(x) and images.shape == x.shape and images.ndim == 2
    assert images.size == x.size and images.nbytes == x.nbytes and images.dtype == dtype
    rows = np.array([5, 0, 2999, 5])
    np.testing.assert_array_equal(images[rows], normalized(x[rows], dtype))
    np.testing.assert_array_equal(images[10:20], normalized(x[10:20], dtype))
    assert images[7].shape == (784,) and images[7].dtype == dtype
    np.testing.assert_array_equal(np.asarray(images), normalized(x, dtype))
    kept = images.take(rows)
    assert isinstance(kept, ScaledImages)
    np.testing.assert_array_equal(kept[:], normalized(x[rows], dtype))


def test_only_bytes_and_floats(pixels):
    with pytest.raises(ValueError, match="uint8 pixels"):
        ScaledImages(pixels[0].astype(np.float32))
    with pytest.raises(ValueError, match="float dtype"):
        ScaledImages(pixels[0], np.int32)


def test_accuracy_on_bytes_is_accuracy_on_floats(pixels):
    x_train, t_train, x_test, t_test = pixels
    network = DeepVisionZeroNet(784, 30, 10, rng=0)
    Trainer(network, normalized(x_train), t_train, {"test": (normalized(x_test), t_test)},
            step_num=200, rng=0).run()
    for batch_size in (7, 2000):
        assert network.accuracy(ScaledImages(x_test), t_test, batch_size) == \
            network.accuracy(normalized(x_test), t_test, batch_size)
    cnn = SimpleConvNet(rng=0)
    images = x_test[:300].reshape(300, 1, 28, 28)
    assert cnn.accuracy(ScaledImages(images), t_test[:300], batch_size=64) == \
        cnn.accuracy(normalized(images), t_test[:300])
    with pytest.raises(ValueError):
        network.accuracy(ScaledImages(x_test), t_test[:10])


def test_training_on_bytes_is_training_on_floats_bit_for_bit(pixels):
    x_train, t_train, x_test, t_test = pixels
    results = []
    for x, x_t in ((ScaledImages(x_train), ScaledImages(x_test)),
                   (normalized(x_train), normalized(x_test))):
        network = DeepVisionZeroNet(784, 20, 10, rng=1)
        history = Trainer(network, x, t_train, {"test": (x_t, t_test)}, step_num=150,
                          iter_per_epoch=50, rng=2).run()
        results.append((network.params, history))
    (bytes_params, bytes_history), (float_params, float_history) = results
    for key in float_params:
        np.testing.assert_array_equal(bytes_params[key], float_params[key])
    assert bytes_history.train_loss_list == float_history.train_loss_list
    assert bytes_history.test_acc_list == float_history.test_acc_list


def test_a_released_trainer_refuses_to_run(pixels):
    x_train, t_train, x_test, t_test = pixels
    trainer = Trainer(DeepVisionZeroNet(784, 5, 10, rng=0), ScaledImages(x_train), t_train,
                      {"test": (ScaledImages(x_test), t_test)}, step_num=2)
    trainer.run()
    trainer.release_training_data()
    assert trainer.x_train is None and [name for name, *_ in trainer.eval_sets] == ["test"]
    with pytest.raises(RuntimeError, match="released"):
        trainer.run()


def test_a_run_keeps_mnist_as_bytes(tmp_path, small_mnist_dir):
    from dvzero.runs import Run

    run = Run.start({"steps": 3, "seed": 1, "data_dir": str(small_mnist_dir)},
                    tmp_path / "run")
    run.load_data()
    assert isinstance(run.trainer.x_train, ScaledImages)
    assert run.trainer.x_train.pixels.dtype == np.uint8
    assert run.trainer.x_train.nbytes == 2000 * 784  # a quarter of float32
    run.train([])
    summary = run.finish()
    assert run.trainer.x_train is None  # released once the summary had its accuracies
    assert 0 <= summary["train_acc"] <= 1
