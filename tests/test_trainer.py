import numpy as np
import pytest

from dvzero import SGD, Callback, DeepVisionZeroNet, Trainer, TrainingDiverged, train
from dvzero.training.history import History
from dvzero.training.sampling import default_iter_per_epoch


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
    trainer = Trainer(network, x, t, {"test": (x_test, t_test)}, step_num=9, batch_size=10,
                      optimizer=SGD(0.1), rng=0)
    assert trainer.iter_per_epoch == 4
    history = trainer.run([recorder])
    assert len(history.train_loss_list) == 9
    assert history.epoch_steps == [0, 4, 8]
    assert len(history.train_acc_list) == len(history.test_acc_list) == 3
    assert recorder.events[0] == ("begin",)
    assert recorder.events[1:4] == [("epoch", 0, 0), ("step", 0), ("step", 1)]
    assert ("epoch", 2, 8) in recorder.events
    assert recorder.events[-1] == ("end", 9)


def test_the_history_unpacks_into_the_original_posts_three_lists(rng):
    x, t, x_test, t_test = tiny_data(rng)
    trainer = Trainer(DeepVisionZeroNet(6, 4, 3, rng=0), x, t, {"test": (x_test, t_test)},
                      step_num=5, batch_size=10, rng=0)
    train_loss_list, train_acc_list, test_acc_list = trainer.run()
    history = trainer.history
    assert train_loss_list is history.train_loss_list and len(train_loss_list) == 5
    assert train_acc_list is history.train_acc_list
    assert test_acc_list is history.test_acc_list and len(test_acc_list) == 2


def test_recorded_loss_is_measured_after_the_update(rng):
    x, t, x_test, t_test = tiny_data(rng)
    network = DeepVisionZeroNet(6, 4, 3, weight_init_std=0.5, rng=0)
    reported = []

    class Spy(Callback):
        def on_step_end(self, step, loss):
            reported.append(loss)

    trainer = Trainer(network, x, t, {"test": (x_test, t_test)}, step_num=1, batch_size=10,
                      rng=np.random.default_rng(5))
    history = trainer.run([Spy()])
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
        ({"gradient": "magic"}, "gradient must be one of"),
        ({"lr_schedule": "fast"}, "lr_schedule must be one of"),
        ({"sampling": "fast"}, "sampling must be one of"),
        ({"iter_per_epoch": 0}, "iter_per_epoch"),
    ],
)
def test_bad_options(rng, kwargs, message):
    x, t, x_test, t_test = tiny_data(rng)
    with pytest.raises(ValueError, match=message):
        Trainer(DeepVisionZeroNet(6, 4, 3), x, t, {"test": (x_test, t_test)}, **kwargs)


def test_mismatched_or_empty_data(rng):
    x, t, x_test, t_test = tiny_data(rng)
    net = DeepVisionZeroNet(6, 4, 3)
    with pytest.raises(ValueError, match="t_train"):
        Trainer(net, x, t[:5], {"test": (x_test, t_test)})
    with pytest.raises(ValueError, match=r"evaluate\['test'\] must be \(x, t\) with as many"):
        Trainer(net, x, t, {"test": (x_test, t_test[:5])})
    with pytest.raises(ValueError, match="empty"):
        Trainer(net, x[:0], t[:0], {"test": (x_test, t_test)})
    for evaluate in ((x_test, t_test), {"train": (x, t)}, {"test": (x, t), "other": (x, t)}):
        with pytest.raises(ValueError, match="evaluate must map 'test'"):
            Trainer(net, x, t, evaluate)
    from dvzero import MultiLayerNet

    with pytest.raises(ValueError, match="gradient='structured' needs"):
        Trainer(MultiLayerNet(6, [4], 3), x, t, {"test": (x_test, t_test)},
                gradient="structured")


def run_in_pieces(make_trainer, cut_points):
    """Train with a fresh Trainer (and network) after each cut, carrying only the state."""
    state = params = None
    for cut in [*cut_points, None]:
        trainer = make_trainer()
        if state is not None:
            trainer.network.params = {k: v.copy() for k, v in params.items()}
            trainer.load_state_dict(state)

        class StopAt(Callback):
            def on_train_begin(self, running):
                self.trainer = running

            def on_step_end(self, step, loss, cut=cut):
                if cut is not None and step == cut:
                    self.trainer.request_stop()

        trainer.run([StopAt()])
        assert trainer.stopped == (cut is not None)
        state, params = trainer.state_dict(), trainer.network.params
    return trainer


