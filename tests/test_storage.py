"""Parameter files (.npz with header, the seed's .pkl), run records and atomic writes."""

from __future__ import annotations

import builtins
import csv
import gc
import importlib
import io
import json
import math
import os
import pickle
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import warnings
import zipfile
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dvzero
from dvzero._atomic import atomic_write
from dvzero.errors import CheckpointError, DVZeroError, ParamsFileError
from dvzero.networks import DeepVisionZeroNet, load_network
from dvzero.storage import (
    load_checkpoint,
    load_params_file,
    pickles,
    save_checkpoint,
    save_json,
    save_metrics_csv,
    save_params_file,
)
from dvzero.storage.pickles import load_params_pickle
from dvzero.storage.records import read_metrics_csv
from dvzero.storage.safe_npz import HEADER_KEY, load_params_npz, params_sha256, save_params_npz

FLOAT_DTYPES = [np.float32, np.float64]
PARAM_KEYS = ("W1", "b1", "W2", "b2")


def make_params(dtype, sizes=(6, 4, 3), seed=0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_in, n_hidden, n_out = sizes
    return {
        "W1": rng.standard_normal((n_in, n_hidden)).astype(dtype),
        "b1": rng.standard_normal(n_hidden).astype(dtype),
        "W2": rng.standard_normal((n_hidden, n_out)).astype(dtype),
        "b2": rng.standard_normal(n_out).astype(dtype),
    }


def assert_params_identical(actual: dict, expected: dict) -> None:
    assert sorted(actual) == sorted(expected)
    for key, value in expected.items():
        assert type(actual[key]) is np.ndarray, key
        assert actual[key].dtype == value.dtype, key
        assert actual[key].shape == value.shape, key
        np.testing.assert_array_equal(actual[key], value, strict=True)


def raw_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of an .npz, read by NumPy directly (no dvzero, no pickle)."""
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def temp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


# --------------------------------------------------------------------------- malicious pickles


class _Evil:
    """Pickles to a call of ``func(*args)`` at load time."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def evil_payloads(marker: Path) -> dict[str, object]:
    """Objects whose unpickling creates ``marker``, each through a different route."""
    return {
        "os.system": _Evil(os.system, ("touch " + str(marker),)),
        "subprocess": _Evil(subprocess.call, (["touch", str(marker)],)),
        "builtins.eval": _Evil(builtins.eval, (f"open({str(marker)!r}, 'w').close()",)),
        "builtins.exec": _Evil(builtins.exec, (f"open({str(marker)!r}, 'w').close()",)),
    }


EVIL_ROUTES = sorted(evil_payloads(Path("x")))


# --------------------------------------------------------------------------- .npz format


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_npz_round_trip_is_exact(tmp_path, dtype):
    params = make_params(dtype)
    meta = {"network": "DeepVisionZeroNet", "config": {"hidden_size": 4}}
    path = tmp_path / "p.npz"
    save_params_npz(path, params, meta)

    loaded, header = load_params_npz(path)
    assert_params_identical(loaded, params)

    loaded2, header2 = load_params_file(path)
    assert_params_identical(loaded2, params)
    assert header2 == header
    assert temp_files(tmp_path) == []


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_save_params_file_chooses_format_by_suffix(tmp_path, dtype):
    params = make_params(dtype)
    save_params_file(tmp_path / "p.npz", params, {"network": "DeepVisionZeroNet"})
    save_params_file(tmp_path / "p.pkl", params)

    assert (tmp_path / "p.npz").read_bytes()[:4] == b"PK\x03\x04"
    with open(tmp_path / "p.pkl", "rb") as handle:
        assert_params_identical(pickle.load(handle), params)

    npz_params, npz_header = load_params_file(tmp_path / "p.npz")
    pkl_params, pkl_header = load_params_file(tmp_path / "p.pkl")
    assert_params_identical(npz_params, params)
    assert_params_identical(pkl_params, params)
    assert npz_header["network"] == "DeepVisionZeroNet"
    assert pkl_header == {}


def test_load_params_file_detects_format_by_content(tmp_path):
    params = make_params(np.float32)
    save_params_npz(tmp_path / "a.npz", params, {})
    save_params_file(tmp_path / "b.pkl", params)
    (tmp_path / "npz-content.bin").write_bytes((tmp_path / "a.npz").read_bytes())
    (tmp_path / "pkl-content.npz").write_bytes((tmp_path / "b.pkl").read_bytes())

    loaded, header = load_params_file(tmp_path / "npz-content.bin")
    assert_params_identical(loaded, params)
    assert header["format"] == "dvzero-params"
    loaded, header = load_params_file(tmp_path / "pkl-content.npz")
    assert_params_identical(loaded, params)
    assert header == {}


def test_npz_header_contents(tmp_path):
    params = make_params(np.float64)
    config = {"input_size": 6, "hidden_size": 4, "output_size": 3, "activation": "relu"}
    meta = {"network": "DeepVisionZeroNet", "config": config, "dtype": "float64"}
    path = tmp_path / "p.npz"
    save_params_npz(path, params, meta)

    # The header as stored: a JSON string under __dvzero__, readable without dvzero.
    raw = raw_npz(path)
    assert set(raw) == {*PARAM_KEYS, HEADER_KEY}
    stored = json.loads(str(raw[HEADER_KEY]))

    _, header = load_params_npz(path)
    assert header == stored
    assert header["format"] == "dvzero-params"
    assert header["format_version"] == 1
    assert header["dvzero_version"] == dvzero.__version__
    assert header["network"] == "DeepVisionZeroNet"
    assert header["config"] == config
    assert header["dtype"] == "float64"
    assert re.fullmatch(r"[0-9a-f]{64}", header["sha256"])
    assert header["sha256"] == params_sha256(params)


def test_params_sha256_depends_on_values_dtype_and_shape():
    params = make_params(np.float64)
    base = params_sha256(params)
    assert params_sha256(dict(reversed(list(params.items())))) == base

    changed = {**params, "b2": params["b2"].copy()}
    changed["b2"][0] = np.nextafter(changed["b2"][0], np.inf)
    assert params_sha256(changed) != base
    assert params_sha256({**params, "b2": params["b2"].astype(np.float32)}) != base
    assert params_sha256({**params, "b2": params["b2"].reshape(1, -1)}) != base


def test_npz_header_key_is_reserved(tmp_path):
    with pytest.raises(ValueError, match="reserved"):
        save_params_npz(tmp_path / "p.npz", {HEADER_KEY: np.zeros(2)}, {})
    assert not (tmp_path / "p.npz").exists()


def test_npz_loading_never_unpickles(tmp_path, monkeypatch):
    params = make_params(np.float32)
    path = tmp_path / "p.npz"
    save_params_npz(path, params, {"network": "DeepVisionZeroNet"})

    def forbidden(*args, **kwargs):
        raise AssertionError("pickle used while loading an .npz file")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, forbidden)
    loaded, _ = load_params_npz(path)
    assert_params_identical(loaded, params)
    loaded, _ = load_params_file(path)
    assert_params_identical(loaded, params)


