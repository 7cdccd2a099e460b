"""Runs: the life of a training run in its directory. :mod:`~.config` (a run's settings,
their defaults and checks, the network and optimizer built by name), :mod:`~.run`
(:class:`Run`, from a new or interrupted directory to the finished files), :mod:`~.directory`
(made or refused: nothing is overwritten), :mod:`~.checkpoints`, :mod:`~.lock`,
:mod:`~.signals` (when checkpoints are saved, one process at a time, a clean stop on a
signal), :mod:`~.pictures` (a trained network's pictures) and :mod:`~.files` (a run
directory's files, and the model a run left).
"""

from .config import check_settings, resolve
from .files import find_model
from .run import Outcome, Run
from .signals import StopOnSignal

__all__ = ["Outcome", "Run", "StopOnSignal", "check_settings", "find_model", "resolve"]
