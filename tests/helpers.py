"""Test helpers: an IDX writer independent of dvzero's reader, small datasets, digits drawn anew."""

from __future__ import annotations

import gzip
import io
import os
import struct
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

#: Debian's Chromium, which the browser tests drive (Playwright's own downloads fail here).
CHROMIUM = Path("/usr/bin/chromium")
#: Where the browser tests leave their screenshots (CI keeps the directory).
ARTIFACTS = Path(os.environ.get("DVZERO_TEST_ARTIFACTS",
                                Path(__file__).resolve().parents[1] / "test-artifacts"))

IDX_TYPE_CODES = {
    np.dtype(np.uint8): 0x08,
    np.dtype(np.int8): 0x09,
    np.dtype(np.int16): 0x0B,
    np.dtype(np.int32): 0x0C,
    np.dtype(np.float32): 0x0D,
    np.dtype(np.float64): 0x0E,
}

MNIST_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def idx_bytes(array: np.ndarray) -> bytes:
    """The bytes of an IDX file holding ``array`` (written with struct, big-endian)."""
    array = np.asarray(array)
    header = struct.pack(">BBBB", 0, 0, IDX_TYPE_CODES[array.dtype], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path: Path, array: np.ndarray, compress: bool = False) -> Path:
    data = idx_bytes(array)
    if compress:
        data = gzip.compress(data)
    Path(path).write_bytes(data)
    return Path(path)


def write_mnist_dir(
    directory: Path,
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    compress: bool = True,
) -> Path:
    """Write the four MNIST-named IDX files (``.gz`` when ``compress``) into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train_images": train_images,
        "train_labels": train_labels,
        "test_images": test_images,
        "test_labels": test_labels,
    }
    for role, array in arrays.items():
        name = MNIST_NAMES[role] + (".gz" if compress else "")
        write_idx(directory / name, np.asarray(array), compress=compress)
    return directory


def random_classes(seed: int = 0, n: int = 200, d: int = 12, classes: int = 4):
    """A small random classification set: ``x (n, d)`` float32 and labels, then its first
    60 rows as a test set."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, d)).astype(np.float32)
    t = rng.integers(0, classes, size=n)
    return x, t, x[:60], t[:60]


def max_relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """``max |a - b| / max(max |a|, max |b|)``: 0 for identical arrays, ~1 for unrelated ones.

    Scaled by the largest magnitude of the whole array rather than element by element, so
    entries whose true gradient is 0 (MNIST's blank border pixels) do not divide by zero.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0))
    if scale == 0.0:
        return 0.0
    return float(np.max(np.abs(a - b)) / scale)


def render(digit: np.ndarray, variant: int, rng: np.random.Generator) -> io.BytesIO:
    """An MNIST digit (uint8 28x28) as a new picture file: scaled, maybe inverted (dark ink
    on light paper), padded unevenly (so moved off-centre), maybe in colour, PNG or JPEG."""
    scale = (1.0, 1.7, 2.5, 4.0)[variant % 4]
    size = round(28 * scale)
    ink = np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.BILINEAR),
                     dtype=np.float64) / 255
    paper = 1.0 if variant % 2 else 0.0
    picture = np.abs(paper - ink)
    top, left, bottom, right = rng.integers(0, 60, 4)
    picture = np.pad(picture, ((top, bottom), (left, right)), constant_values=paper)
    if variant % 3 == 0:  # blue-ish ink on cream paper, or the reverse
        rgb = np.stack([picture * 0.9 + 0.05, picture * 0.85 + 0.1, picture * 0.6 + 0.3], -1)
        image = Image.fromarray(np.round(rgb * 255).astype(np.uint8), "RGB")
    else:
        image = Image.fromarray(np.round(picture * 255).astype(np.uint8), "L")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG" if variant % 5 == 0 else "PNG", quality=90)
    buffer.seek(0)
    return buffer


def photograph(digit: np.ndarray, variant: int, rng: np.random.Generator) -> io.BytesIO:
    """An MNIST digit (uint8 28x28) as a photo of dark ink on paper: grey or tinted paper
    (brightness 150-215) lit unevenly (up to +-18 % across the picture), a little blur
    (0.5-1.5 px) and sensor noise (sigma 6-14), a warm colour cast for a third of them and
    JPEG (quality 80) for half; 120-420 px a side, the digit off-centre."""
    side = int(rng.integers(120, 421))
    digit_side = int(side * rng.uniform(0.35, 0.6))
    ink = np.asarray(Image.fromarray(digit).resize((digit_side, digit_side),
                                                   Image.Resampling.BILINEAR),
                     dtype=np.float64) / 255
    top, left = rng.integers(0, side - digit_side, 2)
    coverage = np.zeros((side, side))
    coverage[top:top + digit_side, left:left + digit_side] = ink
    paper, ink_level = rng.uniform(150, 215), rng.uniform(15, 60)
    picture = paper * (1 - coverage) + ink_level * coverage
    angle = rng.uniform(0, 2 * np.pi)
    rows, columns = np.indices((side, side)) / (side - 1) - 0.5
    ramp = 2 * (rows * np.sin(angle) + columns * np.cos(angle))  # -1..1 across the picture
    picture *= 1 + rng.uniform(0, 0.18) * ramp
    picture = gaussian_filter(picture, rng.uniform(0.5, 1.5))
    picture += rng.normal(0, rng.uniform(6, 14), (side, side))
    if variant % 3 == 0:  # a warm cast: the paper yellowish, the ink brownish
        rgb = np.stack([picture, picture * 0.93, picture * 0.8], axis=-1)
        image = Image.fromarray(np.round(np.clip(rgb, 0, 255)).astype(np.uint8), "RGB")
    else:
        image = Image.fromarray(np.round(np.clip(picture, 0, 255)).astype(np.uint8), "L")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG" if variant % 2 == 0 else "PNG", quality=80)
    buffer.seek(0)
    return buffer
