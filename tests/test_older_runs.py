"""Files written by an earlier dvzero still load, evaluate, draw, predict and resume.

``tests/data/main-177c46a/`` holds what dvzero wrote at commit 177c46a, before the
training became a package and the two-layer network a LayerNet: a finished run
(``dvzero train --seed 3 --steps 60 --hidden 8``, its pictures left out), and the
checkpoints of two runs killed mid-way, one of them with steps measured beside the
training and not yet announced when it was saved.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from dvzero.apps.evaluate import evaluate
from dvzero.apps.plot import plot_run
from dvzero.apps.predict import load_predictor, predict_files
from dvzero.cli import main
from dvzero.networks import DeepVisionZeroNet, load_network
from dvzero.storage import load_checkpoint

from helpers import render

OLDER = Path(__file__).parent / "data" / "main-177c46a"


@pytest.fixture
def finished(tmp_path):
    return Path(shutil.copytree(OLDER / "finished", tmp_path / "finished"))


def test_an_older_finished_run_evaluates_as_it_did(finished):
    summary = json.loads((finished / "summary.json").read_text())
    assert evaluate(finished).accuracy == summary["test_acc"]
    pickled, npz = (load_network(finished / name) for name in ("params_two_layer.pkl",
                                                               "params.npz"))
    assert isinstance(npz, DeepVisionZeroNet) and npz.config() == pickled.config() | {
        "dtype": "float32"}
    for key, value in npz.params.items():
        np.testing.assert_array_equal(pickled.params[key], value)


def test_an_older_finished_run_draws_and_predicts(finished, tmp_path, mnist_raw):
    drawn = plot_run(finished)
    assert {"accuracy.png", "loss.png", "confusion.png", "mistakes.png",
            "weights.png"} <= set(drawn.files)
    picture = tmp_path / "digit.png"
    picture.write_bytes(render(mnist_raw[2][0], 1, np.random.default_rng(0)).getvalue())
    predictions, errors = predict_files(load_predictor(finished), [picture])
    assert not errors and len(predictions[0].probabilities) == 10


@pytest.mark.parametrize("name, settings", [
    ("two-layer-killed", ["--seed", "5", "--steps", "1300", "--hidden", "8"]),
    ("mlp-killed", ["--seed", "6", "--net", "mlp", "--steps", "700", "--hidden", "8",
                    "--batchnorm", "--dropout", "0.2", "--lr-schedule", "cosine",
                    "--train-eval-sample", "500"])])
def test_an_older_checkpoint_resumes_to_the_whole_run(tmp_path, name, settings):
    run = Path(shutil.copytree(OLDER / name, tmp_path / name))
    _, state, _ = load_checkpoint(run / "checkpoint.npz")
    assert main(["train", "--resume", str(run), "--no-progress"]) == 0
    whole = tmp_path / "whole"
    assert main(["train", *settings, "--out", str(whole), "--no-progress"]) == 0
    assert (run / "metrics.csv").read_bytes() == (whole / "metrics.csv").read_bytes()
    for key, value in load_network(whole / "params.npz").arrays().items():
        np.testing.assert_array_equal(load_network(run / "params.npz").arrays()[key], value)
    if name == "two-layer-killed":  # saved with steps measured and not yet announced
        assert state["steps_announced"] < state["next_step"]
