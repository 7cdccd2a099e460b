"""Layers for backpropagation: each has ``forward`` and ``backward`` side by side.

``forward`` computes the layer's output and keeps what the derivative will need;
``backward`` takes the gradient of the loss with respect to that output (``dout``) and
returns the gradient with respect to the input (``dx``), storing the gradients of the
layer's own parameters (``dW``, ``db``, ``dgamma``, ``dbeta``) on the way. Chaining
``backward`` calls in reverse order is the chain rule — that is all backpropagation is.

A file per family: :mod:`~dvzero.layers.core` (``Affine``, ``Sigmoid``, ``Relu``,
``Tanh``, ``SoftmaxWithLoss``) and :mod:`~dvzero.layers.regularization` (``Dropout``,
``BatchNormalization``).
"""

from .core import Affine, Relu, Sigmoid, SoftmaxWithLoss, Tanh
from .regularization import BatchNormalization, Dropout

__all__ = ["Affine", "BatchNormalization", "Dropout", "Relu", "Sigmoid", "SoftmaxWithLoss",
           "Tanh"]
