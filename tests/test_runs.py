"""Run directories read back: evaluate on a run's own data, model lookup, settings checks."""

from __future__ import annotations

import io
import json
import re
import shutil
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from dvzero.apps.evaluate import evaluate
from dvzero.cli import main
from dvzero.errors import UsageError
from dvzero.runs import check_settings, find_model

from helpers import write_mnist_dir


def run_main(argv: list[str]) -> SimpleNamespace:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(arg) for arg in argv])
    return SimpleNamespace(code=code, out=out.getvalue(), err=err.getvalue())


def train(data_dir: Path, out: Path, *extra: str, steps: int = 600) -> SimpleNamespace:
    # On the inverted digits this reaches test accuracy 0.76-0.83 (seeds 1-5); chance is 0.1.
    result = run_main(["train", "--data-dir", data_dir, "--steps", steps, "--batch-size", 50,
                       "--lr", 0.3, "--seed", 5, "--out", out, "--no-progress", *extra])
    assert result.code == 0, result.err
    return result


def summary_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def inverted_dir(tmp_path_factory, mnist_raw):
    """A transformed copy of the small MNIST subset: every pixel inverted (255 - p)."""
    x_train, t_train, x_test, t_test = mnist_raw
    directory = tmp_path_factory.mktemp("inverted")
    return write_mnist_dir(directory, 255 - x_train[:2000], t_train[:2000],
                           255 - x_test[:500], t_test[:500])


@pytest.fixture(scope="module")
def inverted_run(tmp_path_factory, inverted_dir):
    run_dir = tmp_path_factory.mktemp("runs") / "inverted"
    train(inverted_dir, run_dir)
    return run_dir


# --------------------------------------------------------------------------- evaluate


def test_evaluate_uses_the_runs_own_data_and_names_it(inverted_run, inverted_dir):
    summary = summary_of(inverted_run)
    assert summary["test_acc"] > 0.5  # it did learn the inverted digits
    result = run_main(["evaluate", inverted_run])
    assert result.code == 0, result.err
    assert result.err == ""
    data_line, acc_line = result.out.splitlines()
    assert data_line == (f"data: 500 test images of 784 pixels ({inverted_dir.resolve()}: "
                         f"the data the run was trained on)")
    assert acc_line == f"test acc {summary['test_acc']:.4f} (500 images, {inverted_run}/params.npz)"


@pytest.mark.parametrize("name", ["params.npz", "params_two_layer.pkl"])
def test_a_parameter_file_inside_a_run_uses_the_runs_data(inverted_run, name):
    result = evaluate(inverted_run / name)
    assert result.origin == "run"
    assert result.accuracy == summary_of(inverted_run)["test_acc"]


def test_an_explicit_data_dir_wins(inverted_run, small_mnist_dir):
    result = run_main(["evaluate", inverted_run, "--data-dir", small_mnist_dir])
    assert result.code == 0, result.err
    assert f"({small_mnist_dir}: given with --data-dir)" in result.out
    on_plain = evaluate(inverted_run, data_dir=small_mnist_dir)
    assert on_plain.origin == "given"
    # Trained on inverted digits, the network is lost on plain ones: an independent check
    # that the two evaluations really used different data.
    assert on_plain.accuracy < 0.3 < summary_of(inverted_run)["test_acc"]


def test_a_lone_file_is_evaluated_on_the_shipped_mnist(inverted_run, tmp_path):
    lone = tmp_path / "lone.npz"
    shutil.copy(inverted_run / "params.npz", lone)
    result = evaluate(lone)
    assert (result.origin, result.data_dir, result.test_size) == ("default", None, 10000)
    printed = run_main(["evaluate", lone])
    assert "(MNIST, shipped with dvzero: the default; the file does not record its training "\
           "data)" in printed.out


def test_a_run_whose_data_is_gone_asks_for_data_dir(inverted_run, inverted_dir, tmp_path):
    moved_data = tmp_path / "data"
    shutil.copytree(inverted_dir, moved_data)
    run_dir = tmp_path / "run"
    shutil.copytree(inverted_run, run_dir)
    summary = summary_of(run_dir)
    summary["config"]["data_dir"] = str(tmp_path / "gone")
    (run_dir / "summary.json").write_text(json.dumps(summary))
    result = run_main(["evaluate", run_dir])
    assert result.code == 2 and "test acc" not in result.out
    assert result.err.strip() == (f"dvzero evaluate: error: {run_dir} was trained on "
                                  f"{tmp_path / 'gone'}, which is no longer there; name its "
                                  f"data with --data-dir")
    assert run_main(["evaluate", run_dir, "--data-dir", moved_data]).code == 0


