"""PyTorch's side of bench_cnn.py: SimpleConvNet and DeepConvNet as in the book.

    TORCH_PYTHON benchmarks/torch_cnn.py DATA.npz --net simple|deep --steps 50
    TORCH_PYTHON benchmarks/torch_cnn.py DATA.npz --net deep --epochs 12

Run by bench_cnn.py with a Python that has PyTorch (dvzero never imports it), on the MNIST
bytes dvzero loads. The same networks, He initialisation, Adam at 0.001, batches of 100
drawn with replacement, 600 steps an epoch; each epoch's test accuracy on all 10,000
images. Prints one JSON line: times per step (with the operators' shares) or per epoch.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import numpy as np
import torch

SPECS = {
    "simple": [(30, 5, 0), "pool"],
    "deep": [(16, 3, 1), (16, 3, 1), "pool", (32, 3, 1), (32, 3, 2), "pool", (64, 3, 1),
             (64, 3, 1), "pool"],
}


def network(name: str) -> torch.nn.Sequential:
    layers: list[torch.nn.Module] = []
    channels, side = 1, 28
    for spec in SPECS[name]:
        if spec == "pool":
            layers.append(torch.nn.MaxPool2d(2))
            side //= 2
            continue
        filters, size, pad = spec
        conv = torch.nn.Conv2d(channels, filters, size, padding=pad)
        layers += [conv, torch.nn.ReLU()]
        channels, side = filters, side + 2 * pad - size + 1
    hidden = 100 if name == "simple" else 50
    layers += [torch.nn.Flatten(), torch.nn.Linear(channels * side * side, hidden),
               torch.nn.ReLU()]
    if name == "deep":
        layers.append(torch.nn.Dropout(0.5))
    layers.append(torch.nn.Linear(hidden, 10))
    if name == "deep":
        layers.append(torch.nn.Dropout(0.5))
    for layer in layers:  # He initialisation and zero biases, as dvzero
        if isinstance(layer, (torch.nn.Conv2d, torch.nn.Linear)):
            fan_in = layer.weight[0].numel()
            torch.nn.init.normal_(layer.weight, std=math.sqrt(2.0 / fan_in))
            torch.nn.init.zeros_(layer.bias)
    return torch.nn.Sequential(*layers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("--net", choices=tuple(SPECS), required=True)
    parser.add_argument("--steps", type=int, default=0, help="time this many steps")
    parser.add_argument("--epochs", type=int, default=0, help="train this many epochs")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lr-schedule", choices=("constant", "cosine"), default="constant")
    args = parser.parse_args()

    arrays = np.load(args.data)
    x_train = torch.from_numpy(arrays["x_train"].reshape(-1, 1, 28, 28).astype(np.float32) / 255)
    t_train = torch.from_numpy(arrays["t_train"].astype(np.int64))
    x_test = torch.from_numpy(arrays["x_test"].reshape(-1, 1, 28, 28).astype(np.float32) / 255)
    t_test = torch.from_numpy(arrays["t_test"].astype(np.int64))
    torch.manual_seed(args.seed)
    net = network(args.net)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.001)
    loss_function = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(args.seed)

    total_steps = 600 * args.epochs
    done = [0]

    def step() -> None:
        if args.lr_schedule == "cosine" and total_steps:  # dvzero's formula, step by step
            for group in optimizer.param_groups:
                group["lr"] = 0.001 * 0.5 * (1 + math.cos(math.pi * done[0] / total_steps))
        done[0] += 1
        batch = torch.randint(0, len(x_train), (100,), generator=generator)
        optimizer.zero_grad()
        loss_function(net(x_train[batch]), t_train[batch]).backward()
        optimizer.step()

    result: dict = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    if args.steps:
        net.train()
        for _ in range(5):
            step()  # warm-up
        times = []
        for _ in range(args.steps):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        result["step_seconds"] = statistics.median(times)
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            for _ in range(10):
                step()
        ops = prof.key_averages()
        total = sum(op.self_cpu_time_total for op in ops)
        result["shares"] = sorted(((op.key, op.self_cpu_time_total / total) for op in ops),
                                  key=lambda item: -item[1])[:8]
    if args.epochs:
        done[0] = 0  # the schedule starts with the training, after any timing above
        epoch_seconds, test_acc = [], []
        for _ in range(args.epochs):
            net.train()
            start = time.perf_counter()
            for _ in range(600):
                step()
            epoch_seconds.append(time.perf_counter() - start)
            net.eval()
            with torch.no_grad():
                correct = sum(int((net(x_test[i:i + 1000]).argmax(1) == t_test[i:i + 1000]).sum())
                              for i in range(0, len(x_test), 1000))
            test_acc.append(correct / len(x_test))
        result.update(epoch_seconds=epoch_seconds, test_acc_list=test_acc)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
