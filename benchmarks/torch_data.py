"""What the PyTorch sides of the benchmarks share: the MNIST bytes dvzero ships, as tensors.

Imported by torch_mlp.py and torch_seed_job.py, run with a Python that has PyTorch (dvzero
never imports it); the file is written by common.write_mnist.
"""

from __future__ import annotations

import numpy as np
import torch


def mnist_tensors(path: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``x_train, t_train, x_test, t_test`` from the ``.npz`` file at ``path``: the images
    as rows of float32 pixels divided by 255 (made once, as a tutorial does), the labels as
    int64."""
    arrays = np.load(path)

    def images(name: str) -> torch.Tensor:
        return torch.from_numpy(arrays[name].reshape(-1, 784).astype(np.float32) / 255)

    def labels(name: str) -> torch.Tensor:
        return torch.from_numpy(arrays[name].astype(np.int64))

    return images("x_train"), labels("t_train"), images("x_test"), labels("t_test")
