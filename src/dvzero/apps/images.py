"""Photos and drawings of a handwritten digit, made into MNIST-like 28x28 inputs.

MNIST itself was made this way (LeCun, Cortes and Burges): each digit was scaled to fit a
20x20 box, keeping its aspect ratio, and placed in a 28x28 field so that its centre of
mass lies at the centre. :func:`mnist_like` does the same to any picture of one digit,
after cleaning what a photo adds to a drawing:

1. grey levels in [0, 1] (colour is averaged away, transparency is background);
2. the paper found from the picture's border: ink is what is darker than light paper, or
   lighter than a dark background;
3. the paper's brightness measured locally and divided out, so that grey or tinted paper,
   lit more on one side than the other, becomes an even 0 and the ink stands out of it;
4. refused as blank when nothing stands out of the paper's own noise;
5. the ink level chosen from the picture itself (Otsu's method), keeping the strokes' soft
   edges; the long straight lines of ruled or squared paper and the specks away from the
   digit dropped;
6. cropped to the ink, scaled to fit 20x20 keeping the aspect ratio (antialiased, as
   MNIST's were) and placed in 28x28 with its centre of mass at the centre.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
from numpy.typing import NDArray

from .._i18n import _

#: The largest picture read, in pixels (about 5000 x 5000): a bigger one is refused before
#: it is decoded, so a small file that unpacks to gigabytes (a decompression bomb) can't
#: exhaust memory.
MAX_PIXELS = 25_000_000
#: Ink fainter than this share of the strongest stroke does not count when cropping.
INK_THRESHOLD = 0.2
#: A picture whose ink differs from its paper by less than this is blank...
MIN_CONTRAST = 0.1
#: ... and so is one whose ink stands out of the paper's noise by less than this many
#: standard deviations of it.
NOISE_MARGIN = 6.0
#: Ink is what stands out of the paper's noise by this many standard deviations of it.
NOISE_LEVEL = 4.0
#: The paper's level is measured on a copy this many pixels a side at most.
PAPER_SIDE = 96
#: Straight lines of ink across this share of the picture, at least two of them this share
#: of the picture apart, are the paper's (ruled, squared).
LINE_SHARE = 0.85
LINE_GAP = 0.05
#: A blot of ink with less than this share of the largest one's ink is a speck.
SPECK_SHARE = 0.1
#: Pictures are shrunk to this many pixels a side at most before any arithmetic, so that
#: a large photo costs megabytes, not gigabytes (the digit ends up 20x20 anyway).
WORKING_SIDE = 1024


class ImageError(ValueError):
    """A file that can't be made into a digit: not an image, too large, or blank."""


class NoInkError(ImageError):
    """A picture in which nothing stands out of the paper: nothing drawn yet."""


def _name(path) -> str:
    """How messages name a picture: its path, or a file object's ``name``."""
    if isinstance(path, (str, bytes, os.PathLike)):
        return os.fsdecode(path)
    return str(getattr(path, "name", _("the picture")))


