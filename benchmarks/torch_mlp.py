"""PyTorch's side of bench_mlp.py: the same network, data, optimizer and schedule.

    TORCH_PYTHON benchmarks/torch_mlp.py DATA.npz --epochs 20 [--lr-schedule cosine]

Run by bench_mlp.py with a Python that has PyTorch (dvzero never imports it). DATA.npz
holds the MNIST arrays dvzero loads (uint8 images, labels), written by bench_mlp.py, so
both sides see the same bytes. Prints one JSON line: accuracies per epoch and times.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import torch
from torch_data import mnist_tensors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--lr", type=float, default=0.001)
    parser.add_argument("--lr-schedule", choices=("constant", "cosine"), default="constant")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    x_train, t_train, x_test, t_test = mnist_tensors(args.data)
    torch.manual_seed(args.seed)
    sizes = [784, 100, 100, 100, 100, 10]
    layers: list[torch.nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        linear = torch.nn.Linear(fan_in, fan_out)
        torch.nn.init.normal_(linear.weight, std=math.sqrt(2.0 / fan_in))  # He, as dvzero
        torch.nn.init.zeros_(linear.bias)
        layers.append(linear)
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    network = torch.nn.Sequential(*layers)
    optimizer = torch.optim.Adam(network.parameters(), lr=args.lr)
    loss_function = torch.nn.CrossEntropyLoss()
    iter_per_epoch = round(len(x_train) / 100)
    steps = args.epochs * iter_per_epoch
    generator = torch.Generator().manual_seed(args.seed)

    def accuracy(x: torch.Tensor, t: torch.Tensor) -> float:
        with torch.no_grad():
            return sum(int((network(x[i:i + 10000]).argmax(1) == t[i:i + 10000]).sum())
                       for i in range(0, len(x), 10000)) / len(x)

    test_acc = []
    start = time.perf_counter()
    for step in range(steps):
        if args.lr_schedule == "cosine":  # the same formula as dvzero's, step by step
            for group in optimizer.param_groups:
                group["lr"] = args.lr * 0.5 * (1 + math.cos(math.pi * step / steps))
        batch = torch.randint(0, len(x_train), (100,), generator=generator)  # with replacement
        optimizer.zero_grad()
        loss = loss_function(network(x_train[batch]), t_train[batch])
        loss.backward()
        optimizer.step()
        if step % iter_per_epoch == 0:  # as dvzero: both sets, at steps 0, 600, ...
            accuracy(x_train, t_train)
            test_acc.append(accuracy(x_test, t_test))
    seconds = time.perf_counter() - start
    print(json.dumps({"test_acc": accuracy(x_test, t_test), "test_acc_list": test_acc,
                      "train_seconds": seconds, "threads": torch.get_num_threads(),
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