def test_changed_data_is_evaluated_with_a_warning(inverted_run, inverted_dir, tmp_path,
                                                  mnist_raw):
    x_train, t_train, x_test, t_test = mnist_raw
    changed = write_mnist_dir(tmp_path / "changed", 255 - x_train[:2000], t_train[:2000],
                              255 - x_test[500:1000], t_test[500:1000])
    run_dir = tmp_path / "run"
    shutil.copytree(inverted_run, run_dir)
    summary = summary_of(run_dir)
    summary["config"]["data_dir"] = str(changed)
    (run_dir / "summary.json").write_text(json.dumps(summary))
    result = run_main(["evaluate", run_dir])
    assert result.code == 0
    assert result.err == (f"dvzero evaluate: warning: the files of {changed} have changed "
                          f"since the run was trained on them\n")


def test_data_whose_images_do_not_fit_is_refused(inverted_run, tmp_path, mnist_raw):
    x_train, t_train, x_test, t_test = mnist_raw
    small = write_mnist_dir(tmp_path / "14x14", x_train[:100, ::2, ::2], t_train[:100],
                            x_test[:50, ::2, ::2], t_test[:50])
    result = run_main(["evaluate", inverted_run, "--data-dir", small])
    assert result.code == 2 and result.out == ""
    assert len(result.err.splitlines()) == 1
    assert "the network takes 784 inputs but the test images have 196 pixels" in result.err


@pytest.mark.parametrize(
    ("summary", "reason"),
    [("{not json", "not valid JSON"), ('{"note": "mine"}', "no dvzero_version"),
     ("5", "no dvzero_version"),
     ('{"dvzero_version": "0.1.0", "config": {"data_dir": 3}}', "is not a string")],
    ids=["damaged", "not-a-run", "a-number", "bad-data-dir"],
)
def test_a_summary_that_is_not_a_runs_is_set_aside_with_a_warning(inverted_run, tmp_path,
                                                                   summary, reason):
    run_dir = tmp_path / "run"
    shutil.copytree(inverted_run, run_dir)
    (run_dir / "summary.json").write_text(summary)
    result = evaluate(run_dir)
    assert (result.origin, result.data_dir) == ("default", None)
    (warning,) = result.warnings
    assert warning.startswith(f"{run_dir / 'summary.json'} is not the summary of a dvzero run")
    assert reason in warning
    printed = run_main(["evaluate", run_dir])
    assert printed.code == 0 and printed.err == f"dvzero evaluate: warning: {warning}\n"


