""":class:`LayerNet`: what every network shares, as a list of layers.

A subclass sets ``input_size`` (or ``input_shape``), ``output_size`` and ``dtype``, makes
its ``params`` (and ``buffers``, ``dropout_rng`` if it has any) and lists its layers in
:meth:`LayerNet._build_layers`. This class gives it the original post's API (``params``,
``predict``, ``loss``, ``accuracy``, ``numerical_gradient``), ``gradient`` by
backpropagation, the state a checkpoint needs and the safe parameter files.
"""

from __future__ import annotations

import copy
import math
import os
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import storage
from .._i18n import _
from .._rng import plain
from ..autograd import Variable
from ..data.scaled import ScaledImages
from ..errors import ParamsFileError
from ..functions import labels_from_targets, softmax
from ..gradient import numerical_gradient
from ..layers import ACTIVATIONS, SoftmaxWithLoss
from .on_graph import loss_graph

#: Initial weight scales by name, as functions of the number of inputs of a unit.
INIT_SCALES = {"he": lambda fan_in: math.sqrt(2.0 / fan_in),  # for ReLU
               "xavier": lambda fan_in: math.sqrt(1.0 / fan_in)}  # for sigmoid and tanh


def positive_int(name: str, value: Any) -> int:
    """``value`` as an ``int`` if it is a whole number >= 1, else ``ValueError`` naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(_("{name} must be a positive integer, got {value!r}")
                         .format(name=name, value=value))
    return int(value)


def float_dtype(dtype: Any) -> np.dtype:
    """``dtype`` as a NumPy float dtype, else ``ValueError``."""
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise ValueError(_("dtype must be a float dtype, got {dtype}").format(dtype=dtype))
    return dtype


def check_init(weight_init_std: Any) -> None:
    """Refuse anything but ``"he"``, ``"xavier"`` or a finite number >= 0."""
    if weight_init_std not in INIT_SCALES and not (
        isinstance(weight_init_std, (int, float)) and not isinstance(weight_init_std, bool)
        and math.isfinite(weight_init_std) and weight_init_std >= 0
    ):
        raise ValueError(_("weight_init_std must be 'he', 'xavier' or a number >= 0, got "
                           "{value!r}").format(value=weight_init_std))


def init_std(weight_init_std: str | float, fan_in: int) -> float:
    """The standard deviation of initial weights for units with ``fan_in`` inputs."""
    if isinstance(weight_init_std, str):
        return INIT_SCALES[weight_init_std](fan_in)
    return float(weight_init_std)


def fit_params(loaded: dict[str, NDArray], expected: dict[str, NDArray],
               source: str) -> dict[str, NDArray]:
    """``loaded`` checked against ``expected`` (keys and shapes, named) and cast to its dtypes.

    Raises :class:`ParamsFileError` listing every missing or unexpected key and every shape
    mismatch, e.g. ``W1: file has (784, 100), network expects (784, 50)``.
    """
    problems = []
    missing = [key for key in expected if key not in loaded]
    extra = [key for key in loaded if key not in expected]
    if missing:
        problems.append(_("missing {keys}").format(keys=", ".join(missing)))
    if extra:
        problems.append(_("unexpected {keys}").format(keys=", ".join(extra)))
    for key, value in expected.items():
        if key in loaded and loaded[key].shape != value.shape:
            problems.append(_("{key}: file has {shape}, network expects {expected}")
                            .format(key=key, shape=loaded[key].shape, expected=value.shape))
    if problems:
        raise ParamsFileError(_("{source} does not fit the network: {problems}")
                              .format(source=source, problems=_("; ").join(problems)))
    return {key: loaded[key].astype(value.dtype, copy=True) for key, value in expected.items()}


class LayerNet:
    """The shared machinery; see the module's description."""

    input_size: int
    output_size: int
    dtype: np.dtype
    weight_decay_lambda: float = 0.0
    buffers: dict[str, NDArray]
    #: The generator of the dropout masks, for a network with dropout.
    dropout_rng: np.random.Generator | None = None
    #: Bytes one sample takes through the widest layer: accuracy() sizes its chunks by it.
    bytes_per_sample = 0
    #: The most memory accuracy() lets one chunk take.
    eval_budget_bytes = 128 * 2**20

    # What a training run needs to know of the network (see dvzero.runs and dvzero.training).
    #: Inputs are images ``(N, C, H, W)``, not rows.
    takes_images = False
    #: It splits its own work into parts on the run's threads, each part's matrix products
    #: on one thread (BLAS on one thread); otherwise BLAS gets the threads.
    splits_work = False
    #: The loss a training records each step: measured again after the update, on the same
    #: batch (the original post's way), or that of the forward pass that gave the gradient
    #: (free; with dropout and batch statistics it differs a little).
    loss_after_update = False
    #: ``dvzero train`` measures its losses and accuracies beside the training when it has
    #: a second thread (see :mod:`dvzero.training.beside`).
    measured_beside = False
    #: Its numerical gradients (``numerical_gradient(x, t, method=...)``), the default first.
    numerical_methods: tuple[str, ...] = ("naive",)
    #: The original post's pickle of the parameters, for its network.
    post_params_file: str | None = None
    _built_for: list[int] | None = None  # the ids of the arrays the layers were built on

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one sample: ``(input_size,)`` unless a subclass says otherwise."""
        return (self.input_size,)

    @property
    def name(self) -> str:
        """The network's class name, as files and pictures name it."""
        return type(self).__name__

    def _repr_html_(self) -> str:
        """Jupyter's picture of a network: its layers with the shape each gives, and its
        parameters with their shapes, dtypes and counts (:mod:`~dvzero.networks.summary`)."""
        from .summary import summary_html

        return summary_html(self)

    def _make_generators(self, rng: int | np.random.Generator | None):
        """The weights' normal draws, then the dropout generator's seed (the global
        ``np.random`` for ``rng`` ``None``)."""
        if rng is None:
            self._dropout_seed = lambda: int(np.random.randint(2**31))
            return np.random.standard_normal
        generator = np.random.default_rng(rng)
        self._dropout_seed = lambda: int(generator.integers(2**63))
        return generator.standard_normal

    def _start_dropout(self) -> None:
        self.dropout_rng = np.random.default_rng(self._dropout_seed())

    def _set_options(self, weight_init_std: str | float, weight_decay_lambda: float,
                     dtype: Any) -> None:
        """Check and keep the options MultiLayerNet and the convolutional networks share."""
        check_init(weight_init_std)
        if not (math.isfinite(weight_decay_lambda) and weight_decay_lambda >= 0):
            raise ValueError(_("weight_decay_lambda must be >= 0, got {value!r}")
                             .format(value=weight_decay_lambda))
        self.dtype = float_dtype(dtype)
        self.weight_init_std, self.weight_decay_lambda = weight_init_std, float(weight_decay_lambda)

    # ------------------------------------------------------------------ layers

    def _build_layers(self, params: dict[str, NDArray]) -> tuple[list, list]:
        """The layers in order, holding the arrays of ``params`` themselves, and ``(key,
        layer, attribute)`` for each parameter."""
        raise NotImplementedError

    @property
    def _layers(self) -> list:
        """The layers around the arrays ``params`` holds: built again when it holds others
        (``net.params = ...``, ``net.params["W1"] = W``), not when they are updated in
        place, as the optimizers do."""
        arrays = [id(value) for value in self.params.values()]
        if arrays != self._built_for:
            self._built, self._trainable = self._build_layers(self.params)
            self._last_layer, self._built_for = SoftmaxWithLoss(), arrays
        return self._built

    def _check_x(self, x: ArrayLike) -> NDArray:
        """``x`` as a batch ``(N, *input_shape)``: rows, images, or one sample."""
        x = np.asarray(x)
        if x.dtype.kind not in "biuf":  # booleans, integers, floats
            raise ValueError(_("x must be an array of real numbers, got dtype {dtype}")
                             .format(dtype=x.dtype))
        if x.shape[1:] == self.input_shape:
            return x  # a batch already
        size = math.prod(self.input_shape)
        if x.ndim >= 2 and math.prod(x.shape[1:]) == size:
            return x.reshape(x.shape[0], *self.input_shape)
        if x.shape in (self.input_shape, (size,)):
            return x.reshape(1, *self.input_shape)
        if len(self.input_shape) == 1:
            raise ValueError(_("x must have shape (N, {size}) or ({size},), got {shape}")
                             .format(size=size, shape=x.shape))
        image = ", ".join(map(str, self.input_shape))
        raise ValueError(_("x must have shape (N, {image}) or (N, {size}), got {shape}")
                         .format(image=image, size=size, shape=x.shape))

    def _check_t(self, x: NDArray, t: ArrayLike) -> NDArray:
        """``t`` for the batch ``x``: one-hot ``(N, output_size)`` or labels ``(N,)``."""
        t = np.asarray(t)
        if len(x) == 1 and t.ndim <= 1 and t.size in (1, self.output_size):
            return t.reshape(1, -1) if t.size > 1 else t.reshape(1)  # one sample
        if t.shape[:1] != x.shape[:1]:
            raise ValueError(_("t must have shape ({rows}, {classes}) (one-hot) or ({rows},) "
                               "(labels) to match x of shape {x_shape}, got {t_shape}")
                             .format(rows=len(x), classes=self.output_size, x_shape=x.shape,
                                     t_shape=t.shape))
        return t

    def _scores(self, x: NDArray, train_flg: bool = False) -> NDArray:
        """Logits ``(N, output_size)``: every layer but the final softmax."""
        for layer in self._layers:
            x = layer.forward(x, train_flg)
        return x

    # ------------------------------------------------------------------ the original post's API

    def predict(self, x: ArrayLike, train_flg: bool = False) -> NDArray:
        """Class probabilities for ``x`` -> ``(N, output_size)``; ``(output_size,)`` for
        one sample given as a 1-D row."""
        y = softmax(self._scores(self._check_x(x), train_flg))
        return y[0] if np.ndim(x) == 1 else y

    def first_hidden(self, x: ArrayLike) -> NDArray:
        """The first hidden layer's activations for ``x`` (predicting): ``(N, units)``
        after a fully connected layer, ``(N, channels, height, width)`` after a
        convolution (and the pooling before its activation, if any)."""
        x = self._check_x(x)
        for layer in self._layers:
            x = layer.forward(x, False)
            if type(layer) in ACTIVATIONS.values():
                return x
        raise ValueError(_("{network} has no hidden layer").format(network=self.name))

    def weight_decay(self) -> float:
        """The L2 term of the loss: ``lambda / 2 * sum of W ** 2`` over all weights."""
        if self.weight_decay_lambda == 0:
            return 0.0
        total = sum(float(np.sum(value * value)) for key, value in self.params.items()
                    if key.startswith("W"))
        return 0.5 * self.weight_decay_lambda * total

    def loss(self, x: ArrayLike, t: ArrayLike, train_flg: bool = False) -> float:
        """Cross-entropy of the predictions for ``x`` against ``t`` (one-hot or labels),
        plus the weight decay."""
        return self._forward(x, t, train_flg)

    def _forward(self, x: ArrayLike, t: ArrayLike, train_flg: bool) -> float:
        """:meth:`loss`, the forward pass that backpropagation goes back through."""
        x = self._check_x(x)
        t = self._check_t(x, t)
        scores = self._scores(x, train_flg)  # the layers first: the last one goes with them
        return self._last_layer.forward(scores, t) + self.weight_decay()

    def accuracy(self, x: ArrayLike, t: ArrayLike, batch_size: int | None = None) -> float:
        """Share of samples whose most probable class is the one in ``t`` (predicting),
        ``batch_size`` samples at a time (:meth:`eval_batch_size` by default) so that 60,000
        images need no gigabytes; without softmax, which does not change the largest score."""
        rows = x if isinstance(x, ScaledImages) else self._check_x(x)  # bytes: by chunks
        labels = labels_from_targets(self._check_t(rows, t), self.output_size)
        if len(rows) == 0:
            raise ValueError(_("accuracy of an empty set is undefined: x has 0 rows"))
        batch_size = batch_size or self.eval_batch_size()
        correct = 0
        for start in range(0, len(rows), batch_size):
            scores = self._scores(self._check_x(rows[start:start + batch_size]))
            correct += int(np.sum(np.argmax(scores, axis=1) == labels[start:start + batch_size]))
        return correct / float(len(rows))

    def eval_batch_size(self, most: int = 2000) -> int:
        """How many samples it can predict at once: ``most``, or fewer where
        :attr:`bytes_per_sample` would pass :attr:`eval_budget_bytes`."""
        if not self.bytes_per_sample:
            return most
        return max(1, min(most, self.eval_budget_bytes // self.bytes_per_sample))

    def gradient(self, x: ArrayLike, t: ArrayLike, method: str = "backprop"
                 ) -> dict[str, NDArray]:
        """Gradients of the loss for every parameter, in training mode: by backpropagation
        through the layers (``method="backprop"``) or by the graph of the same loss
        (``"autograd"``, :meth:`loss_graph`). The loss of this forward pass (with dropout
        and batch statistics) is kept in :attr:`last_loss`."""
        if method == "autograd":
            loss, params = self.loss_graph(x, t, train_flg=True)
            loss.backward()
            self.last_loss = float(loss.data)
            return {key: param.grad.data for key, param in params.items()}
        if method != "backprop":
            raise ValueError(_("method must be 'backprop' or 'autograd', got {method!r}")
                             .format(method=method))
        self.last_loss = self._forward(x, t, train_flg=True)
        first, *rest = self._layers
        dout = self._last_layer.backward(1.0)
        for layer in reversed(rest):
            dout = layer.backward(dout)
        first.backward(dout, need_dx=False)  # nobody needs the data's gradient
        grads = {}
        for key, layer, name in self._trainable:
            grad = getattr(layer, "d" + name)
            if self.weight_decay_lambda and key.startswith("W"):
                grad = grad + self.weight_decay_lambda * self.params[key]
            grads[key] = grad
        return grads

    def loss_graph(self, x: ArrayLike, t: ArrayLike, train_flg: bool = False
                   ) -> tuple[Variable, dict[str, Variable]]:
        """The loss as a graph of :mod:`dvzero.autograd` functions, and the Variables of
        the parameters by key (see :func:`~dvzero.networks.on_graph.loss_graph`)."""
        return loss_graph(self, x, t, train_flg)

    def numerical_gradient(self, x: ArrayLike, t: ArrayLike) -> dict[str, NDArray]:
        """The gradients of :meth:`gradient` by numerical differentiation (slow; for checking).
        Every loss evaluation sees the same dropout masks and running averages (rewound each
        time), so the result matches a :meth:`gradient` call from the same state, and the
        network is left as that call would leave it."""
        x = self._check_x(x)
        rng_state = None if self.dropout_rng is None else self.dropout_rng.bit_generator.state
        saved = {key: value.copy() for key, value in self.buffers.items()}

        def restore() -> None:
            for key, value in saved.items():
                self.buffers[key][...] = value
            if rng_state is not None:
                self.dropout_rng.bit_generator.state = rng_state

        def loss_W(_: NDArray) -> float:
            restore()
            return self._forward(x, t, train_flg=True)

        try:
            grads = {key: numerical_gradient(loss_W, param) for key, param in self.params.items()}
        finally:
            restore()
        self.last_loss = self._forward(x, t, train_flg=True)
        return grads

    def snapshot(self) -> LayerNet:
        """A copy of this network with arrays and layers of its own: what it is now, to be
        measured while this one trains on."""
        twin = copy.copy(self)
        twin.buffers = {key: value.copy() for key, value in self.buffers.items()}
        twin.params = {key: value.copy() for key, value in self.params.items()}
        return twin

    def fresh(self, rng: int | np.random.Generator | None) -> LayerNet:
        """A new network of this class and settings, its weights drawn from ``rng``."""
        return type(self)(**self.config(), rng=rng)

    # ------------------------------------------------------------------ state and files

    def config(self) -> dict[str, Any]:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """What training changes besides ``params``: running averages, dropout generator."""
        state = {key: value.copy() for key, value in self.buffers.items()}
        if self.dropout_rng is not None:
            state["dropout_rng"] = plain(self.dropout_rng.bit_generator.state)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        for key, value in self.buffers.items():
            if np.shape(state[key]) != value.shape:
                raise ValueError(_("{key}: state has shape {shape}, network expects {expected}")
                                 .format(key=key, shape=np.shape(state[key]),
                                         expected=value.shape))
            value[...] = state[key]  # in place: the layers hold these arrays
        if self.dropout_rng is not None:
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
        meta = {"network": self.name, "config": self.config(), "dtype": self.dtype.name}
        storage.save_params_file(file_name, self.arrays(), meta)

    def load_params(self, file_name: str | os.PathLike[str] = "params.npz") -> None:
        """Load what :meth:`save_params` wrote; mismatches are reported by name."""
        arrays, _header = storage.load_params_file(file_name)
        self.load_arrays(arrays, str(file_name))
