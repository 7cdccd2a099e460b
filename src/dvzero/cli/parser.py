"""The options of the ``dvzero`` command: the help texts and the examples
(:func:`build_parser`); the arguments' types are in :mod:`~.types`, the errors' words in
:mod:`~.words`."""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable, Iterable
from pathlib import Path

from .._version import __version__
from ..layers import ACTIVATIONS
from ..networks import NETS
from ..optimizers import OPTIMIZERS, SCHEDULES
from ..runs.config import (
    COMMON_DEFAULTS,
    DTYPES,
    GRADIENTS,
    NET_DEFAULTS,
    NET_OPTIONAL,
    NET_SETTINGS,
    NUMERICALS,
)
from .types import (
    hidden_sizes,
    init_option,
    non_negative_float,
    path,
    port_number,
    positive_count,
    positive_float,
    seed_int,
    share,
)
from .words import Parser, listed

#: The files --data-dir expects, for the help.
DATA_FILES_HELP = ("train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
                   "t10k-labels-idx1-ubyte, plain or .gz; Kaggle's names "
                   "(train-images.idx3-ubyte, ...) work too")

MAIN_EXAMPLES = """\
examples:
  dvzero train                          train the original post's network (seconds)
  dvzero train --seed 1 --out runs/a    the same run, bit for bit, whenever seed 1 is given
  dvzero train --gradient numerical --steps 3
                                        the original post's slow method, with a time projection
  dvzero evaluate runs/a                test accuracy of a run, on the data it was trained on
  dvzero predict runs/a seven.png       the run's network on your own picture of a digit
  dvzero serve                          draw digits in the browser and watch the network read them
  dvzero bench                          how fast this machine runs the network, against its floor
  dvzero graph                          draw the graph of the network's loss (autograd)
  dvzero train --resume runs/a          continue an interrupted run
  dvzero train --net mlp --epochs 20    a deeper network, trained with Adam
  dvzero train --net cnn --epochs 20    a convolutional network (about 4 minutes on 2 cores)
  dvzero experiment optimizers          compare the six optimizers in a picture
"""

TRAIN_EXAMPLES = (
    "examples:\n"
    "  dvzero train                                   the original post's settings\n"
    "  dvzero train --hidden 100 --activation relu    a wider network with ReLU\n"
    "  dvzero train --data-dir ~/fashion-mnist        any four IDX files in MNIST's format\n"
    "  dvzero train --resume runs/a --lr 0.01         continue runs/a with a lower learning rate\n"
    "  dvzero train --net mlp --hidden 100,100,100,100 --activation relu --init he "
    "--optimizer adam --lr 0.001 --epochs 20\n"
    "                                                 four hidden layers, Adam, 20 epochs\n"
    "  dvzero train --net mlp --batchnorm --dropout 0.2 --lr-schedule cosine --epochs 20\n"
    "                                                 batch normalisation, dropout, cosine decay\n"
    "  dvzero train --net deep-cnn --epochs 12        the book's DeepConvNet (about 14 minutes)\n"
)

FORCE_HELP = "replace --out if it exists (without it, an existing file is refused)"

#: The options that define a run; ``--resume`` takes them from the checkpoint.
RUN_OPTIONS = ("net", "hidden", "activation", "init", "weight_init_std", "optimizer",
               "lr_schedule", "weight_decay", "dropout", "batchnorm", "steps", "epochs",
               "batch_size", "shuffle", "val_split", "train_eval_sample", "gradient",
               "numerical", "threads", "dtype", "seed", "data_dir", "out")


def _nets(has: Callable[[str], bool]) -> str:
    """The networks for which ``has(net)`` holds, for the help: ``mlp, cnn and deep-cnn``."""
    nets = [net for net in NETS if has(net)]
    return "every network" if len(nets) == len(NETS) else listed(nets)


def _by_network(value_of: Callable[[str], str], nets: Iterable[str] = NETS) -> str:
    """``(default: 50 for two-layer and deep-cnn; 100 for cnn)``: ``value_of(net)`` for each
    network of ``nets``, grouped."""
    by_value: dict[str, list[str]] = {}
    for net in nets:
        by_value.setdefault(value_of(net), []).append(net)
    if len(by_value) == 1:
        return f"(default: {next(iter(by_value))})"
    return "(default: " + "; ".join(f"{value} for {listed(names)}"
                                    for value, names in by_value.items()) + ")"


