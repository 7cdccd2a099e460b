"""The exceptions dvzero raises on purpose.

Every error the project raises for bad data or bad files derives from :class:`DVZeroError`,
so a caller (the command line among them) can tell "dvzero refused this, here is why"
apart from a bug.
"""

from __future__ import annotations


class DVZeroError(Exception):
    """Base class of the errors dvzero raises deliberately."""


class DataError(DVZeroError, ValueError):
    """A data file or data directory is missing, unreadable, malformed or inconsistent."""


class IDXFormatError(DataError):
    """A file is not a well-formed IDX file (bad magic number, bad size, truncated)."""


class ParamsFileError(DVZeroError, ValueError):
    """A parameter file is malformed, unsafe, or does not fit the network."""


class TrainingDiverged(DVZeroError, FloatingPointError):
    """The loss became NaN or infinite: training cannot go on from here."""

    def __init__(self, step: int, loss: float) -> None:
        self.step = step
        self.loss = loss
        super().__init__(
            f"training diverged at step {step}: the loss is {loss}. "
            f"Try a lower learning rate (--lr)."
        )
