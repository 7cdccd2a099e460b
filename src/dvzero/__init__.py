"""dvzero (DeepVision Zero): neural networks from scratch in NumPy.

Every name the original post's code uses is importable from here::

    from dvzero import DeepVisionZeroNet, load_mnist, numerical_gradient, sigmoid, softmax
"""

from ._version import __version__
from .data import load_mnist
from .errors import DataError, DVZeroError, IDXFormatError, ParamsFileError, TrainingDiverged
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
from .layers import Affine, Relu, Sigmoid, SoftmaxWithLoss
from .networks import DeepVisionZeroNet, load_network
from .optimizers import SGD
from .training import Callback, History, Trainer, train

__all__ = [
    "Affine",
    "Callback",
    "DVZeroError",
    "DataError",
    "DeepVisionZeroNet",
    "History",
    "IDXFormatError",
    "ParamsFileError",
    "Relu",
    "SGD",
    "Sigmoid",
    "SoftmaxWithLoss",
    "Trainer",
    "TrainingDiverged",
    "__version__",
    "cross_entropy_error",
    "gradient_descent",
    "identity_function",
    "load_mnist",
    "load_network",
    "mean_squared_error",
    "numerical_diff",
    "numerical_gradient",
    "relu",
    "relu_grad",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
    "step_function",
    "train",
]
