"""Layers for backpropagation: each has ``forward`` and ``backward`` side by side.

``forward`` computes the layer's output and keeps what the derivative will need;
``backward`` takes the gradient of the loss with respect to that output (``dout``) and
returns the gradient with respect to the input (``dx``), storing the gradients of the
layer's own parameters (``dW``, ``db``, ``dgamma``, ``dbeta``) on the way. Chaining
``backward`` calls in reverse order is the chain rule — that is all backpropagation is.

A file per family: :mod:`~dvzero.layers.core` (``Affine``, ``Sigmoid``, ``Relu``,
``Tanh``, ``SoftmaxWithLoss``), :mod:`~dvzero.layers.regularization` (``Dropout``,
``BatchNormalization``) and :mod:`~dvzero.layers.conv` (``im2col``, ``col2im``,
``Convolution``, ``Pooling``).
"""

from .conv import Convolution, Pooling, col2im, im2col
from .core import ACTIVATIONS, Affine, Relu, Sigmoid, SoftmaxWithLoss, Tanh
from .regularization import BatchNormalization, Dropout

__all__ = ["ACTIVATIONS", "Affine", "BatchNormalization", "Convolution", "Dropout", "Pooling",
           "Relu", "Sigmoid", "SoftmaxWithLoss", "Tanh", "col2im", "im2col"]
