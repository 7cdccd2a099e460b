"""Networks built from layers, and the registry that rebuilds any of them from a file.

A network keeps its parameters in a ``params`` dict and offers ``predict``, ``loss``,
``accuracy``, ``gradient`` (backpropagation through :mod:`dvzero.layers`) and
``numerical_gradient`` (the original post's slow method, for checking), and ``config()``:
the constructor arguments that rebuild it. A file per family:
:mod:`~dvzero.networks.two_layer` (:class:`DeepVisionZeroNet`, the original post's),
:mod:`~dvzero.networks.multilayer` (:class:`MultiLayerNet`) and :mod:`~dvzero.networks.conv`
(:class:`SimpleConvNet`, :class:`DeepConvNet`); :mod:`~dvzero.networks.layered` is what
the last three share.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .. import storage
from ..errors import ParamsFileError
from .base import fit_params
from .conv import DeepConvNet, SimpleConvNet
from .multilayer import MultiLayerNet
from .two_layer import ACTIVATIONS, PARAM_KEYS, DeepVisionZeroNet

#: Every network class by name: the name a parameter file's header records.
NETWORKS: dict[str, type] = {"DeepVisionZeroNet": DeepVisionZeroNet,
                             "MultiLayerNet": MultiLayerNet, "SimpleConvNet": SimpleConvNet,
                             "DeepConvNet": DeepConvNet}


def build_network(name: str, config: dict[str, Any], **options: Any) -> Any:
    """The network class ``name`` built from its ``config()`` (and ``options``, e.g. ``rng``)."""
    if name not in NETWORKS:
        raise ParamsFileError(f"unknown network class {name!r}; dvzero knows "
                              f"{', '.join(NETWORKS)}")
    if not isinstance(config, dict):
        raise ParamsFileError(f"bad network configuration {config!r}")
    return NETWORKS[name](**config, **options)


def load_arrays_into(network: Any, arrays: dict[str, np.ndarray], source: str) -> None:
    """Put a file's arrays into ``network``: its ``params``, and its buffers if it has any."""
    if hasattr(network, "load_arrays"):
        network.load_arrays(arrays, source)
    else:
        network.params = fit_params(arrays, network.params, source)


def load_network(file_name: str | os.PathLike[str]) -> Any:
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
            network = build_network(header.get("network"), header.get("config", {}), rng=0)
        except ParamsFileError as exc:
            raise ParamsFileError(f"{file_name}: {exc}") from None
        except (TypeError, ValueError) as exc:  # unknown or bad arguments
            raise ParamsFileError(f"{file_name}: bad network configuration ({exc})") from exc
    else:
        if any(key not in params or params[key].ndim != 2 for key in ("W1", "W2")):
            raise ParamsFileError(
                f"{file_name}: cannot tell the network's sizes (need 2-D arrays W1 and W2)"
            )
        if sorted(params) != sorted(PARAM_KEYS):
            raise ParamsFileError(
                f"{file_name}: a .pkl file says nothing of its network, so only the original "
                f"post's two-layer network (W1, b1, W2, b2) is rebuilt from one; this file "
                f"holds {', '.join(sorted(params))}. Save other networks as .npz"
            )
        input_size, hidden_size = params["W1"].shape
        output_size = params["W2"].shape[-1]
        dtype = params["W1"].dtype
        if not np.issubdtype(dtype, np.floating):
            dtype = np.float64
        network = DeepVisionZeroNet(input_size, hidden_size, output_size, dtype=dtype, rng=0)
    load_arrays_into(network, params, str(file_name))
    return network


__all__ = ["ACTIVATIONS", "NETWORKS", "PARAM_KEYS", "DeepConvNet", "DeepVisionZeroNet",
           "MultiLayerNet", "SimpleConvNet", "build_network", "fit_params", "load_arrays_into",
           "load_network"]
