"""Evaluations beside the training: the same figures as measured in place, announced an
epoch later at fixed steps, the history complete whenever asked, failures reported."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from dvzero import SGD, Callback, DeepVisionZeroNet, Trainer, TrainingDiverged, step_losses
from dvzero._threads import limit_threads
from dvzero.evaluation import (
    EpochEvaluations,
    beside_the_training,
    can_evaluate_beside,
    evaluation_lag,
)
from dvzero.networks import MultiLayerNet

from helpers import random_classes


def data(seed=0):
    return random_classes(seed)


class Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_epoch_end(self, epoch, step, train_acc, test_acc):
        self.events.append(("epoch", epoch, step, train_acc, test_acc))

    def on_step_end(self, step, loss):
        self.events.append(("step", step))

    def on_train_end(self, history):
        self.events.append(("end",))


def trained(beside, steps=45, seed=0, callbacks=(), network=None, **options):
    x, t, x_test, t_test = data(seed)
    network = network or DeepVisionZeroNet(12, 8, 4, dtype=np.float32, rng=seed)
    trainer = Trainer(network, x, t, x_test, t_test, step_num=steps, batch_size=20,
                      optimizer=SGD(0.5), rng=seed, callbacks=list(callbacks),
                      measure_beside=beside, **options)
    return trainer, trainer.run()


def test_beside_the_training_the_figures_are_those_measured_in_place():
    (now_trainer, now), (beside_trainer, beside) = trained(False), trained(True)
    assert now_trainer.iter_per_epoch == 10
    assert beside.epoch_steps == now.epoch_steps == [0, 10, 20, 30, 40]
    assert beside.train_acc_list == now.train_acc_list
    assert beside.test_acc_list == now.test_acc_list
    assert beside.train_loss_list == now.train_loss_list
    for key, value in now_trainer.network.params.items():
        np.testing.assert_array_equal(beside_trainer.network.params[key], value)
    # and they are not all the same figure: the training moved the network
    assert len(set(now.train_acc_list)) > 1


@pytest.fixture
def one_step_groups(monkeypatch):
    """The losses measured beside the training one step at a time, so that each step is
    announced at the next one and the evaluations' own timing shows."""
    monkeypatch.setattr(step_losses, "GROUP", 1)


def test_each_evaluation_is_announced_an_epoch_later_and_the_last_before_the_end(
        one_step_groups):
    recorder = Recorder()
    _, history = trained(True, callbacks=[recorder])
    epochs = [event for event in recorder.events if event[0] == "epoch"]
    assert [(epoch, step) for _, epoch, step, *_ in epochs] == [(0, 0), (1, 10), (2, 20),
                                                               (3, 30), (4, 40)]
    assert [event[3:] for event in epochs] == list(zip(history.train_acc_list,
                                                       history.test_acc_list, strict=True))
    events = recorder.events
    # announced at step + 9, after the steps before it and before that step's own
    for _, epoch, step, *_ in epochs[:4]:
        position = events.index(("epoch", epoch, step, *epochs[epoch][3:]))
        assert events[position - 1] == ("step", step + 8)
        assert events[position + 1] == ("step", step + 9)
    # the run ends at step 44, before step 45: the last one comes after the last step
    assert events[-3:] == [("step", 44), epochs[4], ("end",)]


def test_measured_in_place_they_are_announced_at_their_own_step():
    recorder = Recorder()
    trained(False, steps=12, callbacks=[recorder])
    events = recorder.events
    assert events.index(("step", 0)) == 1 and events[0][:3] == ("epoch", 0, 0)
    assert events[events.index(("step", 9)) + 1][:3] == ("epoch", 1, 10)


def test_the_evaluation_runs_on_another_thread_on_a_snapshot():
    calls = []

    class Watched(DeepVisionZeroNet):
        def accuracy(self, x, t, batch_size=2000):
            calls.append((threading.get_ident(), self))
            return super().accuracy(x, t, batch_size)

    network = Watched(12, 8, 4, dtype=np.float32, rng=0)
    trained(True, network=network)
    # train (200 rows) and test (60) in one chunk each, 5 epochs, all on snapshots; the
    # idle thread measures them, unless a busy machine leaves it no time before the
    # trainer needs them and measures them itself
    assert len(calls) == 10 and all(copy is not network for _, copy in calls)
    assert {thread for thread, _ in calls} <= {threading.get_ident(), idle_thread()}


def idle_thread() -> int:
    from dvzero._parallel import run_beside

    return run_beside(threading.get_ident, idle=True).result(timeout=10)


def test_a_snapshot_keeps_the_parameters_of_its_moment():
    network = DeepVisionZeroNet(12, 8, 4, rng=0)
    snapshot = network.snapshot()
    before = {key: value.copy() for key, value in network.params.items()}
    for value in network.params.values():
        value += 1.0
    for key, value in snapshot.params.items():
        np.testing.assert_array_equal(value, before[key])
    assert snapshot.config() == network.config() and type(snapshot) is DeepVisionZeroNet


