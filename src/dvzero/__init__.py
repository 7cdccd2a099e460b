"""dvzero (DeepVision Zero): neural networks from scratch in NumPy.

**The original post** (原文): the installment of a Chinese blog series, following the book
"Deep Learning from Scratch", that dvzero implements. In it a two-layer network,
``DeepVisionZeroNet``, learns the MNIST digits by numerical differentiation: 10,000 steps
of 100 images, learning rate 0.1. Every name its code uses is importable from here::

    from dvzero import DeepVisionZeroNet, load_mnist, numerical_gradient, sigmoid, softmax
"""

from ._version import __version__
from .data import load_mnist
from .errors import (
    CheckpointError,
    DataError,
    DVZeroError,
    IDXFormatError,
    ParamsFileError,
    TrainingDiverged,
    UsageError,
)
from .functions import (
    cross_entropy_error,
    identity_function,
    mean_squared_error,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    softmax,
    step_function,
)
from .gradient import gradient_descent, numerical_diff, numerical_gradient
from .layers import (
    Affine,
    BatchNormalization,
    Convolution,
    Dropout,
    Pooling,
    Relu,
    Sigmoid,
    SoftmaxWithLoss,
    Tanh,
)
from .networks import DeepConvNet, DeepVisionZeroNet, MultiLayerNet, SimpleConvNet, load_network
from .optimizers import SGD, AdaGrad, Adam, Momentum, Nesterov, RMSprop
from .training import Callback, History, LivePlot, Trainer, train

__all__ = [
    "__version__", "AdaGrad", "Adam", "Affine", "BatchNormalization", "Callback",
    "CheckpointError", "Convolution", "cross_entropy_error", "DataError", "DeepConvNet",
    "DeepVisionZeroNet", "Dropout", "DVZeroError", "gradient_descent", "History",
    "identity_function", "IDXFormatError", "LivePlot", "load_mnist", "load_network",
    "mean_squared_error", "Momentum", "MultiLayerNet", "Nesterov", "numerical_diff",
    "numerical_gradient", "ParamsFileError", "Pooling", "Relu", "relu", "relu_grad",
    "RMSprop", "SGD", "SimpleConvNet", "Sigmoid", "sigmoid", "sigmoid_grad", "softmax",
    "SoftmaxWithLoss", "step_function", "Tanh", "train", "Trainer", "TrainingDiverged",
    "UsageError",
]
