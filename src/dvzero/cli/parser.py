"""The options of the ``dvzero`` command and their help texts (:func:`build_parser`); the
examples and the help's layout are in :mod:`~.helptext`, the arguments' types in
:mod:`~.types`, the errors' words in :mod:`~.words`."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from pathlib import Path

from .._i18n import _
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
from .helptext import (
    DATA_FILES_HELP,
    FORCE_HELP,
    MAIN_EXAMPLES,
    TRAIN_EXAMPLES,
    HelpFormatter,
)
from .search import add_search
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
from .words import Parser, comma, listed

#: The options that define a run; ``--resume`` takes them from the checkpoint.
RUN_OPTIONS = ("net", "hidden", "activation", "init", "weight_init_std", "optimizer",
               "lr_schedule", "weight_decay", "dropout", "batchnorm", "steps", "epochs",
               "batch_size", "shuffle", "val_split", "train_eval_sample", "gradient",
               "numerical", "threads", "dtype", "seed", "data_dir", "out")


def _nets(has: Callable[[str], bool]) -> str:
    """The networks for which ``has(net)`` holds, for the help: ``mlp, cnn and deep-cnn``."""
    nets = [net for net in NETS if has(net)]
    return _("every network") if len(nets) == len(NETS) else listed(nets)


def _by_network(value_of: Callable[[str], str], nets: Iterable[str] = NETS) -> str:
    """``(default: 50 for two-layer and deep-cnn; 100 for cnn)``: ``value_of(net)`` for each
    network of ``nets``, grouped."""
    by_value: dict[str, list[str]] = {}
    for net in nets:
        by_value.setdefault(value_of(net), []).append(net)
    if len(by_value) == 1:
        return _("(default: {value})").format(value=next(iter(by_value)))
    return _("(default: {value})").format(value=_for_each(by_value))


def _for_each(nets_by_value: dict[str, list[str]]) -> str:
    """``50 for two-layer and deep-cnn; 100 for cnn``."""
    return _("; ").join(_("{value} for {networks}").format(value=value, networks=listed(nets))
                        for value, nets in nets_by_value.items())


def _default(key: str, show: Callable[[object], str] = str, nets: Iterable[str] = NETS) -> str:
    """The default of setting ``key`` for each network, from the run's own tables."""
    return _by_network(lambda net: show(NET_DEFAULTS[net].get(key, COMMON_DEFAULTS.get(key))),
                       nets)


def build_parser() -> argparse.ArgumentParser:
    """The parser of the ``dvzero`` command, its help in the user's language."""
    parser = Parser(prog="dvzero", epilog=_(MAIN_EXAMPLES), formatter_class=HelpFormatter,
                    description=_("DeepVision Zero: train and evaluate neural networks written "
                                  "from scratch in NumPy. 'The original post' is the Chinese "
                                  "blog post dvzero implements: a two-layer network that learns "
                                  "the MNIST digits. Each command has its own options: see "
                                  "dvzero COMMAND --help (e.g. dvzero train --help)."))
    parser.add_argument("--version", action="version", version=f"dvzero {__version__}",
                        help=_("show program's version number and exit"))
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for add_command in (_add_train, _add_evaluate, _add_predict, _add_plot, _add_graph,
                        _add_serve, _add_bench, _add_experiment):
        add_command(commands)
    add_search(commands, (_add_network_options, _add_training_options))
    parser.commands = commands.choices  # each command's parser, by name
    return parser


def _add_train(commands) -> None:
    train = commands.add_parser(
        "train", help=_("train the original post's two-layer network, or a deeper one, on "
                        "MNIST"),
        description=_("Train DeepVisionZeroNet with the original post's settings (784-50-10, "
                      "sigmoid, 10,000 steps of 100 random images, learning rate 0.1) unless "
                      "told otherwise, or a deeper network (--net mlp), and write a run "
                      "directory with parameters, metrics, a summary and plots."),
        epilog=_(TRAIN_EXAMPLES), formatter_class=HelpFormatter)
    _add_network_options(train.add_argument_group(_("the network")).add_argument)
    _add_training_options(train.add_argument_group(_("the training")).add_argument)
    _add_run_options(train.add_argument_group(_("the run")).add_argument)


