"""Experiments a learner can run and look at: ``dvzero experiment NAME``.

Each trains a few small networks side by side on MNIST (subsets where that tells the story
faster) and writes ``NAME.png``, ``NAME.csv`` and ``summary.json`` into a run directory:

* ``optimizers``: the six optimizers' loss curves on the same network and batches;
* ``init``: initial weights with standard deviation 0.01, Xavier and He, as loss curves and
  as histograms of the hidden activations before training;
* ``batchnorm``: the same network with and without batch normalisation;
* ``overfitting``: 300 training images, plain, with weight decay and with dropout;
* ``search``: a random search of the learning rate and the weight decay, judged on a
  validation split (the test set is never used for it), ranked: ``dvzero search`` with
  :data:`SEARCH_PRESET`.
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import plotting, storage
from .._atomic import atomic_write
from .._i18n import N_, _
from ..data import load_mnist
from ..errors import UsageError
from ..networks import MultiLayerNet
from ..optimizers import OPTIMIZERS, SGD, make_optimizer
from ..runs.directory import prepare_run_dir, remove_if_empty
from ..runs.files import describe_data
from ..training import Callback, Trainer
from ..training.sampling import fixed_sample

#: Makes a progress callback for a series, given its label and number of steps.
ProgressFactory = Callable[[str, int], Callback]


@dataclass
class Series:
    """One trained configuration of an experiment: its label, curves and final figures."""

    label: str
    losses: list[float]
    epoch_steps: list[int]
    train_acc: list[float]
    test_acc: list[float]

    def rows(self) -> list[list[Any]]:
        """CSV rows ``label, step, loss, train_acc, test_acc``, one a step, with the
        accuracies on the steps after which they were measured (blank elsewhere)."""
        rows = [[self.label, step, repr(float(loss)), "", ""]
                for step, loss in enumerate(self.losses)]
        for i, step in enumerate(self.epoch_steps):
            rows[step][3:] = [self.train_acc[i], self.test_acc[i]]
        return rows


@dataclass
class ExperimentResult:
    """What :func:`run_experiment` wrote, and a few lines worth printing."""

    run_dir: Path
    files: list[str]
    lines: list[str]
    seconds: float


class _Data:
    """MNIST as float32 rows, with integer labels; ``scale`` shortens every training."""

    def __init__(self, data_dir: Path | None, scale: float = 1.0) -> None:
        (self.x_train, self.t_train), (self.x_test, self.t_test) = load_mnist(data_dir=data_dir)
        self.scale = scale


def _train(label: str, network: Any, optimizer: Any, x: np.ndarray, t: np.ndarray,
           data: _Data, seed: int, steps: int, progress: ProgressFactory | None,
           **options: Any) -> Series:
    """Train ``network`` on ``x, t`` for ``steps`` steps (shortened by ``data.scale``),
    measuring each set's accuracy on 2,000 of its images."""
    steps = max(int(steps * data.scale), 1)
    if "iter_per_epoch" in options:
        options["iter_per_epoch"] = max(int(options["iter_per_epoch"] * data.scale), 1)
    rng = np.random.default_rng(seed)
    # each set measured on a sample drawn once
    evaluate = {"train": fixed_sample(x, t, 2000, rng),
                "test": fixed_sample(data.x_test, data.t_test, 2000, rng)}
    trainer = Trainer(network, x, t, evaluate, step_num=steps, optimizer=optimizer, rng=rng,
                      **options)
    history = trainer.run([progress(label, steps)] if progress else [])
    return Series(label, history.train_loss_list, history.epoch_steps, history.train_acc_list,
                  history.test_acc_list)


def _mlp(seed: int, depth: int = 4, **options: Any) -> MultiLayerNet:
    return MultiLayerNet(784, [100] * depth, 10, dtype=np.float32, rng=seed, **options)


# --------------------------------------------------------------------------- experiments