def test_a_relative_data_dir_is_read_from_the_run_directory(inverted_run, inverted_dir,
                                                            tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    shutil.copytree(inverted_run, run_dir)
    shutil.copytree(inverted_dir, run_dir / "data")
    summary = summary_of(run_dir)
    summary["config"]["data_dir"] = "data"
    (run_dir / "summary.json").write_text(json.dumps(summary))
    for cwd in (tmp_path, run_dir, Path("/")):
        monkeypatch.chdir(cwd)
        result = evaluate(run_dir)
        assert result.data_dir == str(run_dir / "data")
        assert result.accuracy == summary["test_acc"] and result.warnings == []


def test_find_model(inverted_run, tmp_path):
    assert find_model(inverted_run).params_file == inverted_run / "params.npz"
    assert find_model(inverted_run).run_dir == inverted_run
    seed_only = tmp_path / "seed-only"
    seed_only.mkdir()
    shutil.copy(inverted_run / "params_two_layer.pkl", seed_only)
    assert find_model(seed_only).params_file == seed_only / "params_two_layer.pkl"
    assert find_model(seed_only).run_dir is None  # no summary: a lone file
    with pytest.raises(UsageError, match="no such file or directory"):
        find_model(tmp_path / "nothing")
    with pytest.raises(UsageError, match="no params.npz or params_two_layer.pkl"):
        find_model(tmp_path)


# --------------------------------------------------------------------------- not a model


def test_an_interrupted_run_gets_the_hint_to_resume(small_mnist_dir, tmp_path):
    run_dir = tmp_path / "run"
    # --lr 1e6 diverges at once and leaves the starting checkpoint behind.
    result = run_main(["train", "--data-dir", small_mnist_dir, "--steps", 50, "--batch-size",
                       20, "--lr", "1e6", "--out", run_dir, "--no-progress"])
    assert result.code == 1 and (run_dir / "checkpoint.npz").is_file()
    for source in (run_dir, run_dir / "checkpoint.npz"):
        result = run_main(["evaluate", source])
        assert result.code != 0 and len(result.err.splitlines()) == 1, result.err
        assert f"'dvzero train --resume {run_dir}'" in result.err
    assert "an interrupted run" in run_main(["evaluate", run_dir]).err
    assert "a training checkpoint, not a parameter file" in run_main(
        ["evaluate", run_dir / "checkpoint.npz"]).err


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("x.npz", b"oOkq3+random text that is base64\n" * 8),
        ("y.pkl", b"hi. these are my notes\nnot parameters\n"),
        ("y2.pkl", b"print('hello')\n"),
        ("metrics.csv", b"step,loss,epoch,train_acc,test_acc\n0,2.30,0,0.1,0.1\n1,2.29,,,\n"),
        ("picture.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256))),
        ("empty.pkl", b""),
    ],
)
def test_files_that_are_not_parameter_files_are_called_so(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    result = run_main(["evaluate", path])
    assert result.code == 1 and result.out == ""
    assert result.err == (
        f"dvzero evaluate: error: {path}: not a dvzero parameter file: expected a .npz "
        f"written by dvzero or a .pkl written by save_params, as in the original post"
        + (" (this file is not a zip archive)" if name.endswith(".npz") else "") + "\n"
    )
    assert "refusing" not in result.err and "malicious" not in result.err


def test_a_truncated_parameter_pickle_is_called_damaged(inverted_run, tmp_path):
    data = (inverted_run / "params_two_layer.pkl").read_bytes()
    path = tmp_path / "cut.pkl"
    path.write_bytes(data[: len(data) // 2])
    result = run_main(["evaluate", path])
    assert result.code == 1 and "a damaged or truncated pickle" in result.err


# --------------------------------------------------------------------------- settings


def test_settings_of_the_original_post_raise_no_word():
    config = {"gradient": "backprop", "dtype": "float32", "activation": "sigmoid",
              "weight_init_std": 0.01, "batch_size": 100}
    assert check_settings(config, train_size=60000) == []
    assert check_settings({**config, "gradient": "numerical", "dtype": "float64"}) == []
    assert check_settings({**config, "batch_size": 60000}, train_size=60000) == []


def test_numerical_gradients_in_float32_are_refused_with_the_reason():
    config = {"gradient": "numerical", "dtype": "float32"}
    with pytest.raises(UsageError, match="7 significant digits") as info:
        check_settings(config, name=lambda key: f"--{key}")
    assert str(info.value).startswith("--gradient numerical with --dtype float32:")


def test_the_float32_numerical_gradient_really_is_meaningless(rng):
    """The reason for the refusal, measured: float32 central differences miss the gradient."""
    from dvzero import DeepVisionZeroNet

    x = rng.random((20, 30))
    t = rng.integers(0, 10, 20)
    net64 = DeepVisionZeroNet(30, 8, 10, rng=0)
    net32 = DeepVisionZeroNet(30, 8, 10, dtype=np.float32, rng=0)
    exact = net64.gradient(x, t)["W1"]
    numerical32 = net32.numerical_gradient(x.astype(np.float32), t)["W1"]
    numerical64 = net64.numerical_gradient(x, t)["W1"]
    scale = np.abs(exact).max()
    assert np.abs(numerical64 - exact).max() / scale < 1e-6
    assert np.abs(numerical32 - exact).max() / scale > 0.2


def test_zero_initial_weights_warn_with_sigmoid_and_are_refused_with_relu():
    sigmoid = {"activation": "sigmoid", "weight_init_std": 0.0}
    (warning,) = check_settings(sigmoid)
    assert "stay identical" in warning and "one hidden unit" in warning
    with pytest.raises(UsageError, match="no weight would ever change"):
        check_settings({**sigmoid, "activation": "relu"})
    (reason,) = check_settings({**sigmoid, "activation": "relu"}, refuse=False)
    assert "no weight would ever change" in reason


def test_a_batch_larger_than_the_training_set_warns():
    (warning,) = check_settings({"batch_size": 3000}, train_size=2000)
    assert warning.startswith("batch_size 3000 is larger than the 2000 training images")
    assert "with replacement" in warning
    assert check_settings({"batch_size": 3000}) == []  # the size is judged with the data


def test_the_cli_refuses_before_making_a_directory(small_mnist_dir, tmp_path):
    for extra in (["--gradient", "numerical", "--dtype", "float32"],
                  ["--weight-init-std", "0", "--activation", "relu"]):
        out = tmp_path / "run"
        result = run_main(["train", "--data-dir", small_mnist_dir, "--out", out, *extra])
        assert result.code == 2 and result.out == ""
        assert len(result.err.splitlines()) == 1 and result.err.startswith("dvzero train: error:")
        assert not out.exists()


def test_the_cli_warns_in_one_line_and_trains(small_mnist_dir, tmp_path):
    result = train(small_mnist_dir, tmp_path / "zero", "--weight-init-std", "0", steps=3)
    assert result.err.splitlines() == [
        "dvzero train: warning: " + check_settings(
            {"weight_init_std": 0}, name=lambda key: f"--{key.replace('_', '-')}")[0]]
    result = train(small_mnist_dir, tmp_path / "big", "--batch-size", "2500", steps=3)
    (line,) = result.err.splitlines()
    assert line.startswith("dvzero train: warning: --batch-size 2500 is larger than the 2000 "
                           "training images")
    assert summary_of(tmp_path / "big")["epoch_steps"] == [0, 1, 2]  # each step an epoch
    assert summary_of(tmp_path / "big")["config"]["batch_size"] == 2500


def test_a_run_begun_before_a_refusal_can_still_be_resumed(small_mnist_dir, tmp_path):
    """Refused settings in an old checkpoint: resume warns and finishes, no dead end."""
    from dvzero.storage import load_checkpoint, save_checkpoint

    run_dir = tmp_path / "old"
    result = run_main(["train", "--data-dir", small_mnist_dir, "--steps", 30, "--batch-size",
                       20, "--lr", "1e6", "--activation", "relu", "--out", run_dir,
                       "--no-progress"])
    assert result.code == 1 and (run_dir / "checkpoint.npz").is_file()
    params, state, meta = load_checkpoint(run_dir / "checkpoint.npz")
    meta["run"]["weight_init_std"] = 0.0  # as an older dvzero would have let it start
    save_checkpoint(run_dir / "checkpoint.npz", params, state, meta)
    result = run_main(["train", "--resume", run_dir, "--lr", "0.1", "--no-progress"])
    assert result.code == 0, result.err
    (line,) = result.err.splitlines()
    assert line.startswith("dvzero train: warning: --weight-init-std 0 with --activation relu:")
    assert (run_dir / "summary.json").is_file()
    assert run_main(["evaluate", run_dir]).code == 0


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"cos\nsystem\n(S'echo pwned'\ntR.", "imports os.system (it may be malicious)"),
        (b"\x8c\x02os\x8c\x06system\x93\x8c\x04echo\x85R.",
         "imports os.system (it may be malicious)"),  # STACK_GLOBAL, no protocol header
        (b"cos\nsystem\n(S'echo pwned'\nt", "imports os.system (it may be malicious)"),
        (b"Notes.", "not a dvzero parameter file"),  # parses: NONE, OBJ, ..., STOP
    ],
    ids=["protocol-0", "stack-global", "truncated", "text-that-parses"],
)
@pytest.mark.parametrize("suffix", [".pkl", ".npz"])
def test_attacks_keep_the_attack_wording_under_any_name(tmp_path, content, expected, suffix):
    path = tmp_path / f"file{suffix}"
    path.write_bytes(content)
    result = run_main(["evaluate", path])
    assert result.code == 1 and len(result.err.splitlines()) == 1
    assert expected in result.err
    assert ("refusing" in result.err) == ("malicious" in expected)


