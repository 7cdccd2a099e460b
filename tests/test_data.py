"""Tests of the IDX reader, ``load_mnist`` (shipped data and ``data_dir``) and the dataset cache."""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import struct
import tracemalloc
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dvzero import load_mnist
from dvzero.data import mnist as mnist_mod
from dvzero.data.idx import parse_idx, read_idx, read_idx_bytes
from dvzero.data.mnist import MNIST_SHA256, SHIPPED_DIR, default_cache_dir, load_idx_cached
from dvzero.errors import DataError, IDXFormatError

from helpers import MNIST_NAMES, idx_bytes, write_idx, write_mnist_dir

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]
SHAPES = [(7,), (3, 5), (2, 3, 4), (2, 1, 3, 2)]
# Type codes of the IDX format, written out here independently of the reader's table.
TYPE_CODES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def sample_array(dtype, shape, seed=0) -> np.ndarray:
    """Random values of ``dtype`` with the extreme / special values of the type up front."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    size = math.prod(shape)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        values = rng.integers(info.min, info.max, size=size, endpoint=True, dtype=np.int64)
        special = [info.min, info.max, 0, 1]
    else:
        info = np.finfo(dtype)
        values = rng.normal(scale=1e3, size=size)
        special = [np.inf, -np.inf, np.nan, -0.0, info.tiny / 4, info.max]
    values = values.astype(dtype)
    values[: len(special)] = np.array(special[:size]).astype(dtype)
    return values.reshape(shape)


def header(type_code: int, shape: tuple[int, ...]) -> bytes:
    return struct.pack(f">BBBB{len(shape)}I", 0, 0, type_code, len(shape), *shape)


def write_bytes(path: Path, data: bytes, compress: bool = False) -> Path:
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def assert_idx_error(path: Path, match: str | None = None) -> str:
    with pytest.raises(IDXFormatError, match=match) as info:
        read_idx(path)
    message = str(info.value)
    assert path.name in message
    return message


# --------------------------------------------------------------------------- IDX round trip


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{len(s)}d")
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_round_trip(tmp_path, dtype, shape, compress):
    array = sample_array(dtype, shape, seed=len(shape))
    data = idx_bytes(array)
    path = write_idx(tmp_path / "array.idx", array, compress=compress)

    assert read_idx_bytes(path) == data
    for result in (parse_idx(data), read_idx(path)):
        assert result.dtype == np.dtype(dtype)
        assert result.dtype.isnative
        assert result.shape == shape
        # Bit-exact: NaN, -0.0, subnormals and the integer extremes survive.
        assert result.tobytes() == array.tobytes()
        assert result.flags.writeable


def test_multibyte_values_are_big_endian():
    data = header(0x0B, (2,)) + b"\x01\x02\xff\xfe"
    np.testing.assert_array_equal(parse_idx(data), np.array([0x0102, -2], dtype=np.int16))
    data = header(0x0C, (1,)) + b"\x00\x01\x00\x00"
    assert parse_idx(data)[0] == 65536
    data = header(0x0D, (1,)) + struct.pack(">f", 1.5)
    assert parse_idx(data)[0] == np.float32(1.5)
    data = header(0x0E, (1,)) + struct.pack(">d", -2.25)
    assert parse_idx(data)[0] == -2.25


def test_zero_sized_dimensions():
    for shape in [(0,), (0, 3), (4, 0, 2)]:
        result = parse_idx(header(0x08, shape))
        assert result.shape == shape
        assert result.dtype == np.uint8


def test_gzip_detected_by_content_not_name(tmp_path):
    array = sample_array(np.int32, (3, 4))
    gz_no_suffix = write_idx(tmp_path / "compressed.idx", array, compress=True)
    assert gz_no_suffix.read_bytes()[:2] == b"\x1f\x8b"
    plain_gz_suffix = write_idx(tmp_path / "plain.gz", array, compress=False)
    for path in (gz_no_suffix, plain_gz_suffix):
        assert read_idx_bytes(path) == idx_bytes(array)
        np.testing.assert_array_equal(read_idx(path), array)


def test_multi_member_gzip(tmp_path):
    """A gzip file of several concatenated members is one valid stream."""
    array = sample_array(np.uint8, (5, 6))
    data = idx_bytes(array)
    path = tmp_path / "multi.gz"
    path.write_bytes(gzip.compress(data[:10]) + gzip.compress(data[10:]))
    np.testing.assert_array_equal(read_idx(path), array)


def test_read_idx_accepts_str_path(tmp_path):
    array = sample_array(np.float64, (2, 2))
    path = write_idx(tmp_path / "a.idx", array)
    np.testing.assert_array_equal(read_idx(str(path)), array)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope.idx")


# --------------------------------------------------------------------------- IDX errors

VALID = idx_bytes(sample_array(np.int16, (3, 4)))


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize(
    ("data", "match"),
    [
        pytest.param(b"\x01" + VALID[1:], "magic", id="magic-first-byte"),
        pytest.param(b"\x00\x01" + VALID[2:], "magic", id="magic-second-byte"),
        pytest.param(b"\x00\x00\x0a\x01" + VALID[4:], "type code", id="type-0x0a"),
        pytest.param(b"\x00\x00\x00\x01" + VALID[4:], "type code", id="type-0x00"),
        pytest.param(b"\x00\x00\xff\x01" + VALID[4:], "type code", id="type-0xff"),
        pytest.param(b"\x00\x00\x08\x00", "0 dimensions", id="zero-dims"),
        pytest.param(b"\x00\x00\x08\x00\x00\x00\x00\x01\x05", "0 dimensions", id="zero-dims-data"),
        pytest.param(b"\x00\x00\x08\x03" + b"\x00" * 8, "header", id="truncated-header"),
        pytest.param(b"\x00\x00\x08", "too short", id="three-bytes"),
        pytest.param(VALID[:-1], "truncated", id="truncated-data"),
        pytest.param(VALID[:-7], "truncated", id="truncated-data-more"),
        pytest.param(VALID + b"\x00", "longer", id="trailing-byte"),
        pytest.param(VALID + VALID, "longer", id="trailing-copy"),
        pytest.param(b"", "too short", id="empty"),
    ],
)
def test_malformed_files(tmp_path, data, match, compress):
    path = write_bytes(tmp_path / "bad-file.idx", data, compress)
    assert_idx_error(path, match)
    with pytest.raises(IDXFormatError, match=match) as info:
        parse_idx(data, "some-name")
    assert "some-name" in str(info.value)


def test_parse_idx_default_name():
    with pytest.raises(IDXFormatError, match="<bytes>"):
        parse_idx(b"\x01\x02\x03\x04")


@pytest.mark.parametrize("name", ["empty", "empty.gz"])
def test_empty_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"")
    assert_idx_error(path)


def compressible_gz() -> bytes:
    array = (np.arange(20000) % 7).astype(np.int32).reshape(100, 200)
    return gzip.compress(idx_bytes(array))


@pytest.mark.parametrize("offset", [-8, 0, 8, 100])
def test_corrupt_gzip_stream(tmp_path, offset):
    raw = bytearray(compressible_gz())
    middle = len(raw) // 2 + offset
    raw[middle : middle + 16] = bytes(b ^ 0x5A for b in raw[middle : middle + 16])
    path = tmp_path / "corrupt.gz"
    path.write_bytes(bytes(raw))
    assert_idx_error(path)


def test_corrupt_gzip_checksum(tmp_path):
    """Intact deflate data but a wrong CRC in the gzip trailer."""
    raw = bytearray(compressible_gz())
    raw[-8] ^= 0xFF
    path = tmp_path / "badcrc.gz"
    path.write_bytes(bytes(raw))
    assert_idx_error(path, "gzip")


@pytest.mark.parametrize("keep", [0.5, 0.1])
def test_truncated_gzip_file(tmp_path, keep):
    raw = compressible_gz()
    path = tmp_path / "cut.gz"
    path.write_bytes(raw[: int(len(raw) * keep)])
    assert_idx_error(path)


def test_gzip_header_only(tmp_path):
    path = tmp_path / "stub.gz"
    path.write_bytes(compressible_gz()[:10])
    assert_idx_error(path)


def test_garbage_after_gzip_stream(tmp_path):
    path = tmp_path / "garbage.gz"
    path.write_bytes(compressible_gz() + b"not gzip at all")
    assert_idx_error(path)


def test_fake_gzip_magic(tmp_path):
    """A file that starts like gzip but is not: still an IDXFormatError."""
    path = tmp_path / "fake"
    path.write_bytes(b"\x1f\x8b" + b"\x00" * 30)
    assert_idx_error(path)


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize(
    ("type_code", "shape"),
    [(0x08, (2**31,) * 4), (0x0E, (2**32 - 1,) * 3), (0x08, (2**32 - 1,)), (0x0C, (65536, 65536))],
)
def test_gigantic_declared_shape(tmp_path, type_code, shape, compress):
    data = header(type_code, shape) + b"\x01\x02\x03\x04"
    path = write_bytes(tmp_path / "huge.idx", data, compress)
    assert_idx_error(path, "truncated")
    with pytest.raises(IDXFormatError, match="truncated"):
        parse_idx(data)


# --------------------------------------------------------------------------- IDX fuzzing


def check_consistent(array: np.ndarray, data: bytes) -> None:
    """``array`` is what the header of the uncompressed bytes ``data`` says, value for value."""
    assert data[:2] == b"\x00\x00"
    type_code, ndim = data[2], data[3]
    assert type_code in TYPE_CODES and ndim > 0
    offset = 4 + 4 * ndim
    shape = struct.unpack_from(f">{ndim}I", data, 4)
    big = np.dtype(TYPE_CODES[type_code])
    assert array.shape == shape
    assert array.dtype == big.newbyteorder("=")
    assert math.prod(array.shape) * array.itemsize == len(data) - offset
    expected = np.frombuffer(data, dtype=big, offset=offset).astype(array.dtype)
    assert array.tobytes() == expected.tobytes()


def check_file(path: Path) -> None:
    try:
        array = read_idx(path)
    except IDXFormatError as exc:
        assert str(path) in str(exc)
    else:
        raw = path.read_bytes()
        data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        check_consistent(array, data)


def peak_allocation(function, *args) -> int:
    """Peak bytes allocated (NumPy arrays included) while ``function(*args)`` runs."""
    tracemalloc.start()
    try:
        function(*args)
    except IDXFormatError:
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


def check_bytes(data: bytes) -> None:
    try:
        array = parse_idx(data, "fuzz")
    except IDXFormatError as exc:
        assert "fuzz" in str(exc)
    else:
        check_consistent(array, data)


@st.composite
def valid_idx(draw) -> bytes:
    type_code = draw(st.sampled_from(sorted(TYPE_CODES)))
    dtype = np.dtype(TYPE_CODES[type_code])
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=1, max_size=3)))
    size = math.prod(shape) * dtype.itemsize
    payload = draw(st.binary(min_size=size, max_size=size))
    array = np.frombuffer(payload, dtype=dtype.newbyteorder("=")).reshape(shape)
    data = idx_bytes(array)
    assert data[2] == type_code  # the helper and this table agree
    return data


MUTATION = st.one_of(
    st.tuples(st.just("xor"), st.integers(0, 2**16), st.integers(1, 255)),
    st.tuples(st.just("set"), st.integers(0, 15), st.integers(0, 255)),
    st.tuples(st.just("cut"), st.integers(0, 2**16), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 2**16), st.integers(0, 255)),
    st.tuples(st.just("delete"), st.integers(0, 2**16), st.integers(1, 8)),
)


def mutate(data: bytes, mutations) -> bytes:
    out = bytearray(data)
    for kind, position, value in mutations:
        if not out and kind != "insert":
            continue
        index = position % (len(out) + (kind in ("cut", "insert")))
        if kind == "xor":
            out[index] ^= value
        elif kind == "set":
            out[index] = value
        elif kind == "cut":
            del out[index:]
        elif kind == "insert":
            out.insert(index, value)
        else:
            del out[index : index + value]
    return bytes(out)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("idx-fuzz")


# Bounded to seconds in the normal run; "pytest -m fuzz" runs the long budget. A deadline
# per example turns a hang into a failure.
QUICK = settings(max_examples=int(os.environ.get("DVZERO_FUZZ_EXAMPLES", "200")),
                 deadline=timedelta(seconds=2))
LONG = settings(max_examples=20_000, deadline=timedelta(seconds=2))


def fuzz_random_bytes(fuzz_dir, data):
    check_bytes(data)
    check_bytes(header(0x08, (2, 3)) + data)
    check_file(write_bytes(fuzz_dir / "random.idx", data))
    check_file(write_bytes(fuzz_dir / "random-gz.idx", data, compress=True))
    check_file(write_bytes(fuzz_dir / "random-gz-raw.idx", b"\x1f\x8b" + data))


def fuzz_mutated_plain(fuzz_dir, data, mutations):
    mutated = mutate(data, mutations)
    check_bytes(mutated)
    check_file(write_bytes(fuzz_dir / "mutated.idx", mutated))
    if not mutations:
        check_consistent(read_idx(fuzz_dir / "mutated.idx"), data)  # valid input must read


def fuzz_mutated_gzip(fuzz_dir, data, mutations):
    # Mutate the content and compress it, then mutate the compressed stream itself.
    check_file(write_bytes(fuzz_dir / "content.gz", mutate(data, mutations), compress=True))
    compressed = gzip.compress(data, compresslevel=1)
    check_file(write_bytes(fuzz_dir / "stream.gz", mutate(compressed, mutations)))


def fuzz_memory(fuzz_dir, data, mutations, compress):
    """Whatever the header declares, memory follows the real content, not the claim."""
    mutated = mutate(data, mutations)
    path = write_bytes(fuzz_dir / "memory.idx", mutated, compress)
    # The content, a few copies of it (buffer, array), and one 1 MiB read chunk for gzip.
    assert peak_allocation(read_idx, path) <= 4 * len(mutated) + (1 << 20) + (256 << 10)


@QUICK
@given(data=st.binary(max_size=64))
def test_fuzz_random_bytes(fuzz_dir, data):
    fuzz_random_bytes(fuzz_dir, data)


@QUICK
@given(data=valid_idx(), mutations=st.lists(MUTATION, max_size=3))
def test_fuzz_mutated_plain(fuzz_dir, data, mutations):
    fuzz_mutated_plain(fuzz_dir, data, mutations)


@QUICK
@given(data=valid_idx(), mutations=st.lists(MUTATION, max_size=3))
def test_fuzz_mutated_gzip(fuzz_dir, data, mutations):
    fuzz_mutated_gzip(fuzz_dir, data, mutations)


@QUICK
@given(data=valid_idx(), mutations=st.lists(MUTATION, max_size=3), compress=st.booleans())
def test_fuzz_memory_is_bounded_by_the_content(fuzz_dir, data, mutations, compress):
    fuzz_memory(fuzz_dir, data, mutations, compress)


def test_an_empty_shape_with_absurd_sides(tmp_path):
    """Found by the long fuzz: 0 elements, but sides whose product NumPy cannot represent."""
    data = header(0x0B, (0x42000000, 0, 0xF9000000))
    with pytest.raises(IDXFormatError, match="impossible shape"):
        parse_idx(data, "absurd")
    assert_idx_error(write_bytes(tmp_path / "absurd.idx", data, True), "impossible shape")


def test_memory_of_a_gigantic_claim_in_a_small_file(tmp_path):
    for compress in (False, True):
        path = write_bytes(tmp_path / "claim.idx", header(0x0E, (2**31, 2**31)) + b"\0" * 64,
                           compress)
        assert peak_allocation(read_idx, path) < 2 << 20


@pytest.mark.fuzz
@LONG
@given(data=st.binary(max_size=256))
def test_long_fuzz_random_bytes(fuzz_dir, data):
    fuzz_random_bytes(fuzz_dir, data)


@pytest.mark.fuzz
@LONG
@given(data=valid_idx(), mutations=st.lists(MUTATION, max_size=6))
def test_long_fuzz_mutated_plain(fuzz_dir, data, mutations):
    fuzz_mutated_plain(fuzz_dir, data, mutations)


@pytest.mark.fuzz
@LONG
@given(data=valid_idx(), mutations=st.lists(MUTATION, max_size=6))
def test_long_fuzz_mutated_gzip(fuzz_dir, data, mutations):
    fuzz_mutated_gzip(fuzz_dir, data, mutations)


@pytest.mark.fuzz
@LONG
@given(data=valid_idx(), mutations=st.lists(MUTATION, max_size=6), compress=st.booleans())
def test_long_fuzz_memory(fuzz_dir, data, mutations, compress):
    fuzz_memory(fuzz_dir, data, mutations, compress)


# --------------------------------------------------------------------------- shipped MNIST


@pytest.fixture(scope="module")
def independent_mnist():
    """The shipped files decoded with gzip + NumPy only (no dvzero code)."""

    def decode(name: str, offset: int) -> np.ndarray:
        data = gzip.decompress((SHIPPED_DIR / f"{name}.gz").read_bytes())
        assert hashlib.sha256(data).hexdigest() == MNIST_SHA256[name]
        return np.frombuffer(data, dtype=np.uint8, offset=offset)

    train_head = gzip.decompress((SHIPPED_DIR / "train-images-idx3-ubyte.gz").read_bytes())[:16]
    assert struct.unpack(">4I", train_head) == (0x803, 60000, 28, 28)
    return (
        decode("train-images-idx3-ubyte", 16).reshape(60000, 28, 28),
        decode("train-labels-idx1-ubyte", 8),
        decode("t10k-images-idx3-ubyte", 16).reshape(10000, 28, 28),
        decode("t10k-labels-idx1-ubyte", 8),
    )


@pytest.fixture(scope="module")
def mnist_4d_one_hot():
    return load_mnist(normalize=True, flatten=False, one_hot_label=True)


TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_known_mnist_facts_independently(independent_mnist):
    """The numbers asserted below, checked on the raw files without dvzero."""
    x_train, t_train, x_test, t_test = independent_mnist
    assert t_train[0] == 5 and t_test[0] == 7
    assert np.bincount(t_train).tolist() == TRAIN_COUNTS
    assert np.bincount(t_test).tolist() == TEST_COUNTS
    assert int(x_train[0].sum(dtype=np.int64)) == 27525


def test_raw_mnist_matches_independent_decode(mnist_raw, independent_mnist):
    for loaded, expected in zip(mnist_raw, independent_mnist, strict=True):
        assert loaded.dtype == np.uint8
        assert loaded.shape == expected.shape
        np.testing.assert_array_equal(loaded, expected)


def test_raw_mnist_facts(mnist_raw):
    x_train, t_train, x_test, t_test = mnist_raw
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert t_train.shape == (60000,) and t_test.shape == (10000,)
    assert x_train.min() == 0 and x_train.max() == 255
    assert t_train[0] == 5 and t_test[0] == 7
    assert np.bincount(t_train, minlength=10).tolist() == TRAIN_COUNTS
    assert np.bincount(t_test, minlength=10).tolist() == TEST_COUNTS
    assert np.count_nonzero(t_train == 1) == 6742
    assert int(x_train[0].sum(dtype=np.int64)) == 27525


def test_raw_flat(independent_mnist):
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=False)
    assert x_train.shape == (60000, 784) and x_test.shape == (10000, 784)
    assert x_train.dtype == np.uint8 and x_test.dtype == np.uint8
    np.testing.assert_array_equal(x_train, independent_mnist[0].reshape(60000, 784))
    np.testing.assert_array_equal(x_test, independent_mnist[2].reshape(10000, 784))
    assert t_train.dtype == np.uint8


PIXEL_SCALE = np.arange(256, dtype=np.float32) / np.float32(255)


def test_pixel_scale_table():
    np.testing.assert_allclose(PIXEL_SCALE, np.arange(256) / 255.0, rtol=1e-7, atol=0)
    assert PIXEL_SCALE[0] == 0.0 and PIXEL_SCALE[255] == 1.0


def test_normalized_flat(mnist, independent_mnist):
    (x_train, t_train), (x_test, t_test) = mnist
    for x, raw, n in (
        (x_train, independent_mnist[0], 60000),
        (x_test, independent_mnist[2], 10000),
    ):
        assert x.shape == (n, 784)
        assert x.dtype == np.float32
        assert x.min() == 0.0 and x.max() == 1.0
        # pixel / 255 for each of the 256 possible pixels, looked up (cheaper than dividing).
        np.testing.assert_array_equal(x, PIXEL_SCALE[raw.reshape(n, 784)])
    assert float(x_train[0].astype(np.float64).sum()) == pytest.approx(27525 / 255, rel=1e-6)
    for t, expected in ((t_train, independent_mnist[1]), (t_test, independent_mnist[3])):
        assert t.dtype == np.uint8
        assert t.shape == expected.shape
        assert t.min() == 0 and t.max() == 9
        np.testing.assert_array_equal(t, expected)


def test_unflattened_one_hot(mnist_4d_one_hot, mnist):
    (x_train, y_train), (x_test, y_test) = mnist_4d_one_hot
    (x_train_flat, t_train), (x_test_flat, t_test) = mnist
    assert x_train.shape == (60000, 1, 28, 28) and x_test.shape == (10000, 1, 28, 28)
    assert x_train.dtype == np.float32
    np.testing.assert_array_equal(x_train.reshape(60000, 784), x_train_flat)
    np.testing.assert_array_equal(x_test.reshape(10000, 784), x_test_flat)
    for y, t in ((y_train, t_train), (y_test, t_test)):
        assert y.shape == (t.size, 10)
        assert y.dtype == np.float32
        assert set(np.unique(y).tolist()) == {0.0, 1.0}
        np.testing.assert_array_equal(y.sum(axis=1), np.ones(t.size))
        np.testing.assert_array_equal(y.argmax(axis=1), t)
        assert y[np.arange(t.size), t].min() == 1.0
    np.testing.assert_array_equal(y_train.sum(axis=0), TRAIN_COUNTS)


def test_shipped_checksums_are_checked(tmp_path):
    path = SHIPPED_DIR / "train-labels-idx1-ubyte.gz"
    labels = load_idx_cached(path, MNIST_SHA256["train-labels-idx1-ubyte"], tmp_path / "ok")
    assert labels.shape == (60000,) and labels[0] == 5
    with pytest.raises(DataError, match="checksum") as info:
        load_idx_cached(path, expected_sha256="0" * 64, cache_dir=tmp_path / "bad")
    assert path.name in str(info.value)


# --------------------------------------------------------------------------- cache


def cache_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("idx-*.npy"))


@pytest.fixture
def small_idx(tmp_path):
    array = sample_array(np.int16, (4, 3, 2), seed=7)
    return write_idx(tmp_path / "small-idx3-ubyte.gz", array, compress=True), array


def failing_reader(path):
    raise AssertionError(f"read_idx_bytes({path}) called although the cache should be used")


def test_second_load_uses_cache(tmp_path, small_idx, monkeypatch):
    path, array = small_idx
    cache = tmp_path / "cache"
    first = load_idx_cached(path, cache_dir=cache)
    np.testing.assert_array_equal(first, array)
    [entry] = cache_files(cache)
    np.testing.assert_array_equal(np.load(entry), array)

    monkeypatch.setattr(mnist_mod, "read_idx_bytes", failing_reader)
    second = load_idx_cached(path, cache_dir=cache)
    assert second.dtype == array.dtype
    np.testing.assert_array_equal(second, array)
    # The patch is really on the decoding path: a cache miss now fails.
    with pytest.raises(AssertionError, match="cache should be used"):
        load_idx_cached(path, cache_dir=tmp_path / "other-cache")


def test_cache_is_keyed_by_content(tmp_path):
    cache = tmp_path / "cache"
    path = tmp_path / "data.idx"
    write_idx(path, np.arange(6, dtype=np.uint8))
    np.testing.assert_array_equal(load_idx_cached(path, cache_dir=cache), np.arange(6))
    write_idx(path, np.arange(10, 16, dtype=np.uint8))
    np.testing.assert_array_equal(load_idx_cached(path, cache_dir=cache), np.arange(10, 16))
    assert len(cache_files(cache)) == 2


def test_default_cache_dir_used_when_none(tmp_path, small_idx, monkeypatch):
    path, array = small_idx
    monkeypatch.setenv("DVZERO_CACHE_DIR", str(tmp_path / "env-cache"))
    np.testing.assert_array_equal(load_idx_cached(path), array)
    assert len(cache_files(tmp_path / "env-cache")) == 1


def corrupt_garbage(entry: Path) -> None:
    entry.write_bytes(b"this is not a npy file" * 10)


def corrupt_truncated(entry: Path) -> None:
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])


def corrupt_header_only(entry: Path) -> None:
    entry.write_bytes(entry.read_bytes()[:128])


def corrupt_empty(entry: Path) -> None:
    entry.write_bytes(b"")


def corrupt_wrong_shape(entry: Path) -> None:
    np.save(entry, np.zeros((2, 2), dtype=np.int16))


def corrupt_wrong_dtype(entry: Path) -> None:
    np.save(entry, np.zeros((4, 3, 2), dtype=np.float64))


def corrupt_flipped_bit(entry: Path) -> None:
    """A bit flipped inside the data: the file still loads, only the CRC tells."""
    data = bytearray(entry.read_bytes())
    data[-3] ^= 0x10
    entry.write_bytes(bytes(data))


def corrupt_header_syntax(entry: Path) -> None:
    """A header NumPy's parser chokes on with a tokenizer error, not a ValueError."""
    entry.write_bytes(b"\x93NUMPY\x01\x00\x16\x00{'descr': '<u1', 'sha\n")