def optimizers(data: _Data, seed: int, progress: ProgressFactory | None, out: Path):
    """The six optimizers, each at its usual learning rate, on the same network and batches."""
    series = [_train(f"{name} (lr {optimizer.lr:g})", _mlp(seed), optimizer, data.x_train,
                     data.t_train, data, seed, 1500, progress, iter_per_epoch=250)
              for name in OPTIMIZERS for optimizer in [make_optimizer(name)]]
    plotting.plot_loss_curves(out, series, "Six optimizers: 784-100x4-10 ReLU, batch 100")
    return series, [_("{label}: loss {loss:.3f} over the last 100 steps, test acc {acc:.4f}")
                    .format(label=s.label, loss=np.mean(s.losses[-100:]), acc=s.test_acc[-1])
                    for s in series]


def init(data: _Data, seed: int, progress: ProgressFactory | None, out: Path):
    """Initial weight scales: how far the signal gets through four ReLU layers, and learning."""
    scales = {"std 0.01": 0.01, "Xavier": "xavier", "He": "he"}
    activations = {}
    for label, scale in scales.items():
        network = _mlp(seed, weight_init_std=scale)
        x, layers = data.x_train[:1000], []
        for i in range(1, 5):  # Affine then ReLU, layer by layer
            x = np.maximum(x @ network.params[f"W{i}"] + network.params[f"b{i}"], 0)
            layers.append(x.ravel())
        activations[label] = layers
    series = [_train(label, _mlp(seed, weight_init_std=scale), SGD(0.01), data.x_train,
                     data.t_train, data, seed, 1500, progress, iter_per_epoch=250)
              for label, scale in scales.items()]
    plotting.plot_init(out, series, activations)
    return series, [_("{label:>8}: loss {loss:.3f} over the last 100 steps, test acc {acc:.4f}; "
                      "layer-4 activations: mean {mean:.3g}")
                    .format(label=s.label, loss=np.mean(s.losses[-100:]), acc=s.test_acc[-1],
                            mean=np.mean(activations[s.label][-1]))
                    for s in series]


def batchnorm(data: _Data, seed: int, progress: ProgressFactory | None, out: Path):
    """The same network and learning rate with and without batch normalisation."""
    series = [_train(label, _mlp(seed, use_batchnorm=use), SGD(0.01), data.x_train,
                     data.t_train, data, seed, 2000, progress, iter_per_epoch=100)
              for label, use in (("without batch norm", False), ("with batch norm", True))]
    plotting.plot_accuracy_curves(out, series, "Batch normalisation: 784-100x4-10 ReLU, "
                                  "SGD lr 0.01", x_label="steps")
    lines = []
    for s in series:
        step = _first_reaching(s, 0.9)
        message = (_("{label:>18}: test acc {acc:.4f} after {steps} steps, never {level}")
                   if step is None else
                   _("{label:>18}: test acc {acc:.4f} after {steps} steps, {level} first at step "
                     "{step}"))
        lines.append(message.format(label=s.label, acc=s.test_acc[-1], steps=len(s.losses),
                                    level=0.9, step=step))
    return series, lines


def _first_reaching(series: Series, level: float) -> int | None:
    """The first step measured with a test accuracy of ``level`` or more; ``None``: none."""
    for step, accuracy in zip(series.epoch_steps, series.test_acc, strict=True):
        if accuracy >= level:
            return step
    return None


def overfitting(data: _Data, seed: int, progress: ProgressFactory | None, out: Path):
    """300 training images and a deep network: train and test accuracy part ways."""
    x, t = data.x_train[:300], data.t_train[:300]
    configs = {"plain": {}, "weight decay 0.1": {"weight_decay_lambda": 0.1},
               "dropout 0.2": {"use_dropout": True, "dropout_ratio": 0.2}}
    series = [_train(label, _mlp(seed, depth=6, **options), SGD(0.01), x, t, data, seed, 900,
                     progress, sampling="shuffle") for label, options in configs.items()]
    plotting.plot_overfitting(out, series)
    return series, [_("{label:>16}: train acc {train:.4f}, test acc {test:.4f} (gap {gap:.3f})")
                    .format(label=s.label, train=s.train_acc[-1], test=s.test_acc[-1],
                            gap=s.train_acc[-1] - s.test_acc[-1])
                    for s in series]


