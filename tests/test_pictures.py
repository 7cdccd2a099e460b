"""Pictures of a run (confusion matrix, mistakes, first-layer weights), dvzero plot and
dvzero data."""

import json

import numpy as np
import pytest
from matplotlib.image import imread

from dvzero.cli import main
from dvzero.networks import DeepVisionZeroNet, SimpleConvNet
from dvzero.runs.pictures import (
    TEST_PICTURES,
    confusion_matrix,
    draw_test_pictures,
    first_layer_images,
)


def test_the_confusion_matrix_counts_each_pair(rng):
    labels = rng.integers(0, 4, 200)
    predicted = np.where(rng.random(200) < 0.7, labels, rng.integers(0, 4, 200))
    expected = np.zeros((4, 4), dtype=int)
    for true, guess in zip(labels, predicted, strict=True):
        expected[true, guess] += 1
    matrix = confusion_matrix(labels, predicted, 4)
    np.testing.assert_array_equal(matrix, expected)
    assert matrix.sum() == 200 and np.trace(matrix) == np.sum(labels == predicted)


def test_first_layer_images_are_the_weights_of_each_unit_or_filter():
    network = DeepVisionZeroNet(784, 12, 10, rng=0)
    images, what = first_layer_images(network)
    assert images.shape == (12, 28, 28) and what == "the input weights of its 12 hidden units"
    np.testing.assert_array_equal(images[3].ravel(), network.params["W1"][:, 3])
    wide = DeepVisionZeroNet(784, 130, 10, rng=0)
    assert first_layer_images(wide)[0].shape == (100, 28, 28)
    assert "the first 100 of its 130" in first_layer_images(wide)[1]
    conv = SimpleConvNet(rng=0)
    images, what = first_layer_images(conv)
    assert images.shape == (30, 5, 5) and "30 filters" in what
    assert first_layer_images(DeepVisionZeroNet(20, 5, 3, rng=0)) is None  # not square


def not_blank(path, width_at_least=300):
    image = imread(path)
    assert image.shape[1] >= width_at_least and image.shape[0] >= 200
    return image[..., :3].std() > 0.05


def test_test_pictures_of_a_network(mnist, tmp_path):
    (_, _), (x_test, t_test) = mnist
    network = DeepVisionZeroNet(784, 20, 10, dtype=np.float32, rng=0)  # untrained: many wrong
    written = draw_test_pictures(tmp_path, network, x_test[:300], t_test[:300], "t")
    assert written == list(TEST_PICTURES)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(TEST_PICTURES)
    assert all(not_blank(tmp_path / name) for name in TEST_PICTURES)
    # inputs that are not square images: the confusion matrix only
    small = DeepVisionZeroNet(20, 5, 10, rng=0)
    other = tmp_path / "other"
    other.mkdir()
    x = np.random.default_rng(0).random((50, 20))
    assert draw_test_pictures(other, small, x, np.arange(50) % 10, "t") == ["confusion.png"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, small_mnist_dir):
    out = tmp_path_factory.mktemp("run") / "run"
    assert main(["train", "--data-dir", str(small_mnist_dir), "--steps", "150", "--seed", "2",
                 "--out", str(out), "--no-progress"]) == 0
    return out


def test_train_writes_the_pictures(run_dir):
    for name in ("accuracy.png", "loss.png", *TEST_PICTURES):
        assert not_blank(run_dir / name), name


