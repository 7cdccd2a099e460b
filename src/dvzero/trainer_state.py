"""What a :class:`~dvzero.training.Trainer`'s checkpoint holds, and putting it back.

Plain Python values and NumPy arrays only, so that a state can be stored without pickle
(:func:`dvzero.storage.save_checkpoint`). The network's parameters are not part of it:
they are saved beside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._rng import restore_rng, rng_state
from .history import History

if TYPE_CHECKING:
    from .training import Trainer


def trainer_state(trainer: Trainer) -> dict[str, Any]:
    """Everything ``trainer.run()`` needs to continue exactly: the step, how much of the
    history the callbacks heard of, the RNG, the history, the optimizer's, the network's
    and the sampler's states."""
    return {
        "next_step": trainer.next_step,
        "epochs_announced": trainer.epochs_announced,
        "steps_announced": trainer.steps_announced,
        "initial_loss": trainer.initial_loss,
        "rng": rng_state(trainer.rng),
        "history": trainer.history.as_state(),
        "optimizer": trainer.optimizer.state_dict(),
        "network_state": (trainer.network.state_dict()
                          if hasattr(trainer.network, "state_dict") else {}),
        "sampler_state": trainer.sampler.state_dict(),
    }


def restore_trainer(trainer: Trainer, state: dict[str, Any]) -> None:
    """Put :func:`trainer_state`'s ``state`` back into ``trainer``; ``ValueError``, with
    nothing taken, if its counts do not fit (older states count everything announced)."""
    next_step = int(state["next_step"])
    history = History.from_state(state["history"])
    epochs_announced = int(state.get("epochs_announced", len(history.epoch_steps)))
    steps_announced = int(state.get("steps_announced", next_step))
    for name, value, most in (("next_step", next_step, trainer.step_num),
                              ("epochs_announced", epochs_announced,
                               len(history.epoch_steps)),
                              ("steps_announced", steps_announced, next_step)):
        if not 0 <= value <= most:
            raise ValueError(f"{name} {value} is outside 0..{most}")
    if len(history.train_loss_list) != next_step:
        raise ValueError(
            f"the history holds {len(history.train_loss_list)} losses but the state says "
            f"{next_step} steps were done"
        )
    restore_rng(trainer.rng, state["rng"])
    trainer.optimizer.load_state_dict(state.get("optimizer", {}))
    if state.get("network_state"):
        trainer.network.load_state_dict(state["network_state"])
    trainer.sampler.load_state_dict(state.get("sampler_state", {}))
    trainer.history, trainer.next_step = history, next_step
    trainer.epochs_announced, trainer.steps_announced = epochs_announced, steps_announced
    initial_loss = state.get("initial_loss")
    trainer.initial_loss = None if initial_loss is None else float(initial_loss)
