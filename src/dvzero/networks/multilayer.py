""":class:`MultiLayerNet`: a fully connected network of any depth, with the training toolkit.

Each hidden layer is ``Affine -> [BatchNormalization] -> activation -> [Dropout]``; the
last is ``Affine -> softmax`` with the cross-entropy loss, plus the L2 weight-decay term.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from .. import storage
from .._rng import plain
from ..functions import labels_from_targets, softmax
from ..gradient import numerical_gradient
from ..layers import Affine, BatchNormalization, Dropout, Relu, Sigmoid, SoftmaxWithLoss, Tanh
from .base import fit_params, positive_int

ACTIVATION_LAYERS = {"relu": Relu, "sigmoid": Sigmoid, "tanh": Tanh}
#: Named initial weight scales, as functions of the number of inputs of a layer.
INIT_SCALES = {"he": lambda fan_in: math.sqrt(2.0 / fan_in),  # for ReLU
               "xavier": lambda fan_in: math.sqrt(1.0 / fan_in)}  # for sigmoid and tanh


class MultiLayerNet:
    """A fully connected network: ``input_size -> hidden_size_list... -> output_size``.

    Parameters
    ----------
    input_size, output_size
        Widths of the input (784 for MNIST) and of the output (10 classes).
    hidden_size_list
        Widths of the hidden layers, e.g. ``[100, 100, 100, 100]``.
    activation
        ``"relu"``, ``"sigmoid"`` or ``"tanh"``.
    weight_init_std
        ``"he"`` (``sqrt(2 / fan_in)``, for ReLU), ``"xavier"`` (``sqrt(1 / fan_in)``, for
        sigmoid and tanh), or a number: the standard deviation of every initial weight.
    weight_decay_lambda
        L2 weight decay: the loss gains ``lambda / 2 * sum(W ** 2)`` over all weights.
    use_dropout, dropout_ratio
        Dropout after each hidden activation, dropping that share of the units.
    use_batchnorm
        Batch normalisation before each hidden activation (adds ``gamma``/``beta``).
    dtype, rng
        Float dtype of the parameters; seed or :class:`numpy.random.Generator` for the
        initial weights and the dropout masks (``None``: the global ``np.random``).

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
        if activation not in ACTIVATION_LAYERS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATION_LAYERS)}, "
                             f"got {activation!r}")
        if weight_init_std not in INIT_SCALES and not (
            isinstance(weight_init_std, (int, float)) and not isinstance(weight_init_std, bool)
            and math.isfinite(weight_init_std) and weight_init_std >= 0
        ):
            raise ValueError(f"weight_init_std must be 'he', 'xavier' or a number >= 0, "
                             f"got {weight_init_std!r}")
        if not (math.isfinite(weight_decay_lambda) and weight_decay_lambda >= 0):
            raise ValueError(f"weight_decay_lambda must be >= 0, got {weight_decay_lambda!r}")
        if use_dropout and not 0 <= dropout_ratio < 1:
            raise ValueError(f"dropout_ratio must be in [0, 1), got {dropout_ratio!r}")
        self.dtype = np.dtype(dtype)
        if not np.issubdtype(self.dtype, np.floating):
            raise ValueError(f"dtype must be a float dtype, got {self.dtype}")
        self.activation = activation
        self.weight_init_std = weight_init_std
        self.weight_decay_lambda = float(weight_decay_lambda)
        self.use_dropout, self.dropout_ratio = bool(use_dropout), float(dropout_ratio)
        self.use_batchnorm = bool(use_batchnorm)
        self._init_params(rng)

    def _init_params(self, rng: int | np.random.Generator | None) -> None:
        if rng is None:  # the global np.random, as DeepVisionZeroNet
            standard_normal, dropout_seed = np.random.standard_normal, np.random.randint(2**31)
        else:
            generator = np.random.default_rng(rng)
            standard_normal, dropout_seed = generator.standard_normal, None
        sizes = [self.input_size, *self.hidden_size_list, self.output_size]
        params: dict[str, NDArray] = {}
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
            scale = INIT_SCALES[self.weight_init_std](fan_in) \
                if isinstance(self.weight_init_std, str) else self.weight_init_std
            # Drawn in float64 and then cast, so one seed gives the same network in any dtype.
            params[f"W{i}"] = (scale * standard_normal((fan_in, fan_out))).astype(self.dtype)
            params[f"b{i}"] = np.zeros(fan_out, dtype=self.dtype)
            if self.use_batchnorm and i < len(sizes) - 1:
                params[f"gamma{i}"] = np.ones(fan_out, dtype=self.dtype)
                params[f"beta{i}"] = np.zeros(fan_out, dtype=self.dtype)
        if dropout_seed is None:
            dropout_seed = int(generator.integers(2**63))
        #: The generator of the dropout masks (its state is saved in checkpoints).
        self.dropout_rng = np.random.default_rng(dropout_seed)
        self.buffers: dict[str, NDArray] = {}
        for i, size in enumerate(self.hidden_size_list, start=1):
            if self.use_batchnorm:
                self.buffers[f"running_mean{i}"] = np.zeros(size, dtype=self.dtype)
                self.buffers[f"running_var{i}"] = np.ones(size, dtype=self.dtype)
        self.params = params

    # ------------------------------------------------------------------ layers

    @property
    def params(self) -> dict[str, NDArray]:
        return self._params

    @params.setter
    def params(self, params: dict[str, NDArray]) -> None:
        """New parameter arrays: the layers are rebuilt around them (and again whenever one
        key is replaced, as in ``net.params["W1"] = W``)."""
        self._params = _Params(params, self._build_layers)
        self._build_layers()

    def _build_layers(self) -> None:
        params = self._params
        self._layers: list[tuple[Any, bool]] = []  # (layer, takes train_flg)
        self._affines, self._batchnorms = [], []
        for i in range(1, len(self.hidden_size_list) + 2):
            affine = Affine(params[f"W{i}"], params[f"b{i}"])
            self._affines.append(affine)
            self._layers.append((affine, False))
            if i > len(self.hidden_size_list):
                break
            if self.use_batchnorm:
                norm = BatchNormalization(params[f"gamma{i}"], params[f"beta{i}"],
                                          running_mean=self.buffers[f"running_mean{i}"],
                                          running_var=self.buffers[f"running_var{i}"])
                self._batchnorms.append((i, norm))
                self._layers.append((norm, True))
            self._layers.append((ACTIVATION_LAYERS[self.activation](), False))
            if self.use_dropout:
                self._layers.append((Dropout(self.dropout_ratio, self.dropout_rng), True))
        self._last_layer = SoftmaxWithLoss()

    def _check_x(self, x: ArrayLike) -> NDArray:
        x = np.asarray(x)
        if x.dtype.kind not in "biuf":
            raise ValueError(f"x must be an array of real numbers, got dtype {x.dtype}")
        if x.ndim >= 2 and math.prod(x.shape[1:]) == self.input_size:
            return x.reshape(x.shape[0], self.input_size)
        if x.ndim == 1 and x.shape[0] == self.input_size:
            return x.reshape(1, self.input_size)
        raise ValueError(f"x must have shape (N, {self.input_size}), got {x.shape}")

    def _scores(self, x: NDArray, train_flg: bool) -> NDArray:
        for layer, takes_flag in self._layers:
            x = layer.forward(x, train_flg) if takes_flag else layer.forward(x)
        return x

    # ------------------------------------------------------------------ the original post's API

    def predict(self, x: ArrayLike, train_flg: bool = False) -> NDArray:
        """Class probabilities for ``x`` ``(N, input_size)`` -> ``(N, output_size)``."""
        return softmax(self._scores(self._check_x(x), train_flg))

    def weight_decay(self) -> float:
        """The L2 term of the loss: ``lambda / 2 * sum of W ** 2`` over all weights."""
        if self.weight_decay_lambda == 0:
            return 0.0
        total = sum(float(np.sum(affine.W * affine.W)) for affine in self._affines)
        return 0.5 * self.weight_decay_lambda * total

    def loss(self, x: ArrayLike, t: ArrayLike, train_flg: bool = False) -> float:
        """Cross-entropy of the predictions for ``x`` against ``t``, plus the weight decay."""
        x = self._check_x(x)
        t = np.asarray(t)
        if t.shape[:1] != x.shape[:1]:
            raise ValueError(f"t must have {x.shape[0]} rows to match x, got shape {t.shape}")
        scores = self._scores(x, train_flg)
        return self._last_layer.forward(scores, t) + self.weight_decay()

    def accuracy(self, x: ArrayLike, t: ArrayLike, batch_size: int = 10000) -> float:
        """Share of rows of ``x`` whose most probable class is the one in ``t`` (predicting)."""
        x = self._check_x(x)
        labels = labels_from_targets(np.asarray(t), self.output_size)
        if x.shape[0] == 0 or labels.shape[0] != x.shape[0]:
            raise ValueError(f"x has {x.shape[0]} rows and t {labels.shape[0]}; need the same "
                             f"number, at least one")
        correct = 0
        for start in range(0, x.shape[0], batch_size):
            scores = self._scores(x[start : start + batch_size], False)
            correct += int(np.sum(np.argmax(scores, axis=1) == labels[start : start + batch_size]))
        return correct / x.shape[0]

    def gradient(self, x: ArrayLike, t: ArrayLike) -> dict[str, NDArray]:
        """Gradients of the loss for every parameter by backpropagation, in training mode.

        The loss of this forward pass (with dropout and batch statistics) is kept in
        :attr:`last_loss`.
        """
        #: The loss of the forward pass of the last :meth:`gradient` call.
        self.last_loss = self.loss(x, t, train_flg=True)
        dout = self._last_layer.backward(1.0)
        for layer, _ in reversed(self._layers[1:]):
            dout = layer.backward(dout)
        self._affines[0].backward(dout, need_dx=False)  # nobody needs the data's gradient
        grads: dict[str, NDArray] = {}
        for i, affine in enumerate(self._affines, start=1):
            grads[f"W{i}"] = (affine.dW + self.weight_decay_lambda * affine.W
                              if self.weight_decay_lambda else affine.dW)
            grads[f"b{i}"] = affine.db
        for i, norm in self._batchnorms:
            grads[f"gamma{i}"], grads[f"beta{i}"] = norm.dgamma, norm.dbeta
        return grads

    def numerical_gradient(self, x: ArrayLike, t: ArrayLike) -> dict[str, NDArray]:
        """The gradients of :meth:`gradient` by numerical differentiation (slow; for checking).

        Every loss evaluation sees the same dropout masks (the generator is rewound to
        where it stood, and the running averages too), so the result matches a
        :meth:`gradient` call made from the same state; afterwards the network is left as
        that call would leave it.
        """
        x = self._check_x(x)
        rng_state = self.dropout_rng.bit_generator.state
        saved = {key: value.copy() for key, value in self.buffers.items()}

        def restore() -> None:
            for key, value in saved.items():
                self.buffers[key][...] = value
            self.dropout_rng.bit_generator.state = rng_state

        def loss_W(_: NDArray) -> float:
            restore()
            return self.loss(x, t, train_flg=True)

        try:
            grads = {key: numerical_gradient(loss_W, param) for key, param in self.params.items()}
        finally:
            restore()
        # One more forward pass leaves the network as gradient() does: masks drawn, running
        # averages moved, last_loss set.
        self.last_loss = self.loss(x, t, train_flg=True)
        return grads

    # ------------------------------------------------------------------ state and files

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this network (stored in ``.npz`` files)."""
        return {
            "input_size": self.input_size,
            "hidden_size_list": list(self.hidden_size_list),
            "output_size": self.output_size,
            "activation": self.activation,
            "weight_init_std": self.weight_init_std,
            "weight_decay_lambda": self.weight_decay_lambda,
            "use_dropout": self.use_dropout,
            "dropout_ratio": self.dropout_ratio,
            "use_batchnorm": self.use_batchnorm,
            "dtype": self.dtype.name,
        }

    def state_dict(self) -> dict[str, Any]:
        """What training changes besides ``params``: running averages, dropout generator."""
        return {**{key: value.copy() for key, value in self.buffers.items()},
                "dropout_rng": plain(self.dropout_rng.bit_generator.state)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        for key, value in self.buffers.items():
            if np.shape(state[key]) != value.shape:
                raise ValueError(f"{key}: state has shape {np.shape(state[key])}, network "
                                 f"expects {value.shape}")
            value[...] = state[key]  # in place: the layers hold these arrays
        self.dropout_rng.bit_generator.state = state["dropout_rng"]

    def arrays(self) -> dict[str, NDArray]:
        """Everything a parameter file holds: ``params`` and ``buffers``."""
        return {**self.params, **self.buffers}

    def load_arrays(self, arrays: dict[str, NDArray], source: str) -> None:
        """Take ``params`` and ``buffers`` from ``arrays`` (checked by name and shape)."""
        fitted = fit_params(arrays, self.arrays(), source)
        for key, value in self.buffers.items():
            value[...] = fitted.pop(key)
        self.params = fitted

    def save_params(self, file_name: str | os.PathLike[str] = "params_multilayer.npz") -> None:
        """Save ``params`` and ``buffers``: the safe ``.npz`` format, or a pickle for others."""
        meta = {"network": type(self).__name__, "config": self.config(), "dtype": self.dtype.name}
        storage.save_params_file(file_name, self.arrays(), meta)

    def load_params(self, file_name: str | os.PathLike[str] = "params_multilayer.npz") -> None:
        """Load what :meth:`save_params` wrote; mismatches are reported by name."""
        arrays, _ = storage.load_params_file(file_name)
        self.load_arrays(arrays, str(file_name))



class _Params(dict):
    """The ``params`` dict of a :class:`MultiLayerNet`: replacing a key rebuilds the layers.

    (Updating an array in place, as the optimizers do, needs nothing: the layers hold the
    arrays themselves.)
    """

    def __init__(self, params: dict[str, NDArray], rebuild) -> None:
        super().__init__(params)
        self._rebuild = rebuild

    def __setitem__(self, key: str, value: NDArray) -> None:
        super().__setitem__(key, value)
        self._rebuild()
