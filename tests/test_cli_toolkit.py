"""The toolkit from the command line: deeper networks, optimizers, schedules, epochs, a
validation split, refusals that name the options, exact resume of every model, experiments.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dvzero.apps.experiments import EXPERIMENTS, run_experiment
from dvzero.cli import main
from dvzero.networks import MultiLayerNet, load_network
from dvzero.storage import load_checkpoint

from helpers import write_mnist_dir

MLP = ["--net", "mlp", "--hidden", "30,20", "--batch-size", "20", "--no-progress"]


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, out, err


def summary_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))


def read_params(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files if key != "__dvzero__"}


def test_an_mlp_run_trains_saves_and_evaluates(small_mnist_dir, tmp_path, capsys):
    out = tmp_path / "mlp"
    code, stdout, err = run(capsys, "train", "--data-dir", small_mnist_dir, *MLP, "--epochs",
                            "3", "--seed", "4", "--out", out)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == [
        "accuracy.png", "confusion.png", "loss.png", "metrics.csv", "mistakes.png",
        "params.npz", "summary.json", "weights.png"]
    summary = summary_of(out)
    config = summary["config"]
    assert config["network"] == "MultiLayerNet" and config["hidden_size_list"] == [30, 20]
    assert (config["activation"], config["weight_init_std"], config["optimizer"]) == \
        ("relu", "he", "Adam")
    assert config["lr"] == 0.001  # Adam's default
    assert config["steps"] == 300 and config["epochs"] == 3  # 2,000 / 20 = 100 an epoch
    assert config["loss_recorded"] == "in the forward pass that gave the gradient"
    assert summary["test_acc"] > 0.7
    network = load_network(out / "params.npz")
    assert isinstance(network, MultiLayerNet)
    code, stdout, err = run(capsys, "evaluate", out)
    assert code == 0 and f"test acc {summary['test_acc']:.4f} (500 images" in stdout


def test_the_two_layer_run_still_records_the_loss_after_the_update(small_mnist_dir, tmp_path,
                                                                   capsys):
    out = tmp_path / "seed"
    assert run(capsys, "train", "--data-dir", small_mnist_dir, "--steps", 5, "--out", out,
               "--no-progress")[0] == 0
    config = summary_of(out)["config"]
    assert config["loss_recorded"] == "after the update, on the same batch"
    assert config["optimizer"] == "SGD" and config["net"] == "two-layer"


@pytest.mark.parametrize(("option", "std"), [("--weight-init-std", 0.5),
                                             ("--weight-init-std", 0.003), ("--init", 0.5)])
def test_weight_init_std_sets_the_scale_of_the_two_layer_weights(small_mnist_dir, tmp_path,
                                                                  capsys, option, std):
    """dvzero train --weight-init-std s (or --init s) starts W1 and W2 at N(0, s^2)."""
    # One step at a learning rate of 1e-9 leaves the saved weights where they started.
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--data-dir", small_mnist_dir, "--steps", 1,
                       "--lr", "1e-9", "--seed", 2, option, std, "--out", out, "--no-progress")
    assert code == 0, err
    assert summary_of(out)["config"]["weight_init_std"] == std
    params = read_params(out / "params.npz")
    assert params["W1"].shape == (784, 50) and params["W2"].shape == (50, 10)
    assert params["W1"].std() == pytest.approx(std, rel=0.03)  # 39,200 draws
    assert params["W2"].std() == pytest.approx(std, rel=0.15)  # 500 draws
    for key in ("b1", "b2"):
        assert np.abs(params[key]).max() < 1e-7
    assert load_network(out / "params.npz").weight_init_std == std


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--hidden", "0"], "argument --hidden: must be at least 1, got 0"),
        (["--hidden", "100,,50"], "argument --hidden: expected whole numbers separated by commas"),
        (["--dropout", "1"], "argument --dropout: must be more than 0 and less than 1, got 1"),
        (["--dropout", "0"], "argument --dropout: must be more than 0 and less than 1, got 0"),
        (["--init", "0"], "argument --init: must be 'he', 'xavier' or a number > 0 (got 0)"),
        (["--init", "-0.1"], "argument --init: must be 'he', 'xavier' or a number > 0"),
        (["--val-split", "1"], "argument --val-split: must be more than 0 and less than 1"),
        (["--optimizer", "adamw"], "argument --optimizer: invalid choice"),
        (["--lr-schedule", "linear"], "argument --lr-schedule: invalid choice"),
    ],
)
def test_bad_values_are_refused_in_one_line_naming_the_option(small_mnist_dir, tmp_path, capsys,
                                                              extra, message):
    with pytest.raises(SystemExit) as info:
        main(["train", "--data-dir", str(small_mnist_dir), "--net", "mlp", "--out",
              str(tmp_path / "run"), *extra])
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.count("\n") == 1, err
    assert message in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--net", "mlp", "--epochs", "2", "--steps", "5"],
         "--steps and --epochs both set the length of the run; give one"),
        (["--init", "0.1", "--weight-init-std", "0.1"],
         "--init and --weight-init-std set the same"),
        (["--dropout", "0.5"],
         "--dropout: the two-layer network of the original post has no such setting"),
        (["--batchnorm", "--weight-decay", "0.1"], "--weight-decay, --batchnorm: the two-layer"),
        (["--activation", "tanh"], "--activation tanh: the two-layer network"),
        (["--hidden", "100,100"], "--hidden 100,100: the two-layer network has one hidden layer"),
        (["--init", "he"], "--init he: the two-layer network takes one standard deviation"),
    ],
)
def test_combinations_that_cannot_work_are_refused(small_mnist_dir, tmp_path, capsys, extra,
                                                   message):
    code, out, err = run(capsys, "train", "--data-dir", small_mnist_dir, "--out",
                         tmp_path / "run", *extra)
    assert code == 2 and out == "" and len(err.splitlines()) == 1, err
    assert err.startswith("dvzero train: error: ") and message in err
    assert not (tmp_path / "run").exists()


def test_epochs_validation_split_and_schedule(small_mnist_dir, tmp_path, capsys):
    out = tmp_path / "val"
    code, stdout, err = run(capsys, "train", "--data-dir", small_mnist_dir, *MLP, "--epochs", 2,
                            "--val-split", "0.25", "--shuffle", "--lr-schedule", "cosine",
                            "--out", out, "--seed", 3)
    assert code == 0, err
    assert "data: 1500 training, 500 validation and 500 test images of 784 pixels" in stdout
    assert re.search(r"^0  train acc, test acc, val acc \| \S+, \S+, \S+$", stdout, re.M)
    summary = summary_of(out)
    config = summary["config"]
    assert (config["train_size"], config["val_size"], config["test_size"]) == (1500, 500, 500)
    assert config["iter_per_epoch"] == 75 and config["steps"] == 150  # 1,500 / 20, shuffled
    assert config["sampling"] == "shuffle" and config["lr_schedule"] == "cosine"
    assert len(summary["val_acc_list"]) == len(summary["test_acc_list"]) == 2
    assert 0 < summary["val_acc"] <= 1


def run_process(argv: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "dvzero.cli", *argv], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_sigint_then_resume_is_bit_identical_for_adam_dropout_batchnorm(small_mnist_dir,
                                                                       tmp_path, schedule):
    argv = ["train", "--data-dir", str(small_mnist_dir), "--net", "mlp", "--hidden", "40,30",
            "--optimizer", "adam", "--dropout", "0.3", "--batchnorm", "--shuffle",
            "--lr-schedule", schedule, "--steps", "1500", "--batch-size", "20", "--seed", "8",
            "--no-progress"]
    reference = tmp_path / "reference"
    assert main([*argv, "--out", str(reference)]) == 0

    interrupted = tmp_path / "interrupted"
    process = run_process([*argv, "--out", str(interrupted)])
    for line in process.stdout:
        if line.startswith("100  train acc"):  # well into training, mid-way in an epoch
            break
    time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    _, state, _ = load_checkpoint(interrupted / "checkpoint.npz")
    assert 0 < state["next_step"] < 1500
    assert state["network_state"]["running_mean1"].shape == (40,)  # batch-norm averages
    assert "dropout_rng" in state["network_state"] and "order" in state["sampler_state"]
    assert {key.split("/")[0] for key in state["optimizer"]} == {"m", "v", "t"}
    assert main(["train", "--resume", str(interrupted), "--no-progress"]) == 0

    ours, theirs = read_params(interrupted / "params.npz"), read_params(reference / "params.npz")
    assert sorted(ours) == sorted(theirs) and "running_var2" in ours
    for key in ours:
        assert ours[key].tobytes() == theirs[key].tobytes(), key
    assert (interrupted / "metrics.csv").read_bytes() == (reference / "metrics.csv").read_bytes()


# --------------------------------------------------------------------------- experiments


@pytest.fixture(scope="module")
def experiment_data(tmp_path_factory, mnist_raw):
    x_train, t_train, x_test, t_test = mnist_raw
    return write_mnist_dir(tmp_path_factory.mktemp("experiment-data"), x_train[:1500],
                           t_train[:1500], x_test[:300], t_test[:300])


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_every_experiment_writes_its_picture_csv_and_summary(experiment_data, tmp_path, name):
    result = run_experiment(name, out=tmp_path / name, data_dir=experiment_data, quick=True)
    assert result.files == [f"{name}.png", f"{name}.csv", "summary.json"]
    assert (tmp_path / name / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(tmp_path / name / f"{name}.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    summary = summary_of(tmp_path / name)
    labels = [series["label"] for series in summary["series"]]
    assert sorted({row["series"] for row in rows}) == sorted(labels)
    assert len(labels) == {"optimizers": 6, "init": 3, "batchnorm": 2, "overfitting": 3}[name]
    assert result.lines


def test_the_experiment_command(experiment_data, tmp_path, capsys, monkeypatch):
    from dvzero.apps import experiments

    real = experiments.run_experiment
    monkeypatch.setattr(experiments, "run_experiment",
                        lambda *args, **kwargs: real(*args, **kwargs, quick=True))
    out = tmp_path / "init"
    code, stdout, err = run(capsys, "experiment", "init", "--data-dir", experiment_data, "--out",
                            out, "--no-progress")
    assert code == 0, err
    assert stdout.startswith("dvzero ") and f"wrote {out}/: init.png, init.csv" in stdout
    code, _, err = run(capsys, "experiment", "init", "--data-dir", experiment_data, "--out", out)
    assert code == 2 and "already holds a finished run" in err  # nothing is overwritten


def test_an_experiment_on_data_of_another_size_is_refused_and_leaves_nothing(tmp_path,
                                                                            mnist_raw, capsys):
    x_train, t_train, x_test, t_test = mnist_raw
    small = write_mnist_dir(tmp_path / "small", x_train[:50, :10, :10], t_train[:50],
                            x_test[:10, :10, :10], t_test[:10])
    code, out, err = run(capsys, "experiment", "optimizers", "--data-dir", small, "--out",
                         tmp_path / "exp", "--no-progress")
    assert code == 2 and "need MNIST-sized data" in err and "100 pixels" in err
    assert not (tmp_path / "exp").exists()


# --------------------------------------------------------------------------- convolutions


@pytest.mark.parametrize("net", ["cnn", "deep-cnn"])
def test_a_convolutional_run_trains_draws_its_filters_and_evaluates(experiment_data, tmp_path,
                                                                   capsys, net):
    out = tmp_path / net
    code, stdout, err = run(capsys, "train", "--net", net, "--data-dir", experiment_data,
                            "--steps", 30, "--batch-size", 20, "--seed", 3, "--out", out,
                            "--no-progress")
    assert code == 0, err
    assert "filters.png" in stdout
    assert (out / "filters.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = summary_of(out)
    config = summary["config"]
    assert config["network"] == {"cnn": "SimpleConvNet", "deep-cnn": "DeepConvNet"}[net]
    assert config["optimizer"] == "Adam" and config["lr"] == 0.001
    assert config["lr_schedule"] == "cosine" and config["train_eval_sample"] == 10000
    assert config["input_dim"] == [1, 28, 28]
    code, stdout, err = run(capsys, "evaluate", out)
    assert code == 0 and f"test acc {summary['test_acc']:.4f} (300 images" in stdout


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--net", "cnn", "--activation", "sigmoid"], "--activation sigmoid: --net cnn is the book's"),
     (["--net", "cnn", "--dropout", "0.3"], "--dropout: --net cnn is the book's network"),
     (["--net", "deep-cnn", "--batchnorm"], "--batchnorm: --net deep-cnn is the book's"),
     (["--net", "cnn", "--hidden", "100,50"], "--net cnn has one hidden affine layer")],
)
def test_settings_the_convolutional_networks_do_not_have_are_refused(small_mnist_dir, tmp_path,
                                                                     capsys, extra, message):
    code, out, err = run(capsys, "train", "--data-dir", small_mnist_dir, "--out",
                         tmp_path / "run", *extra)
    assert code == 2 and out == "" and message in err, err


def test_sigint_then_resume_is_bit_identical_for_deep_cnn(experiment_data, tmp_path):
    argv = ["train", "--net", "deep-cnn", "--data-dir", str(experiment_data), "--steps", "60",
            "--batch-size", "10", "--seed", "5", "--no-progress"]
    reference = tmp_path / "reference"
    assert main([*argv, "--out", str(reference)]) == 0
    interrupted = tmp_path / "interrupted"
    process = run_process([*argv, "--out", str(interrupted)])
    for line in process.stdout:
        if line.startswith("0  train acc"):
            break
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    if process.returncode == 0:  # the run finished first on a fast machine: nothing to resume
        pytest.skip("the run ended before the signal")
    assert process.returncode == 130, err
    assert main(["train", "--resume", str(interrupted), "--no-progress"]) == 0
    ours, theirs = read_params(interrupted / "params.npz"), read_params(reference / "params.npz")
    for key in theirs:
        assert ours[key].tobytes() == theirs[key].tobytes(), key
    assert (interrupted / "metrics.csv").read_bytes() == (reference / "metrics.csv").read_bytes()
