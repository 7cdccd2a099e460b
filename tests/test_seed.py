"""The original post's own code, verbatim, runs on dvzero and agrees with DeepVisionZeroNet."""

import pickle
from pathlib import Path

import numpy as np
import pytest

import dvzero
from dvzero import DeepVisionZeroNet
from dvzero.networks import load_network

from helpers import max_relative_error
from seed_code import SEED_CLASS_SOURCE, SEED_PRELUDE, SEED_SCRIPT_SOURCE

SEED_POST = Path(__file__).resolve().parents[2] / "shared" / "seed" / "000_9b1280784dbd1e2d.txt"


def seed_namespace():
    namespace = {"__name__": "seed"}
    exec(SEED_PRELUDE + SEED_CLASS_SOURCE, namespace)
    return namespace


@pytest.fixture(scope="module")
def SeedNet():
    return seed_namespace()["DeepVisionZeroNet"]


@pytest.mark.skipif(
    not SEED_POST.exists(),
    reason=f"the original post is not beside this checkout; to run this test, put its text at "
    f"{SEED_POST} (the path ../shared/seed/ next to the repository)",
)
def test_quoted_code_is_verbatim():
    post = SEED_POST.read_text(encoding="utf-8")
    assert SEED_CLASS_SOURCE.rstrip() in post
    assert SEED_SCRIPT_SOURCE.rstrip() in post


def test_every_name_the_seed_uses_is_exported():
    for name in ("DeepVisionZeroNet", "load_mnist", "sigmoid", "softmax",
                 "cross_entropy_error", "numerical_gradient"):
        assert hasattr(dvzero, name), name


def test_seed_class_same_params_loss_and_accuracy(SeedNet, mnist):
    (x_train, t_train), _ = mnist
    np.random.seed(42)
    seed_net = SeedNet(input_size=784, hidden_size=50, output_size=10)
    np.random.seed(42)
    ours = DeepVisionZeroNet(input_size=784, hidden_size=50, output_size=10)
    for key in ("W1", "b1", "W2", "b2"):
        np.testing.assert_array_equal(seed_net.params[key], ours.params[key])

    x, labels = x_train[:100], t_train[:100]
    one_hot = np.eye(10)[labels]
    assert seed_net.loss(x, one_hot) == ours.loss(x, one_hot) == ours.loss(x, labels)
    assert seed_net.accuracy(x, one_hot) == ours.accuracy(x, labels)


def test_seed_numerical_gradient_matches_backprop(SeedNet, mnist):
    """The seed's 784-50-10 network: its numerical gradient against dvzero's backprop."""
    (x_train, t_train), _ = mnist
    np.random.seed(1)
    seed_net = SeedNet(input_size=784, hidden_size=50, output_size=10)
    ours = DeepVisionZeroNet(784, 50, 10)
    ours.params = {key: value.copy() for key, value in seed_net.params.items()}

    x, t = x_train[:3].astype(np.float64), np.eye(10)[t_train[:3]]
    numerical = seed_net.numerical_gradient(x, t)
    backprop = ours.gradient(x, t)
    for key in ("W1", "b1", "W2", "b2"):
        assert numerical[key].shape == seed_net.params[key].shape
        assert max_relative_error(backprop[key], numerical[key]) < 1e-6, key


def test_seed_pickles_and_ours_are_interchangeable(SeedNet, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    seed_net = SeedNet(input_size=6, hidden_size=4, output_size=3)
    seed_net.save_params()  # the seed's default file name, its own pickle.dump
    loaded = load_network("params_two_layer.pkl")
    assert (loaded.input_size, loaded.hidden_size, loaded.output_size) == (6, 4, 3)
    for key, value in seed_net.params.items():
        np.testing.assert_array_equal(loaded.params[key], value)

    ours = DeepVisionZeroNet(6, 4, 3, weight_init_std=1.0, rng=0)
    ours.save_params("ours.pkl")
    with open("ours.pkl", "rb") as handle:  # what the seed's readers would do
        raw = pickle.load(handle)
    assert set(raw) == {"W1", "b1", "W2", "b2"}
    for key, value in ours.params.items():
        np.testing.assert_array_equal(raw[key], value)


def test_seed_script_runs_on_dvzero(tmp_path, monkeypatch, capsys):
    """The seed's training script, verbatim except for fewer steps and fast gradients."""
    monkeypatch.chdir(tmp_path)
    namespace = seed_namespace()
    SeedNet = namespace["DeepVisionZeroNet"]

    class FastSeedNet(SeedNet):
        """The seed's class, with backprop standing in for the 45-second numerical step."""

        def numerical_gradient(self, x, t):
            ours = DeepVisionZeroNet(784, 50, 10)
            ours.params = self.params
            return ours.gradient(x, t)

    plotted = []

    class FakePyplot:
        def __getattr__(self, name):
            return lambda *args, **kwargs: plotted.append((name, args, kwargs))

    script = SEED_SCRIPT_SOURCE.replace("step_num = 10000", "step_num = 601")
    assert script != SEED_SCRIPT_SOURCE
    namespace.update(__name__="__main__", DeepVisionZeroNet=FastSeedNet, plt=FakePyplot())
    np.random.seed(0)
    exec(script, namespace)

    out = capsys.readouterr().out
    assert "x_train: (60000, 784)" in out and "t_train: (60000, 10)" in out
    assert "t_test: (10000, 10)" in out
    assert out.count("train acc, test acc") == 2  # steps 0 and 600
    assert "Number of steps completed: 600" in out
    assert namespace["test_acc_list"][-1] > 0.7
    assert len(namespace["train_loss_list"]) == 601
    assert Path("params_two_layer.pkl").is_file()
    assert ("ylim", (0, 1.0), {}) in plotted
    assert ("legend", (), {"loc": "lower right"}) in plotted