# --------------------------------------------------------------------------- settings


def test_each_network_gets_its_own_defaults():
    from dvzero.runs.config import resolve

    seed_run = resolve({"seed": 1})
    assert (seed_run["net"], seed_run["hidden"], seed_run["activation"],
            seed_run["weight_init_std"], seed_run["optimizer"], seed_run["lr"],
            seed_run["steps"], seed_run["batch_size"], seed_run["dtype"]) == \
        ("two-layer", 50, "sigmoid", 0.01, "sgd", 0.1, 10000, 100, "float32")
    mlp = resolve({"net": "mlp", "seed": 1})
    assert (mlp["hidden"], mlp["activation"], mlp["weight_init_std"], mlp["optimizer"],
            mlp["lr"]) == ([100, 100, 100, 100], "relu", "he", "adam", 0.001)
    assert resolve({"net": "mlp", "optimizer": "rmsprop"})["lr"] == 0.001
    assert resolve({"optimizer": "momentum"})["lr"] == 0.01
    assert resolve({"gradient": "numerical"})["dtype"] == "float64"
    assert resolve({"net": "mlp", "epochs": 3})["steps"] is None  # known with the data


def test_a_checkpoint_of_an_older_dvzero_still_resumes(small_mnist_dir, tmp_path):
    """Runs begun before the toolkit recorded none of its settings: they mean the seed's."""
    from dvzero.storage import load_checkpoint, save_checkpoint

    run_dir = tmp_path / "old"
    result = run_main(["train", "--data-dir", small_mnist_dir, "--steps", 30, "--batch-size",
                       20, "--lr", "1e6", "--out", run_dir, "--no-progress"])
    assert result.code == 1
    params, state, meta = load_checkpoint(run_dir / "checkpoint.npz")
    old_keys = {"gradient", "steps", "batch_size", "lr", "hidden", "activation",
                "weight_init_std", "dtype", "seed", "data_dir"}
    meta["run"] = {key: value for key, value in meta["run"].items() if key in old_keys}
    for key in ("network_state", "sampler_state"):
        state.pop(key, None)
    save_checkpoint(run_dir / "checkpoint.npz", params, state, meta)
    result = run_main(["train", "--resume", run_dir, "--lr", "0.1", "--no-progress"])
    assert result.code == 0, result.err
    config = summary_of(run_dir)["config"]
    assert (config["net"], config["optimizer"], config["lr_schedule"]) == \
        ("two-layer", "SGD", "constant")


