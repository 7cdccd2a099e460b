"""``dvzero graph``: the graph of a network's loss on a batch of 100 images, drawn."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..autograd import plot_graph
from ..data import load_mnist
from ..networks import DeepVisionZeroNet, load_network
from ..runs.files import find_model

#: The batch the loss is drawn on: the first images of the training set, as many as a step of
#: the original post takes.
BATCH_SIZE = 100


@dataclass
class GraphDrawing:
    """What :func:`draw_loss_graph` drew: the network, where its parameters came from, the
    loss it computed and the files it wrote."""

    network: str
    params_file: Path | None
    loss: float
    files: list[Path]


def draw_loss_graph(out: str | os.PathLike[str], source: str | os.PathLike[str] | None = None
                    ) -> GraphDrawing:
    """Draw the graph of the loss on the first 100 training images (with their one-hot
    labels, as the original post loads them) into ``out`` (``.png`` or ``.svg``), the DOT
    text beside it (``.dot``), after ``backward`` so that each Variable shows its gradient's
    norm.

    The network is the one in ``source`` (a run directory or a parameter file), or without
    it a fresh original post's network drawn with seed 0. Raises
    :class:`~dvzero.errors.GraphvizMissing` without Graphviz, once the ``.dot`` is written.
    """
    if source is None:
        network, params_file = DeepVisionZeroNet(784, 50, 10, rng=0), None
    else:
        params_file = find_model(source).params_file
        network = load_network(params_file)
    (x_train, t_train), _ = load_mnist(normalize=True, one_hot_label=True)
    x, t = x_train[:BATCH_SIZE].astype(network.dtype), t_train[:BATCH_SIZE]
    loss, _ = network.loss_graph(x, t, train_flg=True)
    loss.backward(retain_grad=True)  # every value in between shows its gradient too
    out = Path(out)
    plot_graph(loss, out)
    return GraphDrawing(network.name, params_file, float(loss.data),
                        [out, out.with_suffix(".dot")])