def test_plot_draws_every_picture_again(run_dir, capsys):
    capsys.readouterr()
    names = ["accuracy.png", "loss.png", *TEST_PICTURES]
    for name in names:
        (run_dir / name).unlink()
    assert main(["plot", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == f"wrote {run_dir}/: {', '.join(names)}"
    assert f"data: {json.loads((run_dir / 'summary.json').read_text())['config']['data_dir']}" \
        in out  # the run's own data, not the shipped MNIST
    for name in names:
        assert not_blank(run_dir / name), name


def test_plot_replaces_a_run_s_pictures_only_with_force(run_dir, capsys):
    before = {name: (run_dir / name).read_bytes() for name in ("accuracy.png", "loss.png")}
    assert main(["plot", str(run_dir)]) == 2
    assert capsys.readouterr().err == (
        f"dvzero plot: error: {run_dir} already has accuracy.png, loss.png, confusion.png, "
        f"mistakes.png and weights.png; add --force to draw them again\n")
    assert {name: (run_dir / name).read_bytes() for name in before} == before
    assert main(["plot", str(run_dir), "--force"]) == 0


@pytest.fixture
def accuracy_figures(monkeypatch):
    """The figures of the accuracy curves drawn during a test, in the order drawn."""
    from dvzero import plotting

    drawn, plot_accuracy = [], plotting.plot_accuracy
    monkeypatch.setattr(plotting, "plot_accuracy",
                        lambda *args, **kwargs: drawn.append(plot_accuracy(*args, **kwargs)))
    return drawn


def accuracy_lines(figure) -> dict[str, np.ndarray]:
    """The lines of an accuracy plot by name (``train``, ``test``, ``val``): their (x, y)."""
    return {line.get_label().split()[0]: line.get_xydata() for line in figure.axes[0].lines}


def test_the_curves_of_a_one_epoch_run_reach_its_final_accuracies(tmp_path, small_mnist_dir,
                                                                   accuracy_figures):
    out = tmp_path / "one-epoch"
    # 1,800 training images (200 kept to validate) in batches of 100: 18 steps, one epoch
    assert main(["train", "--data-dir", str(small_mnist_dir), "--epochs", "1", "--batch-size",
                 "100", "--val-split", "0.1", "--seed", "3", "--out", str(out),
                 "--no-progress"]) == 0
    assert main(["plot", str(out), "--force"]) == 0  # drawn again from the run's files
    summary = json.loads((out / "summary.json").read_text())
    assert summary["epoch_steps"] == [0]  # one point measured: alone, it would draw no line
    assert len(accuracy_figures) == 2
    for figure in accuracy_figures:
        lines = accuracy_lines(figure)
        assert sorted(lines) == ["test", "train", "val"]
        for name, points in lines.items():
            np.testing.assert_array_equal(points, [[0, summary[f"{name}_acc_list"][0]],
                                                   [1, summary[f"{name}_acc"]]])
        assert figure.axes[0].get_xlim()[1] >= 1


def test_the_curves_end_where_the_run_ended(tmp_path, accuracy_figures):
    from dvzero.runs.pictures import draw_curves

    epochs = [0.1 + 0.05 * epoch for epoch in range(17)]
    summary = {"train_acc_list": epochs, "test_acc_list": epochs, "train_acc": 0.9464,
               "test_acc": 0.9452, "config": {"steps": 10000, "iter_per_epoch": 600}}
    assert draw_curves(tmp_path, summary, [2.3, 0.5], "t") == ["accuracy.png", "loss.png"]
    test = accuracy_lines(accuracy_figures[0])["test"]
    assert test[:-1, 0].tolist() == list(range(17))  # the epochs, as the original post's
    assert test[-1].tolist() == [pytest.approx(10000 / 600), 0.9452]  # and the end
    # a summary that does not say how long the run was (an older dvzero's): the epochs alone
    del summary["config"]
    draw_curves(tmp_path, summary, [2.3, 0.5], "t")
    assert accuracy_lines(accuracy_figures[1])["test"].tolist() == [
        [epoch, value] for epoch, value in enumerate(epochs)]


def test_plot_of_a_convolutional_run_draws_its_filters(tmp_path, small_mnist_dir, capsys):
    out = tmp_path / "cnn"
    assert main(["train", "--net", "cnn", "--data-dir", str(small_mnist_dir), "--steps", "20",
                 "--out", str(out), "--no-progress"]) == 0
    (out / "weights.png").unlink()
    (out / "filters.png").unlink()
    assert main(["plot", str(out), "--force"]) == 0  # the other pictures are still there
    assert not_blank(out / "weights.png") and not_blank(out / "filters.png")
    assert "filters.png" in capsys.readouterr().out
    # the "before" filters are the run's own start: 20 Adam steps of 0.001 moved them little
    from dvzero.networks import load_network
    from dvzero.runs.pictures import starting_filters

    seed = json.loads((out / "summary.json").read_text())["config"]["seed"]
    trained = load_network(out / "params.npz")
    start = starting_filters(trained, seed)
    assert 0 < np.abs(trained.params["W1"] - start).max() < 0.05 < np.abs(start).max()
    other = starting_filters(trained, seed + 1)
    assert np.abs(trained.params["W1"] - other).max() > 0.2


def test_plot_refuses_what_is_not_a_finished_run(tmp_path, capsys):
    assert main(["plot", str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err.startswith("dvzero plot: error: ")


def test_data_draws_samples_of_each_class_with_counts(small_mnist_dir, mnist_raw, tmp_path,
                                                      capsys):
    out = tmp_path / "digits.png"
    assert main(["data", "--data-dir", str(small_mnist_dir), "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    counts = np.bincount(mnist_raw[1][:2000], minlength=10)
    assert printed[0] == f"{small_mnist_dir}: 2,000 training images"
    assert printed[1] == "  " + ", ".join(f"{d}: {n:,}" for d, n in enumerate(counts))
    assert printed[2] == f"wrote {out}"
    assert not_blank(out, width_at_least=600)


def test_data_refuses_an_out_file_it_could_not_write(tmp_path, capsys):
    assert main(["data", "--out", str(tmp_path / "digits.jpg")]) == 2
    assert main(["data", "--out", str(tmp_path / "missing" / "digits.png")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("dvzero data: error: --out ") and "ending in .png" in err[0]
    assert "does not exist" in err[1]
    assert list(tmp_path.iterdir()) == []


def test_plot_says_which_file_of_a_run_is_broken(run_dir, tmp_path, capsys):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(run_dir, broken)
    (broken / "metrics.csv").write_text("step,loss\n0,abc\n")
    assert main(["plot", str(broken), "--force"]) == 2
    assert f"{broken / 'metrics.csv'}: not a dvzero metrics file" in capsys.readouterr().err
    summary = json.loads((broken / "summary.json").read_text())
    del summary["train_acc_list"]
    (broken / "summary.json").write_text(json.dumps(summary))
    assert main(["plot", str(broken), "--force"]) == 2
    assert f"{broken / 'summary.json'}: not a dvzero run summary" in capsys.readouterr().err


def test_plot_takes_other_data_when_the_run_s_is_gone(run_dir, tmp_path, small_mnist_dir,
                                                      capsys):
    import shutil

    moved = tmp_path / "moved"
    shutil.copytree(run_dir, moved)
    summary = json.loads((moved / "summary.json").read_text())
    summary["config"]["data_dir"] = str(tmp_path / "gone")
    (moved / "summary.json").write_text(json.dumps(summary))
    assert main(["plot", str(moved), "--force"]) == 2
    assert "name its data with --data-dir" in capsys.readouterr().err
    assert main(["plot", str(moved), "--data-dir", str(small_mnist_dir), "--force"]) == 0
    assert f"data: {small_mnist_dir}" in capsys.readouterr().out


def test_predictions_stay_within_the_network_s_memory_budget():
    from dvzero.runs.pictures import predicted_labels

    class Counting:
        def eval_batch_size(self, most):
            return min(most, 7)  # its memory budget: 7 samples a call

        def __init__(self):
            self.sizes = []

        def predict(self, x):
            self.sizes.append(len(x))
            return np.eye(10)[x[:, 0].astype(int) % 10]  # the digit each row names

    network = Counting()
    labels = predicted_labels(network, np.repeat(np.arange(30.0)[:, None], 4, axis=1))
    assert network.sizes == [7, 7, 7, 7, 2]
    np.testing.assert_array_equal(labels, np.arange(30) % 10)
