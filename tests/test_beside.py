"""Measuring beside the training: the figures measured in place, bit for bit; the same
callbacks in the same order, an epoch later and always at the same steps; every state
saved during a run complete; failures reported as in place."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from dvzero import SGD, Callback, DeepVisionZeroNet, MultiLayerNet, Trainer, TrainingDiverged
from dvzero.training.divergence import is_healthy

from helpers import random_classes


class Recorder(Callback):
    """Every callback, with the step the training had reached when it came."""

    def __init__(self):
        self.events = []

    def on_train_begin(self, trainer):
        self.trainer = trainer

    def on_epoch_end(self, epoch, step, train_acc, test_acc):
        self.events.append(("epoch", epoch, step, train_acc, test_acc, self.trainer.next_step))

    def on_step_end(self, step, loss):
        self.events.append(("step", step, loss, self.trainer.next_step))

    def sequence(self):
        """The callbacks without when they came."""
        return [event[:-1] for event in self.events]


def make(network=None, steps=70, lr=0.5, evaluate_val=False, **options):
    x, t, x_test, t_test = random_classes()
    network = network or DeepVisionZeroNet(12, 8, 4, dtype=np.float32, rng=0)
    evaluate = {"test": (x_test, t_test), **({"val": (x[:30], t[:30])} if evaluate_val else {})}
    return Trainer(network, x, t, evaluate, step_num=steps, batch_size=options.pop("batch", 20),
                   optimizer=options.pop("optimizer", SGD(lr)), rng=0, **options)


def params_of(trainer):
    return {key: value.copy() for key, value in trainer.network.params.items()}


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


@pytest.mark.parametrize("sampling, batch, iter_per_epoch, val", [
    ("replacement", 20, None, False), ("shuffle", 30, None, True), ("replacement", 20, 3, True),
    ("replacement", 20, 200, False)])
def test_beside_the_figures_and_the_callbacks_are_those_in_place(sampling, batch,
                                                                 iter_per_epoch, val):
    # shuffled epochs of 200 samples in batches of 30 end on a batch of 20: a group ends there
    runs = []
    for beside in (False, True):
        trainer = make(sampling=sampling, batch=batch, iter_per_epoch=iter_per_epoch,
                       evaluate_val=val)
        recorder = Recorder()
        history = trainer.run([recorder], beside=beside)
        runs.append((history, params_of(trainer), recorder))
    (now, now_params, now_calls), (later, later_params, later_calls) = runs
    assert later == now and len(now.train_loss_list) == 70
    assert len(later.val_acc_list) == (len(later.epoch_steps) if val else 0)
    for key, value in now_params.items():
        assert value.tobytes() == later_params[key].tobytes()
    assert later_calls.sequence() == now_calls.sequence()
    # in place, each callback at its own step; beside, an epoch less a step later
    lag = max(trainer.iter_per_epoch - 1, 1)
    for event in now_calls.events:
        assert event[-1] == (event[2] if event[0] == "epoch" else event[1]) + 1
    for event in later_calls.events:
        step = event[2] if event[0] == "epoch" else event[1]
        assert event[-1] == min(step + lag + 1, 70)


def test_the_measuring_is_done_on_another_thread():
    threads = {"losses": set(), "accuracies": set()}

    class Watched(DeepVisionZeroNet):
        def stacked_loss(self, *args):
            threads["losses"].add(threading.get_ident())
            return super().stacked_loss(*args)

        def accuracy(self, x, t, batch_size=None):  # the snapshots are Watched too
            threads["accuracies"].add(threading.get_ident())
            return super().accuracy(x, t, batch_size)

    class SlowSGD(SGD):  # steps slow enough for the thread, at the lowest priority, to begin
        def update(self, params, grads):
            time.sleep(0.001)
            super().update(params, grads)

    make(Watched(12, 8, 4, dtype=np.float32, rng=0), optimizer=SlowSGD(0.5)).run(beside=True)
    here = threading.get_ident()
    # what the thread has not begun when it is due is measured here (the last accuracies:
    # the run ends 9 steps after them), the rest on the thread
    assert threads["losses"] - {here} and threads["accuracies"] - {here}


def test_accuracies_due_before_the_thread_measured_them_are_measured_here(monkeypatch):
    from dvzero.training import beside

    count, counted_here = beside._Evaluation.count, []

    def slow_on_the_thread(self, name, start, stop, network=None):  # a busy machine
        if threading.current_thread() is threading.main_thread():
            counted_here.append(start)
        else:
            time.sleep(0.005)
        count(self, name, start, stop, network)

    monkeypatch.setattr(beside._Evaluation, "count", slow_on_the_thread)
    monkeypatch.setattr(beside, "CHUNK", 7)  # many chunks an evaluation
    now, later = make(), make()
    assert later.run(beside=True) == now.run()
    assert counted_here  # the trainer did not wait for the thread to count them all


@pytest.mark.parametrize("beside", [False, True])
def test_every_state_saved_during_a_run_is_complete_and_resumes_to_the_same_run(beside):
    whole = make()
    whole.run()
    states = []

    class Save(Callback):
        def on_train_begin(self, trainer):
            self.trainer = trainer

        def on_step_end(self, step, loss):
            if step % 9 == 4:  # in the middle of a group of losses, and of an epoch
                states.append((self.trainer.state_dict(), params_of(self.trainer)))

    make().run([Save()], beside=beside)
    assert len(states) > 5
    for state, params in states:
        assert len(state["history"]["train_loss_list"]) == state["next_step"]
        resumed = make()
        resumed.network.params = params
        resumed.load_state_dict(state)
        resumed.run(beside=beside)
        assert resumed.history == whole.history
        for key, value in params_of(whole).items():
            assert resumed.network.params[key].tobytes() == value.tobytes()


@pytest.mark.parametrize("stop_at", [3, 30, 69])
def test_a_stopped_run_resumes_to_the_same_run_and_callbacks(stop_at):
    whole, calls = make(), Recorder()
    whole.run([calls], beside=True)
    first, first_calls = make(), Recorder()

    class Stop(Callback):
        def on_step_end(self, step, loss):
            if step == stop_at:
                first.request_stop()

    first.run([first_calls, Stop()], beside=True)
    assert first.stopped == (first.next_step < 70)
    second, second_calls = make(), Recorder()
    second.network.params = params_of(first)
    second.load_state_dict(first.state_dict())
    second.run([second_calls], beside=True)
    assert second.history == whole.history
    assert first_calls.sequence() + second_calls.sequence() == calls.sequence()


class JumpSGD(SGD):
    """SGD whose learning rate jumps 10,000-fold at update ``at`` (the loss explodes), or
    which makes a parameter NaN after update ``nan_at``."""

    def __init__(self, lr, at=10**9, nan_at=None):
        super().__init__(lr)
        self.updates, self.at, self.nan_at = 0, at, nan_at

    def update(self, params, grads):
        if self.updates == self.at:
            self.lr *= 1e4
        super().update(params, grads)
        if self.updates == self.nan_at:
            params["W2"][0, 0] = np.nan
        self.updates += 1


@pytest.mark.parametrize("sgd, iter_per_epoch", [
    ({"at": 40}, 100), ({"nan_at": 40}, 100), ({"at": 40}, 31), ({"nan_at": 50}, 10),
    ({"nan_at": 49}, 10)],
    ids=["the loss explodes", "a parameter turns NaN", "it explodes past an epoch's step",
         "a parameter is NaN at an epoch's step", "a parameter is NaN the step before"])
def test_a_divergence_beside_is_the_one_in_place(sgd, iter_per_epoch):
    """Found later beside the training, a divergence stops the run at the same step, for
    the same reason, with the same history and the same callbacks before it."""
    results = []
    for beside in (False, True):
        trainer = make(DeepVisionZeroNet(12, 8, 4, rng=0), steps=300,
                       optimizer=JumpSGD(0.5, **sgd), iter_per_epoch=iter_per_epoch)
        calls = Recorder()
        with np.errstate(all="ignore"), pytest.raises(TrainingDiverged) as caught:
            trainer.run([calls], beside=beside)
        results.append((caught.value, trainer.history, calls.sequence()))
    (now_error, now, now_calls), (later_error, later, later_calls) = results
    assert str(later_error) == str(now_error) and 40 <= now_error.step < 100
    np.testing.assert_array_equal(later.train_loss_list, now.train_loss_list)  # NaN too
    assert len(now.train_loss_list) == now_error.step + 1  # the step that failed, last
    assert later.epoch_steps == now.epoch_steps and max(now.epoch_steps) < now_error.step
    assert later.test_acc_list == now.test_acc_list
    assert later_calls == now_calls and now_calls[-1][:2] == ("step", now_error.step - 1)


def test_no_state_called_healthy_holds_a_bad_loss_or_parameter():
    kept = []

    class Checkpoints(Callback):
        def on_train_begin(self, trainer):
            self.trainer = trainer

        def on_step_end(self, step, loss):
            if self.trainer.is_healthy():
                kept.append((self.trainer.state_dict(), params_of(self.trainer)))

    trainer = make(DeepVisionZeroNet(12, 8, 4, rng=0), steps=300, optimizer=JumpSGD(0.5, at=40))
    with np.errstate(all="ignore"), pytest.raises(TrainingDiverged):
        trainer.run([Checkpoints()], beside=True)
    assert kept
    for state, params in kept:
        losses = state["history"]["train_loss_list"]
        assert np.all(np.isfinite(losses)) and is_healthy(losses, state["initial_loss"])
        assert all(np.all(np.isfinite(value)) for value in params.values())
        make(DeepVisionZeroNet(12, 8, 4, rng=0), steps=300).load_state_dict(state)


class Broken(DeepVisionZeroNet):
    """Measuring it fails: its stacked losses, or its accuracy after ``fail_after`` calls."""

    def __init__(self, *args, part, **kwargs):
        super().__init__(*args, **kwargs)
        self.part = part

    def stacked_loss(self, *args):
        if self.part == "losses":
            raise MemoryError("no room for the group")
        return super().stacked_loss(*args)

    def accuracy(self, x, t, batch_size=None):
        if self.part == "accuracies":
            raise MemoryError("no room for the chunk")
        return super().accuracy(x, t, batch_size)


@pytest.mark.parametrize("part", ["losses", "accuracies"])
def test_a_failure_on_the_thread_fails_the_run_and_leaves_nothing_running(part):
    trainer = make(Broken(12, 8, 4, dtype=np.float32, rng=0, part=part))
    with pytest.raises(MemoryError, match="no room"):
        trainer.run(beside=True)
    from dvzero._parallel import beside

    assert beside(lambda: "idle").result(timeout=10) == "idle"  # nothing left on the thread
    # what was measured before the failure is recorded, each loss at its own step
    losses = trainer.history.train_loss_list
    assert losses == make().run().train_loss_list[:len(losses)]
    # the steps done and not measured are not silently dropped from a state or a new run
    for go_on in (trainer.state_dict, lambda: trainer.run(beside=True)):
        with pytest.raises(RuntimeError, match=f"steps {len(losses)} to .* were measured"):
            go_on()


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
@pytest.mark.parametrize("beside", [False, True])
def test_a_run_cut_short_by_a_callback_keeps_a_whole_history_and_resumes(error, beside):
    whole = make()
    whole.run()
    trainer = make()

    class Fails(Callback):
        def on_step_end(self, step, loss):
            if step == 20:
                raise error

    with pytest.raises(error):
        trainer.run([Fails()], beside=beside)
    state = trainer.state_dict()
    assert len(state["history"]["train_loss_list"]) == state["next_step"] > 20
    resumed = make()
    resumed.network.params = params_of(trainer)
    resumed.load_state_dict(state)
    assert resumed.run(beside=beside) == whole.history


def test_a_network_measures_its_loss_beside_only_in_one_pass():
    network = MultiLayerNet(12, [8], 4, rng=0)
    network.loss_after_update = True  # but it has no stacked_loss
    with pytest.raises(ValueError, match="stacked_loss"):
        make(network).run(beside=True)
    # a network recording the loss of its forward pass measures only its accuracies beside
    now, later = make(MultiLayerNet(12, [8], 4, rng=0)), make(MultiLayerNet(12, [8], 4, rng=0))
    assert later.run(beside=True) == now.run()


class InterruptedOnce(DeepVisionZeroNet):
    """Ctrl-C comes while its accuracy is measured for the ``at``-th time (its copies count
    with it)."""

    def __init__(self, *args, at, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls, self.at = [0], at

    def accuracy(self, x, t, batch_size=None):
        self.calls[0] += 1
        if self.calls[0] == self.at:
            raise KeyboardInterrupt
        return super().accuracy(x, t, batch_size)


@pytest.mark.parametrize("at", [1, 5, 6])
def test_a_run_interrupted_while_measuring_accuracies_resumes_to_the_same_run(at):
    whole = make()
    whole.run()
    trainer = make(InterruptedOnce(12, 8, 4, dtype=np.float32, rng=0, at=at))
    with pytest.raises(KeyboardInterrupt):
        trainer.run()
    resumed = make()
    resumed.network.params = params_of(trainer)
    resumed.load_state_dict(trainer.state_dict())
    assert resumed.run(beside=True) == whole.history


@pytest.mark.parametrize("beside", [False, True])
def test_a_learning_rate_set_before_a_constant_schedule_run_is_kept(beside):
    trainer = make()
    trainer.optimizer.lr = 0.0
    before = params_of(trainer)
    trainer.run(beside=beside)
    assert trainer.optimizer.lr == 0.0
    assert all(np.array_equal(value, trainer.network.params[key]) for key, value in before.items())


class ExplodingSGD(SGD):
    """SGD whose learning rate is 10,000 times larger from update ``at`` on."""

    def __init__(self, lr, at):
        super().__init__(lr)
        self.updates, self.at, self.big = 0, at, lr * 1e4

    def update(self, params, grads):
        if self.updates >= self.at:
            self.lr = self.big
        super().update(params, grads)
        self.updates += 1


@pytest.mark.parametrize("beside", [False, True])
def test_callbacks_asking_for_health_or_state_see_the_run_as_in_place(beside):
    """Asked each epoch, the trainer's health and state count what the thread measured: a
    divergence measured and not yet announced is raised, not saved in a state."""
    states, calls = [], Recorder()

    class Asks(Callback):
        def on_train_begin(self, trainer):
            self.trainer = trainer

        def on_epoch_end(self, epoch, step, train_acc, test_acc):
            if self.trainer.is_healthy():  # as the command line's checkpoints do
                states.append(self.trainer.state_dict())

    trainer = make(DeepVisionZeroNet(12, 8, 4, rng=0), steps=300,
                   optimizer=ExplodingSGD(0.5, at=40), iter_per_epoch=10)
    with np.errstate(all="ignore"), pytest.raises(TrainingDiverged) as caught:
        trainer.run([calls, Asks()], beside=beside)
    assert caught.value.step == 46
    assert calls.sequence()[-1][:2] == ("step", 45) and len(calls.events) == 51
    assert len(states) >= 4
    with pytest.raises(TrainingDiverged):
        trainer.state_dict()
    for state in states:
        make(DeepVisionZeroNet(12, 8, 4, rng=0), steps=300).load_state_dict(state)


def test_measuring_beside_needs_a_network_that_can_be_copied():
    network = DeepVisionZeroNet(12, 8, 4, rng=0)
    network.snapshot = None
    trainer = make(network)
    with pytest.raises(ValueError, match="snapshot"):
        trainer.run(beside=True)
    assert trainer.next_step == 0 and trainer.history.train_loss_list == []
