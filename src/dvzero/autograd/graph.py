"""The graph drawn: a box per Function, an oval per Variable, arrows the way values flow.

:func:`to_dot` gives the graph in Graphviz's DOT language; :func:`plot_graph` renders it
with Graphviz's ``dot`` program (to a PNG or SVG file, or inline in Jupyter). A Variable
shows its name, shape and dtype, and once ``backward`` has run, its gradient's norm.
Parameters (leaves that take gradients) are orange, constants (the data, the labels) grey.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import graphviz
import numpy as np

from .._atomic import atomic_write
from .._i18n import N_, _
from ..errors import GraphvizMissing
from .core import Function, Variable

#: The picture formats :func:`plot_graph` writes, by file suffix.
FORMATS = (".png", ".svg")
INSTALL_HINT = N_("install Graphviz's dot program: 'apt install graphviz' (Debian, Ubuntu), "
                  "'brew install graphviz' (macOS), or see https://graphviz.org/download")


def _function_label(function: Function) -> str:
    """``SoftmaxCrossEntropy`` -> ``softmax_cross_entropy``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", type(function).__name__).lower()


def _variable_label(x: Variable) -> str:
    shape = "×".join(map(str, x.shape)) or "scalar"
    lines = [x.name] if x.name else []
    lines.append(f"{shape} {x.dtype}")
    if x.grad is not None:
        lines.append(f"‖grad‖ = {np.linalg.norm(x.grad.data):.3g}")
    return "\n".join(lines)


def _variable_style(x: Variable) -> dict[str, str]:
    if not x.requires_grad:
        return {"fillcolor": "lightgrey"}
    return {"fillcolor": "orange" if x.creator is None else "lightyellow"}


def build_graph(output: Variable) -> graphviz.Digraph:
    """The graph that made ``output``, as a :class:`graphviz.Digraph`: every Function and
    Variable between the leaves and ``output``, found by walking back from it."""
    graph = graphviz.Digraph(graph_attr={"rankdir": "TB"},
                             node_attr={"style": "filled", "fontname": "Helvetica"})

    def add_variable(x: Variable) -> None:
        graph.node(f"v{id(x)}", _variable_label(x), shape="ellipse", **_variable_style(x))

    add_variable(output)
    todo = [output.creator] if output.creator is not None else []
    seen = set(todo)
    while todo:
        function = todo.pop()
        graph.node(f"f{id(function)}", _function_label(function), shape="box",
                   fillcolor="lightblue")
        graph.edge(f"f{id(function)}", f"v{id(function.output())}")
        for x in function.inputs:
            add_variable(x)
            graph.edge(f"v{id(x)}", f"f{id(function)}")
            if x.creator is not None and x.creator not in seen:
                seen.add(x.creator)
                todo.append(x.creator)
    return graph


def to_dot(output: Variable) -> str:
    """The graph that made ``output`` in Graphviz's DOT language."""
    return build_graph(output).source


def plot_graph(output: Variable, path: str | os.PathLike[str] | None = None
               ) -> graphviz.Digraph:
    """Draw the graph that made ``output``.

    Returns the :class:`graphviz.Digraph`, which Jupyter shows inline. With ``path``
    (ending in ``.png`` or ``.svg``) it also writes the picture there, and the DOT text
    beside it (``graph.png`` -> ``graph.dot``). Raises :class:`~dvzero.errors.GraphvizMissing`
    (after writing the ``.dot``) if Graphviz's ``dot`` program is not installed.
    """
    graph = build_graph(output)
    if path is None:
        return graph
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ValueError(_("the picture's name must end in {suffixes}, got {path}")
                         .format(suffixes=_(" or ").join(FORMATS), path=path))
    dot_path = path.with_suffix(".dot")
    with atomic_write(dot_path, "w", encoding="utf-8") as handle:
        handle.write(graph.source)
    try:
        picture = graph.pipe(format=path.suffix[1:].lower())
    except graphviz.ExecutableNotFound:
        raise GraphvizMissing(_("wrote {dot}; to draw {path}, {hint}")
                              .format(dot=dot_path, path=path, hint=_(INSTALL_HINT))) from None
    with atomic_write(path) as handle:
        handle.write(picture)
    return graph
