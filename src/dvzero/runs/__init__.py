"""Runs: the life of a training run in its directory.

* :mod:`~dvzero.runs.config`: a run's settings, their defaults and checks, and the
  network and optimizer built from them by name;
* :mod:`~dvzero.runs.run`: :class:`Run`, from a new or interrupted directory to the
  finished files;
* :mod:`~dvzero.runs.directory`: making or refusing the directory; nothing is overwritten;
* :mod:`~dvzero.runs.checkpoints`, :mod:`~dvzero.runs.lock`, :mod:`~dvzero.runs.signals`:
  when checkpoints are saved, one process at a time, stopping cleanly on a signal;
* :mod:`~dvzero.runs.pictures`: the pictures of a trained network;
* :mod:`~dvzero.runs.files`: the files of a run directory, and the model a run left.
"""

from .config import check_settings, resolve
from .files import find_model
from .run import Outcome, Run
from .signals import StopOnSignal

__all__ = ["Outcome", "Run", "StopOnSignal", "check_settings", "find_model", "resolve"]
