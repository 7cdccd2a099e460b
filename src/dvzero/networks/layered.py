""":class:`LayerNet`: what every network built as a list of layers shares.

A subclass sets ``input_shape``, ``output_size``, ``dtype`` and ``weight_decay_lambda``,
makes its parameters (and ``buffers``, ``dropout_rng``) and lists its layers in
:meth:`LayerNet._build_layers`; this class gives it the original post's API (``params``,
``predict``, ``loss``, ``accuracy``, ``numerical_gradient``) and ``gradient`` by
backpropagation, the state a checkpoint needs, and the safe parameter files.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import storage
from .._rng import plain
from ..data.scaled import ScaledImages
from ..functions import labels_from_targets, softmax
from ..gradient import numerical_gradient
from ..layers import Relu, Sigmoid, SoftmaxWithLoss, Tanh
from .base import count_correct, fit_params

#: Initial weight scales by name, as functions of the number of inputs of a unit.
INIT_SCALES = {"he": lambda fan_in: math.sqrt(2.0 / fan_in),  # for ReLU
               "xavier": lambda fan_in: math.sqrt(1.0 / fan_in)}  # for sigmoid and tanh


def check_init(weight_init_std: Any) -> None:
    """Refuse anything but ``"he"``, ``"xavier"`` or a finite number >= 0."""
    if weight_init_std not in INIT_SCALES and not (
        isinstance(weight_init_std, (int, float)) and not isinstance(weight_init_std, bool)
        and math.isfinite(weight_init_std) and weight_init_std >= 0
    ):
        raise ValueError(f"weight_init_std must be 'he', 'xavier' or a number >= 0, "
                         f"got {weight_init_std!r}")


def init_scale(weight_init_std: str | float, fan_in: int) -> float:
    """The standard deviation of initial weights for units with ``fan_in`` inputs."""
    if isinstance(weight_init_std, str):
        return INIT_SCALES[weight_init_std](fan_in)
    return float(weight_init_std)


def eval_batch_size(network: Any, most: int = 10000) -> int:
    """How many samples ``network`` can evaluate at once: ``most``, or fewer when its
    ``bytes_per_sample`` would pass its ``eval_budget_bytes`` (convolutional networks)."""
    per_sample = getattr(network, "bytes_per_sample", 0)
    if not per_sample:
        return most
    return max(1, min(most, getattr(network, "eval_budget_bytes", 0) // per_sample))


class LayerNet:
    """The shared machinery; see the module's description."""

    input_shape: tuple[int, ...]
    output_size: int
    dtype: np.dtype
    weight_decay_lambda: float = 0.0
    #: Bytes one sample takes through the widest layer: accuracy() sizes its chunks by it.
    bytes_per_sample = 0
    #: The most memory accuracy() lets one chunk take.
    eval_budget_bytes = 128 * 2**20

    def _make_generators(self, rng: int | np.random.Generator | None):
        """The weights' normal draws, then the dropout generator (saved in checkpoints)."""
        if rng is None:
            self._dropout_seed = lambda: int(np.random.randint(2**31))
            return np.random.standard_normal
        generator = np.random.default_rng(rng)
        self._dropout_seed = lambda: int(generator.integers(2**63))
        return generator.standard_normal

    def _start_dropout(self) -> None:
        #: The generator of the dropout masks (its state is saved in checkpoints).
        self.dropout_rng = np.random.default_rng(self._dropout_seed())

    # ------------------------------------------------------------------ layers

    @property
    def params(self) -> dict[str, NDArray]:
        return self._params

    @params.setter
    def params(self, params: dict[str, NDArray]) -> None:
        """New parameter arrays: the layers are rebuilt around them (and again whenever one
        key is replaced, as in ``net.params["W1"] = W``)."""
        self._params = _Params(params, self._rebuild)
        self._rebuild()

    def _rebuild(self) -> None:
        #: (layer, whether forward takes train_flg); and (param key, layer, its attribute).
        self._layers, self._trainable = self._build_layers(self._params)
        self._last_layer = SoftmaxWithLoss()

    def _build_layers(self, params: dict[str, NDArray]) -> tuple[list, list]:
        raise NotImplementedError

    def _check_x(self, x: ArrayLike) -> NDArray:
        x = np.asarray(x)
        if x.dtype.kind not in "biuf":
            raise ValueError(f"x must be an array of real numbers, got dtype {x.dtype}")
        size = math.prod(self.input_shape)
        if x.ndim >= 2 and math.prod(x.shape[1:]) == size:
            return x.reshape(x.shape[0], *self.input_shape)
        if x.shape == self.input_shape or (x.ndim == 1 and x.shape[0] == size):
            return x.reshape(1, *self.input_shape)
        raise ValueError(f"x must have shape (N, {', '.join(map(str, self.input_shape))}) or "
                         f"(N, {size}), got {x.shape}")

    def _scores(self, x: NDArray, train_flg: bool) -> NDArray:
        for layer, takes_flag in self._layers:
            x = layer.forward(x, train_flg) if takes_flag else layer.forward(x)
        return x

    # ------------------------------------------------------------------ the original post's API

    def predict(self, x: ArrayLike, train_flg: bool = False) -> NDArray:
        """Class probabilities for ``x`` -> ``(N, output_size)``."""
        return softmax(self._scores(self._check_x(x), train_flg))

    def first_hidden(self, x: ArrayLike) -> NDArray:
        """The first hidden layer's activations for ``x`` (predicting): ``(N, units)``
        after a fully connected layer, ``(N, channels, height, width)`` after a
        convolution (and the pooling before its activation, if any)."""
        x = self._check_x(x)
        for layer, takes_flag in self._layers:
            x = layer.forward(x, False) if takes_flag else layer.forward(x)
            if isinstance(layer, (Sigmoid, Relu, Tanh)):
                return x
        raise ValueError(f"{type(self).__name__} has no hidden layer")

    def weight_decay(self) -> float:
        """The L2 term of the loss: ``lambda / 2 * sum of W ** 2`` over all weights."""
        if self.weight_decay_lambda == 0:
            return 0.0
        total = sum(float(np.sum(value * value)) for key, value in self.params.items()
                    if key.startswith("W"))
        return 0.5 * self.weight_decay_lambda * total

    def loss(self, x: ArrayLike, t: ArrayLike, train_flg: bool = False) -> float:
        """Cross-entropy of the predictions for ``x`` against ``t``, plus the weight decay."""
        x = self._check_x(x)
        t = np.asarray(t)
        if t.shape[:1] != x.shape[:1]:
            raise ValueError(f"t must have {x.shape[0]} rows to match x, got shape {t.shape}")
        return self._last_layer.forward(self._scores(x, train_flg), t) + self.weight_decay()

    def accuracy(self, x: ArrayLike, t: ArrayLike, batch_size: int | None = None) -> float:
        """Share of samples whose most probable class is the one in ``t`` (predicting).

        Evaluated ``batch_size`` samples at a time (by default as many as fit
        :attr:`eval_budget_bytes`), so that 60,000 images need no gigabytes.
        """
        rows = x if isinstance(x, ScaledImages) else self._check_x(x)  # bytes: by chunks
        labels = labels_from_targets(np.asarray(t), self.output_size)
        if len(rows) == 0 or labels.shape[0] != len(rows):
            raise ValueError(f"x has {len(rows)} rows and t {labels.shape[0]}; need the same "
                             f"number, at least one")
        if batch_size is None:
            batch_size = eval_batch_size(self)
        # One chunk at a time: the layers keep each pass's inputs (a convolution splits its
        # own work across the threads).
        correct = count_correct(lambda chunk: self._scores(self._check_x(chunk), False), rows,
                                labels, batch_size)
        return correct / len(rows)

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
        self._layers[0][0].backward(dout, need_dx=False)  # nobody needs the data's gradient
        grads = {}
        for key, layer, name in self._trainable:
            grad = getattr(layer, "d" + name)
            if self.weight_decay_lambda and key.startswith("W"):
                grad = grad + self.weight_decay_lambda * self.params[key]
            grads[key] = grad
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
        raise NotImplementedError

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

    def save_params(self, file_name: str | os.PathLike[str] = "params.npz") -> None:
        """Save ``params`` and ``buffers``: the safe ``.npz`` format, or a pickle for others."""
        meta = {"network": type(self).__name__, "config": self.config(), "dtype": self.dtype.name}
        storage.save_params_file(file_name, self.arrays(), meta)

    def load_params(self, file_name: str | os.PathLike[str] = "params.npz") -> None:
        """Load what :meth:`save_params` wrote; mismatches are reported by name."""
        arrays, _ = storage.load_params_file(file_name)
        self.load_arrays(arrays, str(file_name))


class _Params(dict):
    """A network's ``params`` dict: replacing a key rebuilds the layers.

    (Updating an array in place, as the optimizers do, needs nothing: the layers hold the
    arrays themselves.)
    """

    def __init__(self, params: dict[str, NDArray], rebuild) -> None:
        super().__init__(params)
        self._rebuild = rebuild

    def __setitem__(self, key: str, value: NDArray) -> None:
        super().__setitem__(key, value)
        self._rebuild()