def _add_network_options(add) -> None:
    """The options of the network; which networks take each, and its defaults, come from
    the run's tables (:mod:`dvzero.runs.config`)."""

    def widths(value) -> str:
        return ",".join(map(str, value)) if isinstance(value, list) else str(value)

    add("--net", choices=tuple(NETS), help=_("two-layer: the original post's "
        "DeepVisionZeroNet; mlp: MultiLayerNet, any number of hidden layers; cnn: "
        "SimpleConvNet; deep-cnn: DeepConvNet (default: two-layer)"))
    add("--hidden", type=hidden_sizes, metavar="SIZES", help=_(
        "hidden-layer widths: one width for {one} (for a convolutional network, that of its "
        "affine layer after the convolutions); a list such as 100,100,100,100 for {lists} "
        "{default}").format(one=_nets(lambda net: NET_SETTINGS[net][0] == "one"),
                            lists=_nets(lambda net: NET_SETTINGS[net][0] == "list"),
                            default=_default("hidden", widths)))
    activations = _("; ").join(
        _("{activation} for {networks}").format(
            activation=name, networks=_nets(lambda net, name=name: name in NET_SETTINGS[net][1]))
        for name in ACTIVATIONS)
    add("--activation", choices=tuple(ACTIVATIONS), help=_(
        "hidden-layer activation: {activations} {default}").format(
        activations=activations, default=_default("activation")))
    add("--init", type=init_option, metavar="he|xavier|STD", help=_(
        "initial weights: He (sqrt(2/inputs), for ReLU), Xavier (sqrt(1/inputs)) or a "
        "standard deviation > 0; he and xavier for {networks}, a standard deviation for every "
        "network {default}").format(networks=_nets(lambda net: NET_SETTINGS[net][2]),
                                    default=_default("weight_init_std")))
    add("--weight-init-std", type=non_negative_float, metavar="STD", help=_(
        "the original post's name for --init STD (default: as for --init)"))
    add("--optimizer", choices=tuple(OPTIMIZERS), help=_("update rule {default}").format(
        default=_default("optimizer")))
    add("--lr", type=positive_float, help=_(
        "learning rate (default: 0.1 for sgd, 0.01 for momentum, nesterov and adagrad, 0.001 "
        "for rmsprop and adam); may be given with --resume to change it for the rest of the "
        "run (with --lr-schedule, it becomes the schedule's new starting rate)"))
    add("--lr-schedule", choices=SCHEDULES, help=_(
        "constant, step (a tenth from half-way, a hundredth from three quarters) or cosine "
        "decay to 0 {default}").format(default=_default("lr_schedule")))
    add("--weight-decay", type=non_negative_float, metavar="LAMBDA", help=_(
        "L2 weight decay, for {networks} (default: 0)").format(
        networks=_nets(lambda net: net in NET_OPTIONAL["weight_decay"])))
    add("--dropout", type=share, metavar="RATIO", help=_(
        "the share of units dropped, for {networks}: after each hidden layer of mlp, in the "
        "two dropout layers of deep-cnn {default}").format(
        networks=_nets(lambda net: net in NET_OPTIONAL["dropout"]),
        default=_default("dropout", lambda value: str(value or _("none")),
                         NET_OPTIONAL["dropout"])))
    add("--batchnorm", action="store_true", default=None, help=_(
        "batch normalisation before each hidden activation, for {networks}").format(
        networks=_nets(lambda net: net in NET_OPTIONAL["batchnorm"])))


