"""The exceptions dvzero raises on purpose.

Every error the project raises for bad data or bad files derives from :class:`DVZeroError`,
so a caller (the command line among them) can tell "dvzero refused this, here is why"
apart from a bug.
"""

from __future__ import annotations

from ._i18n import _


class DVZeroError(Exception):
    """Base class of the errors dvzero raises deliberately."""


class DataError(DVZeroError, ValueError):
    """A data file or data directory is missing, unreadable, malformed or inconsistent."""


class IDXFormatError(DataError):
    """A file is not a well-formed IDX file (bad magic number, bad size, truncated)."""


class ParamsFileError(DVZeroError, ValueError):
    """A parameter file is malformed, unsafe, or does not fit the network."""


class TrainingDiverged(DVZeroError, FloatingPointError):
    """Training blew up: the loss or a parameter is NaN or infinite, or the loss exploded."""

    def __init__(self, step: int, loss: float, reason: str | None = None) -> None:
        self.step = step
        self.loss = loss
        reason = reason or _("the loss is {loss}").format(loss=loss)
        super().__init__(_("training diverged at step {step}: {reason}. Try a lower learning "
                           "rate (--lr).").format(step=step, reason=reason))


class CheckpointError(DVZeroError, ValueError):
    """A checkpoint is missing, damaged, or does not belong to the run being resumed."""


class UsageError(DVZeroError, ValueError):
    """What was asked cannot be done as asked.

    A path that holds no model, settings that cannot give a meaningful result, data that
    does not fit the network. The command line reports it with exit code 2, as it does a
    bad argument.
    """


class GraphvizMissing(DVZeroError, RuntimeError):
    """Graphviz's ``dot`` program, which turns a graph's DOT text into a picture, is not
    installed; the DOT file was written."""
