"""``load_mnist``: the MNIST digits, shipped with the package, decoded once and cached.

The package carries the four official IDX files (gzip-compressed). The first load checks
the SHA-256 of their uncompressed bytes against the official sums, decodes them and caches
the arrays as ``.npy`` files in a per-user cache directory; later loads read the cache.
``data_dir`` points the same machinery at any directory holding the four files under the
MNIST names (Fashion-MNIST, KMNIST, ...).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from .._atomic import atomic_write
from .._i18n import _
from ..errors import DataError
from .idx import parse_idx, read_idx_bytes, read_idx_header
from .scaled import scale_pixels

#: The four files, by role, under their official names (a ``.gz`` suffix is optional).
MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

#: SHA-256 of the official, uncompressed MNIST files.
MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

SHIPPED_DIR = Path(__file__).resolve().parent / "mnist_files"
CACHE_ENV = "DVZERO_CACHE_DIR"


def default_cache_dir() -> Path:
    """Where decoded arrays are cached: ``$DVZERO_CACHE_DIR``, else the user cache dir."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dvzero"


def file_name_variants(name: str) -> tuple[str, ...]:
    """The names a data file may have, in the order they are looked for: the official one
    and Kaggle's (``train-images.idx3-ubyte``), each plain or with ``.gz``."""
    kaggle = name.replace("-idx", ".idx")
    return (name, f"{name}.gz", kaggle, f"{kaggle}.gz")


def find_mnist_file(directory: Path, name: str) -> Path:
    """The file ``name`` in ``directory`` under any of its :func:`file_name_variants`;
    :class:`DataError` naming the expected files if none is there."""
    for candidate in file_name_variants(name):
        if (directory / candidate).is_file():
            return directory / candidate
    raise DataError(_("{directory}: missing {name} (or {name}.gz). A data directory must hold "
                      "the four files {files}, plain or gzip-compressed (Kaggle's names such as "
                      "{kaggle} work too)")
                    .format(directory=directory, name=name, files=", ".join(MNIST_FILES.values()),
                            kaggle=file_name_variants(name)[2]))


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_cache_entry(entry: Path, dtype: np.dtype, shape: tuple[int, ...]) -> NDArray | None:
    """The cached array if it is whole: readable, the expected dtype and shape, CRC intact."""
    try:
        expected_crc = int(entry.stem.rsplit("-", 1)[1], 16)
        cached = np.load(entry, allow_pickle=False)
    except Exception:  # any damage (NumPy's header parser alone raises half a dozen kinds)
        return None
    if (cached.dtype != dtype or cached.shape != shape
            or zlib.crc32(np.ascontiguousarray(cached)) != expected_crc):
        return None
    return cached


def dataset_fingerprint(data_dir: str | os.PathLike[str] | None = None) -> str:
    """SHA-256 over the four files of a dataset (the shipped MNIST for ``None``): two
    directories with the same fingerprint hold byte-identical files."""
    directory = SHIPPED_DIR if data_dir is None else Path(data_dir).expanduser()
    digest = hashlib.sha256()
    for name in MNIST_FILES.values():
        digest.update(_file_sha256(find_mnist_file(directory, name)).encode())
    return digest.hexdigest()


def load_idx_cached(path: Path, expected_sha256: str | None = None, cache_dir: Path | None = None,
                    on_cache_error: Callable[[OSError], None] | None = None) -> NDArray:
    """Read an IDX file through the cache (keyed by the file's content).

    On a cache miss the file is decoded — its uncompressed bytes checked against
    ``expected_sha256`` when given — and the array is written to the cache atomically,
    under a name that carries the CRC-32 of its data. An entry that cannot be read, does
    not match the file's header or fails its CRC is deleted and rebuilt.
    ``cache_dir=None`` uses :func:`default_cache_dir`. A cache that cannot be written is
    passed to ``on_cache_error`` if given, else reported with a :class:`RuntimeWarning`;
    the array is returned either way.
    """
    dtype, shape = read_idx_header(path)
    cache_dir = default_cache_dir() if cache_dir is None else cache_dir
    key = f"idx-{_file_sha256(path)[:40]}"
    for entry in sorted(cache_dir.glob(f"{key}-*.npy")):
        cached = _read_cache_entry(entry, dtype, shape)
        if cached is not None:
            return cached
        with contextlib.suppress(OSError):
            entry.unlink()  # damaged: rebuilt below

    data = read_idx_bytes(path)
    if expected_sha256 is not None:
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected_sha256:
            raise DataError(_("{path}: checksum mismatch (SHA-256 of the uncompressed data is "
                              "{actual}..., expected {expected}...); the file is damaged: "
                              "reinstall dvzero (pip install --force-reinstall dvzero)")
                            .format(path=path, actual=actual[:16],
                                    expected=expected_sha256[:16]))
    array = parse_idx(data, str(path))
    cache_path = cache_dir / f"{key}-{zlib.crc32(array):08x}.npy"
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with atomic_write(cache_path, "wb") as handle:
            np.save(handle, array, allow_pickle=False)
    except OSError as exc:
        if on_cache_error is None:
            warnings.warn(_cache_warning(cache_dir, exc), RuntimeWarning, stacklevel=2)
        else:
            on_cache_error(exc)
    return array