def _add_training_options(add) -> None:
    add("--steps", type=positive_count, help=_("number of gradient-descent steps (default: "
                                               "10000)"))
    add("--epochs", type=positive_count, help=_("train this many epochs instead of --steps"))
    add("--batch-size", type=positive_count, help=_("images per mini-batch, drawn at random "
                                                    "with replacement (default: 100)"))
    add("--shuffle", action="store_true", default=None, help=_(
        "epochs of shuffled mini-batches (each image once an epoch) instead of the original "
        "post's random draws"))
    add("--val-split", type=share, metavar="SHARE", help=_(
        "keep this share of the training images aside as a validation set, measured every "
        "epoch (default: none)"))
    add("--train-eval-sample", type=positive_count, metavar="N", help=_(
        "measure the training accuracy of each epoch on a fixed sample of N training images "
        "instead of all of them {default}; the final accuracy is always on all of them").format(
        default=_default("train_eval_sample", lambda value: str(value or _("all")))))
    add("--gradient", choices=GRADIENTS, help=_(
        "how gradients are computed: backpropagation through the layers; autograd, the loss "
        "built as a graph that differentiates itself; or the original post's numerical "
        "differentiation (very slow: the projected time is printed after the first step) "
        "(default: backprop)"))

    def method(name: str) -> str:
        return _nets(lambda net: name in NETS[net].numerical_methods)

    add("--numerical", choices=NUMERICALS, help=_(
        "with --gradient numerical: structured, for {structured}, computes the original "
        "post's central differences from cached activations, recomputing only what each "
        "nudge changes (a fraction of a second a step); naive, for {naive}, is the original "
        "post's loop of full forward passes (10-20 s a step) {default}").format(
        structured=method("structured"), naive=method("naive"),
        default=_by_network(lambda net: NETS[net].numerical_methods[0])))
    add("--dtype", choices=DTYPES, help=_(
        "float type of the computation (default: float32 for backprop and autograd, float64 "
        "for numerical gradients, which need the precision)"))
    add("--seed", type=seed_int, help=_(
        "random seed; the same seed gives the same run bit for bit (default: a fresh one, "
        "recorded in summary.json)"))


def _add_run_options(add) -> None:
    add("--data-dir", type=path, help=_(
        "directory with the four IDX files: {files} (default: the MNIST copy shipped with "
        "dvzero)").format(files=_(DATA_FILES_HELP)))
    add("--out", type=path, help=_(
        "run directory to write (default: runs/<timestamp>); nothing is ever overwritten: a "
        "directory holding a run or any file a run writes is refused"))
    add("--resume", type=path, metavar="RUN_DIR", help=_(
        "continue an interrupted run from its checkpoint, with its own settings (of those, "
        "only --lr may be given, e.g. after a divergence; --no-progress too); the result is "
        "bit for bit that of an uninterrupted run"))
    cores = _by_network(lambda net: _("every core") if NETS[net].splits_work else "1")
    add("--threads", type=positive_count, help=_(
        "threads the run may use {default}. two-layer measures its losses and accuracies on a "
        "second one while it trains, and cnn and deep-cnn convolve parts of each batch on "
        "them, each matrix product on one thread; mlp gives them to its matrix products. A "
        "result may round differently on another count, so --resume keeps the run's own")
        .format(default=cores))
    add("--no-progress", action="store_true", help=_(
        "no progress bar (the per-epoch lines are still printed)"))


def _add_evaluate(commands) -> None:
    evaluate = commands.add_parser(
        "evaluate", help=_("print the test accuracy of a trained network"),
        description=_("Rebuild a network from a run directory or a parameter file (.npz, or "
                      "the original post's .pkl) and print its accuracy on a test set: the "
                      "data the run was trained on, unless --data-dir names other data."),
        formatter_class=HelpFormatter)
    add = evaluate.add_argument
    add("source", type=path, metavar="RUN_DIR_OR_PARAMS",
        help=_("a run directory written by 'dvzero train', or a parameter file"))
    add("--data-dir", type=path, help=_(
        "directory with the four IDX files: {files} (default: the data the run was trained "
        "on, as its summary.json records; the shipped MNIST for a parameter file outside a "
        "run directory)").format(files=_(DATA_FILES_HELP)))


