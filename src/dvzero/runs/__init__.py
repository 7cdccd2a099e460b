"""Runs: the life of a training run in its directory, and reading finished runs back.

* :mod:`~dvzero.runs.config`: a run's settings, their defaults and checks, and the
  network and optimizer built from them by name;
* :mod:`~dvzero.runs.run`: :class:`Run`, from a new or interrupted directory to the
  finished files;
* :mod:`~dvzero.runs.directory`: making or refusing the directory; nothing is overwritten;
* :mod:`~dvzero.runs.signals`: stopping cleanly on SIGINT and SIGTERM;
* :mod:`~dvzero.runs.records`: the model a finished run left, evaluated on its own data.
"""

from .config import check_settings, resolve
from .records import (
    CHECKPOINT_NAME,
    PARAMS_FILES,
    RUN_FILES,
    SHIPPED_DATA,
    Evaluation,
    ModelSource,
    describe_data,
    evaluate,
    find_model,
)
from .run import Outcome, Run
from .signals import StopOnSignal

__all__ = ["CHECKPOINT_NAME", "PARAMS_FILES", "RUN_FILES", "SHIPPED_DATA", "Evaluation",
           "ModelSource", "Outcome", "Run", "StopOnSignal", "check_settings", "describe_data",
           "evaluate", "find_model", "resolve"]
