import numpy as np
import pytest
from matplotlib.image import imread

from dvzero.plotting import plot_accuracy, plot_loss


def test_accuracy_plot_is_a_png(tmp_path):
    path = tmp_path / "accuracy.png"
    plot_accuracy(path, [0.1, 0.8, 0.9], [0.1, 0.79, 0.91], title="t")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = imread(path)
    assert image.shape[:2] == (480, 640)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


@pytest.mark.parametrize("steps", [1, 5, 500])
def test_loss_plot_any_length(tmp_path, steps):
    path = tmp_path / "loss.png"
    plot_loss(path, np.linspace(2.3, 0.2, steps))
    assert imread(path).shape[:2] == (480, 640)