def stopped_run(data_dir, out, *settings, stop_at=10):
    """A run of the library stopped after step ``stop_at``, as Ctrl-C would: a checkpoint."""
    from dvzero.runs import Run
    from dvzero.training import Callback

    run = Run.start({"data_dir": str(data_dir), "steps": 40, "batch_size": 20, "seed": 2,
                     **dict(settings)}, out)
    run.load_data()

    class Stop(Callback):
        def on_step_end(self, step, loss):
            if step == stop_at:
                run.request_stop()

    assert run.train([Stop()]).status == "stopped"
    return run


def test_an_older_checkpoint_without_lr_changes_finishes(small_mnist_dir, tmp_path):
    from dvzero.storage import load_checkpoint, save_checkpoint

    run_dir = tmp_path / "old"
    stopped_run(small_mnist_dir, run_dir)
    params, state, meta = load_checkpoint(run_dir / "checkpoint.npz")
    meta["run"] = {key: value for key, value in meta["run"].items()
                   if key in ("gradient", "steps", "batch_size", "lr", "hidden", "activation",
                              "weight_init_std", "dtype", "seed", "data_dir")}
    save_checkpoint(run_dir / "checkpoint.npz", params, state, meta)
    result = run_main(["train", "--resume", run_dir, "--no-progress"])  # no --lr
    assert result.code == 0, result.err
    assert summary_of(run_dir)["config"]["lr_changes"] == []


@pytest.mark.parametrize(
    ("settings", "key", "value"),
    [({}, "weight_init_std", "he"), ({}, "hidden", [50, 50]), ({}, "activation", "tanh"),
     ({"net": "mlp"}, "hidden", 16), ({"net": "mlp"}, "hidden", []), ({}, "lr_changes", 5),
     ({}, "lr_changes", [{"step": 1}]), ({}, "epochs", 0), ({}, "optimizer", "Adam"),
     ({}, "measure_test", False), ({"val_split": 0.1}, "measure_test", "no")],
)
def test_edited_settings_of_any_network_are_refused_cleanly(small_mnist_dir, tmp_path, settings,
                                                            key, value):
    from dvzero.storage import load_checkpoint, save_checkpoint

    run_dir = tmp_path / "run"
    stopped_run(small_mnist_dir, run_dir, *settings.items())
    params, state, meta = load_checkpoint(run_dir / "checkpoint.npz")
    meta["run"][key] = value
    save_checkpoint(run_dir / "checkpoint.npz", params, state, meta)
    result = run_main(["train", "--resume", run_dir, "--lr", "0.05", "--no-progress"])
    assert result.code == 1 and len(result.err.splitlines()) == 1, result.err
    assert f"the run's setting {key}={value!r} is not valid" in result.err