@pytest.mark.parametrize("with_header", [False, True], ids=["no-header", "valid-header"])
def test_npz_with_object_array_is_refused(tmp_path, with_header):
    marker = tmp_path / "npz-object-ran"
    params = make_params(np.float64)
    arrays: dict[str, np.ndarray] = dict(params)
    arrays["W1"] = np.array([_Evil(os.system, ("touch " + str(marker),)), 1.0], dtype=object)
    if with_header:
        _, header = _saved_header(tmp_path, params)
        arrays[HEADER_KEY] = np.array(json.dumps(header))
    path = tmp_path / "evil.npz"
    np.savez(path, allow_pickle=True, **arrays)

    with pytest.raises(ParamsFileError):
        load_params_npz(path)
    with pytest.raises(ParamsFileError):
        load_params_file(path)
    with pytest.raises(ParamsFileError):
        load_network(path)
    assert not marker.exists()


def _saved_header(tmp_path: Path, params: dict) -> tuple[Path, dict]:
    path = tmp_path / "good.npz"
    save_params_npz(path, params, {"network": "DeepVisionZeroNet"})
    return path, json.loads(str(raw_npz(path)[HEADER_KEY]))


def test_npz_tampered_array_is_detected(tmp_path):
    params = make_params(np.float32)
    good, header = _saved_header(tmp_path, params)
    raw = raw_npz(good)
    raw["W1"] = raw["W1"].copy()
    raw["W1"][0, 0] += 1.0  # the array changes, the header (and its sha256) stays
    tampered = tmp_path / "tampered.npz"
    np.savez(tampered, **raw)
    assert json.loads(str(raw_npz(tampered)[HEADER_KEY]))["sha256"] == header["sha256"]

    with pytest.raises(ParamsFileError, match="corrupt"):
        load_params_npz(tampered)
    with pytest.raises(ParamsFileError, match="corrupt"):
        load_params_file(tampered)


def test_npz_wrong_sha256_in_header_is_detected(tmp_path):
    params = make_params(np.float64)
    good, header = _saved_header(tmp_path, params)
    raw = raw_npz(good)
    raw[HEADER_KEY] = np.array(json.dumps({**header, "sha256": "0" * 64}))
    path = tmp_path / "bad-sum.npz"
    np.savez(path, **raw)
    with pytest.raises(ParamsFileError, match="corrupt"):
        load_params_file(path)


def test_npz_newer_format_version_is_refused(tmp_path):
    params = make_params(np.float64)
    good, header = _saved_header(tmp_path, params)
    raw = raw_npz(good)
    raw[HEADER_KEY] = np.array(json.dumps({**header, "format_version": 2}))
    path = tmp_path / "future.npz"
    np.savez(path, **raw)
    with pytest.raises(ParamsFileError, match="newer"):
        load_params_file(path)


@pytest.mark.parametrize(
    "header_text",
    ["{not json", json.dumps({"format": "something-else", "format_version": 1})],
    ids=["not-json", "unknown-format"],
)
def test_npz_bad_header_is_refused(tmp_path, header_text):
    raw = make_params(np.float64)
    path = tmp_path / "bad-header.npz"
    np.savez(path, **raw, **{HEADER_KEY: np.array(header_text)})
    with pytest.raises(ParamsFileError):
        load_params_file(path)


@pytest.mark.parametrize("keep", [0.5, 0.9, 30 / 1000, 4 / 1000])
def test_truncated_npz_is_refused(tmp_path, keep):
    good, _ = _saved_header(tmp_path, make_params(np.float64))
    data = good.read_bytes()
    path = tmp_path / "truncated.npz"
    path.write_bytes(data[: max(4, int(len(data) * keep))])
    with pytest.raises(ParamsFileError):
        load_params_npz(path)
    with pytest.raises(ParamsFileError):
        load_params_file(path)


def test_truncated_npz_leaves_no_file_open(tmp_path):
    good, _ = _saved_header(tmp_path, make_params(np.float64))
    path = tmp_path / "truncated.npz"
    path.write_bytes(good.read_bytes()[:100])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ParamsFileError):
            load_params_file(path)
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_params_file_errors_are_dvzero_errors():
    assert issubclass(ParamsFileError, DVZeroError)
    assert issubclass(ParamsFileError, ValueError)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_params_file(tmp_path / "nope.npz")
    with pytest.raises(ParamsFileError, match="directory"):
        load_params_file(tmp_path)


# --------------------------------------------------------------------------- .pkl format


