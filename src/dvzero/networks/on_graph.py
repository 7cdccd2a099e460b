"""A network's loss as a graph of autograd functions, from the same parameters.

Each layer's forward has its counterpart in :mod:`dvzero.autograd.functions` (``F``):
``Affine`` is ``F.linear``, ``Convolution`` is ``F.conv2d``, and so on. :func:`loss_graph`
goes through a network's layers in order and calls, for each, that function on the
Variables of its parameters; ``backward`` of the loss then gives the gradients the layers'
own ``backward`` methods give.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from numpy.typing import ArrayLike

from .._i18n import _
from ..autograd import Variable
from ..autograd import functions as F
from ..layers import Affine, BatchNormalization, Convolution, Dropout, Pooling, Relu, Sigmoid, Tanh

if TYPE_CHECKING:
    from .layered import LayerNet


def _affine(layer: Affine, x: Variable, p: dict[str, Variable], train: bool) -> Variable:
    if x.ndim > 2:  # images into rows, as the layer does
        x = F.reshape(x, (len(x), -1))
    return F.linear(x, p["W"], p["b"])


def _convolution(layer: Convolution, x: Variable, p: dict[str, Variable], train: bool
                 ) -> Variable:
    return F.conv2d(x, p["W"], p["b"], layer.stride, layer.pad)


def _pooling(layer: Pooling, x: Variable, p: dict[str, Variable], train: bool) -> Variable:
    if layer.mode != "max" or layer.pool_h != layer.pool_w:
        raise ValueError(_("the graph has max pooling over square windows only, not {mode} "
                           "pooling over {height}x{width}")
                         .format(mode=layer.mode, height=layer.pool_h, width=layer.pool_w))
    return F.max_pool2d(x, layer.pool_h, layer.stride, layer.pad)


def _batch_norm(layer: BatchNormalization, x: Variable, p: dict[str, Variable], train: bool
                ) -> Variable:
    return F.batch_norm(x, p["gamma"], p["beta"], layer.running_mean, layer.running_var,
                        layer.momentum, layer.eps, train_flg=train)


def _dropout(layer: Dropout, x: Variable, p: dict[str, Variable], train: bool) -> Variable:
    return F.dropout(x, layer.dropout_ratio, train_flg=train, rng=layer.rng)


#: Each layer's forward as a function of the graph: ``(layer, x, its parameters, train)``.
ON_GRAPH: dict[type, Callable[[Any, Variable, dict[str, Variable], bool], Variable]] = {
    Affine: _affine, Convolution: _convolution, Pooling: _pooling,
    BatchNormalization: _batch_norm, Dropout: _dropout,
    Sigmoid: lambda layer, x, p, train: F.sigmoid(x),
    Relu: lambda layer, x, p, train: F.relu(x),
    Tanh: lambda layer, x, p, train: F.tanh(x),
}


def loss_graph(network: LayerNet, x: ArrayLike, t: ArrayLike, train_flg: bool = False
               ) -> tuple[Variable, dict[str, Variable]]:
    """The loss of ``network`` on ``x``, ``t`` as a Variable, and the Variables of its
    parameters by key (named after them, holding the network's own arrays).

    Cross-entropy of the softmax, plus the weight decay ``lambda / 2 * sum(W ** 2)``; with
    ``train_flg`` dropout drops and batch normalisation uses (and updates) the batch's
    statistics, as the layers do.
    """
    x = network._check_x(x)
    t = network._check_t(x, t)
    layers = network._layers
    params = {key: Variable(value, name=key) for key, value in network.params.items()}
    of_layer: dict[int, dict[str, Variable]] = {}
    for key, layer, attribute in network._trainable:
        of_layer.setdefault(id(layer), {})[attribute] = params[key]
    h = Variable(x, name="x", requires_grad=False)
    for layer in layers:
        if type(layer) not in ON_GRAPH:
            raise TypeError(_("loss_graph has no function of the graph for a {layer} layer; it "
                              "knows {known}")
                            .format(layer=type(layer).__name__,
                                    known=", ".join(kind.__name__ for kind in ON_GRAPH)))
        h = ON_GRAPH[type(layer)](layer, h, of_layer.get(id(layer), {}), train_flg)
    loss = F.softmax_cross_entropy(h, Variable(t, name="t", requires_grad=False))
    if network.weight_decay_lambda:  # lambda / 2 * the sum of every weight squared
        for key, W in params.items():
            if key.startswith("W"):
                loss = loss + 0.5 * network.weight_decay_lambda * F.sum(W * W)
    loss.name = "loss"
    return loss, params
