"""A run's settings: defaults for each network, checks that name the options, and the
pieces (network, optimizer) built by name.

A configuration is a plain dict (stored as JSON in checkpoints and summaries) whose keys
are the options of ``dvzero train`` (``batch_size`` is ``--batch-size``); a key that is
``None`` or missing takes the default of the network chosen with ``net``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .._i18n import _
from .._parallel import available_cores
from ..errors import UsageError
from ..layers import ACTIVATIONS
from ..networks import NETS
from ..optimizers import DEFAULT_LR, OPTIMIZERS, SCHEDULES, make_optimizer
from ..training.sampling import SAMPLINGS

GRADIENTS = ("backprop", "autograd", "numerical")
#: How numerical gradients are computed: from cached activations (the two-layer network's
#: structure), or the original post's loop of full forward passes.
NUMERICALS = ("structured", "naive")
DTYPES = ("float32", "float64")
INITS = ("he", "xavier")

#: The settings every run has, and their values unless the network says otherwise.
COMMON_DEFAULTS: dict[str, Any] = {
    "gradient": "backprop", "steps": 10000, "epochs": None, "batch_size": 100,
    "lr_schedule": "constant", "sampling": "replacement", "val_split": 0.0,
    "weight_decay": 0.0, "dropout": 0.0, "batchnorm": False, "data_dir": None,
    "lr_changes": [], "train_eval_sample": None, "numerical": None, "threads": None,
    # Not an option of 'dvzero train': a search's trials set it False and are judged on
    # their validation set, the test set left unmeasured for the best trial alone.
    "measure_test": True,
}
#: What each network uses unless told otherwise: the original post's settings for its
#: two-layer network; deeper ReLU networks trained with Adam for the others.
NET_DEFAULTS: dict[str, dict[str, Any]] = {
    "two-layer": {"hidden": 50, "activation": "sigmoid", "weight_init_std": 0.01,
                  "optimizer": "sgd"},
    "mlp": {"hidden": [100, 100, 100, 100], "activation": "relu", "weight_init_std": "he",
            "optimizer": "adam"},
    "cnn": {"hidden": 100, "activation": "relu", "weight_init_std": "he", "optimizer": "adam",
            "lr_schedule": "cosine", "train_eval_sample": 10000},
    "deep-cnn": {"hidden": 50, "activation": "relu", "weight_init_std": "he",
                 "optimizer": "adam", "lr_schedule": "cosine", "dropout": 0.5,
                 "train_eval_sample": 10000},
}
#: What each network takes of the settings in which they differ: one hidden width or a
#: list of them, its activations, and whether He and Xavier scales apply.
NET_SETTINGS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "two-layer": ("one", ("sigmoid", "relu"), False),
    "mlp": ("list", tuple(ACTIVATIONS), True),
    "cnn": ("one", ("relu",), True),
    "deep-cnn": ("one", ("relu",), True),
}
#: The settings only some networks have, and the networks that have them.
NET_OPTIONAL: dict[str, tuple[str, ...]] = {
    "weight_decay": ("mlp", "cnn", "deep-cnn"),
    "dropout": ("mlp", "deep-cnn"),
    "batchnorm": ("mlp",),
}


def option(key: str) -> str:
    """The command-line option of a setting: ``batch_size`` -> ``--batch-size``."""
    return f"--{key.replace('_', '-')}"


def resolve(given: Mapping[str, Any]) -> dict[str, Any]:
    """The complete settings of a new run: ``given`` with the gaps filled, checked. Raises
    :class:`~dvzero.errors.UsageError`, naming the options, for combinations that cannot
    work: settings a network does not have, ``--epochs`` with ``--steps``, ..."""
    net = given.get("net") or "two-layer"
    if net not in NETS:
        raise UsageError(_("--net {net}: choose from {choices}")
                         .format(net=net, choices=", ".join(NETS)))
    config = {"net": net, **COMMON_DEFAULTS, **NET_DEFAULTS[net]}
    config.update({key: value for key, value in given.items() if value is not None})
    if given.get("steps") is not None and given.get("epochs") is not None:
        raise UsageError(_("--steps and --epochs both set the length of the run; give one"))
    if given.get("epochs") is not None:
        config["steps"] = None  # known once the data is loaded
    if config["optimizer"] not in OPTIMIZERS:
        raise UsageError(_("--optimizer {optimizer!r}: choose from {choices}")
                         .format(optimizer=config["optimizer"], choices=", ".join(OPTIMIZERS)))
    config.setdefault("lr", DEFAULT_LR[config["optimizer"]])
    config.setdefault("dtype", "float64" if config["gradient"] == "numerical" else "float32")
    _resolve_numerical(config)
    if config["threads"] is None:
        config["threads"] = default_threads(net)
    if config.get("seed") is None:
        config["seed"] = int(np.random.SeedSequence().entropy % 2**32)
    _NET_CHECKS[net](config, given)
    if not 0 <= config["dropout"] < 1:
        raise UsageError(_("--dropout {dropout:g}: the share of units dropped must be more "
                           "than 0 and less than 1").format(dropout=config["dropout"]))
    if config["measure_test"] is False and not config["val_split"]:
        raise UsageError(_("a run that does not measure the test set (a search's trial) is "
                           "judged on a validation set: give --val-split more than 0"))
    for key in invalid_settings(config):
        raise UsageError(_("{option} {value!r}: not a valid value (see 'dvzero train --help')")
                         .format(option=option(key), value=config[key]))
    return config


def default_threads(net: str) -> int:
    """Every core for the networks that split their work, one BLAS thread for the others."""
    return available_cores() if NETS[net].splits_work else 1


def _resolve_numerical(config: dict[str, Any]) -> None:
    """Fill in ``numerical``, the network's first method of numerical gradients, or refuse
    it for backpropagation and for a network without that method."""
    numerical, methods = config.get("numerical"), NETS[config["net"]].numerical_methods
    if config["gradient"] != "numerical":
        if numerical is not None:
            raise UsageError(_("--numerical {method}: says how numerical gradients are "
                               "computed; add --gradient numerical").format(method=numerical))
        return
    if numerical is None:
        config["numerical"] = methods[0]
    elif numerical not in methods:
        having = [net for net, cls in NETS.items() if numerical in cls.numerical_methods]
        raise UsageError(_("--numerical {method}: only the {nets} network has one; --net {net} "
                           "takes --numerical {default}")
                         .format(method=numerical, nets=", ".join(having), net=config["net"],
                                 default=methods[0]))


def _one_hidden_width(config: dict[str, Any], message: str) -> None:
    """``hidden`` as one width, refusing a list of several with ``message``."""
    hidden = config["hidden"]
    if isinstance(hidden, list):
        if len(hidden) != 1:
            raise UsageError(_("--hidden {sizes}: {message}")
                             .format(sizes=",".join(map(str, hidden)), message=message))
        config["hidden"] = hidden[0]


def _check_two_layer(config: dict[str, Any], given: Mapping[str, Any]) -> None:
    _one_hidden_width(config, _("the two-layer network has one hidden layer; use --net mlp "
                                "for more"))
    mlp_only = _not_had(config["net"], given)
    if config["activation"] == "tanh":
        mlp_only.append("--activation tanh")
    if mlp_only:
        message = (_("{options}: the two-layer network of the original post has none of these; "
                     "use --net mlp") if len(mlp_only) > 1 else
                   _("{options}: the two-layer network of the original post has no such "
                     "setting; use --net mlp"))
        raise UsageError(message.format(options=", ".join(mlp_only)))
    if isinstance(config["weight_init_std"], str):
        named = [net for net, (_kind, _activations, named_inits) in NET_SETTINGS.items()
                 if named_inits]
        raise UsageError(_("--init {init}: the two-layer network takes one standard deviation "
                           "for all its weights (e.g. --init 0.01); He and Xavier scales are "
                           "for --net {nets} or {last}")
                         .format(init=config["weight_init_std"], nets=", ".join(named[:-1]),
                                 last=named[-1]))


def _check_mlp(config: dict[str, Any], given: Mapping[str, Any]) -> None:
    if not isinstance(config["hidden"], list):
        config["hidden"] = [config["hidden"]]


def _check_books_net(config: dict[str, Any], given: Mapping[str, Any]) -> None:
    """The book's convolutional networks: one hidden affine layer, ReLU, and dropout 0.5
    (deep-cnn) or none (cnn)."""
    net = config["net"]
    _one_hidden_width(config, _("--net {net} has one hidden affine layer; give its width, "
                                "e.g. --hidden 100").format(net=net))
    refused = [f"--activation {config['activation']}"] if config["activation"] != "relu" else []
    refused += _not_had(net, given)
    if refused:
        message = (_("{options}: --net {net} is the book's network, with ReLU and dropout 0.5; "
                     "use --net mlp to try these") if net in NET_OPTIONAL["dropout"] else
                   _("{options}: --net {net} is the book's network, with ReLU and no dropout; "
                     "use --net mlp to try these"))
        raise UsageError(message.format(options=", ".join(refused), net=net))


def _not_had(net: str, given: Mapping[str, Any]) -> list[str]:
    """The options given (and not off) of the settings ``net`` does not have."""
    return [option(key) for key, nets in NET_OPTIONAL.items() if net not in nets and given.get(key)]


#: The checks of the settings given for each network, with the advice they need.
_NET_CHECKS: dict[str, Callable[[dict[str, Any], Mapping[str, Any]], None]] = {
    "two-layer": _check_two_layer, "mlp": _check_mlp, "cnn": _check_books_net,
    "deep-cnn": _check_books_net,
}


def _is_int(value: Any, low: int = 1) -> bool:
    """Whether ``value`` is an int (not a bool) of at least ``low``."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def is_number(value: Any) -> bool:
    """Whether ``value`` is a finite int or float (not a bool) of at least 0."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and value >= 0)


#: What each setting of a checkpointed run must look like.
CONFIG_CHECKS: dict[str, Callable[[Any], bool]] = {
    "net": lambda v: v in NETS,
    "gradient": lambda v: v in GRADIENTS,
    "steps": _is_int,
    "batch_size": _is_int,
    "lr": lambda v: is_number(v) and v > 0,
    "hidden": lambda v: _is_int(v) or (isinstance(v, list) and all(map(_is_int, v))),
    "activation": lambda v: v in ACTIVATIONS,
    "weight_init_std": lambda v: is_number(v) or v in INITS,
    "dtype": lambda v: v in DTYPES,
    "seed": lambda v: _is_int(v, low=0),
    "data_dir": lambda v: v is None or isinstance(v, str),
    "optimizer": lambda v: v in OPTIMIZERS,
    "lr_schedule": lambda v: v in SCHEDULES,
    "sampling": lambda v: v in SAMPLINGS,
    "val_split": lambda v: is_number(v) and v < 1,
    "weight_decay": is_number,
    "dropout": lambda v: is_number(v) and v < 1,
    "batchnorm": lambda v: isinstance(v, bool),
    "epochs": lambda v: v is None or _is_int(v),
    "train_eval_sample": lambda v: v is None or _is_int(v),
    "numerical": lambda v: v is None or v in NUMERICALS,
    "threads": lambda v: v is None or _is_int(v),
    "measure_test": lambda v: isinstance(v, bool),
    "lr_changes": lambda v: isinstance(v, list) and all(
        isinstance(change, dict) and _is_int(change.get("step"), low=0)
        and is_number(change.get("lr")) and change["lr"] > 0 for change in v),
}


def invalid_settings(config: Mapping[str, Any]) -> list[str]:
    """The keys of ``config`` whose values a run cannot use, for its network too."""
    bad = [key for key, valid in CONFIG_CHECKS.items() if not valid(config.get(key))]
    if config.get("steps") is None and _is_int(config.get("epochs")):
        bad = [key for key in bad if key != "steps"]  # set once the data is loaded
    if config.get("net") in NETS:
        hidden, activations, named_inits = NET_SETTINGS[config["net"]]
        if not (_is_int(config.get("hidden")) if hidden == "one" else
                isinstance(config.get("hidden"), list) and config["hidden"]):
            bad.append("hidden")
        if not named_inits and not is_number(config.get("weight_init_std")):
            bad.append("weight_init_std")
        if config.get("activation") not in activations:
            bad.append("activation")
        if config.get("numerical") not in (None, *NETS[config["net"]].numerical_methods):
            bad.append("numerical")
    if config.get("measure_test") is False and not config.get("val_split"):
        bad.append("measure_test")  # nothing left to judge the run on
    return list(dict.fromkeys(bad))


#: Settings that runs of older dvzero versions did not record, and what they meant.
OLDER_RUNS = {"net": "two-layer", "optimizer": "sgd", "lr_schedule": "constant",
              "sampling": "replacement", "val_split": 0.0, "weight_decay": 0.0,
              "dropout": 0.0, "batchnorm": False, "epochs": None, "lr_changes": [],
              "train_eval_sample": None, "numerical": None, "threads": None,
              "measure_test": True}


def checked_saved(config: Any, source: str) -> dict[str, Any]:
    """The settings stored with a run (checkpoint), completed for older runs and checked;
    raises ``ValueError`` saying which setting is missing or not valid."""
    config = {**OLDER_RUNS, **config} if isinstance(config, dict) else {}
    if any(key not in config for key in CONFIG_CHECKS):
        raise ValueError(_("{source}: the run's settings are missing or incomplete")
                         .format(source=source))
    if config["gradient"] == "numerical" and config["numerical"] is None:
        config["numerical"] = "naive"  # the only numerical gradient older runs had
    for key in invalid_settings(config):
        raise ValueError(_("{source}: the run's setting {key}={value!r} is not valid; the "
                           "checkpoint was damaged or edited")
                         .format(source=source, key=key, value=config[key]))
    return config


# --------------------------------------------------------------------------- pieces


def build_network(config: Mapping[str, Any], input_shape: tuple[int, ...], output_size: int,
                  rng: np.random.Generator):
    """The network of a run, built from its settings, for inputs of ``input_shape``
    (``(channels, height, width)``; flattened for the fully connected networks)."""
    size = math.prod(input_shape)
    arguments = {
        "two-layer": {"input_size": size, "hidden_size": config["hidden"],
                      "activation": config["activation"]},
        "mlp": {"input_size": size, "hidden_size_list": config["hidden"],
                "activation": config["activation"], "use_dropout": config["dropout"] > 0,
                "dropout_ratio": config["dropout"] or 0.5, "use_batchnorm": config["batchnorm"],
                "weight_decay_lambda": config["weight_decay"]},
        "cnn": {"input_dim": input_shape, "hidden_size": config["hidden"],
                "weight_decay_lambda": config["weight_decay"]},
        "deep-cnn": {"input_dim": input_shape, "hidden_size": config["hidden"],
                     "dropout_ratio": config["dropout"],
                     "weight_decay_lambda": config["weight_decay"]},
    }[config["net"]]
    return NETS[config["net"]](**arguments, weight_init_std=config["weight_init_std"],
                               dtype=config["dtype"], output_size=output_size, rng=rng)


def build_optimizer(config: Mapping[str, Any]):
    """The optimizer of a run, built from its settings."""
    return make_optimizer(config["optimizer"], config["lr"])


# --------------------------------------------------------------------------- warnings


def check_settings(config: Mapping[str, Any], train_size: int | None = None,
                   name: Callable[[str], str] = str, refuse: bool = True) -> list[str]:
    """Warnings about settings of a run that work but surprise, one line each, judged from
    ``config``'s ``gradient``, ``dtype``, ``activation``, ``weight_init_std``, ``batch_size``
    and ``sampling`` (any may be missing). ``train_size`` (once the data is loaded) lets the
    batch size be judged too; ``name`` turns a setting's key into the name the user knows it
    by (the command line passes its option names).

    Raises :class:`~dvzero.errors.UsageError` for settings whose result would be
    meaningless, unless ``refuse`` is false: then those are returned as warnings too (a run
    begun before they were refused can still be finished).
    """
    warnings, refusals = [], []
    if config.get("gradient") == "numerical" and config.get("dtype") == "float32":
        refusals.append(_("{gradient} numerical with {dtype} float32: float32 keeps about 7 "
                          "significant digits, too few for the change a nudge of 1e-4 makes to "
                          "the loss, so the numerical gradient would be mostly rounding error "
                          "(for W1 the errors exceed the gradient itself); use float64, the "
                          "default for numerical gradients")
                        .format(gradient=name("gradient"), dtype=name("dtype")))
    if config.get("weight_init_std") == 0:
        if config.get("activation") == "relu":
            refusals.append(_("{init} 0 with {activation} relu: every hidden unit outputs 0 and "
                              "passes back no gradient, so no weight would ever change and only "
                              "the output biases would learn; use a small positive value such "
                              "as the original post's 0.01")
                            .format(init=name("weight_init_std"), activation=name("activation")))
        else:
            warnings.append(_("{init} 0: every hidden unit starts the same and gets the same "
                              "gradient, so they stay identical and the network learns as if it "
                              "had one hidden unit; the original post uses 0.01")
                            .format(init=name("weight_init_std")))
    batch_size = config.get("batch_size")
    if train_size is not None and batch_size is not None and batch_size > train_size:
        message = (_("{option} {batch_size} is larger than the {train_size} training images: "
                     "each batch is the whole training set, shuffled and every step is a whole "
                     "epoch, with the accuracies measured after each")
                   if config.get("sampling") == "shuffle" else
                   _("{option} {batch_size} is larger than the {train_size} training images: "
                     "each batch repeats images (they are drawn with replacement) and every "
                     "step is a whole epoch, with the accuracies measured after each"))
        warnings.append(message.format(option=name("batch_size"), batch_size=batch_size,
                                       train_size=train_size))
    if refusals and refuse:
        raise UsageError(refusals[0])
    return refusals + warnings