def test_save_params_default_name_is_the_seeds_plain_pickle(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    network = DeepVisionZeroNet(784, 50, 10, rng=1)
    network.save_params()

    path = tmp_path / "params_two_layer.pkl"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params_two_layer.pkl"]
    data = path.read_bytes()
    assert b"dvzero" not in data  # loadable without dvzero installed
    with open(path, "rb") as handle:
        loaded = pickle.load(handle)  # the standard, unrestricted loader of the seed
    assert type(loaded) is dict
    assert list(loaded) == list(PARAM_KEYS)
    assert_params_identical(loaded, network.params)
    assert loaded["W1"].dtype == np.float64  # the seed's default dtype


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_plain_pickle_of_any_protocol_loads(tmp_path, protocol, dtype):
    params = make_params(dtype)
    params["W2"] = np.asfortranarray(params["W2"])  # non-C-ordered arrays too
    path = tmp_path / "seed.pkl"
    with open(path, "wb") as handle:
        pickle.dump(params, handle, protocol=protocol)

    loaded, header = load_params_file(path)
    assert header == {}
    assert_params_identical(loaded, params)
    assert_params_identical(load_params_pickle(path), params)


@pytest.mark.parametrize("protocol", [0, 1, 2])
def test_plain_pickle_of_empty_array_loads_with_old_protocols(tmp_path, protocol):
    params = {"W1": np.zeros((0, 3)), "b1": np.ones(3)}
    path = tmp_path / "empty.pkl"
    with open(path, "wb") as handle:
        pickle.dump(params, handle, protocol=protocol)
    loaded, _ = load_params_file(path)
    assert_params_identical(loaded, params)


def test_seed_pickle_loads_into_network_and_back(tmp_path):
    """The seed's files work in dvzero, and dvzero's .pkl files work in the seed."""
    seed_params = make_params(np.float64, sizes=(784, 50, 10), seed=3)
    seed_file = tmp_path / "seed_params.pkl"
    with open(seed_file, "wb") as handle:  # the seed's save_params
        pickle.dump(seed_params, handle)

    network = DeepVisionZeroNet(784, 50, 10)
    network.load_params(seed_file)
    assert_params_identical(network.params, seed_params)

    ours = tmp_path / "ours.pkl"
    network.save_params(ours)
    with open(ours, "rb") as handle:  # the seed's load_params
        assert_params_identical(pickle.load(handle), seed_params)


@pytest.mark.parametrize("route", EVIL_ROUTES)
def test_malicious_pickle_is_refused_and_never_runs(tmp_path, route):
    # The payload is live: plain pickle really runs it.
    control = tmp_path / "control-marker"
    pickle.loads(pickle.dumps(evil_payloads(control)[route]))
    assert control.exists()

    marker = tmp_path / "marker"
    cases = {
        "alone": evil_payloads(marker)[route],
        "inside-params": {**make_params(np.float64), "b2": evil_payloads(marker)[route]},
    }
    for name, obj in cases.items():
        for protocol in (0, 2, pickle.HIGHEST_PROTOCOL):
            path = tmp_path / f"evil-{name}-{protocol}.pkl"
            path.write_bytes(pickle.dumps(obj, protocol=protocol))
            with pytest.raises(ParamsFileError, match="refusing"):
                load_params_file(path)
            with pytest.raises(ParamsFileError, match="refusing"):
                load_params_pickle(path)
            with pytest.raises(ParamsFileError):
                DeepVisionZeroNet(6, 4, 3).load_params(path)
            with pytest.raises(ParamsFileError):
                load_network(path)
            assert not marker.exists(), f"{route} ran from {path.name}"


def test_pickle_persistent_ids_are_refused(tmp_path):
    class PersistentPickler(pickle.Pickler):
        def persistent_id(self, obj):
            return "ref" if isinstance(obj, np.ndarray) else None

    buffer = io.BytesIO()
    PersistentPickler(buffer).dump({"W1": np.zeros(2)})
    path = tmp_path / "persistent.pkl"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ParamsFileError, match="persistent"):
        load_params_file(path)


@pytest.mark.parametrize(
    "obj",
    [
        [np.zeros(2), np.ones(2)],
        np.zeros((2, 2)),
        "W1",
        {"W1": [1.0, 2.0]},
        {"W1": 1.5},
        {"W1": np.zeros(2), "b1": None},
        {"W1": np.float64(1.0)},
        {"W1": np.array([1.0, "a"], dtype=object)},
        {"W1": np.array(["a", "b"])},
        {"W1": np.array([1 + 2j])},
        {1: np.zeros(2)},
    ],
    ids=[
        "list",
        "bare-array",
        "str",
        "list-value",
        "float-value",
        "none-value",
        "numpy-scalar-value",
        "object-array",
        "string-array",
        "complex-array",
        "non-str-key",
    ],
)
def test_pickle_of_wrong_content_is_refused(tmp_path, obj):
    path = tmp_path / "wrong.pkl"
    path.write_bytes(pickle.dumps(obj))
    with pytest.raises(ParamsFileError):
        load_params_file(path)


@pytest.mark.parametrize("keep", [0.0, 0.1, 0.5, 0.99])
def test_truncated_pickle_is_refused(tmp_path, keep):
    data = pickle.dumps(make_params(np.float64))
    path = tmp_path / "truncated.pkl"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ParamsFileError):
        load_params_file(path)


def test_garbage_file_is_refused(tmp_path):
    path = tmp_path / "garbage.pkl"
    path.write_bytes(b"this is not a parameter file\n" * 10)
    with pytest.raises(ParamsFileError):
        load_params_file(path)


# --------------------------------------------------------------------------- networks