def _default(key: str, show: Callable[[object], str] = str, nets: Iterable[str] = NETS) -> str:
    """The default of setting ``key`` for each network, from the run's own tables."""
    return _by_network(lambda net: show(NET_DEFAULTS[net].get(key, COMMON_DEFAULTS.get(key))),
                       nets)


class _HelpFormatter(argparse.HelpFormatter):
    """Wraps at spaces only, so file names stay whole, and keeps the examples' layout."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("examples:"):
            return text
        return textwrap.fill(" ".join(text.split()), width, initial_indent=indent,
                             subsequent_indent=indent, break_on_hyphens=False)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="dvzero", epilog=MAIN_EXAMPLES, formatter_class=_HelpFormatter,
                    description="DeepVision Zero: train and evaluate neural networks written "
                    "from scratch in NumPy. 'The original post' is the Chinese blog post dvzero "
                    "implements: a two-layer network that learns the MNIST digits. Each "
                    "command has its own options: see dvzero COMMAND --help (e.g. dvzero "
                    "train --help).")
    parser.add_argument("--version", action="version", version=f"dvzero {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for add_command in (_add_train, _add_evaluate, _add_predict, _add_plot, _add_graph,
                        _add_serve, _add_bench, _add_experiment):
        add_command(commands)
    parser.commands = commands.choices  # each command's parser, by name
    return parser


def _add_train(commands) -> None:
    train = commands.add_parser(
        "train", help="train the original post's two-layer network, or a deeper one, on MNIST",
        description="Train DeepVisionZeroNet with the original post's settings (784-50-10, "
        "sigmoid, 10,000 steps of 100 random images, learning rate 0.1) unless told "
        "otherwise, or a deeper network (--net mlp), and write a run directory with "
        "parameters, metrics, a summary and plots.",
        epilog=TRAIN_EXAMPLES, formatter_class=_HelpFormatter)
    _add_network_options(train.add_argument_group("the network").add_argument)
    _add_training_options(train.add_argument_group("the training").add_argument)
    _add_run_options(train.add_argument_group("the run").add_argument)


def _add_network_options(add) -> None:
    """The options of the network; which networks take each, and its defaults, come from
    the run's tables (:mod:`dvzero.runs.config`)."""

    def widths(value) -> str:
        return ",".join(map(str, value)) if isinstance(value, list) else str(value)

    add("--net", choices=tuple(NETS), help="two-layer: the original post's DeepVisionZeroNet; "
        "mlp: MultiLayerNet, any number of hidden layers; cnn: SimpleConvNet; deep-cnn: "
        "DeepConvNet (default: two-layer)")
    add("--hidden", type=hidden_sizes, metavar="SIZES", help="hidden-layer widths: one width "
        f"for {_nets(lambda net: NET_SETTINGS[net][0] == 'one')} (for a convolutional "
        "network, that of its affine layer after the convolutions); a list such as "
        f"100,100,100,100 for {_nets(lambda net: NET_SETTINGS[net][0] == 'list')} "
        f"{_default('hidden', widths)}")
    add("--activation", choices=tuple(ACTIVATIONS), help="hidden-layer activation: " + "; ".join(
        f"{name} for {_nets(lambda net, name=name: name in NET_SETTINGS[net][1])}"
        for name in ACTIVATIONS) + f" {_default('activation')}")
    add("--init", type=init_option, metavar="he|xavier|STD", help="initial weights: He "
        "(sqrt(2/inputs), for ReLU), Xavier (sqrt(1/inputs)) or a standard deviation > 0; he "
        f"and xavier for {_nets(lambda net: NET_SETTINGS[net][2])}, a standard deviation for "
        f"every network {_default('weight_init_std')}")
    add("--weight-init-std", type=non_negative_float, metavar="STD", help="the original "
        "post's name for --init STD (default: as for --init)")
    add("--optimizer", choices=tuple(OPTIMIZERS), help=f"update rule {_default('optimizer')}")
    add("--lr", type=positive_float, help="learning rate (default: 0.1 for sgd, 0.01 for "
        "momentum, nesterov and adagrad, 0.001 for rmsprop and adam); may be given with "
        "--resume to change it for the rest of the run (with --lr-schedule, it becomes the "
        "schedule's new starting rate)")
    add("--lr-schedule", choices=SCHEDULES, help="constant, step (a tenth from half-way, a "
        "hundredth from three quarters) or cosine decay to 0 "
        f"{_default('lr_schedule')}")
    add("--weight-decay", type=non_negative_float, metavar="LAMBDA", help="L2 weight decay, "
        f"for {_nets(lambda net: net in NET_OPTIONAL['weight_decay'])} (default: 0)")
    add("--dropout", type=share, metavar="RATIO", help="the share of units dropped, for "
        f"{_nets(lambda net: net in NET_OPTIONAL['dropout'])}: after each hidden layer of "
        "mlp, in the two dropout layers of deep-cnn "
        f"{_default('dropout', lambda value: str(value or 'none'), NET_OPTIONAL['dropout'])}")
    add("--batchnorm", action="store_true", default=None, help="batch normalisation before "
        f"each hidden activation, for {_nets(lambda net: net in NET_OPTIONAL['batchnorm'])}")