def _add_predict(commands) -> None:
    predict = commands.add_parser(
        "predict", help=_("recognise digits in your own pictures"),
        missing=_("give the model first, then the pictures: dvzero predict RUN_DIR_OR_PARAMS "
                  "IMAGE ..."),
        description=_("Read pictures of one handwritten digit each (photos or scans of "
                      "paper, drawings; PNG, JPEG, ...: any size, dark on light or light on "
                      "dark, colour or grey), make each MNIST-like (the paper's uneven light "
                      "divided out, its lines and specks dropped, the ink cropped, fitted to "
                      "20x20 and centred by its centre of mass in 28x28) and print the "
                      "network's digit and its ten probabilities."),
        formatter_class=HelpFormatter,
        epilog=_("examples:\n"
                 "  dvzero predict runs/a seven.png                a run's network on one "
                 "picture\n"
                 "  dvzero predict runs/a/params.npz *.jpg --json  many pictures, as JSON\n"))
    add = predict.add_argument
    add("model", type=path, metavar="RUN_DIR_OR_PARAMS",
        help=_("a run directory written by 'dvzero train', or a parameter file"))
    add("images", type=path, nargs="+", metavar="IMAGE",
        help=_("pictures of a handwritten digit"))
    add("--json", action="store_true", help=_(
        "print one JSON array instead: an object per picture with file, digit and "
        "probabilities"))
    add("--show", action="store_true", help=_(
        "also write, for each picture, NAME-input.png in the current directory: the 28x28 "
        "input the network saw beside its probabilities"))
    add("--force", action="store_true", help=_(
        "with --show, replace NAME-input.png files that exist (without it, they are refused)"))


def _add_plot(commands) -> None:
    plot = commands.add_parser(
        "plot", help=_("draw the pictures of a finished run again"),
        description=_("Draw the pictures of a run into its directory again, from the files "
                      "the run left: the accuracy and loss curves, the confusion matrix of the "
                      "test set, the test digits the network gets wrong, the first layer's "
                      "weights as images, and for a convolutional run its filters before and "
                      "after training."),
        formatter_class=HelpFormatter)
    plot.add_argument("run_dir", type=path, metavar="RUN_DIR",
                      help=_("a run directory written by 'dvzero train'"))
    plot.add_argument("--data-dir", type=path, help=_(
        "directory with the four IDX files: {files} (default: the data the run was trained "
        "on)").format(files=_(DATA_FILES_HELP)))
    plot.add_argument("--force", action="store_true", help=_(
        "replace the pictures the run directory already has (without it, they are refused)"))
    data = commands.add_parser(
        "data", help=_("draw sample digits of each class, with the class counts"),
        description=_("Write a picture of ten training digits of each class, each row with "
                      "the number of training images of its class."),
        formatter_class=HelpFormatter)
    data.add_argument("--data-dir", type=path, help=_(
        "directory with the four IDX files: {files} (default: the shipped MNIST)").format(
        files=_(DATA_FILES_HELP)))
    data.add_argument("--out", type=path, default=Path("digits.png"),
                      help=_("the PNG file to write (default: digits.png)"))
    data.add_argument("--force", action="store_true", help=_(FORCE_HELP))


def _add_graph(commands) -> None:
    graph = commands.add_parser(
        "graph", help=_("draw the graph that autograd walks back through: the network's loss"),
        description=_("Build the loss of a network on the first 100 training images as a "
                      "graph of autograd functions, differentiate it, and draw it: a box per "
                      "function, an oval per value with its shape, dtype and gradient's norm. "
                      "The network is the one in RUN_DIR_OR_PARAMS, or the original post's, "
                      "fresh (seed 0). Writes the picture and its Graphviz DOT text beside it; "
                      "drawing needs Graphviz's dot program."),
        formatter_class=HelpFormatter,
        epilog=_("examples:\n"
                 "  dvzero graph                            the original post's network, "
                 "fresh\n"
                 "  dvzero graph runs/a --out graph.svg     a run's network, as SVG\n"))
    add = graph.add_argument
    add("source", type=path, nargs="?", metavar="RUN_DIR_OR_PARAMS", help=_(
        "a run directory written by 'dvzero train', or a parameter file (default: a fresh "
        "network)"))
    add("--out", type=path, default=Path("graph.png"), help=_(
        "the picture to write, .png or .svg; the .dot goes beside it (default: graph.png)"))
    add("--force", action="store_true", help=_(
        "replace the picture and the .dot if they exist (without it, they are refused)"))


