"""Images kept as their bytes, read as floats a batch at a time.

MNIST's 60,000 training images are 47 MB as ``uint8`` pixels and 188 MB as float32.
:class:`ScaledImages` keeps the bytes and scales the rows asked for with
:func:`scale_pixels`, as ``load_mnist(normalize=True)`` does, so training on it is bit for
bit training on the normalised arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from .._i18n import _


def scale_pixels(pixels: NDArray, dtype: DTypeLike = np.float32) -> NDArray:
    """Pixels ``0..255`` as floats in [0, 1], the one way dvzero makes them: divided by
    255 in float32 (``load_mnist(normalize=True)``), then cast to ``dtype``."""
    return np.divide(pixels, np.float32(255.0), dtype=np.float32).astype(dtype, copy=False)


class ScaledImages:
    """``uint8`` pixels ``(N, ...)`` read as ``dtype`` in [0, 1]: ``images[rows]`` is an
    array; ``len``, ``shape``, ``ndim``, ``size`` and ``dtype`` are those of the floats it
    stands for. ``np.asarray(images)`` converts them all (what this class exists to avoid:
    slice first)."""

    def __init__(self, pixels: NDArray[np.uint8], dtype: DTypeLike = np.float32) -> None:
        pixels = np.asarray(pixels)
        if pixels.dtype != np.uint8:
            raise ValueError(_("ScaledImages keeps uint8 pixels, got dtype {dtype}")
                             .format(dtype=pixels.dtype))
        self.pixels = pixels
        self.dtype = np.dtype(dtype)
        if not np.issubdtype(self.dtype, np.floating):
            raise ValueError(_("dtype must be a float dtype, got {dtype}").format(dtype=self.dtype))

    @property
    def shape(self) -> tuple[int, ...]:
        return self.pixels.shape

    @property
    def ndim(self) -> int:
        return self.pixels.ndim

    @property
    def size(self) -> int:
        return self.pixels.size

    @property
    def nbytes(self) -> int:
        """The memory held: the bytes of the pixels."""
        return self.pixels.nbytes

    def __len__(self) -> int:
        return len(self.pixels)

    def __getitem__(self, index: Any) -> NDArray:
        return scale_pixels(self.pixels[index], self.dtype)

    def take(self, rows: Any) -> ScaledImages:
        """Some rows, still as bytes."""
        return ScaledImages(self.pixels[rows], self.dtype)

    def __array__(self, dtype: DTypeLike | None = None, copy: bool | None = None) -> NDArray:
        floats = self[:]
        return floats if dtype is None else floats.astype(dtype, copy=False)

    def __repr__(self) -> str:
        return f"ScaledImages(shape={self.shape}, dtype={self.dtype.name})"

