"""A network summed up: its layers with the shape each gives, its parameters with their
shapes and counts. :func:`summary_html` is what Jupyter shows for a network."""

from __future__ import annotations

from html import escape
from typing import Any

import numpy as np


def layer_shapes(network: Any) -> list[tuple[str, tuple[int, ...]]]:
    """Each layer's class name and the shape it gives one sample, ``(1, ...)``, found by
    passing zeros through a copy of the network (predicting), so that the network itself,
    its layers' caches and its running averages are left as they are."""
    twin = network.snapshot()
    x = np.zeros((1, *twin.input_shape), dtype=twin.dtype)
    shapes = []
    for layer in twin._layers:
        x = layer.forward(x, False)
        shapes.append((type(layer).__name__, x.shape))
    return shapes


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    cells = "".join(f"<th>{escape(name)}</th>" for name in header)
    lines = [f"<tr>{cells}</tr>"]
    lines += ["<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in row) + "</tr>"
              for row in rows]
    return "<table>" + "".join(lines) + "</table>"


def summary_html(network: Any) -> str:
    """An HTML summary: the class, a table of the layers in order with each one's output
    shape, and a table of the parameters (name, shape, dtype, count) with the total."""
    layers = [(i, name, shape) for i, (name, shape) in enumerate(layer_shapes(network), 1)]
    params = [(key, value.shape, value.dtype, f"{value.size:,}")
              for key, value in network.params.items()]
    total = sum(value.size for value in network.params.values())
    params.append(("total", "", "", f"{total:,}"))
    return (f"<div><strong>{escape(type(network).__name__)}</strong>, input "
            f"{escape(str(tuple(network.input_shape)))}"
            + _table(("#", "layer", "output shape"), layers)
            + _table(("parameter", "shape", "dtype", "count"), params) + "</div>")
