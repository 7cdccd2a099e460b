"""Convolutional networks: :class:`SimpleConvNet` and :class:`DeepConvNet`.

They take images ``(N, 1, 28, 28)`` (``load_mnist(flatten=False)``), or the same images as
rows of 784.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from .._i18n import _
from ..layers import Affine, Convolution, Dropout, Pooling, Relu
from ..layers.conv import output_size as positions
from .layered import LayerNet, init_std, positive_int


def _image_shape(input_dim: Sequence[int]) -> tuple[int, int, int]:
    if len(input_dim) != 3:
        raise ValueError(_("input_dim must be (channels, height, width), got {value!r}")
                         .format(value=input_dim))
    return tuple(positive_int("input_dim", size) for size in input_dim)


def _trainable(layers: Sequence[Any]) -> list[tuple[str, Any, str]]:
    """``(param key, layer, attribute)`` for the ``W`` and ``b`` of each layer, numbered."""
    return [(f"{name}{i}", layer, name) for i, layer in enumerate(layers, start=1)
            for name in ("W", "b")]


class _ImageNet(LayerNet):
    """A network whose inputs are images ``input_dim = (channels, height, width)``."""

    input_dim: tuple[int, int, int]
    takes_images = True
    splits_work = True

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.input_dim

    @property
    def input_size(self) -> int:
        """Pixels per image: a flattened input row has this many values."""
        return math.prod(self.input_dim)

    def _draw_params(self, normal: Callable[..., NDArray], shapes: list[tuple[int, ...]]) -> None:
        """Draw ``W1``, ``W2``, ... of ``shapes`` (filters ``(FN, C, FH, FW)`` or affine
        ``(D, M)``) from ``normal``, with zero biases."""
        params: dict[str, NDArray] = {}
        for i, shape in enumerate(shapes, start=1):
            fan_in, units = (math.prod(shape[1:]), shape[0]) if len(shape) == 4 else shape
            scale = init_std(self.weight_init_std, fan_in)
            params[f"W{i}"] = (scale * normal(shape)).astype(self.dtype)
            params[f"b{i}"] = np.zeros(units, self.dtype)
        self._start_dropout()
        self.buffers: dict[str, NDArray] = {}
        self.params = params


class SimpleConvNet(_ImageNet):
    """``conv -> ReLU -> max-pool 2x2 -> affine -> ReLU -> affine -> softmax``.

    Parameters
    ----------
    input_dim
        ``(channels, height, width)`` of the images: ``(1, 28, 28)`` for MNIST.
    conv_param
        ``filter_num`` (30), ``filter_size`` (5), ``pad`` (0) and ``stride`` (1) of the
        convolution, as in the book "Deep Learning from Scratch".
    hidden_size, output_size
        Width of the hidden affine layer (100) and number of classes (10).
    weight_init_std
        ``"he"``, ``"xavier"`` or a standard deviation (the book's default is 0.01).
    weight_decay_lambda, dtype, rng
        As for :class:`~dvzero.networks.MultiLayerNet`.

    Notes
    -----
    ``params``: ``W1 (filter_num, channels, filter_size, filter_size)``, ``b1``,
    ``W2 (filter_num * pooled height * pooled width, hidden_size)``, ``b2``,
    ``W3 (hidden_size, output_size)``, ``b3``.
    """

    def __init__(
        self,
        input_dim: Sequence[int] = (1, 28, 28),
        conv_param: Mapping[str, int] | None = None,
        hidden_size: int = 100,
        output_size: int = 10,
        weight_init_std: str | float = "he",
        weight_decay_lambda: float = 0.0,
        *,
        dtype: DTypeLike = np.float64,
        rng: int | np.random.Generator | None = None,
    ) -> None:
        self.input_dim = _image_shape(input_dim)
        self.conv_param = {"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1,
                           **(conv_param or {})}
        self.hidden_size = positive_int("hidden_size", hidden_size)
        self.output_size = positive_int("output_size", output_size)
        self._set_options(weight_init_std, weight_decay_lambda, dtype)
        channels, height, width = self.input_dim
        filters, size = self.conv_param["filter_num"], self.conv_param["filter_size"]
        stride, pad = self.conv_param["stride"], self.conv_param["pad"]
        conv_h = positions(height, size, stride, pad)
        conv_w = positions(width, size, stride, pad)
        pooled = filters * (conv_h // 2) * (conv_w // 2)
        if pooled == 0:
            raise ValueError(_("the convolution's output ({height}x{width}) is too small to pool")
                             .format(height=conv_h, width=conv_w))
        self.bytes_per_sample = 3 * conv_h * conv_w * max(filters, channels * size * size) \
            * self.dtype.itemsize
        shapes = [(filters, channels, size, size), (pooled, self.hidden_size),
                  (self.hidden_size, self.output_size)]
        self._draw_params(self._make_generators(rng), shapes)

    def _build_layers(self, params: dict[str, NDArray]) -> tuple[list, list]:
        conv = Convolution(params["W1"], params["b1"], self.conv_param["stride"],
                           self.conv_param["pad"])
        affine2, affine3 = Affine(params["W2"], params["b2"]), Affine(params["W3"], params["b3"])
        # Max-pooling and ReLU commute (each keeps the larger value), so pooling first gives
        # the same outputs and gradients with ReLU on a quarter of the values.
        layers = [conv, Pooling(2, 2, 2), Relu(), affine2, Relu(), affine3]
        return layers, _trainable([conv, affine2, affine3])

    def config(self) -> dict[str, Any]:
        return {"input_dim": list(self.input_dim), "conv_param": dict(self.conv_param),
                "hidden_size": self.hidden_size, "output_size": self.output_size,
                "weight_init_std": self.weight_init_std,
                "weight_decay_lambda": self.weight_decay_lambda, "dtype": self.dtype.name}


#: DeepConvNet's six convolutions, as in the book: 3x3 filters; the fourth pads by 2.
DEEP_CONV_PARAMS = [{"filter_num": num, "filter_size": 3, "pad": pad, "stride": 1}
                    for num, pad in ((16, 1), (16, 1), (32, 1), (32, 2), (64, 1), (64, 1))]


class DeepConvNet(_ImageNet):
    """Six 3x3 convolutions in pairs, each pair followed by max-pooling, then two affines.

    ``conv 16, conv 16, pool, conv 32, conv 32, pool, conv 64, conv 64, pool, affine 50,
    ReLU, dropout, affine 10, dropout, softmax``, every convolution followed by ReLU, with
    He initialisation: the book's network, which reaches about 99.4 % on MNIST.
    ``conv_params`` may replace the six convolutions' settings; ``dropout_ratio`` is 0.5.

    ``params``: ``W1``...``W6`` and ``b1``...``b6`` for the convolutions, ``W7``, ``b7`` and
    ``W8``, ``b8`` for the affine layers.
    """

    def __init__(
        self,
        input_dim: Sequence[int] = (1, 28, 28),
        conv_params: Sequence[Mapping[str, int]] | None = None,
        hidden_size: int = 50,
        output_size: int = 10,
        dropout_ratio: float = 0.5,
        weight_init_std: str | float = "he",
        weight_decay_lambda: float = 0.0,
        *,
        dtype: DTypeLike = np.float64,
        rng: int | np.random.Generator | None = None,
    ) -> None:
        self.input_dim = _image_shape(input_dim)
        self.conv_params = [dict(param) for param in (conv_params or DEEP_CONV_PARAMS)]
        if len(self.conv_params) != 6:
            raise ValueError(_("conv_params must hold 6 convolutions, got {count}")
                             .format(count=len(self.conv_params)))
        self.hidden_size = positive_int("hidden_size", hidden_size)
        self.output_size = positive_int("output_size", output_size)
        if not 0 <= dropout_ratio < 1:
            raise ValueError(_("dropout_ratio must be in [0, 1), got {ratio!r}")
                             .format(ratio=dropout_ratio))
        self.dropout_ratio = float(dropout_ratio)
        self._set_options(weight_init_std, weight_decay_lambda, dtype)
        normal = self._make_generators(rng)
        channels, height, width = self.input_dim
        shapes: list[tuple[int, ...]] = []
        self.bytes_per_sample = 0
        for i, conv in enumerate(self.conv_params, start=1):
            size, num = conv["filter_size"], conv["filter_num"]
            height = positions(height, size, conv["stride"], conv["pad"])
            width = positions(width, size, conv["stride"], conv["pad"])
            shapes.append((num, channels, size, size))
            self.bytes_per_sample = max(self.bytes_per_sample, 3 * height * width * max(
                channels * size * size, num) * self.dtype.itemsize)
            channels = num
            if i % 2 == 0:
                height, width = height // 2, width // 2
        shapes += [(channels * height * width, self.hidden_size),
                   (self.hidden_size, self.output_size)]
        self._draw_params(normal, shapes)

    def _build_layers(self, params: dict[str, NDArray]) -> tuple[list, list]:
        convs = [Convolution(params[f"W{i}"], params[f"b{i}"], conv["stride"], conv["pad"])
                 for i, conv in enumerate(self.conv_params, start=1)]
        layers: list[Any] = []
        for i, conv in enumerate(convs, start=1):  # pooling before ReLU, as in SimpleConvNet
            layers += [conv, Pooling(2, 2, 2), Relu()] if i % 2 == 0 else [conv, Relu()]
        affine7, affine8 = Affine(params["W7"], params["b7"]), Affine(params["W8"], params["b8"])
        layers += [affine7, Relu(), Dropout(self.dropout_ratio, self.dropout_rng),
                   affine8, Dropout(self.dropout_ratio, self.dropout_rng)]
        return layers, _trainable([*convs, affine7, affine8])

    def config(self) -> dict[str, Any]:
        return {"input_dim": list(self.input_dim), "conv_params": self.conv_params,
                "hidden_size": self.hidden_size, "output_size": self.output_size,
                "dropout_ratio": self.dropout_ratio, "weight_init_std": self.weight_init_std,
                "weight_decay_lambda": self.weight_decay_lambda, "dtype": self.dtype.name}
