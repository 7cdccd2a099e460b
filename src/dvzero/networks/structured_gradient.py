"""The original post's numerical gradient of the two-layer network, without its waste.

:meth:`DeepVisionZeroNet.numerical_gradient` with ``method="naive"`` is the post's loop:
nudge each parameter by ``+h`` and ``-h`` (``h = 1e-4``), run the whole network forward
on the batch each time, and take ``(L+ - L-) / 2h``: 79,520 forward passes a step for
784-50-10.

:func:`structured_numerical_gradient` computes the *same* central differences (the same
``h``, the same loss formula, in float64) but does not recompute what a nudge cannot
change. With ``pre = x @ W1 + b1``, ``a = act(pre)`` and ``z = a @ W2 + b2`` kept from
one forward pass:

- nudging ``W1[i, j]`` by ``d`` moves only ``pre[:, j]``, by ``d * x[:, i]``: the new
  logits are ``z + (act(pre[:, j] + d x[:, i]) - a[:, j]) * W2[j]``;
- nudging ``b1[j]`` moves ``pre[:, j]`` by ``d`` for every sample;
- nudging ``W2[j, k]`` moves only ``z[:, k]``, by ``d * a[:, j]``; ``b2[k]`` by ``d``.

So each perturbed loss costs ``O(batch x outputs)`` instead of a forward pass, and a sample
whose pixel ``x[n, i]`` is zero keeps its loss bit for bit when ``W1[i, j]`` moves: its term
cancels exactly in ``L+ - L-`` and is skipped (most MNIST pixels are zero). Chunks of at
most ``max_elements`` numbers keep memory bounded. The result agrees with the naive loop
to rounding, and is closer to the exact differences, since the untouched samples' terms
no longer round.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._i18n import _
from ..functions import CROSS_ENTROPY_FLOOR, labels_from_targets
from ..gradient import H
from ..layers import ACTIVATIONS
from .two_layer import HIDDEN_ACTIVATIONS

#: The most float64 numbers one chunk of perturbed logits may hold (2 MB): small enough to
#: stay in the processor's cache, which matters more here than fewer, larger chunks.
MAX_ELEMENTS = 250_000


def structured_numerical_gradient(network: Any, x: ArrayLike, t: ArrayLike,
                                  max_elements: int = MAX_ELEMENTS) -> dict[str, NDArray]:
    """Central differences of the loss of ``network`` (a :class:`DeepVisionZeroNet`) for
    every parameter, as the naive loop computes them in float64, from cached activations
    (always in float64: for a float32 network the naive loop's differences are mostly
    rounding error, these are not).

    ``x`` is ``(N, input_size)``; ``t`` one-hot ``(N, output_size)`` or labels ``(N,)``.
    Returns ``W1, b1, W2, b2`` in the parameters' shapes and dtype.
    """
    if network.activation not in HIDDEN_ACTIVATIONS:
        raise ValueError(_("the structured numerical gradient knows the activations {known}, "
                           "not {activation!r}")
                         .format(known=list(HIDDEN_ACTIVATIONS), activation=network.activation))
    x = network._check_x(x)
    labels = labels_from_targets(network._check_t(x, t), network.output_size)
    x = np.asarray(x, dtype=np.float64)

    act = ACTIVATIONS[network.activation]().forward
    W1, b1, W2, b2 = (np.asarray(network.params[key], dtype=np.float64)
                      for key in ("W1", "b1", "W2", "b2"))
    pre = x @ W1 + b1
    a = act(pre)
    z = a @ W2 + b2
    shift = z.max(axis=1, keepdims=True)
    centred = z - shift
    scale = 1.0 / (len(x) * 2 * H)  # (sum of L+ terms - sum of L- terms) / N / 2h

    grads = {
        "W1": _w1(x, labels, pre, a, centred, W2, act, max_elements) * scale,
        "b1": _b1(labels, pre, a, centred, W2, act, max_elements) * scale,
        "W2": _second_layer(labels, z, shift, a, max_elements) * scale,
        "b2": _second_layer(labels, z, shift, np.ones((len(x), 1)), max_elements)[0] * scale,
    }
    return {key: grads[key].astype(network.params[key].dtype, copy=False).reshape(
        network.params[key].shape) for key in grads}


def _w1(x, labels, pre, a, centred, W2, act, max_elements) -> NDArray:
    """``sum over samples with x[n, i] != 0 of (loss+ - loss-)`` for every ``W1[i, j]``."""
    inputs, hidden = x.shape[1], pre.shape[1]
    pixel, sample = np.nonzero(x.T)  # nonzero pixels, grouped by pixel
    grad = np.zeros((inputs, hidden))
    outputs = W2.shape[1]
    # chunks of (pixel, sample) pairs and of hidden units, each at most max_elements logits
    pairs = max(1, max_elements // outputs)
    for begin in range(0, pixel.size, pairs):
        chunk_pixel, chunk_sample = pixel[begin:begin + pairs], sample[begin:begin + pairs]
        value = x[chunk_sample, chunk_pixel][:, None]
        pixels, starts = np.unique(chunk_pixel, return_index=True)
        rows = _Rows(centred[chunk_sample], labels[chunk_sample], W2)
        step = max(1, max_elements // (chunk_pixel.size * outputs))
        for first in range(0, hidden, step):
            units = slice(first, first + step)
            p, old = pre[chunk_sample, units], a[chunk_sample, units]
            plus = rows.losses(act(p + H * value) - old, units)
            minus = rows.losses(act(p - H * value) - old, units)
            # a pixel's pairs may straddle two chunks: add, do not assign
            grad[pixels, units] += np.add.reduceat(plus - minus, starts, axis=0)
    return grad


def _b1(labels, pre, a, centred, W2, act, max_elements) -> NDArray:
    """``sum over samples of (loss+ - loss-)`` for every ``b1[j]``."""
    samples, hidden = pre.shape
    grad = np.zeros(hidden)
    rows = _Rows(centred, labels, W2)
    step = max(1, max_elements // (samples * W2.shape[1]))
    for first in range(0, hidden, step):
        units = slice(first, first + step)
        plus = rows.losses(act(pre[:, units] + H) - a[:, units], units)
        minus = rows.losses(act(pre[:, units] - H) - a[:, units], units)
        grad[units] = (plus - minus).sum(axis=0)
    return grad


class _Rows:
    """The unperturbed logits of ``M`` samples, minus each row's largest logit.

    Subtracting the unperturbed row's maximum rather than the perturbed row's own changes
    nothing but rounding, and keeps ``exp`` finite.
    """

    def __init__(self, centred: NDArray, labels: NDArray, W2: NDArray) -> None:
        # The outputs come first, so that the softmax's sum adds whole slabs.
        self.centred = np.ascontiguousarray(centred.T)[:, :, None]  # (outputs, M, 1)
        self.label_logit = centred[np.arange(len(labels)), labels][:, None]  # (M, 1)
        self.labels, self.W2 = labels, W2

    def losses(self, moved: NDArray, units: slice) -> NDArray:
        """Each sample's cross-entropy ``(M, units)``, ``-log(max(softmax(logits)[label],
        floor))``, when hidden unit ``j`` of ``units`` has moved by ``moved[:, j]``: its
        logits are then ``z + moved[:, j] * W2[j]``."""
        W2 = self.W2[units]
        e = moved[None] * W2.T[:, None, :]  # (outputs, M, units)
        e += self.centred
        np.exp(e, out=e)
        picked = np.exp(self.label_logit + moved * W2[:, self.labels].T) / e.sum(axis=0)
        return -np.log(np.maximum(picked, CROSS_ENTROPY_FLOOR))


def _second_layer(labels, z, shift, a, max_elements: int = MAX_ELEMENTS) -> NDArray:
    """``sum over samples of (loss+ - loss-)`` when logit ``k`` moves by ``+-h * a[:, j]``,
    for every ``(j, k)``: the gradient of ``W2`` (``a`` the hidden activations) or of
    ``b2`` (``a`` a column of ones). Chunks of hidden units keep the logits held (samples x
    units x outputs x outputs) under ``max_elements``."""
    samples, outputs = z.shape
    eye = np.eye(outputs)

    def losses(units: slice, sign: float) -> NDArray:
        # logits (N, units, k, outputs): row k of the identity moves logit k only
        logits = z[:, None, None, :] + (sign * H * a[:, units])[:, :, None, None] * eye
        e = np.exp(logits - shift[:, None, None, :])
        picked = np.take_along_axis(e, labels[:, None, None, None], axis=-1)[..., 0]
        return -np.log(np.maximum(picked / e.sum(axis=-1), CROSS_ENTROPY_FLOOR))

    grad = np.zeros((a.shape[1], outputs))
    step = max(1, max_elements // (samples * outputs * outputs))
    for first in range(0, a.shape[1], step):
        units = slice(first, first + step)
        grad[units] = (losses(units, 1.0) - losses(units, -1.0)).sum(axis=0)
    return grad
