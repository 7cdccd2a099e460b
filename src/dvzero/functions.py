"""Pure array functions: activations, softmax and the loss functions.

Each takes NumPy arrays (or anything :func:`numpy.asarray` accepts), returns a new array
and keeps no state. They are safe for any input: no overflow warnings for huge logits, no
``log(0)``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._i18n import _

#: Smallest probability the cross-entropy error takes the log of: a sure mistake costs
#: about 16.1, not infinity (the bound of the classic ``log(y + 1e-7)``), and above it the
#: loss stays exact.
CROSS_ENTROPY_FLOOR = 1e-7


def _as_float_array(x: ArrayLike) -> NDArray[np.floating]:
    """``x`` as a float array; integer and boolean inputs become float64."""
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)  # kind: cheap on the hot path


def step_function(x: ArrayLike) -> NDArray[np.int_]:
    """Step activation: 1 where ``x > 0``, else 0. Same shape as ``x``, integer dtype."""
    return (np.asarray(x) > 0).astype(np.int_)


def sigmoid(x: ArrayLike) -> NDArray[np.floating]:
    """Logistic sigmoid ``1 / (1 + exp(-x))``, element-wise; same shape and float dtype.

    For very negative ``x``, ``exp(-x)`` overflows to infinity and the result is 0, as it
    should be, without a warning; ``sigmoid(-40)`` keeps its full relative precision.
    """
    x = _as_float_array(x)
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def sigmoid_grad(x: ArrayLike) -> NDArray[np.floating]:
    """Derivative of :func:`sigmoid` at ``x``: ``sigmoid(x) * (1 - sigmoid(x))``."""
    y = sigmoid(x)
    return y * (1.0 - y)


def relu(x: ArrayLike) -> NDArray:
    """Rectified linear unit ``max(0, x)``, element-wise; same shape and dtype."""
    x = np.asarray(x)
    return np.maximum(x, 0).astype(x.dtype, copy=False)


def relu_grad(x: ArrayLike) -> NDArray[np.floating]:
    """Derivative of :func:`relu`: 1 where ``x > 0``, else 0 (float, same shape)."""
    x = _as_float_array(x)
    return (x > 0).astype(x.dtype)


def identity_function(x: ArrayLike) -> NDArray:
    """The identity, ``x`` itself (the output activation of a regression network)."""
    return np.asarray(x)


def softmax(x: ArrayLike) -> NDArray[np.floating]:
    """Softmax over the last axis: one sample ``(C,)`` or a batch ``(N, C)`` of logits.

    The largest logit of each row is subtracted first, which changes nothing
    mathematically and keeps ``exp`` from overflowing: logits of ±1000 are fine.
    Returns an array of ``x``'s shape whose rows are positive and sum to 1.
    """
    x = _as_float_array(x)
    if x.ndim == 0:
        raise ValueError(_("softmax needs at least one class: got a 0-d array"))
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    e /= e.sum(axis=-1, keepdims=True)
    return e


def mean_squared_error(y: ArrayLike, t: ArrayLike) -> float:
    """Half the sum of squared errors, ``0.5 * sum((y - t) ** 2)``, as in the original post.

    ``y`` and ``t`` must have the same shape; the sum is not divided by the batch size.
    """
    y, t = np.asarray(y), np.asarray(t)
    if y.shape != t.shape:
        raise ValueError(_("mean_squared_error: y has shape {y_shape}, t has shape {t_shape}")
                         .format(y_shape=y.shape, t_shape=t.shape))
    return float(0.5 * np.sum((y - t) ** 2))


def labels_from_targets(t: ArrayLike, num_classes: int) -> NDArray[np.intp]:
    """Integer class labels ``(N,)`` from one-hot targets ``(N, C)`` or labels ``(N,)``."""
    t = np.asarray(t)
    if t.ndim == 2 and t.shape[1] == num_classes:
        return np.argmax(t, axis=1)
    if t.ndim == 1:
        if t.size and t.dtype.kind not in "iu" and not np.all(np.equal(np.mod(t, 1), 0)):
            raise ValueError(_("integer class labels expected, got values of dtype {dtype}")
                             .format(dtype=t.dtype))
        labels = t.astype(np.intp)
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(_("labels must lie in [0, {last}], got values from {low} to {high}")
                             .format(last=num_classes - 1, low=labels.min(), high=labels.max()))
        return labels
    raise ValueError(_("targets must be one-hot with shape (N, {classes}) or labels with "
                       "shape (N,), got shape {shape}").format(classes=num_classes, shape=t.shape))


def cross_entropy_error(y: ArrayLike, t: ArrayLike) -> float:
    """Cross-entropy error of predicted probabilities ``y``, averaged over the batch.

    ``y`` is one sample ``(C,)`` or a batch ``(N, C)`` of probabilities; ``t`` is the
    matching one-hot target (same shape as ``y``) or integer labels (``()`` or ``(N,)``).
    Returns ``-mean(log(y[n, t[n]]))``, probabilities below :data:`CROSS_ENTROPY_FLOOR`
    counting as the floor.
    """
    y = _as_float_array(y)
    t = np.asarray(t)
    if y.ndim == 1:
        y = y.reshape(1, -1)
        t = t.reshape(1, -1) if t.size == y.size else t.reshape(1)
    if y.ndim != 2:
        raise ValueError(_("cross_entropy_error: y must be (C,) or (N, C), got shape {shape}")
                         .format(shape=y.shape))
    batch_size, num_classes = y.shape
    if t.shape == y.shape:
        labels = np.argmax(t, axis=1)
    elif t.shape == (batch_size,):
        labels = labels_from_targets(t, num_classes)
    else:
        raise ValueError(_("cross_entropy_error: t must be one-hot {y_shape} or labels "
                           "({batch_size},), got shape {t_shape}")
                         .format(y_shape=y.shape, batch_size=batch_size, t_shape=t.shape))
    return cross_entropy_from_labels(y, labels)


def cross_entropy_from_labels(y: NDArray[np.floating], labels: NDArray[np.integer]) -> float:
    """:func:`cross_entropy_error` for a batch ``(N, C)`` and labels ``(N,)`` already checked."""
    batch_size = y.shape[0]
    picked = y[np.arange(batch_size), labels]
    return float(-np.log(np.maximum(picked, CROSS_ENTROPY_FLOOR)).sum() / batch_size)
