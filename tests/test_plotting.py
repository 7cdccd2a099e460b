import numpy as np
import pytest
from matplotlib.image import imread

from dvzero.plotting import plot_accuracy, plot_filters, plot_loss


def test_accuracy_plot_is_a_png(tmp_path):
    path = tmp_path / "accuracy.png"
    plot_accuracy(path, [0.1, 0.8, 0.9], [0.1, 0.79, 0.91], title="t")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = imread(path)
    assert image.shape[:2] == (480, 640)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_accuracy_plot_carries_each_line_to_the_final_accuracies(tmp_path):
    # one epoch of SimpleConvNet: measured once as it began, and where it ended
    figure = plot_accuracy(tmp_path / "a.png", [0.19], [0.2], val_acc_list=[0.18],
                           final={"train": 0.97, "test": 0.9766, "val": 0.975}, final_epoch=1.0)
    axes = figure.axes[0]
    lines = {line.get_label(): line.get_xydata().tolist() for line in axes.lines}
    assert lines == {"train acc (final 0.9700)": [[0, 0.19], [1, 0.97]],
                     "test acc (final 0.9766)": [[0, 0.2], [1, 0.9766]],
                     "val acc (final 0.9750)": [[0, 0.18], [1, 0.975]]}
    assert axes.get_xlim()[0] <= 0 and axes.get_xlim()[1] >= 1
    # without the final accuracies, the epochs alone, as the original post draws them
    alone = plot_accuracy(tmp_path / "b.png", [0.1, 0.8], [0.1, 0.79])
    assert [line.get_xydata().tolist() for line in alone.axes[0].lines] == [
        [[0, 0.1], [1, 0.8]], [[0, 0.1], [1, 0.79]]]


@pytest.mark.parametrize("steps", [1, 5, 500])
def test_loss_plot_any_length(tmp_path, steps):
    path = tmp_path / "loss.png"
    plot_loss(path, np.linspace(2.3, 0.2, steps))
    assert imread(path).shape[:2] == (480, 640)


def _grey_share_of_the_bottom(path):
    """The share of the bottom quarter's pixels that are mid-grey (a change of zero)."""
    image = imread(path)[..., :3]
    bottom = image[3 * image.shape[0] // 4:]
    return (np.abs(bottom - 0.5) < 0.01).all(axis=-1).mean()


def test_filters_plot_shows_before_after_and_the_change(tmp_path):
    rng = np.random.default_rng(0)
    before = rng.standard_normal((20, 1, 5, 5)).astype(np.float32)
    after = before + rng.standard_normal(before.shape).astype(np.float32)
    changed, unchanged = tmp_path / "changed.png", tmp_path / "unchanged.png"
    plot_filters(changed, before, after, title="t")
    plot_filters(unchanged, before, before.copy(), title="t")
    assert sorted(tmp_path.iterdir()) == [changed, unchanged]
    # three blocks of two rows each: taller than wide for 16 columns of 20 filters
    assert imread(changed).shape[:2] == imread(unchanged).shape[:2]
    assert imread(changed).shape[0] > 0.4 * imread(changed).shape[1]
    # the bottom block, the change: flat grey when nothing changed, patterned otherwise
    assert _grey_share_of_the_bottom(unchanged) > 0.2 > 0.05 > _grey_share_of_the_bottom(changed)