def corrupt_pickle(entry: Path) -> None:
    np.save(entry, np.array([{"a": 1}], dtype=object), allow_pickle=True)


@pytest.mark.parametrize(
    "corrupt",
    [
        corrupt_garbage,
        corrupt_truncated,
        corrupt_header_only,
        corrupt_empty,
        corrupt_wrong_shape,
        corrupt_wrong_dtype,
        corrupt_flipped_bit,
        corrupt_header_syntax,
        corrupt_pickle,
    ],
    ids=lambda f: f.__name__.removeprefix("corrupt_"),
)
def test_bad_cache_entry_is_rebuilt(tmp_path, small_idx, monkeypatch, corrupt):
    path, array = small_idx
    cache = tmp_path / "cache"
    first = load_idx_cached(path, cache_dir=cache)
    [entry] = cache_files(cache)
    corrupt(entry)

    calls = []
    monkeypatch.setattr(mnist_mod, "read_idx_bytes", lambda p: calls.append(p) or read_idx_bytes(p))
    rebuilt = load_idx_cached(path, cache_dir=cache)
    assert calls == [path]
    assert rebuilt.dtype == first.dtype
    np.testing.assert_array_equal(rebuilt, first)
    # The entry was rewritten and serves the next load.
    np.testing.assert_array_equal(np.load(entry, allow_pickle=False), array)
    monkeypatch.setattr(mnist_mod, "read_idx_bytes", failing_reader)
    np.testing.assert_array_equal(load_idx_cached(path, cache_dir=cache), array)


