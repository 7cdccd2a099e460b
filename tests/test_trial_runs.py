"""A search's trial: a run judged on its validation set that leaves the test set unmeasured
(``measure_test=False``), and the commands that read its directory."""

from __future__ import annotations

import base64
import csv
import io
import json
import threading
import urllib.request
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from dvzero import plotting
from dvzero.cli import main
from dvzero.errors import UsageError
from dvzero.networks import NETS
from dvzero.runs import Run
from dvzero.runs.data import validation_rows
from dvzero.storage import load_checkpoint
from dvzero.training import Callback
from dvzero.web import Catalog, make_server, url_of

from helpers import render, write_mnist_dir

#: A short trial of the original post's network, measured beside the training.
TRIAL = {"steps": 100, "batch_size": 50, "lr": 0.3, "seed": 3, "val_split": 0.1,
         "threads": 2, "measure_test": False}


@pytest.fixture(scope="module")
def marked_dir(tmp_path_factory, mnist_raw):
    """The small MNIST subset with every test image marked: its top-left pixel, blank in
    every training digit, at 255, so that an input holding a test image can be told."""
    x_train, t_train, x_test, t_test = mnist_raw
    assert not x_train[:2000, 0, 0].any()
    marked = x_test[:500].copy()
    marked[:, 0, 0] = 255
    return write_mnist_dir(tmp_path_factory.mktemp("marked"), x_train[:2000], t_train[:2000],
                           marked, t_test[:500])


@pytest.fixture
def seen(monkeypatch):
    """For each input the original post's network is given (to predict, measure a loss or
    an accuracy, or differentiate), whether it held a marked test image."""
    network_class, marked = NETS["two-layer"], []

    def spying(method):
        def spy(self, x, *args, **kwargs):
            rows = np.asarray(x)
            rows = rows.reshape(len(rows), -1) if rows.ndim > 1 else rows[np.newaxis]
            marked.append(bool((rows[:, 0] == 1).any()))
            return method(self, x, *args, **kwargs)
        return spy

    for name in ("predict", "loss", "accuracy", "gradient"):
        monkeypatch.setattr(network_class, name, spying(getattr(network_class, name)))
    return marked


def start(data_dir: Path, out: Path, **settings) -> Run:
    run = Run.start({**TRIAL, "data_dir": str(data_dir), **settings}, out)
    run.load_data()
    return run


def finished(data_dir: Path, out: Path, **settings) -> dict:
    run = start(data_dir, out, **settings)
    assert run.train(beside=True).status == "finished"
    return run.finish()


@pytest.fixture(scope="module")
def trial(tmp_path_factory, marked_dir) -> Path:
    out = tmp_path_factory.mktemp("trials") / "trial-000"
    finished(marked_dir, out)
    return out


def run_main(argv: list) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(arg) for arg in argv])
    return code, out.getvalue(), err.getvalue()


def test_a_trial_never_shows_the_test_images_to_the_network(marked_dir, tmp_path, seen):
    finished(marked_dir, tmp_path / "run", measure_test=True)
    assert any(seen)  # a usual run measures them: the marks are seen
    seen.clear()
    finished(marked_dir, tmp_path / "trial")
    assert seen and not any(seen)


def test_a_trial_records_train_and_validation_accuracies(trial):
    summary = json.loads((trial / "summary.json").read_text(encoding="utf-8"))
    assert summary["test_acc"] is None and summary["test_acc_list"] == []
    assert summary["config"]["measure_test"] is False
    assert 0.2 < summary["val_acc"] <= 1  # judged on its validation set (chance: 0.1)
    assert len(summary["val_acc_list"]) == len(summary["train_acc_list"]) == \
        summary["epochs_evaluated"] == 3
    assert summary["config"]["val_size"] == 200 and summary["config"]["test_size"] == 500
    with open(trial / "metrics.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["step", "loss", "epoch", "train_acc", "test_acc"]
    assert len(rows) == 100 and all(row["test_acc"] == "" for row in rows)
    assert [float(row["train_acc"]) for row in rows if row["epoch"]] == \
        summary["train_acc_list"]
    for name in ("accuracy.png", "loss.png", "confusion.png", "mistakes.png", "weights.png"):
        assert (trial / name).stat().st_size > 0


def test_the_pictures_of_a_trials_answers_are_of_its_validation_set(trial, marked_dir,
                                                                     monkeypatch, mnist_raw):
    drawn = {}
    monkeypatch.setattr(plotting, "plot_confusion",
                        lambda path, matrix, *words: drawn.update(matrix=matrix, words=words))
    code, out, err = run_main(["plot", trial, "--force"])
    assert code == 0 and err == "" and "confusion.png, mistakes.png" in out
    rows, _kept = validation_rows(2000, TRIAL["val_split"], TRIAL["seed"])
    labels = mnist_raw[1][:2000][rows]
    np.testing.assert_array_equal(drawn["matrix"].sum(axis=1), np.bincount(labels, minlength=10))
    assert "validation" in " ".join(drawn["words"])  # the title says so


def test_evaluate_predict_and_serve_read_a_trials_directory(trial, tmp_path, mnist_raw):
    code, out, err = run_main(["evaluate", trial])
    assert code == 0 and err == "", err
    assert out.splitlines()[-1].startswith("test acc ")  # asked for: the test set, measured
    picture = tmp_path / "digit.png"
    picture.write_bytes(render(mnist_raw[2][0], 1, np.random.default_rng(0)).getvalue())
    code, out, err = run_main(["predict", trial, picture])
    assert code == 0 and err == "", err
    # What 'dvzero serve RUN_DIR' serves: the run first, without a test accuracy.
    server = make_server(Catalog(tmp_path / "runs", trial), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with urllib.request.urlopen(url_of(server) + "api/models", timeout=10) as answer:
            assert json.load(answer)["models"] == [
                {"id": str(trial), "network": "DeepVisionZeroNet", "test_acc": None}]
        drawing = base64.b64encode(picture.read_bytes()).decode()
        request = urllib.request.Request(url_of(server) + "api/predict",
                                         json.dumps({"image": drawing}).encode(),
                                         {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert len(json.load(answer)["probabilities"]) == 10
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("val_split", [0.0, None])  # None: the default, none
def test_a_trial_needs_a_validation_set(small_mnist_dir, tmp_path, val_split):
    with pytest.raises(UsageError) as refusal:
        Run.start({**TRIAL, "data_dir": str(small_mnist_dir), "val_split": val_split},
                  tmp_path / "trial")
    assert "--val-split" in str(refusal.value) and "\n" not in str(refusal.value)
    assert not (tmp_path / "trial").exists()


def test_a_stopped_trial_resumes_as_a_trial(marked_dir, tmp_path, seen):
    run = start(marked_dir, tmp_path / "trial")

    class Stop(Callback):
        def on_step_end(self, step, loss):
            if step == 20:
                run.request_stop()

    assert run.train([Stop()]).status == "stopped"
    assert load_checkpoint(run.checkpoint)[2]["run"]["measure_test"] is False
    resumed = Run.resume(tmp_path / "trial")
    assert resumed.config["measure_test"] is False
    resumed.load_data()
    assert resumed.train().status == "finished"
    summary = resumed.finish()
    assert summary["test_acc"] is None and summary["test_acc_list"] == []
    assert len(summary["val_acc_list"]) == 3 and summary["resumes"] == 1
    assert seen and not any(seen)
