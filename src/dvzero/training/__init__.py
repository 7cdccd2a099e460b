"""Training: the original post's loop for any network. :mod:`~.trainer` (:class:`Trainer`,
the loop, and its checkpoint state), :mod:`~.history` (:class:`History`, what a run
records, and :class:`Callback`, whom it tells), :mod:`~.live` (:class:`LivePlot`, the
curves redrawn in a notebook as a run trains), :mod:`~.sampling` (which samples each step
sees), :mod:`~.divergence` (when training has gone wrong) and :mod:`~.beside` (the losses
and accuracies measured on a second thread).
"""

from .history import Callback, History
from .live import LivePlot
from .trainer import Trainer, train

__all__ = ["Callback", "History", "LivePlot", "Trainer", "train"]
