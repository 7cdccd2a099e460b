"""``dvzero graph`` and ``dvzero train --gradient autograd``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from dvzero.networks import load_network
from test_cli import assert_one_line_error, read_summary, run_main, train_args

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason=(
    "no Graphviz dot program: install Debian's package (apt-get install -y graphviz) to draw"))


@pytest.fixture(autouse=True)
def _inside_tmp_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


@needs_dot
def test_graph_of_a_fresh_network(tmp_path):
    result = run_main(["graph"])
    assert result.code == 0, result.err
    assert result.out.splitlines()[0].startswith(
        "DeepVisionZeroNet (fresh, seed 0): loss 2.29")  # about ln 10: a fresh network guesses
    assert (tmp_path / "graph.png").read_bytes().startswith(b"\x89PNG")
    dot = (tmp_path / "graph.dot").read_text(encoding="utf-8")
    for node in ("linear", "sigmoid", "softmax_cross_entropy", 'label="W1\n784×50 float64',
                 'label="x\n100×784 float64"', 'label="loss\nscalar float64\n‖grad‖ = 1"'):
        assert node in dot
    assert dot.count("label=linear") == 2
    assert dot.count("‖grad‖") == 8  # every Variable but the data and the labels


@needs_dot
def test_graph_of_a_trained_run_as_svg(tmp_path, small_mnist_dir):
    run_dir = tmp_path / "run"
    assert run_main(train_args(small_mnist_dir, run_dir, "--net", "mlp", "--hidden", "8",
                               "--batchnorm", "--steps", "5")).code == 0
    result = run_main(["graph", str(run_dir), "--out", "mlp.svg"])
    assert result.code == 0, result.err
    assert f"MultiLayerNet ({run_dir / 'params.npz'})" in result.out
    assert (tmp_path / "mlp.svg").read_text().lstrip().startswith("<?xml")
    dot = (tmp_path / "mlp.dot").read_text(encoding="utf-8")
    assert "gamma1" in dot and "label=relu" in dot


def test_graph_without_dot_writes_the_dot_and_says_how_to_install(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path / "nowhere")}  # no dot on it
    result = subprocess.run([sys.executable, "-m", "dvzero.cli", "graph", "--out", "g.png"],
                            capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert_one_line_error(result.returncode, result.stderr, "wrote g.dot",
                          "install Graphviz's dot program", exit_code=1)
    assert (tmp_path / "g.dot").is_file() and not (tmp_path / "g.png").exists()


@pytest.mark.parametrize("argv, fragment", [
    (["graph", "--out", "graph.pdf"], "give a name ending in .png or .svg"),
    (["graph", "--out", "missing/graph.png"], "the directory missing does not exist"),
    (["graph", "no-such-run"], "no-such-run: no such file or directory"),
])
def test_graph_refuses_bad_arguments(argv, fragment):
    result = run_main(argv)
    assert_one_line_error(result.code, result.err, fragment, exit_code=2)


def test_train_by_autograd_gives_the_run_of_backprop(tmp_path, small_mnist_dir):
    runs = {}
    for gradient in ("backprop", "autograd"):
        run_dir = tmp_path / gradient
        result = run_main(train_args(small_mnist_dir, run_dir, "--gradient", gradient))
        assert result.code == 0, result.err
        runs[gradient] = run_dir
    summary = read_summary(runs["autograd"])
    assert summary["config"]["gradient"] == "autograd"
    assert summary["test_acc"] == pytest.approx(read_summary(runs["backprop"])["test_acc"],
                                                abs=0.003)
    ours, theirs = (load_network(runs[name] / "params.npz") for name in ("autograd", "backprop"))
    for key in ours.params:
        np.testing.assert_allclose(ours.params[key], theirs.params[key], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("net", ["mlp", "cnn"])
def test_train_by_autograd_for_the_other_networks(tmp_path, small_mnist_dir, net):
    extra = ["--batchnorm", "--dropout", "0.2", "--weight-decay", "0.01"] if net == "mlp" else \
        ["--train-eval-sample", "100"]
    result = run_main(train_args(small_mnist_dir, tmp_path / net, "--net", net, "--gradient",
                                 "autograd", "--hidden", "20", *extra, steps=20))
    assert result.code == 0, result.err
    assert read_summary(tmp_path / net)["test_acc"] > 0.2
