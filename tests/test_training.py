import numpy as np
import pytest

from dvzero import SGD, Callback, DeepVisionZeroNet, Trainer, TrainingDiverged, train
from dvzero.training import default_iter_per_epoch


def tiny_data(rng, n=40, d=6, classes=3):
    x = rng.random((n, d))
    t = rng.integers(0, classes, size=n)
    return x, t, x[:10], t[:10]


class Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_train_begin(self, trainer):
        self.events.append(("begin",))

    def on_epoch_end(self, epoch, step, train_acc, test_acc):
        self.events.append(("epoch", epoch, step))

    def on_step_end(self, step, loss):
        self.events.append(("step", step))

    def on_train_end(self, history):
        self.events.append(("end", len(history.train_loss_list)))


def test_default_iter_per_epoch_is_the_seeds():
    assert default_iter_per_epoch(60000, 100) == 600
    assert default_iter_per_epoch(60000, 128) == 469
    assert default_iter_per_epoch(50, 100) == 1


def test_history_and_callbacks_follow_the_seeds_loop(rng):
    x, t, x_test, t_test = tiny_data(rng)
    network = DeepVisionZeroNet(6, 4, 3, rng=0)
    recorder = Recorder()
    trainer = Trainer(network, x, t, x_test, t_test, step_num=9, batch_size=10,
                      optimizer=SGD(0.1), rng=0, callbacks=[recorder])
    assert trainer.iter_per_epoch == 4
    history = trainer.run()
    assert len(history.train_loss_list) == 9
    assert history.epoch_steps == [0, 4, 8]
    assert len(history.train_acc_list) == len(history.test_acc_list) == 3
    assert recorder.events[0] == ("begin",)
    assert recorder.events[1:4] == [("epoch", 0, 0), ("step", 0), ("step", 1)]
    assert ("epoch", 2, 8) in recorder.events
    assert recorder.events[-1] == ("end", 9)


def test_recorded_loss_is_measured_after_the_update(rng):
    x, t, x_test, t_test = tiny_data(rng)
    network = DeepVisionZeroNet(6, 4, 3, weight_init_std=0.5, rng=0)
    reported = []

    class Spy(Callback):
        def on_step_end(self, step, loss):
            reported.append(loss)

    trainer = Trainer(network, x, t, x_test, t_test, step_num=1, batch_size=10,
                      rng=np.random.default_rng(5), callbacks=[Spy()])
    history = trainer.run()
    batch_mask = np.random.default_rng(5).integers(0, 40, size=10)
    assert history.train_loss_list[0] == network.loss(x[batch_mask], t[batch_mask])
    assert reported == history.train_loss_list


def test_the_accuracy_lists_are_measured_on_the_full_sets(rng):
    x, t, x_test, t_test = tiny_data(rng)
    network = DeepVisionZeroNet(6, 4, 3, weight_init_std=0.5, rng=0)
    history = train(network, x, t, x_test, t_test, step_num=1, batch_size=5, rng=0)
    assert history.train_acc_list == [network.accuracy(x, t)]
    assert history.test_acc_list == [network.accuracy(x_test, t_test)]


def test_same_seed_same_run_bit_for_bit(rng):
    x, t, x_test, t_test = tiny_data(rng)
    runs = []
    for _ in range(2):
        network = DeepVisionZeroNet(6, 4, 3, rng=1, dtype=np.float32)
        history = train(network, x.astype(np.float32), t, x_test, t_test, step_num=20,
                        batch_size=8, rng=2)
        runs.append((network.params, history))
    (p1, h1), (p2, h2) = runs
    for key in p1:
        np.testing.assert_array_equal(p1[key], p2[key])
    assert h1 == h2


def test_without_rng_the_global_np_random_is_used_as_in_the_seed(rng):
    x, t, x_test, t_test = tiny_data(rng)
    losses = []
    for _ in range(2):
        np.random.seed(3)
        network = DeepVisionZeroNet(6, 4, 3)
        losses.append(train(network, x, t, x_test, t_test, step_num=5, batch_size=8)
                      .train_loss_list)
    assert losses[0] == losses[1]


def test_numerical_and_backprop_training_agree(rng):
    x, t, x_test, t_test = tiny_data(rng)
    params = []
    for method in ("backprop", "numerical"):
        network = DeepVisionZeroNet(6, 4, 3, weight_init_std=0.5, rng=1)
        train(network, x, t, x_test, t_test, step_num=3, batch_size=8, rng=2,
              gradient=method, optimizer=SGD(0.5))
        params.append(network.params)
    for key in params[0]:
        np.testing.assert_allclose(params[0][key], params[1][key], atol=1e-8)


def test_a_short_run_on_mnist_clearly_learns(mnist):
    (x_train, t_train), (x_test, t_test) = mnist
    network = DeepVisionZeroNet(784, 50, 10, dtype=np.float32, rng=0)
    history = train(network, x_train[:10000], t_train[:10000], x_test, t_test,
                    step_num=300, batch_size=100, optimizer=SGD(lr=1.0), rng=0,
                    iter_per_epoch=100)
    assert history.test_acc_list[0] < 0.3  # chance level before learning
    assert network.accuracy(x_test, t_test) >= 0.85
    assert np.mean(history.train_loss_list[-50:]) < 0.5 * history.train_loss_list[0]


def test_divergence_stops_training_with_the_step(rng):
    x, t, x_test, t_test = tiny_data(rng)
    network = DeepVisionZeroNet(6, 4, 3, rng=0)
    network.params["W2"][:] = np.nan
    with pytest.raises(TrainingDiverged, match="step 0.*lower learning rate"):
        train(network, x, t, x_test, t_test, step_num=5, batch_size=8, rng=0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"step_num": -1}, "step_num"),
        ({"batch_size": 0}, "batch_size"),
        ({"gradient": "magic"}, "gradient"),
        ({"iter_per_epoch": 0}, "iter_per_epoch"),
    ],
)
def test_bad_options(rng, kwargs, message):
    x, t, x_test, t_test = tiny_data(rng)
    with pytest.raises(ValueError, match=message):
        Trainer(DeepVisionZeroNet(6, 4, 3), x, t, x_test, t_test, **kwargs)


def test_mismatched_or_empty_data(rng):
    x, t, x_test, t_test = tiny_data(rng)
    net = DeepVisionZeroNet(6, 4, 3)
    with pytest.raises(ValueError, match="t_train"):
        Trainer(net, x, t[:5], x_test, t_test)
    with pytest.raises(ValueError, match="t_test"):
        Trainer(net, x, t, x_test, t_test[:5])
    with pytest.raises(ValueError, match="empty"):
        Trainer(net, x[:0], t[:0], x_test, t_test)