def _add_training_options(add) -> None:
    add("--steps", type=positive_count, help="number of gradient-descent steps (default: 10000)")
    add("--epochs", type=positive_count, help="train this many epochs instead of --steps")
    add("--batch-size", type=positive_count, help="images per mini-batch, drawn at random with "
        "replacement (default: 100)")
    add("--shuffle", action="store_true", default=None, help="epochs of shuffled mini-batches "
        "(each image once an epoch) instead of the original post's random draws")
    add("--val-split", type=share, metavar="SHARE", help="keep this share of the training "
        "images aside as a validation set, measured every epoch (default: none)")
    add("--train-eval-sample", type=positive_count, metavar="N", help="measure the training "
        "accuracy of each epoch on a fixed sample of N training images instead of all of them "
        f"{_default('train_eval_sample', lambda value: str(value or 'all'))}; the final "
        "accuracy is always on all of them")
    add("--gradient", choices=GRADIENTS, help="how gradients are computed: backpropagation "
        "through the layers; autograd, the loss built as a graph that differentiates itself; "
        "or the original post's numerical differentiation (very slow: the projected time is "
        "printed after the first step) (default: backprop)")

    def method(name: str) -> str:
        return _nets(lambda net: name in NETS[net].numerical_methods)

    add("--numerical", choices=NUMERICALS, help="with --gradient numerical: structured, for "
        f"{method('structured')}, computes the original post's central differences from "
        "cached activations, recomputing only what each nudge changes (a fraction of a second "
        f"a step); naive, for {method('naive')}, is the original post's loop of full forward "
        "passes (10-20 s a step) "
        f"{_by_network(lambda net: NETS[net].numerical_methods[0])}")
    add("--dtype", choices=DTYPES, help="float type of the computation (default: float32 for "
        "backprop and autograd, float64 for numerical gradients, which need the precision)")
    add("--seed", type=seed_int, help="random seed; the same seed gives the same run bit for "
        "bit (default: a fresh one, recorded in summary.json)")


def _add_run_options(add) -> None:
    add("--data-dir", type=path, help=f"directory with the four IDX files: {DATA_FILES_HELP} "
        "(default: the MNIST copy shipped with dvzero)")
    add("--out", type=path, help="run directory to write (default: runs/<timestamp>); nothing "
        "is ever overwritten: a directory holding a run or any file a run writes is refused")
    add("--resume", type=path, metavar="RUN_DIR", help="continue an interrupted run from its "
        "checkpoint, with its own settings (of those, only --lr may be given, e.g. after a "
        "divergence; --no-progress too); "
        "the result is bit for bit that of an uninterrupted run")
    cores = _by_network(lambda net: "every core" if NETS[net].splits_work else "1")
    add("--threads", type=positive_count, help=f"threads the run may use {cores}. two-layer "
        "measures its losses and accuracies on a second one while it trains, and cnn and "
        "deep-cnn convolve parts of each batch on them, each matrix product on one thread; mlp "
        "gives them to its matrix products. A result may round differently on another count, "
        "so --resume keeps the run's own")
    add("--no-progress", action="store_true", help="no progress bar (the per-epoch lines are "
        "still printed)")


