"""dvzero at home in Jupyter: the rich displays (a network's summary, a history's curves, a
Variable's graph), the live plot of a training, and progress bars from tqdm.auto."""

import shutil
import sys
import types

import numpy as np
import pytest
import tqdm.auto
import tqdm.std

import dvzero
from dvzero import DeepVisionZeroNet, History, LivePlot, SimpleConvNet, Trainer
from dvzero.autograd import Variable
from dvzero.cli.progress import bar_class, progress

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def tiny_data(rng, n=60, d=6, classes=3):
    x = rng.random((n, d))
    t = rng.integers(0, classes, size=n)
    return x, t, x[:15], t[:15]


def short_trainer(rng, step_num=30):
    x, t, x_test, t_test = tiny_data(rng)
    return Trainer(DeepVisionZeroNet(6, 5, 3, rng=0), x, t, {"test": (x_test, t_test)},
                   step_num=step_num, batch_size=10, iter_per_epoch=10, rng=0)


# --------------------------------------------------------------------------- networks


@pytest.mark.parametrize("network, total, last_shape", [
    (DeepVisionZeroNet(784, 50, 10, rng=0), 784 * 50 + 50 + 50 * 10 + 10, (1, 10)),
    # conv 30 filters 5x5: 24x24, pooled to 12x12; then 100 and 10 units
    (SimpleConvNet(rng=0), 30 * 25 + 30 + 30 * 12 * 12 * 100 + 100 + 100 * 10 + 10, (1, 10)),
])
def test_a_networks_html_names_every_parameter_with_its_shape_and_the_total(
        network, total, last_shape):
    before = {key: value.copy() for key, value in network.params.items()}
    html = network._repr_html_()
    assert type(network).__name__ in html
    for key, value in network.params.items():
        assert f"<td>{key}</td><td>{value.shape}</td><td>{value.dtype}</td>" \
               f"<td>{value.size:,}</td>" in html
    assert f"<td>total</td><td></td><td></td><td>{total:,}</td>" in html
    assert f"<td>{last_shape}</td>" in html  # the last layer gives the scores
    for key, value in network.params.items():  # summing up changes nothing
        np.testing.assert_array_equal(value, before[key])


def test_a_networks_html_lists_its_layers_in_order():
    html = SimpleConvNet(rng=0)._repr_html_()
    order = [html.index(f"<td>{name}</td>", start) for name, start in
             (("Convolution", 0), ("Pooling", 0))]
    assert order == sorted(order)
    assert "<td>(1, 30, 24, 24)</td>" in html and "<td>(1, 30, 12, 12)</td>" in html


# --------------------------------------------------------------------------- history


def test_a_historys_png_is_a_png_and_its_repr_sums_it_up(rng):
    history = short_trainer(rng).run()
    assert history._repr_png_().startswith(PNG_SIGNATURE)
    text = repr(history)
    assert text.startswith("History(30 steps, last loss ")
    assert f"3 evaluations, last train acc {history.train_acc_list[-1]:.4f}" in text
    assert len(text) < 200


def test_an_empty_history_has_no_picture():
    assert History()._repr_png_() is None
    assert repr(History()) == "History(0 steps)"


# --------------------------------------------------------------------------- Variable


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is missing")
def test_a_variables_svg_shows_the_functions_that_made_it():
    x = Variable(np.ones(3), name="x")
    y = dvzero.autograd.functions.exp(x * x).sum()
    svg = y._repr_svg_()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    for name in ("mul", "exp", "sum"):
        assert f">{name}<" in svg


def test_a_leaf_has_no_svg_and_neither_has_a_graph_without_dot(monkeypatch):
    import graphviz

    assert Variable(np.ones(3))._repr_svg_() is None

    def missing(*args, **kwargs):
        raise graphviz.ExecutableNotFound(("dot",))

    monkeypatch.setattr(graphviz.Digraph, "pipe", missing)
    assert (Variable(np.ones(2)) * 2)._repr_svg_() is None


# --------------------------------------------------------------------------- LivePlot


def drawn_curves(figure):
    """The y values of the figure's curves: the loss axes' raw losses, then the accuracy
    axes' lines, as matplotlib holds them."""
    loss_axes, accuracy_axes = figure.axes
    return ([float(v) for v in loss_axes.lines[0].get_ydata()],
            [[float(v) for v in line.get_ydata()] for line in accuracy_axes.lines])


def test_liveplot_redraws_every_n_steps_and_at_each_epoch_ending_as_the_history(rng, tmp_path):
    shown = []
    live = LivePlot(every=7, display=shown.append, path=tmp_path / "live.png")
    history = short_trainer(rng, step_num=30).run(callbacks=[live])
    # epochs at steps 0, 10, 20; every 7th step: 6, 13, 20, 27; then the end (step 29)
    expected = len({0, 10, 20} | {6, 13, 20, 27}) + 1
    assert live.redraws == len(shown) == expected
    assert all(figure is live.figure for figure in shown)
    losses, accuracies = drawn_curves(live.figure)
    assert losses == history.train_loss_list
    assert accuracies == [history.train_acc_list, history.test_acc_list]
    assert (tmp_path / "live.png").read_bytes().startswith(PNG_SIGNATURE)