def test_unwritable_cache_warns_and_still_loads(tmp_path, small_idx):
    path, array = small_idx
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    with pytest.warns(RuntimeWarning, match="cache"):
        result = load_idx_cached(path, cache_dir=not_a_dir)
    np.testing.assert_array_equal(result, array)


def test_checksum(tmp_path, small_idx):
    path, array = small_idx
    good = hashlib.sha256(idx_bytes(array)).hexdigest()
    np.testing.assert_array_equal(load_idx_cached(path, good, tmp_path / "good"), array)

    with pytest.raises(DataError, match="checksum") as info:
        load_idx_cached(path, expected_sha256="0" * 64, cache_dir=tmp_path / "bad")
    assert path.name in str(info.value)
    assert cache_files(tmp_path / "bad") == []  # nothing cached from a damaged file


def test_default_cache_dir_env(tmp_path, monkeypatch):
    monkeypatch.setenv("DVZERO_CACHE_DIR", str(tmp_path / "dv"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "dv"

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DVZERO_CACHE_DIR", "~/dvcache")
    assert default_cache_dir() == tmp_path / "home" / "dvcache"

    monkeypatch.delenv("DVZERO_CACHE_DIR")
    assert default_cache_dir() == tmp_path / "xdg" / "dvzero"
    monkeypatch.setenv("DVZERO_CACHE_DIR", "")
    assert default_cache_dir() == tmp_path / "xdg" / "dvzero"

    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "dvzero"


# --------------------------------------------------------------------------- load_mnist(data_dir)


def synthetic(rng, n_train=12, n_test=5, rows=6, cols=5, num_classes=10):
    return (
        rng.integers(0, 256, size=(n_train, rows, cols), dtype=np.uint8),
        rng.integers(0, num_classes, size=n_train, dtype=np.uint8),
        rng.integers(0, 256, size=(n_test, rows, cols), dtype=np.uint8),
        rng.integers(0, num_classes, size=n_test, dtype=np.uint8),
    )


def test_small_mnist_dir(small_mnist_dir, mnist_raw, mnist):
    x_train, t_train, x_test, t_test = mnist_raw
    (a_train, b_train), (a_test, b_test) = load_mnist(
        normalize=False, flatten=False, data_dir=small_mnist_dir
    )
    assert a_train.shape == (2000, 1, 28, 28) and a_test.shape == (500, 1, 28, 28)
    np.testing.assert_array_equal(a_train[:, 0], x_train[:2000])
    np.testing.assert_array_equal(a_test[:, 0], x_test[:500])
    np.testing.assert_array_equal(b_train, t_train[:2000])
    np.testing.assert_array_equal(b_test, t_test[:500])

    (n_train, l_train), (n_test, l_test) = load_mnist(data_dir=str(small_mnist_dir))
    np.testing.assert_array_equal(n_train, mnist[0][0][:2000])
    np.testing.assert_array_equal(n_test, mnist[1][0][:500])
    np.testing.assert_array_equal(l_train, mnist[0][1][:2000])


def test_uncompressed_mnist_subset(tmp_path, mnist_raw):
    x_train, t_train, x_test, t_test = mnist_raw
    directory = write_mnist_dir(
        tmp_path / "plain", x_train[:300], t_train[:300], x_test[:100], t_test[:100], compress=False
    )
    assert sorted(p.name for p in directory.iterdir()) == sorted(MNIST_NAMES.values())
    (a_train, b_train), (a_test, b_test) = load_mnist(
        normalize=False, data_dir=directory, cache_dir=tmp_path / "cache"
    )
    np.testing.assert_array_equal(a_train, x_train[:300].reshape(300, 784))
    np.testing.assert_array_equal(a_test, x_test[:100].reshape(100, 784))
    np.testing.assert_array_equal(b_train, t_train[:300])
    np.testing.assert_array_equal(b_test, t_test[:100])
    assert len(cache_files(tmp_path / "cache")) == 4


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_synthetic_non_square(tmp_path, rng, compress):
    x_train, t_train, x_test, t_test = synthetic(rng)
    directory = write_mnist_dir(tmp_path / "d", x_train, t_train, x_test, t_test, compress)
    cache = tmp_path / "cache"
    (a_train, b_train), (a_test, b_test) = load_mnist(
        one_hot_label=True, data_dir=directory, cache_dir=cache
    )
    assert a_train.shape == (12, 30) and a_test.shape == (5, 30)
    np.testing.assert_array_equal(a_train, x_train.reshape(12, 30).astype(np.float32) / 255)
    np.testing.assert_array_equal(b_train, np.eye(10, dtype=np.float32)[t_train])
    np.testing.assert_array_equal(b_test, np.eye(10, dtype=np.float32)[t_test])

    (c_train, _), (c_test, _) = load_mnist(
        normalize=False, flatten=False, data_dir=directory, cache_dir=cache
    )
    assert c_train.shape == (12, 1, 6, 5)
    np.testing.assert_array_equal(c_train[:, 0], x_train)
    np.testing.assert_array_equal(c_test[:, 0], x_test)


def test_mixed_compression_and_home_expansion(tmp_path, rng, monkeypatch):
    x_train, t_train, x_test, t_test = synthetic(rng)
    directory = write_mnist_dir(tmp_path / "home" / "data", x_train, t_train, x_test, t_test)
    gz = directory / "t10k-labels-idx1-ubyte.gz"
    gz.unlink()
    write_idx(directory / "t10k-labels-idx1-ubyte", t_test)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (_, _), (_, labels) = load_mnist(data_dir="~/data", cache_dir=tmp_path / "cache")
    np.testing.assert_array_equal(labels, t_test)


def test_num_classes(tmp_path, rng):
    x_train, t_train, x_test, t_test = synthetic(rng, num_classes=11)
    t_train[0] = 10
    directory = write_mnist_dir(tmp_path / "d", x_train, t_train, x_test, t_test)
    cache = tmp_path / "cache"
    (_, y_train), _ = load_mnist(
        one_hot_label=True, data_dir=directory, cache_dir=cache, num_classes=11
    )
    assert y_train.shape == (12, 11)
    assert y_train[0, 10] == 1.0
    with pytest.raises(DataError, match="0..9"):
        load_mnist(data_dir=directory, cache_dir=cache)


def test_missing_directory(tmp_path):
    with pytest.raises(DataError, match="does not exist") as info:
        load_mnist(data_dir=tmp_path / "nowhere")
    assert "nowhere" in str(info.value)


def test_data_dir_is_a_file(tmp_path):
    path = tmp_path / "a-file"
    path.write_text("x")
    with pytest.raises(DataError, match="not a directory") as info:
        load_mnist(data_dir=path)
    assert "a-file" in str(info.value)


@pytest.mark.parametrize("missing", sorted(MNIST_NAMES.values()))
def test_missing_file(tmp_path, rng, missing):
    directory = write_mnist_dir(tmp_path / "d", *synthetic(rng))
    (directory / f"{missing}.gz").unlink()
    with pytest.raises(DataError, match="missing") as info:
        load_mnist(data_dir=directory, cache_dir=tmp_path / "cache")
    assert f"missing {missing}" in str(info.value)


@pytest.mark.parametrize("split", ["train", "test"])
def test_count_mismatch(tmp_path, rng, split):
    x_train, t_train, x_test, t_test = synthetic(rng)
    if split == "train":
        t_train = t_train[:-1]
    else:
        x_test = x_test[:-2]
    directory = write_mnist_dir(tmp_path / "d", x_train, t_train, x_test, t_test)
    with pytest.raises(DataError) as info:
        load_mnist(data_dir=directory, cache_dir=tmp_path / "cache")
    message = str(info.value)
    expected = ("12 images", "11 labels") if split == "train" else ("3 images", "5 labels")
    for part in expected:
        assert part in message


@pytest.mark.parametrize("bad_label", [10, 255])
def test_label_out_of_range(tmp_path, rng, bad_label):
    x_train, t_train, x_test, t_test = synthetic(rng)
    t_test[3] = bad_label
    directory = write_mnist_dir(tmp_path / "d", x_train, t_train, x_test, t_test)
    with pytest.raises(DataError, match="0..9") as info:
        load_mnist(data_dir=directory, cache_dir=tmp_path / "cache")
    assert "t10k-labels-idx1-ubyte" in str(info.value)
    assert str(bad_label) in str(info.value)


def test_negative_label(tmp_path, rng):
    x_train, t_train, x_test, t_test = synthetic(rng)
    t_train = t_train.astype(np.int8)
    t_train[0] = -1
    directory = write_mnist_dir(tmp_path / "d", x_train, t_train, x_test, t_test)
    with pytest.raises(DataError, match="train-labels-idx1-ubyte"):
        load_mnist(data_dir=directory, cache_dir=tmp_path / "cache")


@pytest.mark.parametrize("shape", [(12, 30), (12, 1, 6, 5), (12,)], ids=["2d", "4d", "1d"])
def test_images_not_3d(tmp_path, rng, shape):
    x_train, t_train, x_test, t_test = synthetic(rng)
    images = x_train.ravel()[: math.prod(shape)].reshape(shape)
    directory = write_mnist_dir(tmp_path / "d", images, t_train, x_test, t_test)
    with pytest.raises(DataError, match="images") as info:
        load_mnist(data_dir=directory, cache_dir=tmp_path / "cache")
    assert "train-images-idx3-ubyte" in str(info.value)
    assert "(N, rows, cols)" in str(info.value)


def test_labels_not_1d(tmp_path, rng):
    x_train, t_train, x_test, t_test = synthetic(rng)
    directory = write_mnist_dir(tmp_path / "d", x_train, t_train, x_test, t_test.reshape(5, 1))
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte"):
        load_mnist(data_dir=directory, cache_dir=tmp_path / "cache")


def test_truncated_file_in_data_dir(tmp_path, rng):
    directory = write_mnist_dir(tmp_path / "d", *synthetic(rng), compress=False)
    path = directory / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(DataError, match="truncated") as info:
        load_mnist(data_dir=directory, cache_dir=tmp_path / "cache")
    assert isinstance(info.value, IDXFormatError)
    assert "train-images-idx3-ubyte" in str(info.value)


def test_corrupt_gzip_in_data_dir(tmp_path, rng):
    directory = write_mnist_dir(tmp_path / "d", *synthetic(rng))
    path = directory / "train-images-idx3-ubyte.gz"
    raw = bytearray(path.read_bytes())
    raw[12] ^= 0xFF  # inside the first deflate block
    path.write_bytes(bytes(raw))
    with pytest.raises(IDXFormatError):
        read_idx(path)  # the reader itself is fine
    with pytest.raises(DataError, match="train-images-idx3-ubyte"):
        load_mnist(data_dir=directory, cache_dir=tmp_path / "cache")


def test_float_labels_rejected(tmp_path, rng):
    x_train, t_train, x_test, t_test = synthetic(rng)
    directory = write_mnist_dir(tmp_path / "d", x_train, t_train.astype(np.float32), x_test, t_test)
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.*integers"):
        load_mnist(one_hot_label=True, data_dir=directory, cache_dir=tmp_path / "cache")


# ----------------------------------------------------------- one warning, Kaggle's names


def test_an_unwritable_cache_gives_one_warning_for_the_four_files(tmp_path, small_mnist_dir):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    with pytest.warns(RuntimeWarning) as caught:
        (x_train, _), (x_test, _) = load_mnist(data_dir=small_mnist_dir,
                                               cache_dir=not_a_dir / "cache")
    assert len(caught) == 1
    message = str(caught[0].message)
    assert message.startswith(f"cannot write the dataset cache in {not_a_dir / 'cache'} (")
    assert "DVZERO_CACHE_DIR" in message
    assert (x_train.shape, x_test.shape) == ((2000, 784), (500, 784))


@pytest.mark.filterwarnings("default")  # Python's own setting; the suite makes warnings errors
def test_the_cli_prints_an_unwritable_cache_as_one_line(tmp_path, small_mnist_dir, monkeypatch,
                                                        capsys):
    from dvzero.cli import main

    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    monkeypatch.setenv("DVZERO_CACHE_DIR", str(not_a_dir / "cache"))
    code = main(["train", "--data-dir", str(small_mnist_dir), "--steps", "2", "--out",
                 str(tmp_path / "run"), "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 0
    assert err.splitlines() == [
        f"dvzero train: warning: cannot write the dataset cache in {not_a_dir / 'cache'} "
        f"(Not a directory); the data is decoded anew each time, which is slower. Set "
        f"DVZERO_CACHE_DIR to a writable directory."
    ]


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gz"])
def test_kaggle_file_names_are_accepted(tmp_path, mnist_raw, compress):
    x_train, t_train, x_test, t_test = mnist_raw
    directory = write_mnist_dir(tmp_path / "official", x_train[:30], t_train[:30], x_test[:10],
                                t_test[:10], compress=compress)
    kaggle = tmp_path / "kaggle"
    kaggle.mkdir()
    for path in directory.iterdir():  # train-images-idx3-ubyte -> train-images.idx3-ubyte
        (kaggle / path.name.replace("-idx", ".idx")).write_bytes(path.read_bytes())
    assert sorted(p.name for p in kaggle.iterdir())[0] == "t10k-images.idx3-ubyte" + (
        ".gz" if compress else "")
    (kx, kt), (kxt, ktt) = load_mnist(data_dir=kaggle)
    (ox, ot), (oxt, ott) = load_mnist(data_dir=directory)
    for ours, theirs in ((kx, ox), (kt, ot), (kxt, oxt), (ktt, ott)):
        np.testing.assert_array_equal(ours, theirs, strict=True)
    np.testing.assert_array_equal(kx[:, :784].reshape(30, 28, 28) * 255, x_train[:30])


def test_the_missing_file_message_names_both_spellings(tmp_path):
    tmp_path.joinpath("unrelated.txt").write_text("x")
    with pytest.raises(DataError) as info:
        load_mnist(data_dir=tmp_path)
    message = str(info.value)
    assert "train-images-idx3-ubyte" in message and "train-images.idx3-ubyte" in message


@pytest.mark.parametrize("ignore", [False, True], ids=["default", "PYTHONWARNINGS=ignore"])
def test_the_real_command_prints_one_line_and_respects_the_users_filters(tmp_path,
                                                                         small_mnist_dir, ignore):
    import subprocess
    import sys

    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    env = {**os.environ, "DVZERO_CACHE_DIR": str(not_a_dir / "cache")}
    env.pop("PYTHONWARNINGS", None)
    if ignore:
        env["PYTHONWARNINGS"] = "ignore"
    train = subprocess.run(
        [sys.executable, "-m", "dvzero.cli", "train", "--data-dir", str(small_mnist_dir),
         "--steps", "2", "--out", str(tmp_path / "run"), "--no-progress"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert train.returncode == 0, train.stderr
    expected = [] if ignore else [
        f"dvzero train: warning: cannot write the dataset cache in {not_a_dir / 'cache'} "
        f"(Not a directory); the data is decoded anew each time, which is slower. Set "
        f"DVZERO_CACHE_DIR to a writable directory."
    ]
    assert train.stderr.splitlines() == expected


def test_other_packages_warnings_keep_their_form(capsys):
    """dvzero's warnings become one line; others go to the showwarning that was there."""
    import warnings

    from dvzero.cli import _one_line_warnings

    passed_on = []
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, category, *rest: passed_on.append(
            (str(message), category, *rest[:2]))
        with _one_line_warnings("train"):
            warnings.warn_explicit("old API", DeprecationWarning, "/elsewhere/lib.py", 7)
            warnings.warn_explicit("no cache", RuntimeWarning, mnist_mod.__file__, 9)
    assert passed_on == [("old API", DeprecationWarning, "/elsewhere/lib.py", 7)]
    assert capsys.readouterr().err == "dvzero train: warning: no cache\n"