def _add_evaluate(commands) -> None:
    evaluate = commands.add_parser(
        "evaluate", help="print the test accuracy of a trained network",
        description="Rebuild a network from a run directory or a parameter file (.npz, or the "
        "original post's .pkl) and print its accuracy on a test set: the data the run was "
        "trained on, unless --data-dir names other data.", formatter_class=_HelpFormatter)
    add = evaluate.add_argument
    add("source", type=path, metavar="RUN_DIR_OR_PARAMS",
        help="a run directory written by 'dvzero train', or a parameter file")
    add("--data-dir", type=path, help=f"directory with the four IDX files: {DATA_FILES_HELP} "
        "(default: the data the run was trained on, as its summary.json records; the shipped "
        "MNIST for a parameter file outside a run directory)")


def _add_predict(commands) -> None:
    predict = commands.add_parser(
        "predict", help="recognise digits in your own pictures",
        missing="give the model first, then the pictures: dvzero predict RUN_DIR_OR_PARAMS "
        "IMAGE ...",
        description="Read pictures of one handwritten digit each (photos or scans of paper, "
        "drawings; PNG, JPEG, ...: any size, dark on light or light on dark, colour or "
        "grey), make each MNIST-like (the paper's uneven light divided out, its lines and "
        "specks dropped, the ink cropped, fitted to 20x20 and centred by its centre of mass "
        "in 28x28) and print the network's digit and its ten probabilities.",
        formatter_class=_HelpFormatter,
        epilog="examples:\n"
        "  dvzero predict runs/a seven.png                a run's network on one picture\n"
        "  dvzero predict runs/a/params.npz *.jpg --json  many pictures, as JSON\n")
    add = predict.add_argument
    add("model", type=path, metavar="RUN_DIR_OR_PARAMS",
        help="a run directory written by 'dvzero train', or a parameter file")
    add("images", type=path, nargs="+", metavar="IMAGE", help="pictures of a handwritten digit")
    add("--json", action="store_true", help="print one JSON array instead: an object per "
        "picture with file, digit and probabilities")
    add("--show", action="store_true", help="also write, for each picture, NAME-input.png in "
        "the current directory: the 28x28 input the network saw beside its probabilities")
    add("--force", action="store_true", help="with --show, replace NAME-input.png files that "
        "exist (without it, they are refused)")


def _add_plot(commands) -> None:
    plot = commands.add_parser(
        "plot", help="draw the pictures of a finished run again",
        description="Draw the pictures of a run into its directory again, from the files the "
        "run left: the accuracy and loss curves, the confusion matrix of the test set, the "
        "test digits the network gets wrong, the first layer's weights as images, and for "
        "a convolutional run its filters before and after training.",
        formatter_class=_HelpFormatter)
    plot.add_argument("run_dir", type=path, metavar="RUN_DIR",
                      help="a run directory written by 'dvzero train'")
    plot.add_argument("--data-dir", type=path, help=f"directory with the four IDX files: "
                      f"{DATA_FILES_HELP} (default: the data the run was trained on)")
    plot.add_argument("--force", action="store_true", help="replace the pictures the run "
                      "directory already has (without it, they are refused)")
    data = commands.add_parser(
        "data", help="draw sample digits of each class, with the class counts",
        description="Write a picture of ten training digits of each class, each row with "
        "the number of training images of its class.", formatter_class=_HelpFormatter)
    data.add_argument("--data-dir", type=path, help=f"directory with the four IDX files: "
                      f"{DATA_FILES_HELP} (default: the shipped MNIST)")
    data.add_argument("--out", type=path, default=Path("digits.png"),
                      help="the PNG file to write (default: digits.png)")
    data.add_argument("--force", action="store_true", help=FORCE_HELP)