def test_liveplot_works_through_dvzero_train(rng):
    x, t, x_test, t_test = tiny_data(rng)
    shown = []
    live = LivePlot(every=5, display=shown.append)
    history = dvzero.train(DeepVisionZeroNet(6, 5, 3, rng=0), x, t, x_test, t_test,
                           callbacks=[live], step_num=20, batch_size=10, rng=0)
    # at each epoch's step, and every 5th step; the last step (19) is one of them
    assert len(shown) == live.redraws == len(set(history.epoch_steps) | {4, 9, 14, 19})
    losses, accuracies = drawn_curves(live.figure)
    assert losses == history.train_loss_list
    assert accuracies[1] == history.test_acc_list


def test_liveplot_of_a_continued_run_draws_the_whole_history(rng):
    trainer = short_trainer(rng, step_num=12)
    trainer.run()
    trainer.step_num = 25
    live = LivePlot(every=100, display=lambda figure: None)
    history = trainer.run(callbacks=[live])
    assert live.curves.train_loss_list == history.train_loss_list
    assert live.curves.test_acc_list == history.test_acc_list and len(history.test_acc_list) == 3


def test_liveplot_outside_a_notebook_draws_without_showing(rng, monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    live = LivePlot(every=10)
    history = short_trainer(rng, step_num=20).run(callbacks=[live])
    assert live.redraws == 4  # steps 0 and 10 (epochs), 9 and 19 (every 10th)
    assert drawn_curves(live.figure)[0] == history.train_loss_list


def fake_ipython(monkeypatch, kernel):
    """IPython as far as LivePlot uses it, recording what is displayed."""
    calls = []

    class Handle:
        def update(self, picture):
            calls.append(("update", picture))

    def display(picture, display_id=False):
        calls.append(("display", picture, display_id))
        return Handle()

    shell = types.SimpleNamespace(kernel=object() if kernel else None)
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: shell
    ipython_display = types.ModuleType("IPython.display")
    ipython_display.display = display
    ipython_display.Image = lambda data, format: ("Image", format, data)
    ipython.display = ipython_display
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", ipython_display)
    return calls


def test_liveplot_in_a_kernel_displays_one_picture_and_updates_it(rng, monkeypatch):
    calls = fake_ipython(monkeypatch, kernel=True)
    live = LivePlot(every=10)
    short_trainer(rng, step_num=20).run(callbacks=[live])
    assert [call[0] for call in calls] == ["display"] + ["update"] * (live.redraws - 1)
    assert calls[0][2] is True  # display_id: the picture can be replaced
    assert all(call[1][0] == "Image" and call[1][2].startswith(PNG_SIGNATURE) for call in calls)


def test_liveplot_in_a_terminal_ipython_shows_nothing(rng, monkeypatch):
    calls = fake_ipython(monkeypatch, kernel=False)
    live = LivePlot(every=10)
    short_trainer(rng, step_num=20).run(callbacks=[live])
    assert calls == [] and live.redraws == 4


@pytest.mark.parametrize("option", ["every", "smoothing_window"])
@pytest.mark.parametrize("value", [0, 2.5, True])
def test_liveplot_refuses_a_bad_option_by_name(option, value):
    with pytest.raises(ValueError, match=f"{option} must be a whole number >= 1, got {value}"):
        LivePlot(**{option: value})


# --------------------------------------------------------------------------- progress


def test_progress_bars_come_from_tqdm_auto(rng, monkeypatch):
    made = []

    class Bar(tqdm.std.tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    short_trainer(rng, step_num=12).run(callbacks=[progress(12, hide=False, lines=False)])
    assert len(made) == 1 and made[0].n == 12


def test_in_a_terminal_the_bar_is_tqdm_autos_usual_one():
    assert bar_class() is tqdm.auto.tqdm and issubclass(bar_class(), tqdm.std.tqdm)


def test_in_a_notebook_the_bar_is_a_widget_or_text_without_ipywidgets(monkeypatch):
    notebook = pytest.importorskip("tqdm.notebook")

    class NotebookBar(notebook.tqdm):
        pass

    monkeypatch.setattr(tqdm.auto, "tqdm", NotebookBar)  # what tqdm.auto gives in Jupyter
    monkeypatch.setitem(sys.modules, "ipywidgets", types.ModuleType("ipywidgets"))
    assert bar_class() is NotebookBar
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # importing it fails
    assert bar_class() is tqdm.std.tqdm