def read_grey(path: str | os.PathLike[str], max_pixels: int = MAX_PIXELS,
              formats: tuple[str, ...] | None = None) -> NDArray:
    """The picture in ``path`` (PNG, JPEG, or anything Pillow reads) as grey levels in
    [0, 1], shape ``(height, width)``, upright (EXIF orientation applied) and at most
    :data:`WORKING_SIDE` a side. Transparent pixels count as background: the colour of the
    picture's opaque border, or else the grey farthest from its ink. ``formats`` limits
    the formats tried (Pillow's names, e.g. ``("PNG", "JPEG")``); ``None``: any."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():  # dvzero's own, lower limit is checked below
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path, formats=formats)
        with image:
            width, height = image.size
            if width * height > max_pixels:
                raise ImageError(_("{file}: {width}x{height} pixels is more than the {most:,} "
                                   "read; scale the picture down first")
                                 .format(file=_name(path), width=width, height=height,
                                         most=max_pixels))
            image.load()
            image = ImageOps.exif_transpose(image)  # phone photos are often stored sideways
            return _grey_levels(image)
    except UnidentifiedImageError:
        raise ImageError(_("{file}: not an image (PNG, JPEG or another format Pillow reads)")
                         .format(file=_name(path))) from None
    except Image.DecompressionBombError:  # Pillow's own limit, checked as it opens
        raise ImageError(_("{file}: more pixels than the {most:,} read; scale the picture down "
                           "first").format(file=_name(path), most=max_pixels)) from None
    except (ImageError, FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or corrupt data
        raise ImageError(_("{file}: a damaged or unreadable image ({reason})")
                         .format(file=_name(path), reason=exc)) from None


def _grey_levels(image) -> NDArray:
    """An opened Pillow image as float32 grey levels in [0, 1], shrunk to WORKING_SIDE."""
    from PIL import Image

    if image.mode in ("I", "F") or image.mode.startswith("I;16"):  # 16-bit, int, float
        values = np.asarray(image, dtype=np.float32)
        top = 1.0 if image.mode == "F" and values.max() <= 1 else \
            65535.0 if values.max() > 255 else 255.0
        image = Image.fromarray(np.round(np.clip(values / top, 0, 1) * 255).astype(np.uint8))
    transparent = "A" in image.getbands() or "transparency" in image.info
    image = image.convert("RGBA" if transparent else "L")
    image.thumbnail((WORKING_SIDE, WORKING_SIDE), Image.Resampling.BOX)
    if not transparent:
        return np.asarray(image, dtype=np.float32) / 255
    rgba = np.asarray(image, dtype=np.float32) / 255
    grey, alpha = rgba[..., :3].mean(axis=2), rgba[..., 3]
    return grey * alpha + _background_of(grey, alpha) * (1 - alpha)


def _background_of(grey: NDArray, alpha: NDArray) -> float:
    """The grey of the opaque border pixels; when the border is see-through, white for
    dark ink and black for light ink."""
    border, weights = _border(grey), _border(alpha)
    if weights.sum() >= 0.5 * weights.size:
        return float(np.average(border, weights=weights))
    if alpha.sum() == 0:
        return 1.0
    return 1.0 if float(np.average(grey, weights=alpha)) < 0.5 else 0.0


def _border(array: NDArray) -> NDArray:
    """The outermost rows and columns of ``array``, as one flat array."""
    return np.concatenate([array[0], array[-1], array[1:-1, 0], array[1:-1, -1]])


def mnist_like(grey: NDArray) -> NDArray:
    """A picture of one digit (grey levels in [0, 1], any size) as MNIST sees digits: a
    float32 ``(28, 28)`` array in [0, 1], bright ink on black, fitted to 20x20 and centred
    by its centre of mass. Raises :class:`ImageError` when there is no ink."""
    grey = np.asarray(grey, dtype=np.float64)
    if grey.ndim != 2 or min(grey.shape) < 1:
        raise ImageError(_("a picture must be a 2-D array of grey levels, got shape {shape}")
                         .format(shape=grey.shape))
    ink = _without_lines_and_specks(_soft_ink(_ink_over_paper(grey)))
    rows = np.flatnonzero((ink > INK_THRESHOLD).any(axis=1))
    columns = np.flatnonzero((ink > INK_THRESHOLD).any(axis=0))
    return _framed(ink[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1])


def _ink_over_paper(grey: NDArray) -> NDArray:
    """How much ink each pixel holds, 0 on the paper: ``1 - grey / paper`` on light paper
    (the light divided out), ``grey - paper`` on a dark background, with the paper's level
    measured around each pixel (:func:`_paper_level`)."""
    if float(np.median(_border(grey))) > 0.5:  # dark ink on light paper
        paper = 1 - _paper_level(1 - grey)
        return np.clip(1 - grey / np.maximum(paper, 1e-3), 0, 1)
    return np.clip(grey - _paper_level(grey), 0, 1)


def _paper_level(ink: NDArray) -> NDArray:
    """The paper's level around each pixel of ``ink`` (bright ink on a darker paper): the
    least value within a quarter of the picture, which no stroke is wide enough to fill,
    measured on a small copy (which averages the noise away) and smoothed."""
    from PIL import Image
    from scipy.ndimage import minimum_filter, uniform_filter

    height, width = ink.shape
    scale = min(1.0, PAPER_SIDE / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = np.asarray(Image.fromarray(ink.astype(np.float32), "F").resize(
        size, Image.Resampling.BOX), dtype=np.float64)
    window = max(3, round(max(small.shape) / 4))
    level = uniform_filter(minimum_filter(small, window, mode="nearest"), window,
                           mode="nearest")
    return np.asarray(Image.fromarray(level.astype(np.float32), "F").resize(
        (width, height), Image.Resampling.BILINEAR), dtype=np.float64)


def _soft_ink(ink: NDArray) -> NDArray:
    """The ink in [0, 1]: 0 up to the level Otsu's method puts between paper and ink, 1
    from the ink's typical strength up, soft in between (a stroke's antialiased edge).
    Raises :class:`NoInkError` when nothing stands out of the paper's noise."""
    from scipy.ndimage import uniform_filter

    # the paper's level and noise (robustly: median and MAD), from the whole picture or its
    # border, whichever is more paper: a bold digit covers much of the one, a tight crop
    # much of the other
    paper, noise = min((float(np.median(part)), 1.4826 * float(np.median(np.abs(
        part - np.median(part))))) for part in (ink, _border(ink)))
    strongest = float(uniform_filter(ink, 3).max())
    if strongest < max(MIN_CONTRAST, NOISE_MARGIN * noise):
        raise NoInkError(_("no ink: the picture is blank (nothing stands out of the paper)"))
    # Otsu on the bulk of the ink: up to the strongest stroke, blurred (a lone bright pixel
    # does not stretch the histogram; a one-pixel stroke may fall outside it)
    counts, edges = np.histogram(ink, bins=256, range=(0, strongest))
    # Otsu's level, but never within the paper's noise (which it may split when the digit
    # is thin and the paper takes nearly all the picture)
    level = max(_otsu(counts, (edges[:-1] + edges[1:]) / 2), paper + NOISE_LEVEL * noise)
    typical = float(np.median(ink[ink > level]))
    return np.clip((ink - level) / max(typical - level, 1e-6), 0, 1)