def test_the_history_is_complete_in_every_state_saved_during_the_run():
    states = []

    class Saver(Callback):
        def on_train_begin(self, trainer):
            self.trainer = trainer

        def on_step_end(self, step, loss):
            if step in (0, 11, 22):  # right after an evaluation started beside
                states.append((step, self.trainer.state_dict()))

    trained(True, callbacks=[Saver()])
    assert [(step, state["history"]["epoch_steps"]) for step, state in states] == [
        (0, [0]), (11, [0, 10]), (22, [0, 10, 20])]


def test_a_stopped_run_has_every_evaluation_and_resumes_to_the_same_run():
    whole_trainer, whole = trained(True)

    class StopAt(Callback):
        def on_train_begin(self, trainer):
            self.trainer = trainer

        def on_step_end(self, step, loss):
            if step == 21:
                self.trainer.request_stop()

    x, t, x_test, t_test = data()
    network = DeepVisionZeroNet(12, 8, 4, dtype=np.float32, rng=0)
    first = Trainer(network, x, t, x_test, t_test, step_num=45, batch_size=20,
                    optimizer=SGD(0.5), rng=0, callbacks=[StopAt()], measure_beside=True)
    history = first.run()
    assert first.stopped and history.epoch_steps == [0, 10, 20]
    state = first.state_dict()
    second = Trainer(network, x, t, x_test, t_test, step_num=45, batch_size=20,
                     optimizer=SGD(0.5), rng=0, measure_beside=True)
    second.load_state_dict(state)
    resumed = second.run()
    assert resumed.epoch_steps == whole.epoch_steps
    assert resumed.test_acc_list == whole.test_acc_list
    assert resumed.train_loss_list == whole.train_loss_list
    for key, value in whole_trainer.network.params.items():
        np.testing.assert_array_equal(network.params[key], value)


class Broken(DeepVisionZeroNet):
    def accuracy(self, x, t, batch_size=2000):
        if self.fail:
            raise MemoryError("no room for a chunk")
        return super().accuracy(x, t, batch_size)


def test_an_evaluation_that_fails_beside_the_training_fails_the_run():
    network = Broken(12, 8, 4, rng=0)
    network.fail = False
    snapshot = network.snapshot

    def failing_later():
        copy = snapshot()
        copy.fail = len(calls) >= 2
        calls.append(copy)
        return copy

    calls = []
    network.snapshot = failing_later
    with pytest.raises(MemoryError, match="no room"):
        trained(True, network=network)
    assert len(calls) == 3  # the third failed; the run stopped at its announcement


def test_a_diverging_run_keeps_the_evaluations_that_finished():
    x, t, x_test, t_test = data()
    network = DeepVisionZeroNet(12, 8, 4, rng=0)
    trainer = Trainer(network, x, t, x_test, t_test, step_num=200, batch_size=20,
                      optimizer=SGD(1e6), rng=0, measure_beside=True)
    with np.errstate(all="ignore"), pytest.raises(TrainingDiverged):
        trainer.run()
    history = trainer.history
    assert history.epoch_steps and history.epoch_steps == sorted(history.epoch_steps)
    assert len(history.train_acc_list) == len(history.epoch_steps)
    assert trainer.state_dict()["history"]["epoch_steps"] == history.epoch_steps


def test_by_default_only_fast_runs_with_a_second_thread_measure_beside():
    network = DeepVisionZeroNet(12, 8, 4, rng=0)
    assert not beside_the_training(None, "backprop")  # one thread: the library alone
    with limit_threads(2, split_batches=True):
        assert beside_the_training(None, "backprop")
        assert not beside_the_training(None, "numerical")  # seconds a step: nothing to gain
        assert not beside_the_training(False, "backprop")
    assert beside_the_training(True, "numerical")  # as asked
    assert evaluation_lag(True, network, 10) == 9 and evaluation_lag(False, network, 10) == 0
    assert evaluation_lag(True, network, 1) == 1  # one-step epochs
    layered = MultiLayerNet(12, [8], 4, rng=0)
    assert not can_evaluate_beside(layered)  # its layers keep each pass's state
    assert evaluation_lag(True, layered, 10) == 0
    x, t, *_ = data()
    with pytest.raises(ValueError, match="MultiLayerNet has none"):
        Trainer(layered, x, t, x, t, measure_beside=True)


def test_evaluations_in_place_are_recorded_at_once():
    class History:
        train_acc_list, test_acc_list, val_acc_list, epoch_steps = [], [], [], []

    class Fixed:
        def accuracy(self, x, t):
            return 0.5

    history = History()
    evaluations = EpochEvaluations([("train", None, None), ("test", None, None)])
    evaluations.start(Fixed(), 7, history)
    assert history.epoch_steps == [7] and history.train_acc_list == [0.5]
    assert evaluations.due(history, 6) == []
    assert evaluations.due(history, 7) == [(0, 7, {"train": 0.5, "test": 0.5})]
    assert evaluations.due(history) == []


