"""The ``dvzero`` command line: ``train``, ``evaluate``, ``--version`` and its error paths."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import dvzero
from dvzero.cli import main
from dvzero.data import load_mnist
from dvzero.networks import load_network

RUN_FILES = {
    "params.npz",
    "params_two_layer.pkl",
    "metrics.csv",
    "summary.json",
    "accuracy.png",
    "loss.png",
    "confusion.png",
    "mistakes.png",
    "weights.png",
}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
EPOCH_LINE = re.compile(r"^(\d+)  train acc, test acc \| (\S+), (\S+)$", re.MULTILINE)
TEST_ACC = re.compile(r"^test acc (\d\.\d{4}) \((\d+) images, (.+)\)$", re.MULTILINE)

# The shared run: 2,000 training images in batches of 20 give 100 steps per epoch.
STEPS, BATCH_SIZE, SEED = 250, 20, 7
ITER_PER_EPOCH = 100


@pytest.fixture(autouse=True)
def _inside_tmp_path(tmp_path, monkeypatch):
    """A run without --out goes to ./runs: keep it out of the repository."""
    monkeypatch.chdir(tmp_path)


def train_args(data_dir: Path, out: Path, *extra: str, steps=60, batch_size=20, seed=1):
    return [
        "train",
        "--data-dir", str(data_dir),
        "--steps", str(steps),
        "--batch-size", str(batch_size),
        "--seed", str(seed),
        "--out", str(out),
        "--no-progress",
        *extra,
    ]  # fmt: skip


def with_option(argv: list[str], option: str, value: str) -> list[str]:
    argv = list(argv)
    if option in argv:
        argv[argv.index(option) + 1] = value
    else:
        argv += [option, value]
    return argv


def run_main(argv: list[str]) -> SimpleNamespace:
    """``main(argv)`` in-process, with its output captured (usable outside a test's capsys)."""
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return SimpleNamespace(
        code=code, out=out.getvalue(), err=err.getvalue(), elapsed=time.perf_counter() - start
    )


def run_cli(*args: str, script: bool = False) -> subprocess.CompletedProcess:
    """The real command in a new process (``dvzero`` script, or ``python -m dvzero.cli``)."""
    if script:
        executable = shutil.which("dvzero")
        assert executable, "the dvzero console script is not on PATH"
        command = [executable, *args]
    else:
        command = [sys.executable, "-m", "dvzero.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def assert_one_line_error(code: int, err: str, *fragments: str, exit_code: int | None = None):
    assert code != 0
    if exit_code is not None:
        assert code == exit_code
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("dvzero"), err
    for fragment in fragments:
        assert fragment in lines[0]


def read_summary(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))


def read_npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def snapshot(directory: Path) -> dict[str, tuple[int, bytes]]:
    return {
        path.name: (path.stat().st_mtime_ns, path.read_bytes())
        for path in sorted(directory.iterdir())
    }


def printed_test_acc(out: str) -> str:
    match = TEST_ACC.search(out)
    assert match, out
    return match.group(1)


@pytest.fixture(scope="module")
def small_test_set(small_mnist_dir):
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, data_dir=small_mnist_dir)
    return x_train, t_train, x_test, t_test


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, small_mnist_dir):
    """One small ``dvzero train`` run, shared by the tests that only read it."""
    run_dir = tmp_path_factory.mktemp("cli") / "run"
    argv = train_args(small_mnist_dir, run_dir, steps=STEPS, batch_size=BATCH_SIZE, seed=SEED)
    result = run_main(argv)
    assert result.code == 0, result.err
    result.dir = run_dir
    result.argv = argv
    return result


# --------------------------------------------------------------------------- train


def test_train_writes_the_run_directory(trained_run):
    assert trained_run.code == 0
    assert {path.name for path in trained_run.dir.iterdir()} == RUN_FILES  # no temp files
    assert trained_run.err == ""  # --no-progress: no bar
    assert f"training into {trained_run.dir}" in trained_run.out
    assert "data: 2000 training and 500 test images of 784 pixels" in trained_run.out


