""":class:`DeepVisionZeroNet`: the original post's two-layer network, name for name."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from .._i18n import _
from ..functions import CROSS_ENTROPY_FLOOR, softmax
from ..layers import ACTIVATIONS, Affine
from .layered import LayerNet, float_dtype, positive_int

#: The parameters of the original post's network, in its order.
PARAM_KEYS = ("W1", "b1", "W2", "b2")
#: The hidden layer's activations it takes: the original post's sigmoid, or ReLU.
HIDDEN_ACTIVATIONS = ("relu", "sigmoid")


class DeepVisionZeroNet(LayerNet):
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
        Float dtype of the parameters: ``float64`` (the original post's, and what numerical
        gradients need) or ``float32`` (half the memory traffic).
    rng
        Seed or :class:`numpy.random.Generator` for the initial weights; ``None`` uses the
        global ``np.random``, as the original post does.

    Notes
    -----
    ``params`` holds ``W1 (input_size, hidden_size)``, ``b1 (hidden_size,)``,
    ``W2 (hidden_size, output_size)`` and ``b2 (output_size,)``; the layers are
    ``Affine -> activation -> Affine``, then softmax with the cross-entropy loss.
    """

    splits_work = True
    loss_after_update = True
    measured_beside = True
    numerical_methods = ("structured", "naive")
    post_params_file = "params_two_layer.pkl"

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
            raise ValueError(_("weight_init_std must be finite and >= 0, got {value!r}")
                             .format(value=weight_init_std))
        if activation not in HIDDEN_ACTIVATIONS:
            raise ValueError(_("activation must be one of {choices}, got {activation!r}")
                             .format(choices=list(HIDDEN_ACTIVATIONS), activation=activation))
        self.dtype = float_dtype(dtype)
        self.weight_init_std = float(weight_init_std)
        self.activation = activation
        # No dropout: nothing else is drawn from the global np.random, as in the post.
        normal = np.random.standard_normal if rng is None else \
            np.random.default_rng(rng).standard_normal
        self.buffers: dict[str, NDArray] = {}
        # Drawn in float64 and then cast, so one seed gives the same network in any dtype.
        self.params = {
            "W1": (weight_init_std * normal((input_size, hidden_size))).astype(self.dtype),
            "b1": np.zeros(hidden_size, dtype=self.dtype),
            "W2": (weight_init_std * normal((hidden_size, output_size))).astype(self.dtype),
            "b2": np.zeros(output_size, dtype=self.dtype),
        }

    def _build_layers(self, params: dict[str, NDArray]) -> tuple[list, list]:
        affine1, affine2 = Affine(params["W1"], params["b1"]), Affine(params["W2"], params["b2"])
        layers = [affine1, ACTIVATIONS[self.activation](), affine2]
        trainable = [("W1", affine1, "W"), ("b1", affine1, "b"),
                     ("W2", affine2, "W"), ("b2", affine2, "b")]
        return layers, trainable

    def numerical_gradient(self, x: ArrayLike, t: ArrayLike, method: str = "naive"
                           ) -> dict[str, NDArray]:
        """Gradients of the loss for every parameter by numerical differentiation.

        ``method="naive"`` is the original post's loop: each parameter nudged by ``+-h``
        and the whole network run forward each time. ``"structured"`` computes the same
        central differences, in float64, recomputing only what a nudge changes (see
        :mod:`dvzero.networks.structured_gradient`).
        """
        if method == "structured":
            from .structured_gradient import structured_numerical_gradient

            return structured_numerical_gradient(self, x, t)
        if method != "naive":
            raise ValueError(_("method must be 'naive' or 'structured', got {method!r}")
                             .format(method=method))
        return super().numerical_gradient(x, t)

    def stacked_loss(self, params: dict[str, NDArray], x: NDArray, labels: NDArray) -> NDArray:
        """The loss of ``K`` networks of this shape, each on its own batch, in one pass:
        ``params`` holds each parameter of the ``K`` networks stacked ``(K, ...)``, ``x`` the
        batches ``(K, N, input_size)`` and ``labels`` their labels ``(K, N)``.

        Entry ``k`` is bit for bit :meth:`loss` of network ``k`` on batch ``k``: the same
        products, each on its own, and the same sums. It measures the loss after each of a
        group of updates at once, for a training measured beside its steps.
        """
        activation = ACTIVATIONS[self.activation]()
        hidden = activation.forward(x @ params["W1"] + params["b1"][:, None, :])
        y = softmax(hidden @ params["W2"] + params["b2"][:, None, :])
        picked = np.take_along_axis(y, labels[:, :, None], axis=2)[:, :, 0]
        return -np.log(np.maximum(picked, CROSS_ENTROPY_FLOOR)).sum(axis=1) / x.shape[1]

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this network (stored in ``.npz`` files)."""
        return {"input_size": self.input_size, "hidden_size": self.hidden_size,
                "output_size": self.output_size, "weight_init_std": self.weight_init_std,
                "activation": self.activation, "dtype": self.dtype.name}

    def save_params(self, file_name: str | os.PathLike[str] = "params_two_layer.pkl") -> None:
        """Save the parameters: the original post's pickle by default, the safe ``.npz``
        format for a name ending in ``.npz``."""
        super().save_params(file_name)

    def load_params(self, file_name: str | os.PathLike[str] = "params_two_layer.pkl") -> None:
        """Load parameters saved by :meth:`save_params` (either format) into this network;
        keys and shapes must match, values are cast to this network's dtype."""
        super().load_params(file_name)
