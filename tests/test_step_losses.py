"""The loss after each update measured beside the training, a group of steps at a time: the
same figures bit for bit, announced at fixed steps, complete in every state, resumable."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from dvzero import SGD, Callback, DeepVisionZeroNet, Trainer, TrainingDiverged, step_losses
from dvzero.networks import MultiLayerNet
from dvzero.step_losses import StepLosses, can_measure_losses_beside, group_size
from dvzero.training import History

from helpers import random_classes


def data(seed=0):
    return random_classes(seed)


class StepRecorder(Callback):
    """Which step each on_step_end names, and how far the training was then."""

    def __init__(self):
        self.steps, self.at = [], []

    def on_train_begin(self, trainer):
        self.trainer = trainer

    def on_step_end(self, step, loss):
        self.steps.append(step)
        self.at.append(self.trainer.next_step)


def trainer_for(beside, steps=90, callbacks=(), network=None, lr=0.5, **options):
    x, t, x_test, t_test = data()
    network = network or DeepVisionZeroNet(12, 8, 4, dtype=np.float32, rng=0)
    return Trainer(network, x, t, x_test, t_test, step_num=steps, batch_size=20,
                   optimizer=SGD(lr), rng=0, callbacks=list(callbacks),
                   measure_beside=beside, **options)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_a_stacked_loss_is_each_networks_own_loss_bit_for_bit(dtype, activation):
    rng = np.random.default_rng(1)
    nets = [DeepVisionZeroNet(30, 9, 5, weight_init_std=0.7, activation=activation,
                              dtype=dtype, rng=k) for k in range(6)]
    for net in nets:
        net.params["b1"] += rng.standard_normal(9).astype(dtype)
    x = rng.random((6, 17, 30)).astype(dtype)
    labels = rng.integers(0, 5, (6, 17))
    stacked = {key: np.stack([net.params[key] for net in nets]) for key in nets[0].params}
    losses = nets[0].stacked_loss(stacked, x, labels)
    assert losses.shape == (6,)
    assert [float(loss) for loss in losses] == [net.loss(x[k], labels[k])
                                                for k, net in enumerate(nets)]


@pytest.mark.parametrize("sampling, batch_size", [("replacement", 20), ("shuffle", 30)])
def test_beside_the_training_the_losses_are_those_measured_in_place(sampling, batch_size):
    # shuffled epochs of 200 images in batches of 30 end on a batch of 20: a group ends there
    def run(beside):
        x, t, x_test, t_test = data()
        trainer = Trainer(DeepVisionZeroNet(12, 8, 4, dtype=np.float32, rng=0), x, t, x_test,
                          t_test, step_num=70, batch_size=batch_size, optimizer=SGD(0.5),
                          rng=0, sampling=sampling, measure_beside=beside)
        return trainer, trainer.run()

    (now_trainer, now), (beside_trainer, beside) = run(False), run(True)
    assert len(beside.train_loss_list) == 70
    assert beside.train_loss_list == now.train_loss_list  # bit for bit
    assert beside.test_acc_list == now.test_acc_list
    for key, value in now_trainer.network.params.items():
        np.testing.assert_array_equal(beside_trainer.network.params[key], value)


def test_each_group_is_announced_when_the_next_is_handed_over(monkeypatch):
    monkeypatch.setattr(step_losses, "GROUP", 4)
    recorder = StepRecorder()
    trainer = trainer_for(True, steps=30, callbacks=[recorder])  # epochs of 10: groups of 2
    assert group_size(trainer.iter_per_epoch) == 2
    trainer.run()
    assert recorder.steps == list(range(30))  # each once, in order
    # steps 0-1 when steps 2-3 are handed over (after step 3), ...; the last at the end
    assert recorder.at == [4, 4, 6, 6, 8, 8, 10, 10, 12, 12, 14, 14, 16, 16, 18, 18, 20, 20,
                           22, 22, 24, 24, 26, 26, 28, 28, 30, 30, 30, 30]
    monkeypatch.setattr(step_losses, "GROUP", 25)
    assert group_size(600) == 25 and group_size(10) == 2 and group_size(3) == 1


def test_the_losses_are_measured_on_another_thread():
    threads, in_place = [], []

    class Watched(DeepVisionZeroNet):
        def stacked_loss(self, params, x, labels):
            threads.append((threading.get_ident(), len(x)))
            return super().stacked_loss(params, x, labels)

        def loss(self, x, t):
            in_place.append(len(x))
            return super().loss(x, t)

    x, t, x_test, t_test = data()
    trainer = Trainer(Watched(12, 8, 4, dtype=np.float32, rng=0), x, t, x_test, t_test,
                      step_num=20, batch_size=20, iter_per_epoch=100,
                      measure_beside=True)  # groups of 25: one of 20 steps
    trainer.run()
    assert [count for _, count in threads] == [20]
    assert all(thread != threading.get_ident() for thread, _ in threads)
    assert in_place == [200]  # only the starting loss, on the training set's 200 images


def test_every_state_saved_mid_group_holds_every_loss_and_the_run_resumes_to_the_same():
    whole_trainer = trainer_for(True)
    whole = StepRecorder()
    whole_trainer.callbacks = [whole]
    reference = whole_trainer.run()
    saved = {}

    class CheckpointThenCrash(Callback):
        def on_train_begin(self, trainer):
            self.trainer = trainer

        def on_step_end(self, step, loss):
            if step == 30:
                saved["state"] = self.trainer.state_dict()
                saved["params"] = {k: v.copy() for k, v in self.trainer.network.params.items()}
                raise RuntimeError("killed")

    first = StepRecorder()
    with pytest.raises(RuntimeError, match="killed"):
        trainer_for(True, callbacks=[first, CheckpointThenCrash()]).run()
    state = saved["state"]
    # announced up to step 30, trained further: every loss up to then is in the state
    assert state["steps_announced"] == 31 < state["next_step"]
    assert len(state["history"]["train_loss_list"]) == state["next_step"]
    assert state["history"]["train_loss_list"] == \
        reference.train_loss_list[:state["next_step"]]

    network = DeepVisionZeroNet(12, 8, 4, dtype=np.float32, rng=0)
    network.params = saved["params"]
    second = StepRecorder()
    trainer = trainer_for(True, callbacks=[second], network=network)
    trainer.load_state_dict(state)
    resumed = trainer.run()
    assert first.steps + second.steps == whole.steps == list(range(90))  # each once
    assert resumed.train_loss_list == reference.train_loss_list
    for key, value in whole_trainer.network.params.items():
        np.testing.assert_array_equal(network.params[key], value)


def test_a_loss_blowing_up_beside_the_training_stops_it_at_the_same_step():
    def diverge(beside):
        trainer = trainer_for(beside, steps=300, lr=1e6)
        with np.errstate(all="ignore"), pytest.raises(TrainingDiverged) as caught:
            trainer.run()
        return caught.value.step, trainer.history.train_loss_list

    (step_now, now), (step_beside, beside) = diverge(False), diverge(True)
    assert step_beside == step_now
    # the losses measured after the blow-up are not kept: the history ends there
    assert len(beside) == step_beside + 1 and beside == now


@pytest.mark.parametrize("key, count", [("steps_announced", 20), ("epochs_announced", 2)])
def test_a_state_without_the_counts_of_announced_steps_and_evaluations_counts_them_all(
        key, count):
    trainer = trainer_for(True, steps=20)
    trainer.run()
    state = trainer.state_dict()
    assert state[key] == count
    del state[key]  # a checkpoint of an older version
    trainer.load_state_dict(state)
    assert getattr(trainer, key) == count
    state[key] = count + 1
    before = trainer.state_dict()
    with pytest.raises(ValueError, match=f"{key} {count + 1} is outside 0..{count}"):
        trainer.load_state_dict(state)
    assert trainer.state_dict() == before  # refused whole: nothing of it taken


def test_settled_steps_are_not_measured_twice():
    calls = []

    class Counted(DeepVisionZeroNet):
        def stacked_loss(self, params, x, labels):
            calls.append(len(x))
            return super().stacked_loss(params, x, labels)

    network = Counted(12, 8, 4, dtype=np.float32, rng=0)
    x, t, *_ = data()
    history = History()
    losses = StepLosses(network, x, t, history, first_step=0, group=5)
    rows = np.arange(20)
    for step in range(3):
        losses.add(step, network.params, rows + step)
    losses.settle()  # here, at once: the three steps of the group being filled
    assert calls == [3] and len(history.train_loss_list) == 3 and losses.announced_by(2) == 0
    for step in range(3, 7):
        losses.add(step, network.params, rows + step)  # the group is full at step 4
    losses.finish()
    assert calls == [3, 2, 2] and len(history.train_loss_list) == 7
    assert [losses.announced_by(step) for step in (4, 8, 9, 14)] == [0, 0, 5, 10]
    expected = [network.loss(x[rows + step], t[rows + step]) for step in range(7)]
    assert history.train_loss_list == expected


def test_only_networks_with_a_stacked_loss_measure_it_beside():
    assert can_measure_losses_beside(DeepVisionZeroNet(4, 3, 2))
    assert not can_measure_losses_beside(MultiLayerNet(4, [3], 2))


class JumpSGD(SGD):
    """SGD whose learning rate jumps 10,000-fold at update ``at``: the loss explodes."""

    def __init__(self, lr, at=80, nan_at=None):
        super().__init__(lr)
        self.updates, self.at, self.nan_at = 0, at, nan_at

    def update(self, params, grads):
        if self.updates == self.at:
            self.lr *= 1e4
        super().update(params, grads)
        if self.updates == self.nan_at:
            params["W2"][0, 0] = np.nan  # a parameter blows up at once
        self.updates += 1


def diverged(beside, iter_per_epoch=100, **sgd):
    x, t, x_test, t_test = data()
    recorder = StepRecorder()
    trainer = Trainer(DeepVisionZeroNet(12, 8, 4, rng=0), x, t, x_test, t_test, step_num=300,
                      batch_size=20, optimizer=JumpSGD(0.5, **sgd), rng=0,
                      iter_per_epoch=iter_per_epoch, measure_beside=beside,
                      callbacks=[recorder])
    with np.errstate(all="ignore"), pytest.raises(TrainingDiverged) as caught:
        trainer.run()
    return str(caught.value), trainer.history, recorder.steps


@pytest.mark.parametrize("sgd, iter_per_epoch, step, epochs", [
    ({"at": 80}, 100, 93, [0]), ({"at": 10**9, "nan_at": 80}, 100, 80, [0]),
    ({"at": 80}, 31, 93, [0, 31, 62]), ({"at": 10**9, "nan_at": 100}, 10, 100, list(
        range(0, 100, 10)))],
    ids=["the loss explodes", "a parameter turns NaN", "the loss explodes at an epoch's step",
         "a parameter is NaN at an epoch's step"])
def test_a_divergence_beside_the_training_is_the_one_in_place(sgd, iter_per_epoch, step,
                                                              epochs):
    # beside the training the blow-up is found later (when the losses are announced, or
    # by the parameters' check at the next epoch): the same step, the same reason, the
    # same history (no evaluation of the step that failed, none after it), the same steps
    # announced before it
    (now_message, now, now_steps), (beside_message, beside, beside_steps) = \
        diverged(False, iter_per_epoch, **sgd), diverged(True, iter_per_epoch, **sgd)
    assert beside_message == now_message and f"at step {step}:" in now_message
    np.testing.assert_array_equal(beside.train_loss_list, now.train_loss_list)  # NaN too
    assert len(now.train_loss_list) == step + 1
    assert beside.epoch_steps == now.epoch_steps == epochs
    assert beside.test_acc_list == now.test_acc_list
    assert beside_steps == now_steps == list(range(step))


def test_a_checkpoint_is_only_called_healthy_when_every_loss_it_holds_passed_its_check():
    from dvzero.divergence import is_healthy
    from dvzero.runs.checkpoints import checkpoint_callback

    x, t, x_test, t_test = data()
    trainer = Trainer(DeepVisionZeroNet(12, 8, 4, rng=0), x, t, x_test, t_test, step_num=300,
                      batch_size=20, optimizer=JumpSGD(0.5), rng=0, iter_per_epoch=100,
                      measure_beside=True)
    saved = []
    trainer.callbacks = [checkpoint_callback(lambda: saved.append(trainer.state_dict()))]
    with np.errstate(all="ignore"), pytest.raises(TrainingDiverged):
        trainer.run()
    for state in saved:  # the explosion from step 80 is in none of them
        losses = state["history"]["train_loss_list"]
        assert is_healthy(losses, state["initial_loss"]) and max(losses, default=0) < 5


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_a_run_cut_short_by_a_callback_keeps_a_whole_history_and_resumes(error):
    class Boom(Callback):
        def on_step_end(self, step, loss):
            if step == 30:
                raise error

    trainer = trainer_for(True, steps=200)
    trainer.callbacks = [Boom()]
    with pytest.raises(error):
        trainer.run()
    assert len(trainer.history.train_loss_list) == trainer.next_step > 31
    assert trainer.steps_announced == 31
    trainer.callbacks = [recorder := StepRecorder()]
    trainer.load_state_dict(trainer.state_dict())
    history = trainer.run()
    assert recorder.steps == list(range(31, 200))  # the rest, each once
    assert history.train_loss_list == trainer_for(False, steps=200).run().train_loss_list


def test_a_checkpoint_file_keeps_how_much_was_announced(tmp_path):
    from dvzero.storage import load_checkpoint, save_checkpoint

    trainer = trainer_for(True, steps=20)
    trainer.run()
    state = {**trainer.state_dict(), "steps_announced": 13, "epochs_announced": 1}
    save_checkpoint(tmp_path / "c.npz", trainer.network.params, state, {})
    _, loaded, _ = load_checkpoint(tmp_path / "c.npz")
    assert (loaded["steps_announced"], loaded["epochs_announced"]) == (13, 1)
    del state["steps_announced"], state["epochs_announced"]  # as older versions wrote
    save_checkpoint(tmp_path / "old.npz", trainer.network.params, state, {})
    _, loaded, _ = load_checkpoint(tmp_path / "old.npz")
    assert "steps_announced" not in loaded and "epochs_announced" not in loaded


def test_a_group_takes_at_most_its_memory():
    assert group_size(600, step_bytes=0) == 25
    assert group_size(600, step_bytes=474_000) == 25  # 784-50-10, batches of 100
    assert group_size(600, step_bytes=13 * 2**20) == 1  # 784-2000-10 in float64: one step
    assert group_size(600, step_bytes=2**20) == 16


def test_a_divergence_keeps_the_evaluations_measured_before_it():
    # a parameter turns NaN at step 149: the evaluation after step 100 (with a validation
    # set) is announced only at step 199 beside the training, but it was measured before
    # the blow-up and stays, as in place
    def run(beside):
        x, t, x_test, t_test = data()
        trainer = Trainer(DeepVisionZeroNet(12, 8, 4, rng=0), x, t, x_test, t_test,
                          step_num=300, batch_size=20,
                          optimizer=JumpSGD(0.5, at=10**9, nan_at=149), rng=0,
                          iter_per_epoch=100, x_val=x_test, t_val=t_test,
                          measure_beside=beside)
        with np.errstate(all="ignore"), pytest.raises(TrainingDiverged, match="step 149"):
            trainer.run()
        return trainer.history

    now, beside = run(False), run(True)
    assert beside.epoch_steps == now.epoch_steps == [0, 100]
    assert beside.test_acc_list == now.test_acc_list
    assert beside.val_acc_list == now.val_acc_list and len(now.val_acc_list) == 2


def test_a_group_that_fails_on_its_thread_files_no_loss_under_another_step():
    # the thread fails once: the error is the run's, and the history keeps only the losses
    # before that group, each at its own step (the next group is not filed in its place)
    class FailsOnce(DeepVisionZeroNet):
        failed = False

        def stacked_loss(self, params, x, labels):
            if threading.current_thread() is not threading.main_thread() and \
                    not FailsOnce.failed:
                FailsOnce.failed = True
                raise MemoryError("no room on the loss thread")
            return super().stacked_loss(params, x, labels)

    whole = trainer_for(False, steps=60).run().train_loss_list
    trainer = trainer_for(True, steps=60, network=FailsOnce(12, 8, 4, dtype=np.float32,
                                                            rng=0))
    with pytest.raises(MemoryError, match="no room"):
        trainer.run()
    kept = trainer.history.train_loss_list
    assert len(kept) < trainer.next_step and kept == whole[:len(kept)]


def test_losses_recorded_again_land_on_their_own_steps():
    # a Ctrl-C between recording a group and forgetting it records it again: no harm
    history = History(train_loss_list=[1.0, 2.0])
    losses = StepLosses(None, None, None, history, first_step=2, group=4)
    losses._record(2, np.array([3.0, 4.0]))
    losses._record(2, np.array([3.0, 4.0]))
    losses._record(3, np.array([4.0, 5.0]))
    assert history.train_loss_list == [1.0, 2.0, 3.0, 4.0, 5.0]
    with pytest.raises(RuntimeError, match="from step 7 on cannot be recorded before"):
        losses._record(7, np.array([8.0]))


@pytest.mark.parametrize("beside", [False, True])
def test_no_checkpoint_holds_a_bad_parameter_and_each_one_loads(beside):
    # a parameter turns infinite while the loss stays finite (a loss that cannot show
    # it); the run stops at the next parameters' check, and every checkpoint saved on the
    # way (here, at every step it may) loads and holds finite parameters only
    from dvzero.runs.checkpoints import checkpoint_callback

    class Blind(DeepVisionZeroNet):
        def loss(self, x, t):
            return 1.0

        def stacked_loss(self, params, x, labels):
            return np.ones(len(x))

    class Inject(SGD):
        updates = 0

        def update(self, params, grads):
            super().update(params, grads)
            if self.updates == 5:
                params["b2"][1] = np.inf
            self.updates += 1

    x, t, *_ = data()

    def trainer():
        return Trainer(Blind(12, 8, 4, dtype=np.float32, rng=0), x, t, x[:20], t[:20],
                       step_num=20, batch_size=10, rng=0, optimizer=Inject(0.1),
                       iter_per_epoch=8, measure_beside=beside)

    saved, first = [], trainer()
    first.callbacks = [checkpoint_callback(lambda: saved.append(
        (first.state_dict(), {k: v.copy() for k, v in first.network.params.items()})),
        every_seconds=0)]
    with np.errstate(all="ignore"), pytest.raises(TrainingDiverged, match="step 8"):
        first.run()
    assert saved
    for state, params in saved:
        assert all(np.isfinite(value).all() for value in params.values())
        trainer().load_state_dict(state)  # refuses a state that does not fit


def test_a_run_resumed_from_any_checkpoint_makes_the_callbacks_of_the_whole_run_in_order():
    # a checkpoint at every callback, a crash at the next one, a resume: the callbacks of
    # the two sessions together are the whole run's, in the same order (the groups are cut
    # by the step count, not where a session started)
    class Crash(Exception):
        pass

    class Events(Callback):
        def __init__(self, save_at=None):
            self.events, self.save_at, self.saved = [], save_at, None

        def on_train_begin(self, trainer):
            self.trainer = trainer

        def hit(self, event):
            self.events.append(event)
            if self.save_at is not None and len(self.events) == self.save_at:
                self.saved = (self.trainer.state_dict(), len(self.events),
                              {k: v.copy() for k, v in self.trainer.network.params.items()})
            elif self.save_at is not None and len(self.events) == self.save_at + 1:
                raise Crash

        def on_step_end(self, step, loss):
            self.hit(("step", step, loss))

        def on_epoch_end(self, epoch, step, train_acc, test_acc):
            self.hit(("epoch", epoch, step, train_acc, test_acc))

    def trainer(callback, params=None):
        network = DeepVisionZeroNet(12, 8, 4, dtype=np.float32, rng=0)
        if params is not None:
            network.params = params
        return trainer_for(True, steps=40, callbacks=[callback], network=network,
                           iter_per_epoch=9)  # groups of 2; evaluations due 8 steps later

    whole = Events()
    trainer(whole).run()
    assert len(whole.events) == 40 + 5
    for save_at in range(1, len(whole.events)):
        first = Events(save_at)
        with pytest.raises(Crash):
            trainer(first).run()
        state, count, params = first.saved
        second = Events()
        resumed = trainer(second, params)
        resumed.load_state_dict(state)
        resumed.run()
        assert first.events[:count] + second.events == whole.events, save_at