def test_train_prints_the_seeds_epoch_lines(trained_run):
    summary = read_summary(trained_run.dir)
    lines = EPOCH_LINE.findall(trained_run.out)
    assert [int(step) for step, _, _ in lines] == [0, 100, 200]
    assert [float(a) for _, a, _ in lines] == summary["train_acc_list"]
    assert [float(b) for _, _, b in lines] == summary["test_acc_list"]
    final = re.search(r"^final: train acc (\S+), test acc (\S+);", trained_run.out, re.M)
    assert final
    assert final.group(1) == f"{summary['train_acc']:.4f}"
    assert final.group(2).rstrip(";") == f"{summary['test_acc']:.4f}"


def test_train_metrics_csv(trained_run):
    with open(trained_run.dir / "metrics.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    summary = read_summary(trained_run.dir)
    assert len(rows) == STEPS
    assert [int(row["step"]) for row in rows] == list(range(STEPS))
    losses = [float(row["loss"]) for row in rows]
    assert all(np.isfinite(losses)) and min(losses) > 0
    assert losses[-1] == summary["final_loss"]

    epoch_rows = [row for row in rows if row["epoch"]]
    assert [int(row["step"]) for row in epoch_rows] == [0, 100, 200]
    assert [int(row["epoch"]) for row in epoch_rows] == [0, 1, 2]
    assert [float(row["train_acc"]) for row in epoch_rows] == summary["train_acc_list"]
    assert [float(row["test_acc"]) for row in epoch_rows] == summary["test_acc_list"]
    for row in rows:
        if int(row["step"]) % ITER_PER_EPOCH:
            assert row["epoch"] == row["train_acc"] == row["test_acc"] == ""


def test_train_summary_config(trained_run, small_mnist_dir):
    summary = read_summary(trained_run.dir)
    assert summary["dvzero_version"] == dvzero.__version__
    config = summary["config"]
    assert config["network"] == "DeepVisionZeroNet"
    assert config["seed"] == SEED
    assert config["steps"] == STEPS
    assert config["batch_size"] == BATCH_SIZE
    assert config["lr"] == 0.1
    assert config["hidden_size"] == 50
    assert (config["input_size"], config["output_size"]) == (784, 10)
    assert config["activation"] == "sigmoid"
    assert config["weight_init_std"] == 0.01
    assert config["dtype"] == "float32"
    assert config["gradient"] == "backprop"
    assert config["optimizer"] == "SGD"
    assert config["iter_per_epoch"] == ITER_PER_EPOCH
    assert config["data_dir"] == str(Path(small_mnist_dir).resolve())
    assert (config["train_size"], config["test_size"]) == (2000, 500)
    assert summary["epoch_steps"] == [0, 100, 200]
    assert summary["epochs_evaluated"] == 3
    finished = dt.datetime.fromisoformat(summary["finished"])
    assert finished.tzinfo is not None
    assert abs((dt.datetime.now().astimezone() - finished).total_seconds()) < 600


def test_train_summary_timings_are_consistent(trained_run):
    summary = read_summary(trained_run.dir)
    train_seconds, wall_seconds = summary["train_seconds"], summary["wall_seconds"]
    assert 0 < train_seconds <= wall_seconds <= trained_run.elapsed
    assert summary["steps_per_second"] == pytest.approx(STEPS / train_seconds)
    assert f"{STEPS} steps in {train_seconds:.1f} s" in trained_run.out


def test_train_summary_accuracies_match_the_saved_network(trained_run, small_test_set, mnist_raw):
    summary = read_summary(trained_run.dir)
    x_train, t_train, x_test, t_test = small_test_set
    for name in ("params.npz", "params_two_layer.pkl"):
        network = load_network(trained_run.dir / name)
        assert network.accuracy(x_test, t_test) == summary["test_acc"]
        assert network.accuracy(x_train, t_train) == summary["train_acc"]

    # Independently of dvzero's network code: sigmoid hidden layer, argmax of the scores.
    params = read_npz(trained_run.dir / "params.npz")
    images = mnist_raw[2][:500].reshape(500, 784).astype(np.float64) / 255.0
    labels = mnist_raw[3][:500]
    w1, b1, w2, b2 = (params[key].astype(np.float64) for key in ("W1", "b1", "W2", "b2"))
    hidden = 1.0 / (1.0 + np.exp(-(images @ w1 + b1)))
    accuracy = float(np.mean(np.argmax(hidden @ w2 + b2, axis=1) == labels))
    assert accuracy == pytest.approx(summary["test_acc"], abs=2 / 500)


def test_train_params_files_agree(trained_run):
    npz = read_npz(trained_run.dir / "params.npz")
    header = json.loads(str(npz.pop("__dvzero__")))
    with open(trained_run.dir / "params_two_layer.pkl", "rb") as handle:
        pkl = pickle.load(handle)
    assert sorted(npz) == sorted(pkl) == ["W1", "W2", "b1", "b2"]
    for key, value in npz.items():
        assert value.dtype == pkl[key].dtype == np.float32
        np.testing.assert_array_equal(value, pkl[key], strict=True)
    assert npz["W1"].shape == (784, 50)
    assert header["network"] == "DeepVisionZeroNet"
    assert header["config"] == {
        key: read_summary(trained_run.dir)["config"][key]
        for key in (
            "input_size",
            "hidden_size",
            "output_size",
            "weight_init_std",
            "activation",
            "dtype",
        )
    }


@pytest.mark.parametrize("name", ["accuracy.png", "loss.png"])
def test_train_plots_are_valid_pngs(trained_run, name):
    from matplotlib.image import imread
    from PIL import Image

    path = trained_run.dir / name
    assert path.read_bytes()[:8] == PNG_MAGIC
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == (640, 480)
    pixels = imread(path)
    assert pixels.shape[:2] == (480, 640)
    assert pixels.std() > 0  # something was drawn


def test_same_seed_gives_bit_identical_runs(trained_run, tmp_path, small_mnist_dir):
    again = tmp_path / "again"
    argv = [again if arg == str(trained_run.dir) else arg for arg in trained_run.argv]
    result = run_main([str(arg) for arg in argv])
    assert result.code == 0, result.err

    first, second = read_npz(trained_run.dir / "params.npz"), read_npz(again / "params.npz")
    assert sorted(first) == sorted(second)
    for key in first:
        assert first[key].dtype == second[key].dtype
        assert first[key].tobytes() == second[key].tobytes(), key
    assert (trained_run.dir / "params_two_layer.pkl").read_bytes() == (
        again / "params_two_layer.pkl"
    ).read_bytes()
    assert (trained_run.dir / "metrics.csv").read_bytes() == (again / "metrics.csv").read_bytes()
    one, two = read_summary(trained_run.dir), read_summary(again)
    for key in ("train_acc", "test_acc", "final_loss", "train_acc_list", "test_acc_list"):
        assert one[key] == two[key]
    assert EPOCH_LINE.findall(trained_run.out) == EPOCH_LINE.findall(result.out)

    other = run_main(train_args(small_mnist_dir, tmp_path / "other", steps=1, seed=SEED + 1))
    assert other.code == 0, other.err
    assert not np.array_equal(read_npz(tmp_path / "other" / "params.npz")["W1"], first["W1"])


def test_training_learns(tmp_path, small_mnist_dir):
    run_dir = tmp_path / "learn"
    result = run_main(
        train_args(small_mnist_dir, run_dir, "--lr", "0.5", steps=300, batch_size=50, seed=0)
    )
    assert result.code == 0, result.err
    summary = read_summary(run_dir)
    # This run reaches about 0.85 test accuracy (0.83-0.86 over seeds); chance is 0.1.
    assert summary["test_acc"] >= 0.7
    assert summary["train_acc"] >= 0.75
    assert summary["test_acc_list"][0] < 0.2
    assert summary["epoch_steps"] == list(range(0, 300, 40))
    with open(run_dir / "metrics.csv", newline="", encoding="utf-8") as handle:
        losses = [float(row["loss"]) for row in csv.DictReader(handle)]
    assert np.mean(losses[-50:]) < 0.5 * np.mean(losses[:50])


def test_numerical_gradient_prints_the_projection(tmp_path, small_mnist_dir, capsys):
    run_dir = tmp_path / "numerical"
    code = main(
        train_args(
            small_mnist_dir,
            run_dir,
            "--gradient",
            "numerical",
            "--hidden",
            "2",
            steps=2,
            batch_size=5,
        )
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    projection = [line for line in out.splitlines() if "first step took" in line]
    assert len(projection) == 1
    assert re.search(r"^numerical gradient \(structured\): the first step took [\d.]+ \S+; "
                     r"2 steps will take about .* \(faster: --gradient backprop\)$",
                     projection[0])
    config = read_summary(run_dir)["config"]
    assert config["gradient"] == "numerical"
    assert config["numerical"] == "structured"  # the default for the two-layer network
    assert config["dtype"] == "float64"  # the default for numerical gradients
    assert config["hidden_size"] == 2
    assert read_npz(run_dir / "params.npz")["W1"].shape == (784, 2)


def test_the_naive_and_the_structured_numerical_runs_agree(tmp_path, small_mnist_dir,
                                                             capsys):
    params = {}
    for method in ("naive", "structured"):
        run_dir = tmp_path / method
        argv = train_args(small_mnist_dir, run_dir, "--gradient", "numerical", "--numerical",
                          method, "--hidden", "3", steps=3, batch_size=8)
        assert main(argv) == 0
        out = capsys.readouterr().out
        projection = next(line for line in out.splitlines() if "first step took" in line)
        assert projection.startswith(f"numerical gradient ({method}):")
        if method == "naive":
            assert "--numerical structured computes the same differences" in projection
        assert read_summary(run_dir)["config"]["numerical"] == method
        params[method] = read_npz(run_dir / "params.npz")
    for key in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(params["structured"][key], params["naive"][key],
                                   rtol=0, atol=1e-12)


@pytest.mark.parametrize("argv, words", [
    (["--numerical", "naive"], "--numerical naive: says how numerical gradients are computed; "
                               "add --gradient numerical"),
    (["--gradient", "numerical", "--net", "mlp", "--numerical", "structured"],
     "--numerical structured: only the two-layer network has one; --net mlp takes "
     "--numerical naive"),
])
def test_numerical_methods_that_cannot_work_are_refused(tmp_path, small_mnist_dir, capsys,
                                                        argv, words):
    assert main(train_args(small_mnist_dir, tmp_path / "run", *argv, steps=2)) == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_backprop_run_prints_no_projection(trained_run):
    assert "first step took" not in trained_run.out


def test_train_without_out_writes_under_runs(tmp_path, small_mnist_dir, capsys):
    argv = train_args(small_mnist_dir, tmp_path, steps=3)
    index = argv.index("--out")
    del argv[index : index + 2]
    assert main(argv) == 0
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1
    assert {path.name for path in runs[0].iterdir()} == RUN_FILES
    assert main(argv) == 0  # a second run gets its own directory
    assert len(list((tmp_path / "runs").iterdir())) == 2


def test_progress_bar_goes_to_stderr(tmp_path, small_mnist_dir, capsys):
    argv = train_args(small_mnist_dir, tmp_path / "bar", steps=3)
    argv.remove("--no-progress")
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "3/3" in err
    assert EPOCH_LINE.search(out)
    assert "3/3" not in out


# --------------------------------------------------------------------------- evaluate


@pytest.mark.parametrize(
    "source", ["", "params.npz", "params_two_layer.pkl"], ids=["run-dir", "npz", "pkl"]
)
def test_evaluate_prints_the_summarys_test_acc(trained_run, small_mnist_dir, capsys, source):
    path = trained_run.dir / source if source else trained_run.dir
    code = main(["evaluate", str(path), "--data-dir", str(small_mnist_dir)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert err == ""
    summary = read_summary(trained_run.dir)
    assert printed_test_acc(out) == f"{summary['test_acc']:.4f}"
    match = TEST_ACC.search(out)
    assert match.group(2) == "500"
    expected_file = path if source else trained_run.dir / "params.npz"
    assert match.group(3) == str(expected_file)


def test_evaluate_a_directory_with_only_the_pkl(trained_run, tmp_path, small_mnist_dir, capsys):
    run_dir = tmp_path / "seed-run"
    run_dir.mkdir()
    shutil.copy(trained_run.dir / "params_two_layer.pkl", run_dir)
    assert main(["evaluate", str(run_dir), "--data-dir", str(small_mnist_dir)]) == 0
    out, _ = capsys.readouterr()
    assert printed_test_acc(out) == f"{read_summary(trained_run.dir)['test_acc']:.4f}"


# --------------------------------------------------------------------------- end to end


def test_end_to_end_in_real_processes(tmp_path, small_mnist_dir):
    run_dir = tmp_path / "e2e"
    # With the progress bar (on stderr) this time.
    trained = run_cli(
        "train",
        "--data-dir",
        str(small_mnist_dir),
        "--steps",
        "60",
        "--batch-size",
        "20",
        "--seed",
        "3",
        "--out",
        str(run_dir),
    )
    assert trained.returncode == 0, trained.stderr
    assert "Traceback" not in trained.stderr
    assert EPOCH_LINE.findall(trained.stdout)[0][0] == "0"
    assert {path.name for path in run_dir.iterdir()} == RUN_FILES
    summary = read_summary(run_dir)
    assert summary["config"]["steps"] == 60

    evaluated = run_cli("evaluate", str(run_dir), "--data-dir", str(small_mnist_dir), script=True)
    assert evaluated.returncode == 0, evaluated.stderr
    assert evaluated.stderr == ""
    assert printed_test_acc(evaluated.stdout) == f"{summary['test_acc']:.4f}"

    version = run_cli("--version", script=True)
    assert version.returncode == 0
    assert version.stdout.strip() == f"dvzero {dvzero.__version__}"


def test_error_in_a_real_process_is_one_line(tmp_path):
    result = run_cli("evaluate", str(tmp_path / "missing.npz"))
    assert_one_line_error(result.returncode, result.stderr, "no such file", exit_code=2)
    assert result.stdout == ""


# --------------------------------------------------------------------------- --version


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    out, _ = capsys.readouterr()
    assert out == f"dvzero {dvzero.__version__}\n"


def test_no_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "usage: dvzero" in err and "train" in err and "evaluate" in err


# --------------------------------------------------------------------------- error paths


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--lr", "-1", "must be a finite number > 0"),
        ("--lr", "0", "must be a finite number > 0"),
        ("--lr", "nan", "must be a finite number > 0"),
        ("--lr", "inf", "must be a finite number > 0"),
        ("--lr", "fast", "expected a number"),
        ("--batch-size", "0", "must be at least 1"),
        ("--batch-size", "2.5", "expected a whole number"),
        ("--steps", "abc", "expected a whole number"),
        ("--steps", "-3", "must be at least 1"),
        ("--hidden", "0", "must be at least 1"),
        ("--seed", "-1", "must be >= 0"),
        ("--weight-init-std", "-0.1", "must be a finite number >= 0"),
        ("--gradient", "magic", "invalid choice"),
        ("--activation", "elu", "invalid choice"),
    ],
)
def test_bad_train_option_is_an_argparse_error(
    tmp_path, small_mnist_dir, capsys, option, value, message
):
    argv = with_option(train_args(small_mnist_dir, tmp_path / "run"), option, value)
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    assert info.value.code == 2
    assert "Traceback" not in err
    assert err.startswith(f"dvzero train: error: argument {option}: ")
    assert err.count("\n") == 1  # one line, which points to --help
    assert "(see 'dvzero train --help')" in err
    assert message in err
    assert out == ""
    assert not (tmp_path / "run").exists()


def test_missing_evaluate_source_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["evaluate"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "RUN_DIR_OR_PARAMS" in err
    assert "Traceback" not in err


def test_data_dir_that_does_not_exist(tmp_path, capsys):
    code = main(train_args(Path("/nonexistent/dvzero-data"), tmp_path / "run"))
    _, err = capsys.readouterr()
    assert_one_line_error(code, err, "--data-dir", "no such directory", exit_code=2)
    assert not (tmp_path / "run").exists()


def test_data_dir_that_is_a_file(tmp_path, capsys):
    not_a_dir = tmp_path / "data.txt"
    not_a_dir.write_text("images")
    code = main(train_args(not_a_dir, tmp_path / "run"))
    _, err = capsys.readouterr()
    assert_one_line_error(code, err, "--data-dir", "not a directory", exit_code=2)
    code = main(["evaluate", str(tmp_path), "--data-dir", str(not_a_dir)])
    _, err = capsys.readouterr()
    assert_one_line_error(code, err, "not a directory", exit_code=2)


def test_data_dir_missing_one_idx_file(tmp_path, small_mnist_dir, capsys):
    data_dir = tmp_path / "incomplete"
    shutil.copytree(small_mnist_dir, data_dir)
    (data_dir / "t10k-labels-idx1-ubyte.gz").unlink()
    code = main(train_args(data_dir, tmp_path / "run"))
    _, err = capsys.readouterr()
    assert_one_line_error(code, err, "dvzero train: error:", "t10k-labels-idx1-ubyte", exit_code=1)
    assert not (tmp_path / "run" / "summary.json").exists()


def test_out_holding_a_finished_run_is_not_overwritten(
    trained_run, tmp_path, small_mnist_dir, capsys
):
    finished = tmp_path / "finished"
    shutil.copytree(trained_run.dir, finished)
    before = snapshot(finished)
    code = main(train_args(small_mnist_dir, finished, seed=99))
    out, err = capsys.readouterr()
    assert_one_line_error(code, err, "--out", "already holds a finished run", exit_code=2)
    assert snapshot(finished) == before


def test_out_that_is_a_regular_file(tmp_path, small_mnist_dir, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    code = main(train_args(small_mnist_dir, target))
    _, err = capsys.readouterr()
    assert_one_line_error(code, err, f"--out {target}: a file, not a directory; give a "
                          f"directory for the run: a new one, or one that holds no run",
                          exit_code=2)
    assert target.read_text() == "keep me"


def test_evaluate_nonexistent_path(tmp_path, capsys):
    code = main(["evaluate", str(tmp_path / "nothing-here")])
    _, err = capsys.readouterr()
    assert_one_line_error(code, err, "no such file or directory", exit_code=2)


def test_evaluate_directory_without_params(tmp_path, capsys):
    empty = tmp_path / "empty-run"
    empty.mkdir()
    (empty / "summary.json").write_text("{}")
    code = main(["evaluate", str(empty)])
    _, err = capsys.readouterr()
    assert_one_line_error(code, err, f"{empty}: no params.npz or params_two_layer.pkl in this "
                          f"directory; give a run directory written by 'dvzero train', or a "
                          f"parameter file (.npz, or the original post's .pkl)", exit_code=2)


class _Evil:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, ("touch " + str(self.marker),)


@pytest.mark.parametrize("as_run_dir", [False, True], ids=["file", "run-dir"])
def test_evaluate_malicious_pickle_is_refused(tmp_path, small_mnist_dir, capsys, as_run_dir):
    marker = tmp_path / "pwned"
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    evil = run_dir / "params_two_layer.pkl"
    evil.write_bytes(pickle.dumps({"W1": np.zeros((784, 2)), "b1": _Evil(marker)}))
    source = run_dir if as_run_dir else evil
    code = main(["evaluate", str(source), "--data-dir", str(small_mnist_dir)])
    out, err = capsys.readouterr()
    assert_one_line_error(code, err, "dvzero evaluate: error:", "refusing", exit_code=1)
    assert "test acc" not in out
    assert not marker.exists()


def test_evaluate_tampered_npz_is_refused(trained_run, tmp_path, capsys):
    arrays = read_npz(trained_run.dir / "params.npz")
    arrays["b2"] = arrays["b2"] + np.float32(1.0)
    tampered = tmp_path / "params.npz"
    np.savez(tampered, **arrays)
    code = main(["evaluate", str(tampered)])
    _, err = capsys.readouterr()
    assert_one_line_error(code, err, "corrupt", exit_code=1)


def test_evaluate_network_that_does_not_fit_the_images(tmp_path, small_mnist_dir, capsys):
    path = tmp_path / "small.pkl"
    rng = np.random.default_rng(0)
    path.write_bytes(
        pickle.dumps(
            {
                "W1": rng.random((10, 3)),
                "b1": np.zeros(3),
                "W2": rng.random((3, 10)),
                "b2": np.zeros(10),
            }
        )
    )
    code = main(["evaluate", str(path), "--data-dir", str(small_mnist_dir)])
    _, err = capsys.readouterr()
    assert_one_line_error(code, err, "10 inputs", "784 pixels", exit_code=2)


def test_interrupted_training(tmp_path, small_mnist_dir, capsys, monkeypatch):
    from dvzero.training import Trainer

    def interrupt(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "run", interrupt)
    code = main(train_args(small_mnist_dir, tmp_path / "run"))
    _, err = capsys.readouterr()
    assert code == 130
    assert err.strip() == "dvzero train: interrupted"
    assert not (tmp_path / "run" / "summary.json").exists()


def test_diverging_run_is_one_line_error(tmp_path, small_mnist_dir):
    result = run_cli(
        *train_args(
            small_mnist_dir,
            tmp_path / "run",
            "--lr",
            "1e30",
            "--activation",
            "relu",
            "--weight-init-std",
            "1",
            steps=5,
        )
    )
    assert result.returncode == 1
    assert "training diverged" in result.stderr
    assert_one_line_error(result.returncode, result.stderr, "training diverged", exit_code=1)


# --------------------------------------------------------------------------- words


def test_metrics_csv_has_unix_line_endings(trained_run):
    data = (trained_run.dir / "metrics.csv").read_bytes()
    assert b"\r" not in data
    assert data.count(b"\n") == STEPS + 1 and data.endswith(b"\n")


def test_one_numerical_step_is_counted_in_the_singular(tmp_path, small_mnist_dir):
    result = run_main(train_args(small_mnist_dir, tmp_path / "one", "--gradient", "numerical",
                                 "--hidden", "2", steps=1, batch_size=5))
    assert result.code == 0, result.err
    final = re.search(r"^final: .*$", result.out, re.MULTILINE)
    assert final, (result.out, result.err)
    assert re.search(r"; 1 step in [\d.]+ s \((\d+ steps/s|[\d.]+ s per step)\), ",
                     final.group(0)), (result.out, result.err)
    # "(11 steps/s)" is fine: only a lone "1 steps" is wrong
    assert not re.search(r"(?<!\d)1 steps", result.out), result.out
    assert "(0 steps/s)" not in result.out, result.out
    assert "will take about" not in result.out, result.out  # no projection for one step


@pytest.mark.parametrize(
    ("steps", "seconds", "expected"),
    [(10000, 3.6, "2778 steps/s"), (1, 9.87, "9.9 s per step"), (3, 600.0, "3.3 minutes per step"),
     (0, 0.0, "no steps timed"), (5, 5.0, "1.0 s per step"), (3, 2.9, "1.0 s per step"),
     (4, 2.0, "2 steps/s")],
)
def test_rates_read_well_fast_or_slow(steps, seconds, expected):
    from dvzero._format import rate

    assert rate(steps, seconds) == expected


def help_text(*command: str) -> str:
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit):
        main([*command, "--help"])
    return " ".join(out.getvalue().split())  # argparse wraps lines: compare as one line


def test_help_texts_say_what_users_asked():
    train = help_text("train")
    assert "may be given with --resume" in train
    assert "only --lr may be given" in train
    assert "nothing is ever overwritten" in train
    assert "train-images-idx3-ubyte" in train and "train-images.idx3-ubyte" in train
    assert "examples:" in train and "dvzero train --resume runs/a --lr 0.01" in train
    assert "the original post" in train and "seed's" not in train

    evaluate = help_text("evaluate")
    assert "(default: the data the run was trained on" in evaluate

    top = help_text()
    assert "examples:" in top and "dvzero evaluate runs/a" in top
    assert "'The original post' is the Chinese blog post dvzero implements" in top


def test_help_examples_are_valid_commands():
    """Every example in the help parses (and so names only real options)."""
    from dvzero.cli.parser import MAIN_EXAMPLES, TRAIN_EXAMPLES, build_parser

    parser = build_parser()
    examples = [line.strip().split("  ")[0] for line in (MAIN_EXAMPLES + TRAIN_EXAMPLES)
                .splitlines() if line.strip().startswith("dvzero ")]
    assert len(examples) >= 8
    for example in examples:
        parser.parse_args(example.split()[1:])