@pytest.mark.parametrize("seeded", [True, False], ids=["generator", "global-np.random"])
def test_state_dict_resumes_bit_for_bit(rng, seeded):
    x, t, x_test, t_test = tiny_data(rng, n=60)

    def make_trainer():
        network = DeepVisionZeroNet(6, 5, 3, weight_init_std=0.3, rng=4, dtype=np.float32)
        return Trainer(network, x.astype(np.float32), t,
                       {"test": (x_test.astype(np.float32), t_test)}, step_num=50, batch_size=7,
                       optimizer=SGD(0.3), iter_per_epoch=6, rng=9 if seeded else None)

    np.random.seed(21)
    whole = make_trainer()
    whole.run()
    np.random.seed(21)
    pieces = run_in_pieces(make_trainer, [0, 13, 14, 30])
    for key in whole.network.params:
        assert whole.network.params[key].tobytes() == pieces.network.params[key].tobytes()
    assert whole.history == pieces.history
    assert pieces.next_step == 50


def test_request_stop_on_the_last_step_is_a_normal_end(rng):
    x, t, x_test, t_test = tiny_data(rng)
    trainer = Trainer(DeepVisionZeroNet(6, 4, 3), x, t, {"test": (x_test, t_test)}, step_num=3,
                      batch_size=5, rng=0)

    class StopLast(Callback):
        def on_step_end(self, step, loss):
            if step == 2:
                trainer.request_stop()

    trainer.run([StopLast()])
    assert not trainer.stopped and trainer.next_step == 3


def test_load_state_dict_checks_consistency(rng):
    x, t, x_test, t_test = tiny_data(rng)
    trainer = Trainer(DeepVisionZeroNet(6, 4, 3), x, t, {"test": (x_test, t_test)}, step_num=5,
                      batch_size=5, rng=0)
    trainer.run()
    state = trainer.state_dict()
    fresh = Trainer(DeepVisionZeroNet(6, 4, 3), x, t, {"test": (x_test, t_test)}, step_num=4,
                    batch_size=5, rng=0)
    with pytest.raises(ValueError, match="outside 0..4"):
        fresh.load_state_dict(state)
    state["history"]["train_loss_list"].pop()
    longer = Trainer(DeepVisionZeroNet(6, 4, 3), x, t, {"test": (x_test, t_test)}, step_num=9,
                     batch_size=5, rng=0)
    with pytest.raises(ValueError, match="4 losses but the state says 5"):
        longer.load_state_dict(state)


def test_an_exploding_loss_is_divergence(mnist):
    (x_train, t_train), (x_test, t_test) = mnist
    network = DeepVisionZeroNet(784, 50, 10, dtype=np.float32, rng=0)
    trainer = Trainer(network, x_train[:2000], t_train[:2000],
                      {"test": (x_test[:200], t_test[:200])}, step_num=300, batch_size=100,
                      optimizer=SGD(lr=1e6), rng=0)
    with np.errstate(all="ignore"), pytest.raises(TrainingDiverged,
                                                  match="averaged .* more than 2 times"):
        trainer.run()
    assert 9 <= len(trainer.history.train_loss_list) - 1 < 100
    assert trainer.initial_loss == pytest.approx(np.log(10), rel=0.01)


def test_a_large_but_workable_learning_rate_is_not_divergence(mnist):
    (x_train, t_train), (x_test, t_test) = mnist
    network = DeepVisionZeroNet(784, 50, 10, dtype=np.float32, rng=0)
    # lr 10 makes the first steps jump about (loss 3.6 once) but it learns: no false alarm.
    history = train(network, x_train[:5000], t_train[:5000], x_test[:500], t_test[:500],
                    step_num=300, batch_size=100, optimizer=SGD(lr=10.0), rng=0,
                    iter_per_epoch=1000)
    assert len(history.train_loss_list) == 300


def test_non_finite_parameters_are_divergence(rng):
    """A parameter gone NaN is caught at the next evaluation even if the loss hid it."""
    x, t, x_test, t_test = tiny_data(rng)

    class LossHidesIt(DeepVisionZeroNet):
        def loss(self, x, t):
            return 1.0

    network = LossHidesIt(6, 4, 3, rng=0)
    network.params["b2"][1] = np.nan
    with np.errstate(all="ignore"), pytest.raises(TrainingDiverged,
                                                  match=r"step 0: parameter \w+ holds NaN"):
        train(network, x, t, x_test, t_test, step_num=5, batch_size=8, rng=0)