#: ``dvzero experiment search``: a preset of ``dvzero search``, the book's random search of
#: the learning rate and the weight decay (20 trials of a two-layer-deep mlp, an epoch each,
#: judged on a validation split; the test set is used once, for the best).
SEARCH_PRESET = ("--net", "mlp", "--hidden", "100,100", "--optimizer", "sgd", "--epochs", "1",
                 "--shuffle", "--trials", "20", "--lr", "1e-3:0.3162", "--weight-decay",
                 "1e-8:1e-3")


#: The experiments by name: (what it shows, the function that runs it). What it shows is
#: English (the summary keeps it so); ``_(about)`` gives it in the user's language.
EXPERIMENTS: dict[str, tuple[str, Callable]] = {
    "optimizers": (N_("the six optimizers' loss curves"), optimizers),
    "init": (N_("std 0.01 vs Xavier vs He: loss curves and hidden activations"), init),
    "batchnorm": (N_("with and without batch normalisation"), batchnorm),
    "overfitting": (N_("300 training images, with and without weight decay or dropout"),
                    overfitting),
}
#: The experiments of another command: ``dvzero search`` with :data:`SEARCH_PRESET`.
PRESETS = {"search": N_("random search of learning rate and weight decay on a validation "
                        "split (dvzero search)")}


def run_experiment(name: str, out: Path | None = None, seed: int = 0,
                   data_dir: Path | None = None, progress: ProgressFactory | None = None,
                   quick: bool = False) -> ExperimentResult:
    """Run the experiment ``name`` into ``out`` (default ``runs/<timestamp>-NAME``).

    ``quick`` trains a tenth of the steps: a first look (and the tests' way to run them).
    """
    if name not in EXPERIMENTS:
        raise ValueError(_("unknown experiment {name!r}; choose from {choices}")
                         .format(name=name, choices=", ".join(EXPERIMENTS)))
    start = time.perf_counter()
    files = [f"{name}.png", f"{name}.csv", "summary.json"]
    data = _Data(data_dir, scale=0.1 if quick else 1.0)
    if data.x_train.shape[1] != 784 or data.x_train.shape[0] < 10:
        raise UsageError(_("experiments need MNIST-sized data (28x28 images, at least 10 for "
                           "training); {data} has {images} images of {pixels} pixels")
                         .format(data=describe_data(data_dir), images=data.x_train.shape[0],
                                 pixels=data.x_train.shape[1]))
    run_dir, created = prepare_run_dir(out, files=files, suffix=f"-{name}")
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            series, lines = EXPERIMENTS[name][1](data, seed, progress, run_dir / files[0])
    except BaseException:
        remove_if_empty(run_dir, created)  # an interrupted experiment leaves no empty directory
        raise
    with atomic_write(run_dir / files[1], "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["series", "step", "loss", "train_acc", "test_acc"])
        for one in series:
            writer.writerows(one.rows())
    storage.save_json(run_dir / files[2], {
        "experiment": name, "about": EXPERIMENTS[name][0], "seed": seed,
        "data_dir": None if data_dir is None else str(Path(data_dir).resolve()),
        "series": [{"label": s.label,
                    "final_loss": s.losses[-1] if math.isfinite(s.losses[-1]) else None,
                    "test_acc": s.test_acc[-1], "train_acc": s.train_acc[-1]} for s in series],
        "seconds": time.perf_counter() - start,
    })
    return ExperimentResult(run_dir, files, lines, time.perf_counter() - start)