def test_optimizer_state_that_fits_no_parameter_is_refused(small_mnist_dir, tmp_path):
    from dvzero.storage import load_checkpoint, save_checkpoint

    run_dir = tmp_path / "run"
    stopped_run(small_mnist_dir, run_dir, ("net", "mlp"), ("hidden", [8]))
    params, state, meta = load_checkpoint(run_dir / "checkpoint.npz")
    state["optimizer"]["m/W1"] = np.zeros((3, 3), dtype=np.float32)
    save_checkpoint(run_dir / "checkpoint.npz", params, state, meta)
    result = run_main(["train", "--resume", run_dir, "--no-progress"])
    assert result.code == 1 and "the optimizer's m/W1 has shape (3, 3)" in result.err


@pytest.mark.parametrize(
    ("given", "message"),
    [({"optimizer": "Adam"}, "--optimizer 'Adam': choose from sgd"),
     ({"net": "mlp", "val_split": 1.5}, "--val-split 1.5: not a valid value"),
     ({"batch_size": 0}, "--batch-size 0: not a valid value"),
     ({"sampling": "shuffled"}, "--sampling 'shuffled': not a valid value"),
     ({"net": "mlp", "weight_init_std": "He"}, "--weight-init-std 'He': not a valid value"),
     ({"net": "resnet"}, "--net resnet: choose from two-layer, mlp, cnn, deep-cnn")],
)
def test_settings_given_to_the_library_are_checked_before_any_directory(tmp_path, given,
                                                                         message):
    from dvzero.runs import Run

    with pytest.raises(UsageError, match=re.escape(message)):
        Run.start(given, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_a_validation_split_needs_two_training_images(tmp_path, mnist_raw):
    x_train, t_train, x_test, t_test = mnist_raw
    data = write_mnist_dir(tmp_path / "one", x_train[:1], t_train[:1], x_test[:5], t_test[:5])
    result = run_main(["train", "--data-dir", data, "--val-split", "0.5", "--out",
                       tmp_path / "run", "--no-progress"])
    assert result.code == 2 and "it needs 2" in result.err
    assert not (tmp_path / "run").exists()


# --------------------------------------------------------------------------- numerical methods


@pytest.mark.parametrize("given, expected", [
    ({"gradient": "numerical"}, "structured"),
    ({"gradient": "numerical", "numerical": "naive"}, "naive"),
    ({"gradient": "numerical", "net": "mlp"}, "naive"),
    ({"gradient": "numerical", "net": "cnn"}, "naive"),
    ({}, None),
])
def test_the_numerical_method_by_network(given, expected):
    from dvzero.runs.config import resolve

    assert resolve(given)["numerical"] == expected


def test_a_numerical_run_of_an_older_version_resumes_with_the_naive_loop():
    from dvzero.runs.config import checked_saved, resolve

    older = resolve({"gradient": "numerical", "seed": 1})
    del older["numerical"]  # not recorded before the structured method existed
    assert checked_saved(older, "checkpoint.npz")["numerical"] == "naive"
    backprop = resolve({"seed": 1})
    del backprop["numerical"]
    assert checked_saved(backprop, "checkpoint.npz")["numerical"] is None
    with pytest.raises(ValueError, match="numerical='fast' is not valid"):
        checked_saved({**resolve({"seed": 1}), "numerical": "fast"}, "checkpoint.npz")


def test_an_edited_checkpoint_with_a_structured_mlp_is_refused():
    from dvzero.runs.config import checked_saved, resolve

    edited = {**resolve({"net": "mlp", "gradient": "numerical", "seed": 1}),
              "numerical": "structured"}
    with pytest.raises(ValueError, match="numerical='structured' is not valid"):
        checked_saved(edited, "checkpoint.npz")