@pytest.mark.parametrize("bit_generator", [np.random.PCG64, np.random.MT19937, np.random.Philox])
def test_state_dict_is_plain_json_for_any_bit_generator(rng, bit_generator):
    import json

    x, t, x_test, t_test = tiny_data(rng)

    def make_trainer():
        return Trainer(DeepVisionZeroNet(6, 4, 3, rng=0), x, t, {"test": (x_test, t_test)},
                       step_num=8, batch_size=5, rng=np.random.Generator(bit_generator(5)))

    whole = make_trainer()
    whole.run()
    first = make_trainer()
    first.step_num = 3
    first.run()
    state = json.loads(json.dumps(first.state_dict()))  # what a checkpoint header holds
    second = make_trainer()
    second.network.params = first.network.params
    second.load_state_dict(state)
    second.run()
    assert second.history == whole.history


# ------------------------------------------------------------------ beyond the original post


def test_a_schedule_sets_the_learning_rate_before_each_update(rng):
    from dvzero.optimizers import scheduled_lr

    x, t, x_test, t_test = tiny_data(rng)
    seen = []

    class Spy(SGD):
        def update(self, params, grads):
            seen.append(self.lr)
            super().update(params, grads)

    Trainer(DeepVisionZeroNet(6, 4, 3, rng=0), x, t, {"test": (x_test, t_test)}, step_num=8,
            batch_size=5, optimizer=Spy(0.4), lr_schedule="cosine", rng=0).run()
    assert seen == [scheduled_lr("cosine", 0.4, step, 8) for step in range(8)]
    assert seen[0] == 0.4 and seen[-1] < 0.02


@pytest.mark.parametrize("after_update", [False, True])
def test_a_network_says_which_loss_is_recorded(rng, after_update):
    """The deeper networks record the loss of the forward pass that gave the gradient
    (free); set on the network, the original post's loss after the update instead."""
    from dvzero import MultiLayerNet

    x, t, x_test, t_test = tiny_data(rng)
    network = MultiLayerNet(6, [5], 3, use_dropout=True, rng=0)
    assert not network.loss_after_update and DeepVisionZeroNet.loss_after_update
    network.loss_after_update = after_update
    losses = []

    class Spy(Callback):
        def on_step_end(self, step, loss):
            after = network.loss(x_batch, t_batch)
            losses.append((loss, after if after_update else network.last_loss))

    x_batch, t_batch = x, t  # batches as large as the set: the loss after is computable
    Trainer(network, x, t, {"test": (x_test, t_test)}, step_num=4, batch_size=40,
            optimizer=SGD(0.1), rng=1, sampling="shuffle").run([Spy()])
    assert len(losses) == 4 and all(recorded == expected for recorded, expected in losses)


def test_a_fixed_evaluation_sample_and_a_validation_set(rng):
    from dvzero.training.sampling import fixed_sample

    x, t, x_test, t_test = tiny_data(rng, n=60)
    x_val, t_val = x[:12], t[:12]
    sample = fixed_sample(x, t, 8, np.random.default_rng(0))
    network = DeepVisionZeroNet(6, 4, 3, rng=0)
    trainer = Trainer(network, x, t, {"val": (x_val, t_val), "train": sample,
                                      "test": (x_test, t_test)}, step_num=7, batch_size=10, rng=0)
    assert [name for name, _, _ in trainer.eval_sets] == ["train", "test", "val"]
    assert all(any(np.array_equal(row, original) for original in x) for row in sample[0])
    history = trainer.run()
    assert len(history.val_acc_list) == len(history.test_acc_list) == 2
    assert history.val_acc_list[-1] == network.accuracy(x_val, t_val)
    assert history.train_acc_list[-1] == network.accuracy(*sample)


