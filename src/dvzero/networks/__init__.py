"""Networks: one family, every network a :class:`~dvzero.networks.layered.LayerNet` (its
layers in a list), and the registry that builds any of them by name.

A file per family: :mod:`~dvzero.networks.two_layer` (:class:`DeepVisionZeroNet`, the
original post's), :mod:`~dvzero.networks.multilayer` (:class:`MultiLayerNet`) and
:mod:`~dvzero.networks.conv` (:class:`SimpleConvNet`, :class:`DeepConvNet`).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .. import storage
from .._i18n import _
from ..errors import ParamsFileError
from .conv import DeepConvNet, SimpleConvNet
from .layered import LayerNet, fit_params
from .multilayer import MultiLayerNet
from .two_layer import PARAM_KEYS, DeepVisionZeroNet

#: Every network by the name ``dvzero train --net`` gives it.
NETS: dict[str, type[LayerNet]] = {"two-layer": DeepVisionZeroNet, "mlp": MultiLayerNet,
                                   "cnn": SimpleConvNet, "deep-cnn": DeepConvNet}
#: Every network class by its own name: the name a parameter file's header records.
NETWORKS: dict[str, type[LayerNet]] = {cls.__name__: cls for cls in NETS.values()}


def network_from_config(name: str, config: dict[str, Any], **options: Any) -> LayerNet:
    """The network class ``name`` built from its ``config()`` (and ``options``, e.g. ``rng``)."""
    if name not in NETWORKS:
        raise ParamsFileError(_("unknown network class {name!r}; dvzero knows {known}")
                              .format(name=name, known=", ".join(NETWORKS)))
    if not isinstance(config, dict):
        raise ParamsFileError(_("bad network configuration {config!r}").format(config=config))
    return NETWORKS[name](**config, **options)


def load_network(file_name: str | os.PathLike[str]) -> LayerNet:
    """Rebuild a network from a parameter file alone.

    ``.npz`` files name their network class (see :data:`NETWORKS`) and its constructor
    arguments. The original post's ``.pkl`` files carry only arrays: a
    :class:`DeepVisionZeroNet` with the original post's sigmoid is rebuilt from the shapes
    of ``W1`` and ``W2``.
    """
    params, header = storage.load_params_file(file_name)
    if header:
        try:
            # rng=0: the weights are replaced at once; do not consume the global np.random.
            network = network_from_config(header.get("network"), header.get("config", {}), rng=0)
        except ParamsFileError as exc:
            raise ParamsFileError(_("{path}: {message}")
                                  .format(path=file_name, message=exc)) from None
        except (TypeError, ValueError) as exc:  # unknown or bad arguments
            raise ParamsFileError(_("{file}: bad network configuration ({reason})")
                                  .format(file=file_name, reason=exc)) from exc
    else:
        if any(key not in params or params[key].ndim != 2 for key in ("W1", "W2")):
            raise ParamsFileError(_("{file}: cannot tell the network's sizes (need 2-D arrays "
                                    "W1 and W2)").format(file=file_name))
        if sorted(params) != sorted(PARAM_KEYS):
            raise ParamsFileError(_(
                "{file}: a .pkl file says nothing of its network, so only the original post's "
                "two-layer network (W1, b1, W2, b2) is rebuilt from one; this file holds "
                "{keys}. Save other networks as .npz"
            ).format(file=file_name, keys=", ".join(sorted(params))))
        input_size, hidden_size = params["W1"].shape
        output_size = params["W2"].shape[-1]
        dtype = params["W1"].dtype if np.issubdtype(params["W1"].dtype, np.floating) else np.float64
        network = DeepVisionZeroNet(input_size, hidden_size, output_size, dtype=dtype, rng=0)
    network.load_arrays(params, str(file_name))
    return network


__all__ = ["NETS", "NETWORKS", "PARAM_KEYS", "DeepConvNet", "DeepVisionZeroNet", "LayerNet",
           "MultiLayerNet", "SimpleConvNet", "fit_params", "load_network", "network_from_config"]