def _add_serve(commands) -> None:
    serve = commands.add_parser(
        "serve", help=_("a page in the browser: draw a digit, watch the network read it"),
        description=_("Serve a local web page where you draw a digit with the mouse or a "
                      "finger and see, as you draw, the ten probabilities, the 28x28 input the "
                      "network sees and its first hidden layer. A selector switches between "
                      "MODEL and the finished runs in runs/; with neither, the original post's "
                      "network is trained first. The page speaks English and Chinese. Ctrl-C "
                      "stops the server."),
        formatter_class=HelpFormatter,
        epilog=_("examples:\n"
                 "  dvzero serve                      the runs in runs/ (trains one if there "
                 "is none)\n"
                 "  dvzero serve runs/a --port 8080   runs/a first, on "
                 "http://127.0.0.1:8080/\n"))
    add = serve.add_argument
    add("model", type=path, nargs="?", metavar="RUN_DIR_OR_PARAMS", help=_(
        "the model shown first: a run directory or a parameter file (default: the newest run "
        "in runs/)"))
    add("--host", default="127.0.0.1", help=_(
        "the address to listen on (default: 127.0.0.1, this computer only; 0.0.0.0 opens the "
        "page to your whole network)"))
    add("--port", type=port_number, default=8000, help=_(
        "the port to listen on; 0 picks a free one (default: 8000)"))
    add("--no-progress", action="store_true", help=_(
        "no progress bar when a network has to be trained first"))


def _add_bench(commands) -> None:
    bench = commands.add_parser(
        "bench", help=_("measure this machine: matrix products, a step of each gradient, the "
                        "job"),
        description=_("Measure, on this machine, the speed of the matrix products of the "
                      "original post's network, one training step by backpropagation, by "
                      "autograd, by the structured numerical gradient and by the original "
                      "post's loop (timed on a part and extrapolated), and the whole original "
                      "post's job against its floor: the least time of its matrix products "
                      "alone; and the job's processor time against the least its products "
                      "take. Prints a table and writes the figures as JSON. About a minute."),
        formatter_class=HelpFormatter)
    bench.add_argument("--out", type=path, default=Path("bench.json"),
                       help=_("the JSON file to write (default: bench.json)"))
    bench.add_argument("--force", action="store_true", help=_(FORCE_HELP))


def _add_experiment(commands) -> None:
    from ..apps.experiments import EXPERIMENTS, PRESETS

    names = {**{name: about for name, (about, _run) in EXPERIMENTS.items()}, **PRESETS}
    experiments = _("; ").join(_("{name}: {about}").format(name=name, about=_(about))
                               for name, about in names.items())
    experiment = commands.add_parser(
        "experiment", help=_("run a small experiment and draw its picture"),
        description=_("Train a few networks side by side on MNIST and write a PNG and a CSV "
                      "into a run directory: {experiments}.").format(experiments=experiments),
        formatter_class=HelpFormatter)
    add = experiment.add_argument
    add("name", choices=tuple(names), metavar="NAME",
        help=_("one of {names}").format(names=comma().join(names)))
    add("--seed", type=seed_int, default=0, help=_("random seed (default: 0)"))
    add("--out", type=path, help=_(
        "run directory to write (default: runs/<timestamp>-NAME); nothing is ever overwritten"))
    add("--data-dir", type=path, help=_(
        "directory with the four IDX files (default: the MNIST copy shipped with dvzero)"))
    add("--no-progress", action="store_true", help=_("no progress bar"))
