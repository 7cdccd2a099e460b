"""A run's data: the images and labels it trains and is evaluated on.

MNIST's pixels stay the bytes of its files (:class:`~dvzero.data.scaled.ScaledImages`), made
floats a batch at a time; other pixel types are normalised at once, as ``load_mnist`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._i18n import _
from ..data import load_mnist
from ..data.mnist import dataset_fingerprint
from ..data.scaled import ScaledImages, scale_pixels
from ..errors import DataError
from ..networks import NETS


def load_run_data(config: Mapping[str, Any]):
    """The run's data, checked for what training needs, and its fingerprint.

    Images ``(N, 1, H, W)`` for the convolutional networks, rows ``(N, H * W)`` otherwise.
    """
    data_dir = None if config["data_dir"] is None else Path(config["data_dir"])
    (x_train, t_train), (x_test, t_test) = load_mnist(
        normalize=False, one_hot_label=False, data_dir=data_dir,
        flatten=not NETS[config["net"]].takes_images)
    where = _("the shipped MNIST") if data_dir is None else str(data_dir)
    if x_train.shape[0] == 0 or x_test.shape[0] == 0:
        raise DataError(_("{data}: {train} training and {test} test images; training needs at "
                          "least one of each")
                        .format(data=where, train=x_train.shape[0], test=x_test.shape[0]))
    if x_train[0].size == 0:
        raise DataError(_("{data}: the images have no pixels").format(data=where))
    return ((_as_floats(x_train, config["dtype"]), t_train),
            (_as_floats(x_test, config["dtype"]), t_test), dataset_fingerprint(data_dir))


def _as_floats(pixels: np.ndarray, dtype: str) -> ScaledImages | np.ndarray:
    """``pixels`` as ``dtype`` in [0, 1]; bytes stay bytes (a quarter of float32's memory)."""
    if pixels.dtype == np.uint8:
        return ScaledImages(pixels, dtype)
    return scale_pixels(pixels, dtype)


def validation_rows(count: int, val_split: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Which of ``count`` training images a run with ``val_split`` and ``seed`` keeps for
    validation, and which it trains on: two sorted arrays of row numbers, at least one in
    each (``count`` must be 2 or more). The order is drawn from the third generator the
    run's seed spawns (the network is built from the first, the batches from the second)."""
    order = np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[2]).permutation(count)
    n_val = min(max(round(val_split * count), 1), count - 1)
    return np.sort(order[:n_val]), np.sort(order[n_val:])


def rows_of(x: ScaledImages | np.ndarray, rows: np.ndarray) -> ScaledImages | np.ndarray:
    """Some rows of the images, still as bytes if they were."""
    return x.take(rows) if isinstance(x, ScaledImages) else x[rows]
