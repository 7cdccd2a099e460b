""":class:`DeepVisionZeroNet`: the original post's two-layer network, name for name."""

from __future__ import annotations

import copy
import os
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from .. import storage
from .._threads import current_threads
from ..data.scaled import ScaledImages
from ..functions import (
    CROSS_ENTROPY_FLOOR,
    cross_entropy_error,
    labels_from_targets,
    relu,
    sigmoid,
    softmax,
)
from ..gradient import numerical_gradient
from ..layers import Affine, Relu, Sigmoid, SoftmaxWithLoss
from .base import count_correct, fit_params, positive_int

ACTIVATIONS = {"sigmoid": (sigmoid, Sigmoid), "relu": (relu, Relu)}
PARAM_KEYS = ("W1", "b1", "W2", "b2")


class DeepVisionZeroNet:
    """The original post's two-layer network: ``softmax(act(x @ W1 + b1) @ W2 + b2)``.

    Parameters
    ----------
    input_size, hidden_size, output_size
        Layer widths (784, 50, 10 for the original post's MNIST network).
    weight_init_std
        Standard deviation of the Gaussian initial weights; biases start at zero.
    activation
        ``"sigmoid"`` (the original post's) or ``"relu"``, for the hidden layer.
    dtype
        Float dtype of the parameters. ``float64`` (the original post's) for gradient checking;
        ``float32`` trains about twice as fast with the same results.
    rng
        Seed or :class:`numpy.random.Generator` for the initial weights. ``None`` uses the
        global ``np.random.randn``, exactly as the original post does.

    ``params`` holds ``W1 (input_size, hidden_size)``, ``b1 (hidden_size,)``,
    ``W2 (hidden_size, output_size)`` and ``b2 (output_size,)``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        weight_init_std: float = 0.01,
        *,
        activation: str = "sigmoid",
        dtype: DTypeLike = np.float64,
        rng: int | np.random.Generator | None = None,
    ) -> None:
        self.input_size = positive_int("input_size", input_size)
        self.hidden_size = positive_int("hidden_size", hidden_size)
        self.output_size = positive_int("output_size", output_size)
        if not np.isfinite(weight_init_std) or weight_init_std < 0:
            raise ValueError(f"weight_init_std must be finite and >= 0, got {weight_init_std!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        self.dtype = np.dtype(dtype)
        if not np.issubdtype(self.dtype, np.floating):
            raise ValueError(f"dtype must be a float dtype, got {self.dtype}")
        self.weight_init_std = float(weight_init_std)
        self.activation = activation

        if rng is None:
            randn = np.random.randn
        else:
            generator = np.random.default_rng(rng)

            def randn(*shape: int) -> NDArray[np.float64]:
                return generator.standard_normal(shape)

        # Drawn in float64 and then cast, so one seed gives the same network in any dtype.
        self.params: dict[str, NDArray] = {
            "W1": (weight_init_std * randn(input_size, hidden_size)).astype(self.dtype),
            "b1": np.zeros(hidden_size, dtype=self.dtype),
            "W2": (weight_init_std * randn(hidden_size, output_size)).astype(self.dtype),
            "b2": np.zeros(output_size, dtype=self.dtype),
        }

    # ------------------------------------------------------------------ checks

    def _check_x(self, x: ArrayLike) -> NDArray:
        x = np.asarray(x)
        if x.dtype.kind not in "biuf":  # booleans, integers, floats
            raise ValueError(f"x must be an array of real numbers, got dtype {x.dtype}")
        if x.ndim > 2 and int(np.prod(x.shape[1:])) == self.input_size:
            return x.reshape(x.shape[0], self.input_size)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(
                f"x must have shape (N, {self.input_size}) or ({self.input_size},), "
                f"got {x.shape}"
            )
        return x

    def _check_t(self, x: NDArray, t: ArrayLike) -> NDArray:
        t = np.asarray(t)
        batch = 1 if x.ndim == 1 else x.shape[0]
        if t.shape[:1] != (batch,) and not (x.ndim == 1 and t.ndim <= 1):
            raise ValueError(
                f"t must have shape ({batch}, {self.output_size}) (one-hot) or ({batch},) "
                f"(labels) to match x of shape {x.shape}, got {t.shape}"
            )
        return t

    def _check_batch(self, x: ArrayLike, t: ArrayLike) -> tuple[NDArray, NDArray]:
        """``x`` as ``(N, input_size)`` and ``t`` as ``(N, output_size)`` or ``(N,)``."""
        x = self._check_x(x)
        t = self._check_t(x, t)
        if x.ndim == 1:
            x = x.reshape(1, -1)
            t = t.reshape(1, -1) if t.ndim == 1 and t.size > 1 else t.reshape(1)
        return x, t

    # ------------------------------------------------------------------ the original post's API

    def _hidden(self, x: NDArray, params: dict[str, NDArray] | None = None) -> NDArray:
        params = self.params if params is None else params
        activation = ACTIVATIONS[self.activation][0]
        return activation(x @ params["W1"] + params["b1"])

    def _scores(self, x: NDArray, params: dict[str, NDArray] | None = None) -> NDArray:
        """Logits ``(N, output_size)``: everything but the final softmax. ``params``
        (this network's by default) may be stacked, with the batches: ``(K, N, ...)``."""
        params = self.params if params is None else params
        return self._hidden(x, params) @ params["W2"] + params["b2"]

    def predict(self, x: ArrayLike) -> NDArray:
        """Class probabilities for ``x`` ``(N, input_size)`` -> ``(N, output_size)``."""
        return softmax(self._scores(self._check_x(x)))

    def first_hidden(self, x: ArrayLike) -> NDArray:
        """The hidden layer's activations for ``x`` ``(N, input_size)`` -> ``(N, hidden_size)``."""
        return self._hidden(self._check_x(x))

    def loss(self, x: ArrayLike, t: ArrayLike) -> float:
        """Cross-entropy error of the predictions for ``x`` against ``t`` (one-hot or labels)."""
        x = self._check_x(x)
        return cross_entropy_error(self.predict(x), self._check_t(x, t))

    def accuracy(self, x: ArrayLike, t: ArrayLike, batch_size: int = 2000) -> float:
        """Share of rows of ``x`` whose most probable class is the one in ``t``.

        Evaluated ``batch_size`` rows at a time to bound memory; softmax is skipped since
        it does not change which class is largest.
        """
        if isinstance(x, ScaledImages):  # bytes, made floats a chunk at a time
            t = self._check_t(x, t)
            rows = x
        else:
            rows, t = self._check_batch(x, t)
        labels = labels_from_targets(t, self.output_size)
        if len(rows) == 0:
            raise ValueError("accuracy of an empty set is undefined: x has 0 rows")
        # _scores keeps no state, so the chunks may run on the run's threads
        correct = count_correct(lambda chunk: self._scores(self._check_x(chunk)), rows,
                                labels, batch_size, current_threads())
        return correct / float(len(rows))

    def numerical_gradient(self, x: ArrayLike, t: ArrayLike, method: str = "naive"
                           ) -> dict[str, NDArray]:
        """Gradients of the loss for every parameter by numerical differentiation.

        ``method="naive"`` is the original post's loop: each parameter nudged by ``+-h``
        and the whole network run forward each time (slow: 79,520 forward passes a step
        for 784-50-10). ``"structured"`` computes the same central differences from
        cached activations, recomputing only what a nudge changes (see
        :mod:`dvzero.networks.structured_gradient`), about a hundred times faster; it
        always works in float64, as the naive loop must to be meaningful.
        """
        if method == "structured":
            from .structured_gradient import structured_numerical_gradient

            return structured_numerical_gradient(self, x, t)
        if method != "naive":
            raise ValueError(f"method must be 'naive' or 'structured', got {method!r}")
        x = self._check_x(x)
        t = self._check_t(x, t)

        def loss_W(W: NDArray) -> float:
            return self.loss(x, t)

        return {key: numerical_gradient(loss_W, self.params[key]) for key in PARAM_KEYS}

    def gradient(self, x: ArrayLike, t: ArrayLike) -> dict[str, NDArray]:
        """Gradients of the loss for every parameter by backpropagation (fast).

        Same keys, shapes and values (to rounding) as :meth:`numerical_gradient`.
        """
        x, t = self._check_batch(x, t)
        affine1 = Affine(self.params["W1"], self.params["b1"])
        activation = ACTIVATIONS[self.activation][1]()
        affine2 = Affine(self.params["W2"], self.params["b2"])
        last = SoftmaxWithLoss()

        last.forward(affine2.forward(activation.forward(affine1.forward(x))), t)
        dout = activation.backward(affine2.backward(last.backward(1.0)))
        affine1.backward(dout, need_dx=False)
        return {"W1": affine1.dW, "b1": affine1.db, "W2": affine2.dW, "b2": affine2.db}

    def stacked_loss(self, params: dict[str, NDArray], x: NDArray, labels: NDArray) -> NDArray:
        """The loss of ``K`` networks of this shape, each on its own batch, in one pass:
        ``params`` holds each parameter of the ``K`` networks stacked ``(K, ...)``, ``x`` the
        batches ``(K, N, input_size)`` and ``labels`` their labels ``(K, N)``.

        Entry ``k`` is bit for bit :meth:`loss` of network ``k`` on batch ``k`` (the same
        products, each on its own, and the same sums): the trainer measures the loss after
        each update this way, a group of steps at a time, beside the training.
        """
        stacked = {**params, "b1": params["b1"][:, None, :], "b2": params["b2"][:, None, :]}
        y = softmax(self._scores(x, stacked))  # the biases broadcast over each batch
        picked = np.take_along_axis(y, labels[:, :, None], axis=2)[:, :, 0]
        return -np.log(np.maximum(picked, CROSS_ENTROPY_FLOOR)).sum(axis=1) / x.shape[1]

    def snapshot(self) -> DeepVisionZeroNet:
        """A copy of this network with parameter arrays of its own: what it is now, kept
        while this one trains on (an evaluation beside the training measures it)."""
        twin = copy.copy(self)
        twin.params = {key: value.copy() for key, value in self.params.items()}
        return twin

    # ------------------------------------------------------------------ files

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this network (stored in ``.npz`` files)."""
        return {
            "input_size": self.input_size,
            "hidden_size": self.hidden_size,
            "output_size": self.output_size,
            "weight_init_std": self.weight_init_std,
            "activation": self.activation,
            "dtype": self.dtype.name,
        }

    def save_params(self, file_name: str | os.PathLike[str] = "params_two_layer.pkl") -> None:
        """Save the parameters: the original post's pickle by default, the safe ``.npz`` format
        for a name ending in ``.npz``."""
        params = {key: val for key, val in self.params.items()}
        meta = {"network": type(self).__name__, "config": self.config(), "dtype": self.dtype.name}
        storage.save_params_file(file_name, params, meta)

    def load_params(self, file_name: str | os.PathLike[str] = "params_two_layer.pkl") -> None:
        """Load parameters saved by :meth:`save_params` (either format) into this network.

        Keys and shapes must match; mismatches are reported by name. Values are cast to
        this network's dtype.
        """
        params, _ = storage.load_params_file(file_name)
        self.params = fit_params(params, self.params, str(file_name))
