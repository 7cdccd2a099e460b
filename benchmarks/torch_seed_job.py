"""PyTorch's side of bench_seed_job.py: the original post's whole job, as a PyTorch user
would write it.

    TORCH_PYTHON benchmarks/torch_seed_job.py DATA.npz OUT_DIR [--seed 1]

Run by bench_seed_job.py --torch-python with a Python that has PyTorch (dvzero never
imports it). DATA.npz holds the MNIST arrays dvzero ships (uint8 images, labels), written
by bench_seed_job.py, so both sides see the same bytes. The job is the original post's:
784-50-10, sigmoid, weights drawn with standard deviation 0.01 and zero biases, batches
of 100 drawn with replacement, plain gradient descent at 0.1 for 10,000 steps, the loss
measured again after each update on the same batch, both accuracies on all 70,000 images
every 600 steps, then the final accuracies. The images are made float32 once, divided by
255, as a tutorial does; PyTorch keeps its own thread count (every core). It writes the
parameters, a metrics CSV and its figures (summary.json, also printed as one JSON line)
into OUT_DIR, but no pictures.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch_data import mnist_tensors

STEPS, BATCH, LR, ITER_PER_EPOCH, CHUNK = 10000, 100, 0.1, 600, 10000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    x_train, t_train, x_test, t_test = mnist_tensors(args.data)
    torch.manual_seed(args.seed)
    params = {"W1": (0.01 * torch.randn(784, 50)).requires_grad_(),
              "b1": torch.zeros(50, requires_grad=True),
              "W2": (0.01 * torch.randn(50, 10)).requires_grad_(),
              "b2": torch.zeros(10, requires_grad=True)}
    optimizer = torch.optim.SGD(params.values(), lr=LR)

    def scores(x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(x @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"]

    def accuracy(x: torch.Tensor, t: torch.Tensor) -> float:
        with torch.no_grad():
            return sum(int((scores(x[i:i + CHUNK]).argmax(1) == t[i:i + CHUNK]).sum())
                       for i in range(0, len(x), CHUNK)) / len(x)

    generator = torch.Generator().manual_seed(args.seed)
    losses, evaluations = [], []
    start = time.perf_counter()
    for step in range(STEPS):
        rows = torch.randint(0, len(x_train), (BATCH,), generator=generator)
        x_batch, t_batch = x_train[rows], t_train[rows]
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(scores(x_batch), t_batch).backward()
        optimizer.step()
        with torch.no_grad():  # the original post's loss, after the update
            losses.append(float(torch.nn.functional.cross_entropy(scores(x_batch), t_batch)))
        if step % ITER_PER_EPOCH == 0:
            evaluations.append((step, accuracy(x_train, t_train), accuracy(x_test, t_test)))
    train_seconds = time.perf_counter() - start
    train_acc, test_acc = accuracy(x_train, t_train), accuracy(x_test, t_test)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / "params.npz", **{key: value.detach().numpy() for key, value in params.items()})
    epochs = {step: (train, test) for step, train, test in evaluations}
    with open(out / "metrics.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["step", "loss", "train_acc", "test_acc"])
        for step, loss in enumerate(losses):
            writer.writerow([step, loss, *epochs.get(step, ("", ""))])
    summary = json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                          "train_seconds": train_seconds, "train_acc": train_acc,
                          "test_acc": test_acc, "evaluations": len(evaluations)})
    (out / "summary.json").write_text(summary + "\n", encoding="utf-8")
    print(summary)


if __name__ == "__main__":
    main()
