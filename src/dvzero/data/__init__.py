"""Datasets: the IDX reader and ``load_mnist`` with its shipped files and cache."""

from .idx import parse_idx, read_idx, read_idx_bytes
from .mnist import MNIST_FILES, MNIST_SHA256, default_cache_dir, load_mnist

__all__ = [
    "MNIST_FILES",
    "MNIST_SHA256",
    "default_cache_dir",
    "load_mnist",
    "parse_idx",
    "read_idx",
    "read_idx_bytes",
]