class Crash(Exception):
    pass


def test_an_evaluation_recorded_in_a_checkpoint_but_not_yet_announced_is_announced_after_resume(
        one_step_groups):
    whole = Recorder()
    trained(True, callbacks=[whole])
    saved = {}

    class CheckpointThenCrash(Callback):  # the 60-second checkpoint, then a kill
        def on_train_begin(self, trainer):
            self.trainer = trainer

        def on_step_end(self, step, loss):
            if step == 22:  # step 20's evaluation: recorded by state_dict, not announced
                saved["state"] = self.trainer.state_dict()
                saved["params"] = {k: v.copy() for k, v in self.trainer.network.params.items()}
            if step == 23:
                raise Crash

    first = Recorder()
    with pytest.raises(Crash):
        trained(True, callbacks=[first, CheckpointThenCrash()])
    assert saved["state"]["history"]["epoch_steps"] == [0, 10, 20]
    assert saved["state"]["epochs_announced"] == 2

    x, t, x_test, t_test = data()
    network = DeepVisionZeroNet(12, 8, 4, dtype=np.float32, rng=0)
    network.params = saved["params"]
    second = Recorder()
    trainer = Trainer(network, x, t, x_test, t_test, step_num=45, batch_size=20,
                      optimizer=SGD(0.5), rng=0, callbacks=[second], measure_beside=True)
    trainer.load_state_dict(saved["state"])
    trainer.run()

    def epochs(recorder):
        return [event[1:3] for event in recorder.events if event[0] == "epoch"]

    assert epochs(first)[:2] + epochs(second) == epochs(whole)  # each once, in order
    # step 20's, due at step 29, is announced there as in the whole run
    events = second.events
    assert events[events.index(("step", 28)) + 1][:3] == ("epoch", 2, 20)


def test_the_trainer_measures_what_a_starved_idle_thread_has_not():
    from dvzero._parallel import run_beside
    from dvzero.evaluation import _Beside

    calls = []

    class Watched(DeepVisionZeroNet):
        def accuracy(self, x, t, batch_size=2000):
            calls.append(threading.get_ident())
            return super().accuracy(x, t, batch_size)

    rng = np.random.default_rng(3)
    x, t = rng.random((5000, 12)).astype(np.float32), rng.integers(0, 4, 5000)
    network = Watched(12, 8, 4, dtype=np.float32, rng=0)
    release = threading.Event()
    blocker = run_beside(release.wait, idle=True)  # the idle thread gets no time at all
    try:
        measurement = _Beside(network, [("train", x, t), ("test", x[:2500], t[:2500])])
        accuracies = measurement.result()  # would wait for ever on the idle thread
    finally:
        release.set()
        blocker.result(timeout=10)
    assert calls == [threading.get_ident()] * 5  # 3 + 2 chunks of 2,000 rows, all here
    assert accuracies == {"train": DeepVisionZeroNet.accuracy(network, x, t),
                          "test": DeepVisionZeroNet.accuracy(network, x[:2500], t[:2500])}
    measurement.stop()  # the idle thread finds nothing left to take


def test_an_evaluation_beside_that_fails_raises_where_its_result_is_asked():
    from dvzero.evaluation import _Beside

    class Failing(DeepVisionZeroNet):
        def accuracy(self, x, t, batch_size=2000):
            raise MemoryError("no room for a chunk")

    x, t, *_ = data()
    measurement = _Beside(Failing(12, 8, 4, rng=0), [("train", x, t)])
    with pytest.raises(MemoryError, match="no room"):
        measurement.result()
    measurement.stop()


class InterruptedOnce(DeepVisionZeroNet):
    """Once :attr:`armed`, its next accuracy on the main thread is cut by a Ctrl-C (a second
    one, mid-chunk), and it is disarmed."""

    armed = False

    def accuracy(self, x, t, batch_size=2000):
        if InterruptedOnce.armed and threading.current_thread() is threading.main_thread():
            InterruptedOnce.armed = False
            raise KeyboardInterrupt
        return super().accuracy(x, t, batch_size)


