"""Training: the original post's loop for any network.

* :mod:`~dvzero.training.trainer`: :class:`Trainer`, the loop, and its checkpoint state;
* :mod:`~dvzero.training.history`: :class:`History`, what a run records, and
  :class:`Callback`, whom it tells;
* :mod:`~dvzero.training.sampling`: which training samples each step sees;
* :mod:`~dvzero.training.divergence`: when training has gone wrong;
* :mod:`~dvzero.training.beside`: the losses and accuracies measured on a second thread.
"""

from .history import Callback, History
from .trainer import Trainer, train

__all__ = ["Callback", "History", "Trainer", "train"]