@pytest.mark.parametrize("beside", [False, True])
def test_a_validation_set_alone_leaves_the_test_set_unmeasured(rng, beside):
    """A search's trial: train and val each epoch, no test accuracy anywhere."""
    x, t, _x_test, _t_test = tiny_data(rng, n=60)
    told = []

    class Told(Callback):
        def on_epoch_end(self, epoch, step, train_acc, test_acc):
            told.append((step, train_acc, test_acc))

    network = DeepVisionZeroNet(6, 4, 3, rng=0)
    trainer = Trainer(network, x[12:], t[12:], {"val": (x[:12], t[:12])}, step_num=6,
                      batch_size=10, rng=0)
    assert [name for name, _, _ in trainer.eval_sets] == ["train", "val"]
    history = trainer.run([Told()], beside=beside)
    assert history.epoch_steps == [0, 5] and history.test_acc_list == []
    assert len(history.train_acc_list) == len(history.val_acc_list) == 2
    assert history.val_acc_list[-1] == network.accuracy(x[:12], t[:12])
    assert told == [(0, history.train_acc_list[0], None), (5, history.train_acc_list[1], None)]
    assert "2 evaluations, last train acc" in repr(history) and "test acc" not in repr(history)
    assert trainer.history == History.from_state(trainer.state_dict()["history"])
    with pytest.raises(ValueError, match="evaluate must map 'test' or 'val'"):
        Trainer(network, x, t, {"train": (x, t)})


def test_state_dict_resumes_any_network_and_optimizer_bit_for_bit(rng):
    from dvzero import Adam, MultiLayerNet

    x, t, x_test, t_test = tiny_data(rng, n=80)

    def make():
        network = MultiLayerNet(6, [8, 8], 3, use_dropout=True, use_batchnorm=True, rng=3)
        return Trainer(network, x, t, {"test": (x_test, t_test)}, step_num=30, batch_size=7,
                       optimizer=Adam(0.01), rng=4, sampling="shuffle", lr_schedule="step")

    whole = make()
    whole.run()
    first = make()

    class StopAt12(Callback):
        def on_step_end(self, step, loss):
            if step == 12:
                first.request_stop()

    first.run([StopAt12()])
    assert first.stopped and first.next_step == 13
    state = first.state_dict()
    params = {key: value.copy() for key, value in first.network.params.items()}
    second = make()
    second.network.params = params
    second.load_state_dict(state)
    second.run()
    for key, value in whole.network.params.items():
        np.testing.assert_array_equal(second.network.params[key], value)
    assert second.history.train_loss_list == whole.history.train_loss_list


@pytest.mark.parametrize("seed, batch_size", [(0, 8), (12345, 8), (7, 40), (3, 100)])
def test_the_original_posts_sampling_is_pinned(rng, seed, batch_size):
    """rng=None draws each batch as the original post does, np.random.choice(n, b) with
    replacement (also when the batch is larger than the training set, n = 40): the loss
    recorded is that of exactly that batch, after the update."""
    x, t, x_test, t_test = tiny_data(rng)
    network = DeepVisionZeroNet(6, 4, 3, rng=1)
    start = {key: value.copy() for key, value in network.params.items()}
    np.random.seed(seed)
    history = train(network, x, t, x_test, t_test, step_num=1, batch_size=batch_size,
                    optimizer=SGD(0.1), rng=None)

    np.random.seed(seed)
    batch = np.random.choice(len(x), batch_size)  # the original post's line
    expected = DeepVisionZeroNet(6, 4, 3, rng=1)
    expected.params.update({key: value.copy() for key, value in start.items()})
    for key, grad in expected.gradient(x[batch], t[batch]).items():
        expected.params[key] -= 0.1 * grad
    assert history.train_loss_list == [expected.loss(x[batch], t[batch])]
    for key in start:
        np.testing.assert_array_equal(network.params[key], expected.params[key])


@pytest.mark.parametrize("beside", [False, True])
def test_a_callback_failing_at_the_start_changes_nothing(beside):
    class Refuses(Callback):
        def on_train_begin(self, trainer):
            raise RuntimeError("not now")

    x, t = np.random.default_rng(0).random((60, 12)).astype(np.float32), np.arange(60) % 4

    def make():
        return Trainer(DeepVisionZeroNet(12, 8, 4, dtype=np.float32, rng=0), x, t,
                       {"test": (x, t)}, step_num=20, batch_size=10, rng=0)

    trainer = make()
    with pytest.raises(RuntimeError, match="not now"):
        trainer.run([Refuses()], beside=beside)
    assert trainer.next_step == 0 and trainer.history == make().history
    assert trainer.run(beside=beside) == make().run()  # and it can run afterwards