def _cache_warning(cache_dir: Path, exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    return _("cannot write the dataset cache in {cache_dir} ({reason}); the data is decoded "
             "anew each time, which is slower. Set {variable} to a writable "
             "directory.").format(cache_dir=cache_dir, reason=reason, variable=CACHE_ENV)


def load_mnist(
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    num_classes: int = 10,
) -> tuple[tuple[NDArray, NDArray], tuple[NDArray, NDArray]]:
    """Load MNIST, or any dataset in its four-file IDX layout, as ``(x_train, t_train),
    (x_test, t_test)``.

    Parameters
    ----------
    normalize
        Images as float32 in ``[0, 1]`` (pixel / 255); otherwise the raw uint8 pixels.
    flatten
        Images as rows ``(N, 784)``; otherwise ``(N, 1, 28, 28)``.
    one_hot_label
        Labels as float32 one-hot rows ``(N, num_classes)``; otherwise uint8 labels ``(N,)``.
    data_dir
        A directory with the four IDX files (plain or ``.gz``) under the MNIST names
        (``train-images-idx3-ubyte``, ...) or Kaggle's (``train-images.idx3-ubyte``, ...).
        ``None`` uses the copy of MNIST shipped with dvzero, whose checksums are verified.
    cache_dir
        Where decoded arrays are cached; default :func:`default_cache_dir`.
    num_classes
        Number of classes; labels must lie in ``[0, num_classes)``.
    """
    shipped = data_dir is None
    directory = SHIPPED_DIR if shipped else Path(data_dir).expanduser()
    if not directory.is_dir():
        message = (_("data directory {directory} is not a directory") if directory.exists()
                   else _("data directory {directory} does not exist"))
        raise DataError(message.format(directory=directory))
    cache = default_cache_dir() if cache_dir is None else Path(cache_dir)
    arrays = {}
    cache_errors: list[OSError] = []
    for role, name in MNIST_FILES.items():
        path = find_mnist_file(directory, name)
        expected = MNIST_SHA256[name] if shipped else None
        try:
            arrays[role] = load_idx_cached(path, expected, cache, cache_errors.append)
        except PermissionError as exc:
            raise DataError(_("{path}: cannot be read ({reason})")
                            .format(path=path, reason=exc.strerror)) from exc
    if cache_errors:  # one warning for the four files
        warnings.warn(_cache_warning(cache, cache_errors[0]), RuntimeWarning, stacklevel=2)

    result = []
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        _check_split(directory, split, images, labels, num_classes)
        if normalize:
            images = scale_pixels(images)
        n, rows, cols = images.shape
        images = images.reshape(n, rows * cols) if flatten else images.reshape(n, 1, rows, cols)
        if one_hot_label:
            labels = np.eye(num_classes, dtype=np.float32)[labels]
        result.append((images, labels))
    return result[0], result[1]


def _check_split(directory: Path, split: str, images: NDArray, labels: NDArray,
                 num_classes: int) -> None:
    """Refuse images that are not ``(N, rows, cols)``, or labels that do not match them
    one for one as integers in ``[0, num_classes)``, naming the file."""
    image_file, label_file = MNIST_FILES[f"{split}_images"], MNIST_FILES[f"{split}_labels"]
    if images.ndim != 3:
        raise DataError(_("{file}: expected images (N, rows, cols), got shape {shape}")
                        .format(file=image_file, shape=images.shape))
    if labels.ndim != 1:
        raise DataError(_("{file}: expected labels (N,), got shape {shape}")
                        .format(file=label_file, shape=labels.shape))
    if images.shape[0] != labels.shape[0]:
        raise DataError(_("{directory}: {image_file} holds {images} images but {label_file} "
                          "holds {labels} labels")
                        .format(directory=directory, image_file=image_file,
                                images=images.shape[0], label_file=label_file,
                                labels=labels.shape[0]))
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(_("{file}: labels must be integers, found dtype {dtype}")
                        .format(file=label_file, dtype=labels.dtype))
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise DataError(_("{file}: labels must lie in 0..{last}, found values from {low} to "
                          "{high}").format(file=label_file, last=num_classes - 1,
                                           low=labels.min(), high=labels.max()))
