"""The core layers: ``Affine``, the activations and ``SoftmaxWithLoss``.

Every layer's ``forward`` takes ``train_flg``: these behave the same while training and
predicting, so they ignore it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..functions import cross_entropy_from_labels, labels_from_targets, sigmoid, softmax


class Affine:
    """Fully connected layer ``out = x @ W + b``.

    ``W``: ``(D, M)``, ``b``: ``(M,)``; ``x``: ``(N, D)`` (or ``(N, ...)``, flattened to
    ``(N, D)``); ``out``: ``(N, M)``. ``W`` and ``b`` are held by reference, so the layer
    sees an in-place update of the network's parameters.
    """

    def __init__(self, W: NDArray, b: NDArray) -> None:
        self.W, self.b = W, b
        self.x: NDArray | None = None
        self.original_x_shape: tuple[int, ...] | None = None
        self.dW: NDArray | None = None
        self.db: NDArray | None = None

    def forward(self, x: NDArray, train_flg: bool = False) -> NDArray:
        self.original_x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1) if x.ndim > 2 else x
        return self.x @ self.W + self.b

    def backward(self, dout: NDArray, need_dx: bool = True) -> NDArray | None:
        """Store ``dW``, ``db``; return ``dx`` unless ``need_dx`` is false.

        The first layer of a network sees the data itself, whose gradient nobody needs:
        skipping it saves the largest of the three matrix products.
        """
        # out = x W + b  =>  dL/dW = x^T dout,  dL/db = sum over the batch,  dL/dx = dout W^T
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        if not need_dx:
            return None
        return (dout @ self.W.T).reshape(self.original_x_shape)


class Sigmoid:
    """Sigmoid activation; its derivative is ``out * (1 - out)``, so it keeps ``out``."""

    def __init__(self) -> None:
        self.out: NDArray | None = None

    def forward(self, x: NDArray, train_flg: bool = False) -> NDArray:
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout: NDArray) -> NDArray:
        return dout * self.out * (1.0 - self.out)


class Relu:
    """ReLU activation; its derivative is 1 where the input was positive, else 0."""

    def __init__(self) -> None:
        self.mask: NDArray[np.bool_] | None = None

    def forward(self, x: NDArray, train_flg: bool = False) -> NDArray:
        self.mask = x > 0
        return x * self.mask

    def backward(self, dout: NDArray) -> NDArray:
        return dout * self.mask


class Tanh:
    """Hyperbolic tangent activation; its derivative is ``1 - out ** 2``, so it keeps ``out``."""

    def __init__(self) -> None:
        self.out: NDArray | None = None

    def forward(self, x: NDArray, train_flg: bool = False) -> NDArray:
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout: NDArray) -> NDArray:
        return dout * (1.0 - self.out * self.out)


class SoftmaxWithLoss:
    """Softmax followed by the cross-entropy error, as one layer.

    Together their derivative is simply ``(y - t) / N`` for probabilities ``y`` and one-hot
    targets ``t`` over a batch of ``N``, which is why the two are fused. ``x``: logits
    ``(N, C)``; ``t``: one-hot ``(N, C)`` or integer labels ``(N,)``.
    """

    def __init__(self) -> None:
        self.loss: float | None = None
        self.y: NDArray | None = None
        self.labels: NDArray[np.intp] | None = None

    def forward(self, x: NDArray, t: NDArray) -> float:
        self.y = softmax(x)
        self.labels = labels_from_targets(t, self.y.shape[-1])
        self.loss = cross_entropy_from_labels(self.y, self.labels)
        return self.loss

    def backward(self, dout: float = 1.0) -> NDArray:
        batch_size = self.y.shape[0]
        dx = self.y.copy()
        dx[np.arange(batch_size), self.labels] -= 1
        dx *= dout / batch_size
        return dx


#: The activation layers by name: the one table of them.
ACTIVATIONS = {"sigmoid": Sigmoid, "relu": Relu, "tanh": Tanh}
