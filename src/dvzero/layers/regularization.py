"""Layers that help a deep network train well: ``Dropout`` and ``BatchNormalization``.

Both behave differently while training and when used: ``forward(x, train_flg=True)``
trains, ``forward(x, train_flg=False)`` predicts.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .._i18n import _


class Dropout:
    """Drops each input with probability ``dropout_ratio`` while training.

    Inverted dropout: the kept inputs are scaled by ``1 / (1 - dropout_ratio)`` while
    training, so that predicting (``train_flg=False``) passes ``x`` through unchanged. The
    mask is drawn from ``rng`` (a seed or :class:`numpy.random.Generator`).
    """

    def __init__(self, dropout_ratio: float = 0.5,
                 rng: int | np.random.Generator | None = None) -> None:
        if not 0 <= dropout_ratio < 1:
            raise ValueError(_("dropout_ratio must be in [0, 1), got {ratio!r}")
                             .format(ratio=dropout_ratio))
        self.dropout_ratio = float(dropout_ratio)
        self.rng = np.random.default_rng(rng)
        self.mask: NDArray | None = None

    def forward(self, x: NDArray, train_flg: bool = True) -> NDArray:
        if not train_flg:
            return x
        keep = self.rng.random(x.shape, dtype=np.float32) >= self.dropout_ratio
        self.mask = keep * x.dtype.type(1.0 / (1.0 - self.dropout_ratio))
        return x * self.mask

    def backward(self, dout: NDArray) -> NDArray:
        return dout * self.mask


class BatchNormalization:
    """Normalises each feature over the batch, then scales by ``gamma`` and shifts by ``beta``.

    ``gamma``, ``beta``: ``(D,)``; ``x``: ``(N, D)``. While training it uses the batch's mean
    and variance and updates the running averages ``running_mean`` and ``running_var``
    (``running = momentum * running + (1 - momentum) * batch``), in place; when predicting
    it uses those running averages. ``eps`` keeps the division finite.
    """

    def __init__(self, gamma: NDArray, beta: NDArray, momentum: float = 0.9,
                 running_mean: NDArray | None = None, running_var: NDArray | None = None,
                 eps: float = 1e-5) -> None:
        self.gamma, self.beta = gamma, beta
        self.momentum, self.eps = momentum, eps
        self.running_mean = np.zeros_like(gamma) if running_mean is None else running_mean
        self.running_var = np.ones_like(gamma) if running_var is None else running_var
        self.xn: NDArray | None = None
        self.inv_std: NDArray | None = None
        self.dgamma: NDArray | None = None
        self.dbeta: NDArray | None = None

    def forward(self, x: NDArray, train_flg: bool = True) -> NDArray:
        if not train_flg:
            inv_std = 1.0 / np.sqrt(self.running_var + self.eps)
            return (x - self.running_mean) * (inv_std * self.gamma) + self.beta
        mean = x.mean(axis=0)
        xc = x - mean
        var = np.mean(xc * xc, axis=0)
        self.inv_std = 1.0 / np.sqrt(var + self.eps)
        self.xn = xc * self.inv_std
        self.running_mean *= self.momentum
        self.running_mean += (1 - self.momentum) * mean
        self.running_var *= self.momentum
        self.running_var += (1 - self.momentum) * var
        return self.gamma * self.xn + self.beta

    def backward(self, dout: NDArray) -> NDArray:
        # out = gamma * xn + beta, xn = (x - mean) / std, with mean and std over the batch:
        # dxn = dout * gamma;  dx = (dxn - mean(dxn) - xn * mean(dxn * xn)) / std
        self.dbeta = dout.sum(axis=0)
        self.dgamma = np.sum(dout * self.xn, axis=0)
        dxn = dout * self.gamma
        return (dxn - dxn.mean(axis=0) - self.xn * np.mean(dxn * self.xn, axis=0)) * self.inv_std