def _otsu(counts: NDArray, values: NDArray) -> float:
    """Otsu's threshold: the value that splits a histogram into the two classes whose
    means lie farthest apart, weighted by their sizes (the between-class variance)."""
    below = np.cumsum(counts)
    total_below = np.cumsum(counts * values)
    above = below[-1] - below
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_below = total_below / below
        mean_above = (total_below[-1] - total_below) / above
        spread = np.nan_to_num(below * above * (mean_below - mean_above) ** 2)
    return float(values[int(np.argmax(spread[:-1]))])  # one class only: the lowest value


def _without_lines_and_specks(ink: NDArray) -> NDArray:
    """``ink`` without the straight lines that run across most of the picture (ruled or
    squared paper) and without the blots far smaller than the digit (specks, dust)."""
    from scipy.ndimage import label

    marked = ink > 0
    ink = ink.copy()
    ink[_paper_lines(marked.mean(axis=1)), :] = 0  # rows of ink across the picture
    ink[:, _paper_lines(marked.mean(axis=0))] = 0  # and columns
    parts, count = label(ink > 0, np.ones((3, 3), bool))
    if count == 0:
        raise NoInkError(_("no ink: the picture holds only lines"))
    weights = np.bincount(parts.ravel(), ink.ravel())[1:]
    kept = np.flatnonzero(weights >= SPECK_SHARE * weights.max()) + 1
    return np.where(np.isin(parts, kept), ink, 0.0)


def _paper_lines(share: NDArray) -> NDArray:
    """Which rows (or columns, by their ``share`` of ink) are the paper's lines: those with
    ink across :data:`LINE_SHARE` of the picture, when there are at least two such lines
    apart (ruled or squared paper has many; a digit's bar or stem across a tight crop is
    one, and is kept)."""
    full = share >= LINE_SHARE
    at = np.flatnonzero(full)
    apart = np.count_nonzero(np.diff(at) > max(2, LINE_GAP * len(share)))
    return full if apart >= 1 else np.zeros_like(full)


def _framed(ink: NDArray) -> NDArray:
    """Ink cropped to itself, fitted to 20x20 and centred by mass in 28x28 (float32)."""
    from PIL import Image

    height, width = ink.shape
    scale = 20 / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = Image.fromarray(np.round(ink * 255).astype(np.uint8)).resize(
        size, Image.Resampling.LANCZOS)
    digit = np.asarray(small, dtype=np.float64) / 255
    if digit.max() > 0:  # a thin stroke shrunk 50 times is faint: give it full strength again
        digit /= digit.max()

    field = np.zeros((28, 28))
    total = digit.sum()
    rows_at, columns_at = np.indices(digit.shape)
    centre_row = (rows_at * digit).sum() / total if total else digit.shape[0] / 2
    centre_column = (columns_at * digit).sum() / total if total else digit.shape[1] / 2
    top = int(np.clip(round(14 - centre_row), 0, 28 - digit.shape[0]))
    left = int(np.clip(round(14 - centre_column), 0, 28 - digit.shape[1]))
    field[top:top + digit.shape[0], left:left + digit.shape[1]] = digit
    return field.astype(np.float32)


def read_digit(path: str | os.PathLike[str], max_pixels: int = MAX_PIXELS,
               formats: tuple[str, ...] | None = None) -> NDArray:
    """The picture in ``path`` as an MNIST-like float32 ``(28, 28)`` input
    (:func:`read_grey`, then :func:`mnist_like`); errors name the file."""
    grey = read_grey(path, max_pixels, formats)
    try:
        return mnist_like(grey)
    except ImageError as exc:
        raise type(exc)(_("{path}: {message}").format(path=_name(path), message=exc)) from None
