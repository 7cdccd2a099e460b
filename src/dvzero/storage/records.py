"""Run records: the summary as JSON, the metrics as CSV (both written atomically)."""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._atomic import atomic_write


def save_json(path: str | os.PathLike[str], data: Mapping[str, Any]) -> None:
    """Write ``data`` as indented JSON (atomically). NaN and infinities become ``null``."""

    def clean(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        if isinstance(value, np.generic):
            return clean(value.item())
        return value

    with atomic_write(path, "w", encoding="utf-8") as handle:
        json.dump(clean(dict(data)), handle, indent=2, ensure_ascii=False, allow_nan=False)
        handle.write("\n")


def save_metrics_csv(path: str | os.PathLike[str], train_loss_list: Sequence[float],
                     epoch_steps: Sequence[int], train_acc_list: Sequence[float],
                     test_acc_list: Sequence[float]) -> None:
    """Write ``step,loss,epoch,train_acc,test_acc``: a row per step, accuracies on epoch rows;
    an empty ``test_acc_list`` (a training that left the test set unmeasured) leaves the
    ``test_acc`` column empty."""
    test_acc_list = test_acc_list or [""] * len(epoch_steps)
    epochs = zip(epoch_steps, train_acc_list, test_acc_list, strict=True)
    accuracies = {step: (epoch, train, test) for epoch, (step, train, test) in enumerate(epochs)}
    with atomic_write(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")  # csv's default is "\r\n"
        writer.writerow(["step", "loss", "epoch", "train_acc", "test_acc"])
        for step, loss in enumerate(train_loss_list):
            epoch, train_acc, test_acc = accuracies.get(step, ("", "", ""))
            writer.writerow([step, repr(float(loss)), epoch, train_acc, test_acc])


def read_metrics_csv(path: str | os.PathLike[str]) -> dict[str, list]:
    """Read :func:`save_metrics_csv`'s file back into the lists it was written from (an
    empty ``test_acc`` column: an empty ``test_acc_list``)."""
    history: dict[str, list] = {
        key: [] for key in ("train_loss_list", "epoch_steps", "train_acc_list", "test_acc_list")
    }
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            history["train_loss_list"].append(float(row["loss"]))
            if row["epoch"]:
                history["epoch_steps"].append(int(row["step"]))
                history["train_acc_list"].append(float(row["train_acc"]))
                if row["test_acc"]:
                    history["test_acc_list"].append(float(row["test_acc"]))
    return history