def _add_graph(commands) -> None:
    graph = commands.add_parser(
        "graph", help="draw the graph that autograd walks back through: the network's loss",
        description="Build the loss of a network on the first 100 training images as a graph "
        "of autograd functions, differentiate it, and draw it: a box per function, an oval "
        "per value with its shape, dtype and gradient's norm. The network is the one in "
        "RUN_DIR_OR_PARAMS, or the original post's, fresh (seed 0). Writes the picture and "
        "its Graphviz DOT text beside it; drawing needs Graphviz's dot program.",
        formatter_class=_HelpFormatter, epilog="examples:\n"
        "  dvzero graph                            the original post's network, fresh\n"
        "  dvzero graph runs/a --out graph.svg     a run's network, as SVG\n")
    add = graph.add_argument
    add("source", type=path, nargs="?", metavar="RUN_DIR_OR_PARAMS", help="a run directory "
        "written by 'dvzero train', or a parameter file (default: a fresh network)")
    add("--out", type=path, default=Path("graph.png"), help="the picture to write, .png or "
        ".svg; the .dot goes beside it (default: graph.png)")
    add("--force", action="store_true", help="replace the picture and the .dot if they exist "
        "(without it, they are refused)")


def _add_serve(commands) -> None:
    serve = commands.add_parser(
        "serve", help="a page in the browser: draw a digit, watch the network read it",
        description="Serve a local web page where you draw a digit with the mouse or a finger "
        "and see, as you draw, the ten probabilities, the 28x28 input the network sees and "
        "its first hidden layer. A selector switches between MODEL and the finished runs in "
        "runs/; with neither, the original post's network is trained first. The page speaks "
        "English and Chinese. Ctrl-C stops the server.", formatter_class=_HelpFormatter,
        epilog="examples:\n"
        "  dvzero serve                      the runs in runs/ (trains one if there is none)\n"
        "  dvzero serve runs/a --port 8080   runs/a first, on http://127.0.0.1:8080/\n")
    add = serve.add_argument
    add("model", type=path, nargs="?", metavar="RUN_DIR_OR_PARAMS", help="the model shown "
        "first: a run directory or a parameter file (default: the newest run in runs/)")
    add("--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1, "
        "this computer only; 0.0.0.0 opens the page to your whole network)")
    add("--port", type=port_number, default=8000, help="the port to listen on; 0 picks a free "
        "one (default: 8000)")
    add("--no-progress", action="store_true", help="no progress bar when a network has to be "
        "trained first")


def _add_bench(commands) -> None:
    bench = commands.add_parser(
        "bench", help="measure this machine: matrix products, a step of each gradient, the job",
        description="Measure, on this machine, the speed of the matrix products of the "
        "original post's network, one training step by backpropagation, by autograd, by the "
        "structured numerical gradient and by the original post's loop (timed on a part and "
        "extrapolated), and the whole original post's job against its floor: the least time of "
        "its matrix products alone; and the job's processor time against the least its "
        "products take. Prints a table and writes the figures as JSON. About a minute.",
        formatter_class=_HelpFormatter)
    bench.add_argument("--out", type=path, default=Path("bench.json"),
                       help="the JSON file to write (default: bench.json)")
    bench.add_argument("--force", action="store_true", help=FORCE_HELP)


def _add_experiment(commands) -> None:
    from ..apps.experiments import EXPERIMENTS

    experiment = commands.add_parser(
        "experiment", help="run a small experiment and draw its picture",
        description="Train a few networks side by side on MNIST and write a PNG and a CSV "
        "into a run directory: " + "; ".join(f"{name}: {about}" for name, (about, _)
                                             in EXPERIMENTS.items()) + ".",
        formatter_class=_HelpFormatter)
    add = experiment.add_argument
    add("name", choices=tuple(EXPERIMENTS), metavar="NAME", help=f"one of {', '.join(EXPERIMENTS)}")
    add("--seed", type=seed_int, default=0, help="random seed (default: 0)")
    add("--out", type=path, help="run directory to write (default: runs/<timestamp>-NAME); "
        "nothing is ever overwritten")
    add("--data-dir", type=path, help="directory with the four IDX files (default: the MNIST "
        "copy shipped with dvzero)")
    add("--no-progress", action="store_true", help="no progress bar")
