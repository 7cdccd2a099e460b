"""dvzero.autograd.graph: the graph as DOT text, and drawn by Graphviz."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from dvzero.autograd import Variable, plot_graph, to_dot
from dvzero.autograd import functions as F
from dvzero.errors import GraphvizMissing

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason=(
    "no Graphviz dot program: install Debian's package (apt-get install -y graphviz) to draw"))


def small_graph():
    x = Variable(np.ones((3, 2)), name="x", requires_grad=False)
    W = Variable(np.full((2, 4), 0.5), name="W")
    loss = F.sum(F.tanh(x @ W) * 2)
    loss.name = "loss"
    return loss, W


def test_dot_has_a_node_per_function_and_variable_with_shapes_dtypes_and_gradients():
    loss, W = small_graph()
    before = to_dot(loss)
    assert "grad" not in before
    loss.backward()
    dot = to_dot(loss)
    for function in ("matmul", "tanh", "mul", "sum"):
        assert f"label={function}" in dot
    assert "3×2 float64" in dot and "2×4 float64" in dot and "scalar float64" in dot
    assert f"‖grad‖ = {np.linalg.norm(W.grad.data):.3g}" in dot
    # matmul: x, W in and one out; tanh: in, out; mul: two in (one the 2), out; sum: in, out
    assert dot.count("->") == 10


def test_the_graph_of_a_second_derivative_is_drawn_too():
    x = Variable(np.array(0.5), name="x")
    F.tanh(x).backward(create_graph=True)
    gx = x.grad
    dot = to_dot(gx)
    assert "label=tanh" in dot and "label=mul" in dot  # backward built tanh' = 1 - y*y


def test_a_leaf_is_drawn_alone():
    assert to_dot(Variable(np.zeros(2), name="x")).count("label=\"x\n2 float64\"") == 1


@needs_dot
@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml")])
def test_plot_graph_writes_the_picture_and_the_dot_beside_it(tmp_path, suffix, magic):
    loss, _ = small_graph()
    loss.backward()
    path = tmp_path / f"graph{suffix}"
    graph = plot_graph(loss, path)
    assert path.read_bytes().startswith(magic)
    assert (tmp_path / "graph.dot").read_text(encoding="utf-8") == to_dot(loss)
    assert "image/svg+xml" in graph._repr_mimebundle_()  # what Jupyter shows inline


def test_plot_graph_without_a_path_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    loss, _ = small_graph()
    assert plot_graph(loss).source == to_dot(loss)
    assert list(tmp_path.iterdir()) == []


def test_plot_graph_refuses_other_formats(tmp_path):
    loss, _ = small_graph()
    with pytest.raises(ValueError, match=r"must end in \.png or \.svg, got .*graph\.pdf"):
        plot_graph(loss, tmp_path / "graph.pdf")
    assert list(tmp_path.iterdir()) == []


def test_without_dot_the_dot_file_is_written_and_the_error_says_how_to_install(tmp_path,
                                                                               monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    loss, _ = small_graph()
    with pytest.raises(GraphvizMissing, match="install Graphviz's dot program: 'apt install "
                       "graphviz'"):
        plot_graph(loss, tmp_path / "graph.png")
    assert (tmp_path / "graph.dot").read_text(encoding="utf-8") == to_dot(loss)
    assert not (tmp_path / "graph.png").exists()