def test_a_ctrl_c_in_the_trainers_chunk_puts_it_back_for_later():
    from dvzero._parallel import run_beside
    from dvzero.evaluation import _Beside

    InterruptedOnce.armed = True
    rng = np.random.default_rng(0)
    x, t = rng.random((8000, 12)).astype(np.float32), rng.integers(0, 4, 8000)
    network = InterruptedOnce(12, 8, 4, dtype=np.float32, rng=0)
    release = threading.Event()
    blocker = run_beside(release.wait, idle=True)  # the chunks are the trainer's
    try:
        measurement = _Beside(network, [("train", x, t)])
        with pytest.raises(KeyboardInterrupt):
            measurement.result()
        try:  # asked again, every chunk is counted once, the interrupted one too
            accuracies = measurement.result()
        except KeyboardInterrupt:
            pytest.fail("the interrupted chunk ended the measurement")
        assert accuracies == {"train": DeepVisionZeroNet.accuracy(network, x, t)}
    finally:
        release.set()
        blocker.result(timeout=10)
    measurement.stop()


def test_a_ctrl_c_while_the_trainer_measures_loses_no_evaluation():
    # the idle thread is busy, the trainer measures an evaluation's chunks itself and a
    # second Ctrl-C lands there: the state saved afterwards still holds that evaluation,
    # and the resumed run is the whole run
    from dvzero._parallel import run_beside

    InterruptedOnce.armed = False
    release = threading.Event()

    class BusyIdleThread(Callback):
        def on_step_end(self, step, loss):
            if step == 12:
                run_beside(release.wait, idle=True)
                InterruptedOnce.armed = True
                threading.Timer(0.5, release.set).start()

    _, whole = trained(True)
    network = InterruptedOnce(12, 8, 4, dtype=np.float32, rng=0)
    x, t, x_test, t_test = data()

    def trainer(callbacks=()):
        return Trainer(network, x, t, x_test, t_test, step_num=45, batch_size=20,
                       optimizer=SGD(0.5), rng=0, measure_beside=True,
                       callbacks=list(callbacks))

    first = trainer([BusyIdleThread()])
    try:
        with pytest.raises(KeyboardInterrupt):
            first.run()
    finally:
        release.set()
    state = first.state_dict()
    assert state["next_step"] == 30 and state["history"]["epoch_steps"] == [0, 10, 20]
    resumed = trainer()
    resumed.load_state_dict(state)
    history = resumed.run()
    assert history.epoch_steps == whole.epoch_steps
    assert history.test_acc_list == whole.test_acc_list
    assert history.train_loss_list == whole.train_loss_list


class FailsOnce(DeepVisionZeroNet):
    """Its fifth accuracy (the third evaluation's first set) raises."""

    calls = 0

    def accuracy(self, x, t, batch_size=2000):
        FailsOnce.calls += 1
        if FailsOnce.calls == 5:
            raise MemoryError("no room")
        return super().accuracy(x, t, batch_size)


def failed_then_resumed(beside):
    FailsOnce.calls = 0
    network = FailsOnce(12, 8, 4, dtype=np.float32, rng=0)
    x, t, x_test, t_test = data()

    def trainer():
        return Trainer(network, x, t, x_test, t_test, step_num=45, batch_size=20,
                       optimizer=SGD(0.5), rng=0, measure_beside=beside)

    first = trainer()
    with pytest.raises(MemoryError, match="no room"):
        first.run()
    state = first.state_dict()
    assert len(state["history"]["train_loss_list"]) == state["next_step"]
    second = trainer()
    second.load_state_dict(state)
    return state, second.run()


def test_an_evaluation_that_fails_in_place_leaves_a_state_that_resumes_to_the_whole_run():
    # the step is done when its evaluation fails: the state counts it, and the resumed
    # run measures that evaluation first (the parameters are still the step's)
    _, whole = trained(False)
    state, history = failed_then_resumed(False)
    assert state["next_step"] == 21 and state["history"]["epoch_steps"] == [0, 10]
    assert history.epoch_steps == whole.epoch_steps
    assert history.test_acc_list == whole.test_acc_list
    assert history.train_loss_list == whole.train_loss_list


def test_an_evaluation_that_fails_beside_leaves_a_state_that_resumes():
    # the snapshot it measured is gone: that evaluation is lost, the rest is the whole run
    _, whole = trained(True)
    state, history = failed_then_resumed(True)
    assert 20 not in state["history"]["epoch_steps"]
    assert history.epoch_steps == [step for step in whole.epoch_steps if step != 20]
    assert history.train_loss_list == whole.train_loss_list


def test_a_stopped_measurement_has_no_result():
    from dvzero._parallel import run_beside
    from dvzero.evaluation import _Beside

    release = threading.Event()
    blocker = run_beside(release.wait, idle=True)  # the idle thread starts nothing yet
    x, t, *_ = data()
    measurement = _Beside(DeepVisionZeroNet(12, 8, 4, rng=0), [("train", x, t)])
    threading.Timer(0.2, release.set).start()  # once stop() has taken every chunk away
    measurement.stop()  # waits for the idle thread, which then finds nothing to take
    blocker.result(timeout=10)
    with pytest.raises(RuntimeError, match="the evaluation was stopped"):
        measurement.result()  # raises at once, no waiting for ever
