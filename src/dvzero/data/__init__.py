"""Datasets: the IDX reader (:mod:`~dvzero.data.idx`), ``load_mnist`` with its shipped
files and cache (:mod:`~dvzero.data.mnist`), and images kept as bytes
(:mod:`~dvzero.data.scaled`)."""

from .mnist import load_mnist

__all__ = ["load_mnist"]
