""":class:`MultiLayerNet`: a fully connected network of any depth, with the training toolkit.

Each hidden layer is ``Affine -> [BatchNormalization] -> activation -> [Dropout]``; the
last is ``Affine -> softmax`` with the cross-entropy loss, plus the L2 weight-decay term.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from .._i18n import _
from ..layers import ACTIVATIONS, Affine, BatchNormalization, Dropout
from .layered import LayerNet, init_std, positive_int


class MultiLayerNet(LayerNet):
    """A fully connected network: ``input_size -> hidden_size_list... -> output_size``.

    Parameters
    ----------
    input_size, hidden_size_list, output_size
        Layer widths, e.g. ``784``, ``[100, 100, 100, 100]``, ``10``.
    activation
        ``"relu"``, ``"sigmoid"`` or ``"tanh"``.
    weight_init_std
        ``"he"`` (``sqrt(2 / fan_in)``, for ReLU), ``"xavier"`` (``sqrt(1 / fan_in)``, for
        sigmoid and tanh), or the standard deviation of every initial weight.
    weight_decay_lambda
        L2 weight decay: the loss gains ``lambda / 2 * sum(W ** 2)`` over all weights.
    use_dropout, dropout_ratio
        Dropout after each hidden activation, dropping that share of the units.
    use_batchnorm
        Batch normalisation before each hidden activation (adds ``gamma``/``beta``).
    dtype, rng
        Float dtype of the parameters; seed or :class:`numpy.random.Generator` for the
        initial weights and the dropout masks (``None``: the global ``np.random``).

    Notes
    -----
    ``params`` holds ``W1 (input_size, hidden_size_list[0])``, ``b1``, ... up to ``W{L}``,
    ``b{L}``, and ``gamma{i}``, ``beta{i}`` for each hidden layer with batch normalisation.
    The running averages of batch normalisation are in ``buffers``
    (``running_mean{i}``, ``running_var{i}``): not learnt, but saved with the parameters.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size_list: Sequence[int],
        output_size: int,
        activation: str = "relu",
        weight_init_std: str | float = "he",
        weight_decay_lambda: float = 0.0,
        use_dropout: bool = False,
        dropout_ratio: float = 0.5,
        use_batchnorm: bool = False,
        *,
        dtype: DTypeLike = np.float64,
        rng: int | np.random.Generator | None = None,
    ) -> None:
        self.input_size = positive_int("input_size", input_size)
        self.hidden_size_list = [positive_int("hidden size", size) for size in hidden_size_list]
        self.output_size = positive_int("output_size", output_size)
        if activation not in ACTIVATIONS:
            raise ValueError(_("activation must be one of {choices}, got {activation!r}")
                             .format(choices=sorted(ACTIVATIONS), activation=activation))
        self._set_options(weight_init_std, weight_decay_lambda, dtype)
        if use_dropout and not 0 <= dropout_ratio < 1:
            raise ValueError(_("dropout_ratio must be in [0, 1), got {ratio!r}")
                             .format(ratio=dropout_ratio))
        self.activation = activation
        self.use_dropout, self.dropout_ratio = bool(use_dropout), float(dropout_ratio)
        self.use_batchnorm = bool(use_batchnorm)
        standard_normal = self._make_generators(rng)
        sizes = [self.input_size, *self.hidden_size_list, self.output_size]
        params: dict[str, NDArray] = {}
        self.buffers: dict[str, NDArray] = {}
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
            scale = init_std(self.weight_init_std, fan_in)
            # Drawn in float64 and then cast, so one seed gives the same network in any dtype.
            params[f"W{i}"] = (scale * standard_normal((fan_in, fan_out))).astype(self.dtype)
            params[f"b{i}"] = np.zeros(fan_out, dtype=self.dtype)
            if self.use_batchnorm and i < len(sizes) - 1:
                params[f"gamma{i}"] = np.ones(fan_out, dtype=self.dtype)
                params[f"beta{i}"] = np.zeros(fan_out, dtype=self.dtype)
                self.buffers[f"running_mean{i}"] = np.zeros(fan_out, dtype=self.dtype)
                self.buffers[f"running_var{i}"] = np.ones(fan_out, dtype=self.dtype)
        self._start_dropout()
        self.params = params

    def _build_layers(self, params: dict[str, NDArray]) -> tuple[list, list]:
        layers: list[Any] = []
        trainable: list[tuple[str, Any, str]] = []
        for i in range(1, len(self.hidden_size_list) + 2):
            affine = Affine(params[f"W{i}"], params[f"b{i}"])
            layers.append(affine)
            trainable += [(f"W{i}", affine, "W"), (f"b{i}", affine, "b")]
            if i > len(self.hidden_size_list):
                break
            if self.use_batchnorm:
                norm = BatchNormalization(params[f"gamma{i}"], params[f"beta{i}"],
                                          running_mean=self.buffers[f"running_mean{i}"],
                                          running_var=self.buffers[f"running_var{i}"])
                layers.append(norm)
                trainable += [(f"gamma{i}", norm, "gamma"), (f"beta{i}", norm, "beta")]
            layers.append(ACTIVATIONS[self.activation]())
            if self.use_dropout:
                layers.append(Dropout(self.dropout_ratio, self.dropout_rng))
        return layers, trainable

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this network (stored in ``.npz`` files)."""
        return {"input_size": self.input_size, "hidden_size_list": list(self.hidden_size_list),
                "output_size": self.output_size, "activation": self.activation,
                "weight_init_std": self.weight_init_std,
                "weight_decay_lambda": self.weight_decay_lambda, "use_dropout": self.use_dropout,
                "dropout_ratio": self.dropout_ratio, "use_batchnorm": self.use_batchnorm,
                "dtype": self.dtype.name}