@pytest.mark.parametrize("suffix", [".npz", ".pkl"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_network_save_load_round_trip(tmp_path, suffix, dtype):
    source = DeepVisionZeroNet(12, 7, 3, dtype=dtype, rng=5)
    source.params["b1"][:] = np.arange(7)  # non-zero biases too
    path = tmp_path / f"params{suffix}"
    source.save_params(path)

    target = DeepVisionZeroNet(12, 7, 3, dtype=dtype, rng=6)
    target.load_params(path)
    assert_params_identical(target.params, source.params)
    x = np.random.default_rng(0).random((5, 12)).astype(dtype)
    np.testing.assert_array_equal(target.predict(x), source.predict(x))


def test_load_params_casts_to_the_networks_dtype(tmp_path):
    source = DeepVisionZeroNet(12, 7, 3, dtype=np.float32, rng=5)
    source.save_params(tmp_path / "p.npz")
    target = DeepVisionZeroNet(12, 7, 3, dtype=np.float64)
    target.load_params(tmp_path / "p.npz")
    for key in PARAM_KEYS:
        assert target.params[key].dtype == np.float64
        np.testing.assert_array_equal(target.params[key], source.params[key].astype(np.float64))


@pytest.mark.parametrize(
    ("activation", "dtype", "std"),
    [("relu", np.float64, 0.5), ("sigmoid", np.float32, 0.01)],
)
def test_load_network_from_npz_uses_the_header(tmp_path, activation, dtype, std):
    source = DeepVisionZeroNet(
        12, 7, 3, weight_init_std=std, activation=activation, dtype=dtype, rng=2
    )
    path = tmp_path / "p.npz"
    source.save_params(path)

    network = load_network(path)
    assert isinstance(network, DeepVisionZeroNet)
    assert network.config() == source.config()
    assert (network.input_size, network.hidden_size, network.output_size) == (12, 7, 3)
    assert network.activation == activation
    assert network.dtype == np.dtype(dtype)
    assert network.weight_init_std == std
    assert_params_identical(network.params, source.params)
    x = np.random.default_rng(1).standard_normal((4, 12)).astype(dtype)
    np.testing.assert_array_equal(network.predict(x), source.predict(x))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_load_network_from_pkl_infers_sizes(tmp_path, dtype):
    params = make_params(dtype, sizes=(20, 9, 4))
    path = tmp_path / "seed.pkl"
    with open(path, "wb") as handle:
        pickle.dump(params, handle)

    network = load_network(path)
    assert (network.input_size, network.hidden_size, network.output_size) == (20, 9, 4)
    assert network.activation == "sigmoid"
    assert network.dtype == np.dtype(dtype)
    assert_params_identical(network.params, params)


def test_load_network_from_pkl_without_w1_is_refused(tmp_path):
    path = tmp_path / "seed.pkl"
    path.write_bytes(pickle.dumps({"b1": np.zeros(3)}))
    with pytest.raises(ParamsFileError, match="W1"):
        load_network(path)


def test_load_network_of_unknown_class_is_refused(tmp_path):
    params = make_params(np.float64)
    path = tmp_path / "p.npz"
    save_params_npz(path, params, {"network": "os.system", "config": {}})
    with pytest.raises(ParamsFileError, match="unknown network"):
        load_network(path)


def test_shape_mismatch_names_parameter_and_shapes(tmp_path):
    DeepVisionZeroNet(784, 100, 10, rng=0).save_params(tmp_path / "wide.npz")
    DeepVisionZeroNet(784, 100, 10, rng=0).save_params(tmp_path / "wide.pkl")
    for name in ("wide.npz", "wide.pkl"):
        network = DeepVisionZeroNet(784, 50, 10, rng=0)
        before = {key: value.copy() for key, value in network.params.items()}
        with pytest.raises(ParamsFileError) as info:
            network.load_params(tmp_path / name)
        message = str(info.value)
        assert "W1: file has (784, 100), network expects (784, 50)" in message
        assert "b1: file has (100,), network expects (50,)" in message
        assert "W2: file has (100, 10), network expects (50, 10)" in message
        assert "b2" not in message
        assert_params_identical(network.params, before)  # nothing half-loaded


def test_missing_and_extra_keys_are_named(tmp_path):
    params = make_params(np.float64)
    del params["b2"]
    params["W3"] = np.zeros(2)
    path = tmp_path / "odd.pkl"
    path.write_bytes(pickle.dumps(params))
    with pytest.raises(ParamsFileError) as info:
        DeepVisionZeroNet(6, 4, 3).load_params(path)
    assert "missing b2" in str(info.value)
    assert "unexpected W3" in str(info.value)

    save_params_npz(tmp_path / "odd.npz", {"W1": params["W1"]}, {})
    with pytest.raises(ParamsFileError, match="missing b1, W2, b2"):
        DeepVisionZeroNet(6, 4, 3).load_params(tmp_path / "odd.npz")


# --------------------------------------------------------------------------- run records


def test_save_json_cleans_values(tmp_path):
    path = tmp_path / "summary.json"
    data = {
        "nan": float("nan"),
        "inf": float("inf"),
        "ninf": -math.inf,
        "np_nan": np.float32("nan"),
        "np64_inf": np.float64("inf"),
        "f32": np.float32(0.5),
        "f64": np.float64(0.25),
        "i64": np.int64(7),
        "u8": np.uint8(255),
        "flag": np.bool_(True),
        "nested": {"list": [1.0, float("nan"), np.int32(3)], "tuple": (np.float16(2.0), None)},
        "text": "tëst",
    }
    save_json(path, data)
    text = path.read_text(encoding="utf-8")

    def refuse_constant(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    loaded = json.loads(text, parse_constant=refuse_constant)
    assert loaded == {
        "nan": None,
        "inf": None,
        "ninf": None,
        "np_nan": None,
        "np64_inf": None,
        "f32": 0.5,
        "f64": 0.25,
        "i64": 7,
        "u8": 255,
        "flag": True,
        "nested": {"list": [1.0, None, 3], "tuple": [2.0, None]},
        "text": "tëst",
    }
    assert type(loaded["i64"]) is int
    assert text.endswith("\n")
    assert temp_files(tmp_path) == []


def test_metrics_csv_round_trip(tmp_path):
    rng = np.random.default_rng(4)
    losses = [float(v) for v in rng.random(10) * 3] + [np.float32(0.1), 1e-300]
    epoch_steps = [0, 5, 10]
    train_acc = [0.1, 1 / 3, 0.9125]
    test_acc = [0.098, 2 / 3, 0.86]
    path = tmp_path / "metrics.csv"
    save_metrics_csv(path, losses, epoch_steps, train_acc, test_acc)

    history = read_metrics_csv(path)
    assert history == {
        "train_loss_list": [float(v) for v in losses],
        "epoch_steps": epoch_steps,
        "train_acc_list": train_acc,
        "test_acc_list": test_acc,
    }
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["step", "loss", "epoch", "train_acc", "test_acc"]
    assert len(rows) == 1 + len(losses)
    assert [row[0] for row in rows[1:]] == [str(i) for i in range(len(losses))]
    assert rows[1 + 5][2] == "1"
    assert rows[1 + 4][2:] == ["", "", ""]


def test_metrics_csv_of_a_training_that_left_the_test_set_unmeasured(tmp_path):
    save_metrics_csv(tmp_path / "m.csv", [2.3, 2.1, 1.9], [0, 2], [0.1, 0.4], [])
    assert (tmp_path / "m.csv").read_text(encoding="utf-8").splitlines() == [
        "step,loss,epoch,train_acc,test_acc", "0,2.3,0,0.1,", "1,2.1,,,", "2,1.9,1,0.4,"]
    assert read_metrics_csv(tmp_path / "m.csv") == {
        "train_loss_list": [2.3, 2.1, 1.9], "epoch_steps": [0, 2], "train_acc_list": [0.1, 0.4],
        "test_acc_list": []}


def test_metrics_csv_of_empty_history(tmp_path):
    save_metrics_csv(tmp_path / "m.csv", [], [], [], [])
    assert read_metrics_csv(tmp_path / "m.csv") == {
        "train_loss_list": [],
        "epoch_steps": [],
        "train_acc_list": [],
        "test_acc_list": [],
    }


# --------------------------------------------------------------------------- atomic writes


def test_atomic_write_replaces_content(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("old")
    with atomic_write(target, "w", encoding="utf-8") as handle:
        handle.write("new content")
        assert target.read_text() == "old"  # not visible before the block ends
    assert target.read_text() == "new content"
    assert temp_files(tmp_path) == []

    with atomic_write(tmp_path / "fresh.bin") as handle:
        handle.write(b"\x00\x01")
    assert (tmp_path / "fresh.bin").read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt", "fresh.bin"]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_atomic_write_keeps_old_content_on_error(tmp_path, error):
    target = tmp_path / "file.bin"
    target.write_bytes(b"old content")
    with pytest.raises(error):
        with atomic_write(target, "wb") as handle:
            handle.write(b"partial new content" * 1000)
            handle.flush()
            raise error("boom")
    assert target.read_bytes() == b"old content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.bin"]


def test_atomic_write_error_creates_nothing(tmp_path):
    with pytest.raises(ValueError):
        with atomic_write(tmp_path / "new.json", "w") as handle:
            json.dump({"x": float("nan")}, handle, allow_nan=False)
    assert list(tmp_path.iterdir()) == []


def test_failed_save_keeps_previous_params(tmp_path):
    path = tmp_path / "params.npz"
    params = make_params(np.float64)
    save_params_npz(path, params, {})
    before = path.read_bytes()
    with pytest.raises(ValueError):
        save_params_npz(path, {**params, HEADER_KEY: np.zeros(1)}, {})
    with pytest.raises(TypeError):
        save_json(path, {"not serializable": object()})
    assert path.read_bytes() == before
    assert temp_files(tmp_path) == []


def test_atomic_write_rejects_other_modes(tmp_path):
    for mode in ("a", "r+", "ab", "x"):
        with pytest.raises(ValueError, match="mode"):
            with atomic_write(tmp_path / "f", mode):
                pass
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_gives_files_the_usual_permissions(tmp_path):
    previous = os.umask(0o022)
    try:
        reference = tmp_path / "plain"
        reference.write_bytes(b"x")  # what open() gives: 0o644
        DeepVisionZeroNet(4, 3, 2).save_params(tmp_path / "params.pkl")
        save_json(tmp_path / "summary.json", {"a": 1})
    finally:
        os.umask(previous)
    assert stat.S_IMODE(reference.stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "params.pkl").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "summary.json").stat().st_mode) == 0o644


KILL_SCRIPT = """
import sys, time
from dvzero._atomic import atomic_write

chunk = b"N" * 65536
with atomic_write(sys.argv[1], "wb") as handle:
    for i in range(100000):
        handle.write(chunk)
        handle.flush()
        if i == 20:
            print("writing", flush=True)
        time.sleep(0.002)
print("finished", flush=True)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_atomic_write_survives_sigkill(tmp_path):
    target = tmp_path / "params.pkl"
    old = b"old content that must survive\n" * 100
    target.write_bytes(old)

    process = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(target)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        line = process.stdout.readline()
        assert line == b"writing\n", process.stderr.read()
        # Mid-way: the new content is partly on disk, in the temporary file only.
        partial = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        assert len(partial) == 1
        assert partial[0].stat().st_size >= 21 * 65536
        assert target.read_bytes() == old
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()

    assert process.returncode == -signal.SIGKILL
    assert target.read_bytes() == old


# --------------------------------------------------------------------------- checkpoints


def _trainer_state():
    generator = np.random.default_rng(3)
    generator.integers(0, 10, size=5)
    return {
        "next_step": 3,
        "initial_loss": 2.302585092994046,
        "rng": {"generator": generator.bit_generator.state},
        "history": {
            "train_loss_list": [2.1, 1.0000000000000002, 0.1 + 0.2],
            "train_acc_list": [0.1],
            "test_acc_list": [0.0975],
            "epoch_steps": [0],
        },
        "optimizer": {"velocity/W1": np.arange(3.0)},
    }


def test_checkpoint_round_trip_is_exact(tmp_path):
    params = make_params(np.float32)
    state = _trainer_state()
    meta = {"run": {"lr": 0.1, "seed": 7}, "elapsed_seconds": 1.5}
    save_checkpoint(tmp_path / "c.npz", params, state, meta)
    loaded_params, loaded_state, loaded_meta = load_checkpoint(tmp_path / "c.npz")
    assert_params_identical(loaded_params, params)
    assert loaded_state["history"] == state["history"]  # floats exactly, not approximately
    assert loaded_state["rng"] == state["rng"]  # 128-bit integers survive JSON
    assert loaded_state["initial_loss"] == state["initial_loss"]
    assert loaded_state["next_step"] == 3
    np.testing.assert_array_equal(loaded_state["optimizer"]["velocity/W1"], np.arange(3.0))
    assert loaded_meta["run"] == {"lr": 0.1, "seed": 7}
    restored = np.random.default_rng()
    restored.bit_generator.state = loaded_state["rng"]["generator"]
    generator = np.random.default_rng(3)
    generator.integers(0, 10, size=5)
    assert restored.integers(0, 2**62) == generator.integers(0, 2**62)


def test_checkpoint_refuses_other_files_and_damage(tmp_path):
    save_params_npz(tmp_path / "params.npz", make_params(np.float64), {})
    with pytest.raises(CheckpointError, match="expected a dvzero-checkpoint file"):
        load_checkpoint(tmp_path / "params.npz")
    np.savez(tmp_path / "plain.npz", W1=np.zeros(2))
    with pytest.raises(CheckpointError, match="no header"):
        load_checkpoint(tmp_path / "plain.npz")
    path = tmp_path / "c.npz"
    save_checkpoint(path, make_params(np.float64), _trainer_state(), {})
    data = bytearray(path.read_bytes())
    data[200] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="c.npz"):
        load_checkpoint(path)


def test_npz_readers_refuse_files_that_are_not_archives_or_have_bad_headers(tmp_path):
    np.save(tmp_path / "array.npy", np.zeros(3))
    with pytest.raises(CheckpointError, match="not a .npz file"):
        load_checkpoint(tmp_path / "array.npy")
    with pytest.raises(ParamsFileError, match="not a .npz file"):
        load_params_npz(tmp_path / "array.npy")

    header = {"format": "dvzero-params", "format_version": "2"}
    np.savez(tmp_path / "v.npz", W1=np.zeros(2), __dvzero__=np.array(json.dumps(header)))
    with pytest.raises(ParamsFileError, match="format_version is '2', not a number"):
        load_params_file(tmp_path / "v.npz")

    arrays = {"W1": np.zeros((2, 2))}
    header = {"format": "dvzero-params", "format_version": 1, "network": "DeepVisionZeroNet",
              "config": 5}
    np.savez(tmp_path / "c.npz", **arrays, __dvzero__=np.array(json.dumps(header)))
    with pytest.raises(ParamsFileError, match="carries no checksum"):
        load_network(tmp_path / "c.npz")
    header["sha256"] = params_sha256(arrays)
    np.savez(tmp_path / "c.npz", **arrays, __dvzero__=np.array(json.dumps(header)))
    with pytest.raises(ParamsFileError, match="bad network configuration"):
        load_network(tmp_path / "c.npz")

    np.savez(tmp_path / "raw.npz", W1=np.zeros(2))
    with zipfile.ZipFile(tmp_path / "raw.npz", "a") as archive:
        archive.writestr("notes.txt", b"not an array")
    with pytest.raises(ParamsFileError, match="member 'notes.txt' is not a NumPy array"):
        load_params_file(tmp_path / "raw.npz")


def test_checkpoint_without_the_runs_settings_is_refused_by_resume(tmp_path, capsys):
    from dvzero.cli import main

    run = tmp_path / "run"
    run.mkdir()
    save_checkpoint(run / "checkpoint.npz", make_params(np.float32), _trainer_state(), {})
    assert main(["train", "--resume", str(run)]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "settings are missing" in err


# ------------------------------------------------------------ pickles that abuse NumPy itself


class _CallsNdarray:
    """``numpy.ndarray(shape, dtype, buffer, offset, strides)``: a zero-stride giant."""

    def __reduce__(self):
        return (np.ndarray, ((784, 10**9), np.dtype("f4"), b"\0\0\0\0", 0, (0, 0)))


class _ObjectArray:
    """An object array whose element "pointer" is 8 bytes chosen by the file."""

    def __reduce__(self):
        return (np.ndarray, ((1,), np.dtype("O"), b"AAAAAAAA"))


class _ReconstructWithArrayShape:
    def __reduce__(self):
        try:
            from numpy._core import multiarray
        except ImportError:  # NumPy 1.x
            from numpy.core import multiarray

        return (multiarray._reconstruct, (np.ndarray, _ObjectArray(), b"b"))


class _EncodeWithCodec:
    def __reduce__(self):
        import _codecs

        return (_codecs.encode, (b"x" * 16, "zlib_codec"))


@pytest.mark.parametrize(
    "payload, message",
    [
        (_CallsNdarray(), "not callable"),
        (_ObjectArray(), "dtype 'O8'"),
        (_ReconstructWithArrayShape(), "dtype 'O8'"),
        (_EncodeWithCodec(), "codecs.encode"),
    ],
    ids=["ndarray-call", "object-array", "reconstruct-shape", "codec"],
)
@pytest.mark.parametrize("protocol", [2, 4])
def test_pickles_abusing_numpy_constructors_are_refused(tmp_path, payload, message, protocol):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"W1": payload}, protocol=protocol))
    with pytest.raises(ParamsFileError, match=message):
        load_params_file(path)


class _ForgedDtype:
    """float32 whose state flags claim it holds object references (NumPy would follow them)."""

    def __reduce__(self):
        return (np.dtype, ("f4", False, True), (3, "<", None, None, None, -1, -1, 63))


@pytest.mark.parametrize("protocol", [2, 5])
def test_forged_dtype_states_are_refused(tmp_path, protocol):
    path = tmp_path / "forged.pkl"
    path.write_bytes(pickle.dumps({"W1": _ForgedDtype()}, protocol=protocol))
    with pytest.raises(ParamsFileError, match="unusual dtype state"):
        load_params_file(path)


def test_a_pickle_cannot_make_the_memo_huge(tmp_path):
    path = tmp_path / "memo.pkl"
    # PROTO 2, EMPTY_DICT, LONG_BINPUT 2**26, STOP: 9 bytes asking for a 64M-entry memo.
    path.write_bytes(b"\x80\x02}r\x00\x00\x00\x04.")
    with pytest.raises(ParamsFileError, match="memo index 67108864"):
        load_params_file(path)


def test_object_building_opcodes_are_refused_before_anything_runs(tmp_path):
    path = tmp_path / "obj.pkl"
    # PROTO 2, EMPTY_TUPLE, EMPTY_TUPLE, NEWOBJ, STOP: the scan refuses NEWOBJ unexecuted.
    path.write_bytes(b"\x80\x02))\x81.")
    with pytest.raises(ParamsFileError, match="opcode NEWOBJ"):
        load_params_file(path)


# ------------------------------------------------------ the restricted unpickler's allow-list

#: Every global a parameter pickle may import: NumPy's array machinery (as NumPy 2 and 1 name
#: it), and codecs.encode and bytes() for protocols 0-2. One name more can be a way out.
ALLOWED_PICKLE_GLOBALS = {
    ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.numeric", "_frombuffer"), ("numpy.core.numeric", "_frombuffer"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
    ("builtins", "bytes"), ("__builtin__", "bytes"),
}


def names_in(module_name: str, *fallbacks: str) -> list[str]:
    """The names a module defines (``[]`` if it is not there, as posix on Windows)."""
    for name in (module_name, *fallbacks):
        try:
            return dir(importlib.import_module(name))
        except ImportError:
            continue
    return []


def test_the_unpicklers_allow_list_is_exactly_numpys_array_machinery():
    """The restricted unpickler admits exactly ALLOWED_PICKLE_GLOBALS, each as a guard."""
    assert set(pickles._ALLOWED_GLOBALS) == ALLOWED_PICKLE_GLOBALS
    unpickler = pickles.RestrictedUnpickler(io.BytesIO(b""))
    for module, name in sorted(ALLOWED_PICKLE_GLOBALS):
        # never the real builtin or NumPy object, only a stand-in that checks its arguments
        assert unpickler.find_class(module, name).__module__ == pickles.__name__, (module, name)


def test_every_other_global_of_the_usual_gadget_modules_is_refused():
    """find_class refuses every name but the allowed ones, in every module an exploit uses."""
    modules = {
        "builtins": names_in("builtins"), "__builtin__": names_in("builtins"),
        "operator": names_in("operator"), "functools": names_in("functools"),
        "copyreg": names_in("copyreg"), "os": names_in("os"), "posix": names_in("posix"),
        "nt": names_in("nt"), "subprocess": names_in("subprocess"), "sys": names_in("sys"),
        "pickle": names_in("pickle"), "codecs": names_in("codecs"), "_codecs": names_in("_codecs"),
        "io": names_in("io"), "importlib": names_in("importlib"), "types": names_in("types"),
        "runpy": names_in("runpy"), "shutil": names_in("shutil"), "numpy": names_in("numpy"),
        "numpy.lib.format": names_in("numpy.lib.format"),
    }
    for prefix in ("numpy._core", "numpy.core"):
        for part in ("multiarray", "numeric"):
            modules[f"{prefix}.{part}"] = names_in(f"numpy._core.{part}", f"numpy.core.{part}")
    unpickler = pickles.RestrictedUnpickler(io.BytesIO(b""))
    checked = 0
    for module, names in modules.items():
        for name in names:
            if (module, name) in ALLOWED_PICKLE_GLOBALS:
                continue
            with pytest.raises(ParamsFileError, match=f"refusing to load {re.escape(module)}"):
                unpickler.find_class(module, name)
            checked += 1
    assert checked > 2000
    assert "getattr" in modules["builtins"] and "attrgetter" in modules["operator"]


def _text(value: str) -> bytes:
    data = value.encode()
    return pickle.BINUNICODE + len(data).to_bytes(4, "little") + data


def hand_built_pickle(imports: list[tuple[str, str]], program, *, stack_global: bool) -> bytes:
    """A pickle assembled opcode by opcode: each global of ``imports`` is imported in order
    (GLOBAL, or STACK_GLOBAL from two strings) and kept in memo slot 0, 1, ...; then
    ``program`` is built, where an int is that memo slot, a str a string, a list a list and
    a tuple ``(f, *args)`` the call ``f(*args)`` (f, MARK, args, TUPLE, REDUCE)."""
    out = [pickle.PROTO + bytes([4 if stack_global else 2])]
    for slot, (module, name) in enumerate(imports):
        if stack_global:
            out += [_text(module), _text(name), pickle.STACK_GLOBAL]
        else:
            out.append(pickle.GLOBAL + f"{module}\n{name}\n".encode())
        out += [pickle.BINPUT + bytes([slot]), pickle.POP]

    def emit(node) -> None:
        if isinstance(node, int):
            out.append(pickle.BINGET + bytes([node]))
        elif isinstance(node, str):
            out.append(_text(node))
        else:
            head, items, closer = ((node[0], node[1:], pickle.TUPLE) if isinstance(node, tuple)
                                   else (None, node, pickle.LIST))
            if head is not None:
                emit(head)
            out.append(pickle.MARK)
            for item in items:
                emit(item)
            out.append(closer)
            if head is not None:
                out.append(pickle.REDUCE)

    emit(program)
    out.append(pickle.STOP)
    return b"".join(out)


def gadget_payloads(marker: Path) -> dict[str, tuple[list[tuple[str, str]], object]]:
    """For each gadget, ``(imports, program)`` of a pickle that creates ``marker`` through it;
    the gadget is always the first import, so it is the name a refusal must give."""
    touch = f"touch {shlex.quote(str(marker))}"
    create = f"open({str(marker)!r}, 'w').close()"
    return {
        # getattr(__import__("os"), "system")(touch)
        "builtins.getattr": ([("builtins", "getattr"), ("builtins", "__import__")],
                             ((0, (1, "os"), "system"), touch)),
        "builtins.__import__": ([("builtins", "__import__"), ("builtins", "getattr")],
                                ((1, (0, "os"), "system"), touch)),
        # attrgetter("system")(__import__("os"))(touch)
        "operator.attrgetter": ([("operator", "attrgetter"), ("builtins", "__import__")],
                                (((0, "system"), (1, "os")), touch)),
        # partial(os.system, touch)()
        "functools.partial": ([("functools", "partial"), ("os", "system")], ((0, 1, touch),)),
        # _reconstructor(Popen, Popen, ["touch", marker]) runs Popen.__init__
        "copyreg._reconstructor": ([("copyreg", "_reconstructor"), ("subprocess", "Popen")],
                                   (0, 1, 1, ["touch", str(marker)])),
        "builtins.eval": ([("builtins", "eval")], (0, create)),
        "builtins.exec": ([("builtins", "exec")], (0, create)),
        "builtins.open": ([("builtins", "open")], (0, str(marker), "w")),
        "os.system": ([("os", "system")], (0, touch)),
        "posix.system": ([("posix", "system")], (0, touch)),  # how pickle names os.system
        "subprocess.Popen": ([("subprocess", "Popen")], (0, ["touch", str(marker)])),
    }


def finish(result) -> None:
    """Let what a live payload returned finish its work: a process ends, a file closes."""
    for method in ("wait", "close"):
        if callable(getattr(result, method, None)):
            getattr(result, method)()


@pytest.mark.skipif(os.name != "posix" or shutil.which("touch") is None,
                    reason="the payloads use posix and touch")
@pytest.mark.parametrize("stack_global", [False, True], ids=["GLOBAL", "STACK_GLOBAL"])
@pytest.mark.parametrize("gadget", sorted(gadget_payloads(Path("x"))))
def test_hand_built_gadget_pickles_are_refused_and_never_run(tmp_path, gadget, stack_global):
    """Raw-opcode pickles importing a gadget are refused, naming it, and run nothing."""
    # The payload is live: plain pickle really creates the marker.
    control = tmp_path / "control-marker"
    finish(pickle.loads(hand_built_pickle(*gadget_payloads(control)[gadget],
                                          stack_global=stack_global)))
    assert control.exists()

    marker = tmp_path / "marker"
    data = hand_built_pickle(*gadget_payloads(marker)[gadget], stack_global=stack_global)
    path = tmp_path / "gadget.pkl"
    path.write_bytes(data)
    refused = rf"refusing .*\b{re.escape(gadget)}\b.*it may be malicious"
    with pytest.raises(ParamsFileError, match=refused):
        load_params_pickle(path)
    with pytest.raises(ParamsFileError, match=refused):
        load_params_file(path)
    with pytest.raises(ParamsFileError, match=refused):  # the unpickler alone, without the scan
        pickles.RestrictedUnpickler(io.BytesIO(data)).load()
    assert not marker.exists(), f"{gadget} ran"


@pytest.mark.skipif(os.name != "posix" or shutil.which("touch") is None,
                    reason="the payload uses touch")
def test_getattr_would_reach_os_system_from_the_allowed_globals_so_it_is_refused(
        tmp_path, monkeypatch):
    """builtins.getattr plus the allowed globals alone is a way to os.system: never admitted."""
    def payload(marker: Path) -> bytes:
        # getattr(getattr(getattr(globals, "get")("__builtins__"), "get")("__import__")("os"),
        #         "system")(touch), where globals = getattr(<the codecs.encode guard>,
        # "__globals__"): every other global is on the allow-list.
        module_globals = (0, 1, "__globals__")
        builtins_dict = ((0, module_globals, "get"), "__builtins__")
        os_module = (((0, builtins_dict, "get"), "__import__"), "os")
        program = ((0, os_module, "system"), f"touch {shlex.quote(str(marker))}")
        return hand_built_pickle([("builtins", "getattr"), ("_codecs", "encode")], program,
                                 stack_global=False)

    # Live: with getattr admitted, loading the file runs the command (then fails on the int).
    control = tmp_path / "control-marker"
    (tmp_path / "control.pkl").write_bytes(payload(control))
    with monkeypatch.context() as patched:
        patched.setitem(pickles._ALLOWED_GLOBALS, ("builtins", "getattr"), builtins.getattr)
        with pytest.raises(ParamsFileError, match="expected a dict of arrays, found int"):
            load_params_pickle(tmp_path / "control.pkl")
    assert control.exists()

    marker = tmp_path / "marker"
    path = tmp_path / "chain.pkl"
    path.write_bytes(payload(marker))
    with pytest.raises(ParamsFileError, match=r"refusing .*builtins\.getattr.*malicious"):
        load_params_pickle(path)
    assert not marker.exists()


# ----------------------------------------------------------------- fuzzing the pickle loader


@pytest.fixture(scope="module")
def valid_pickles():
    params = make_params(np.float32, sizes=(3, 2, 2))
    return {protocol: pickle.dumps(params, protocol=protocol) for protocol in range(6)}


@settings(max_examples=300, deadline=timedelta(seconds=2))
@given(
    protocol=st.integers(0, 5),
    edits=st.lists(st.tuples(st.integers(0, 2**16), st.integers(0, 255), st.booleans()),
                   min_size=1, max_size=4),
)
def test_fuzz_mutated_pickles_load_or_are_refused(valid_pickles, tmp_path_factory, protocol,
                                                  edits):
    """Any corruption of a real parameter pickle: arrays come back, or ParamsFileError."""
    data = bytearray(valid_pickles[protocol])
    for position, value, insert in edits:
        index = position % (len(data) + 1)
        if insert:
            data.insert(index, value)
        elif data:
            data[index % len(data)] = value
    path = tmp_path_factory.mktemp("fuzz") / "mutated.pkl"
    path.write_bytes(bytes(data))
    try:
        params, header = load_params_file(path)
    except ParamsFileError:
        return
    assert header == {}
    for value in params.values():
        assert isinstance(value, np.ndarray) and not value.dtype.hasobject
