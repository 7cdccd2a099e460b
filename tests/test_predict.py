"""dvzero predict: trained networks on pictures of digits, and the command's output."""

import json

import numpy as np
import pytest
from matplotlib.image import imread
from PIL import Image, ImageDraw

from dvzero.apps.predict import Predictor, bar_chart, load_predictor, predict_files
from dvzero.cli import main
from dvzero.errors import UsageError
from dvzero.networks import DeepVisionZeroNet, MultiLayerNet, SimpleConvNet
from dvzero.optimizers import SGD, Adam

from helpers import photograph, render


def train(network, optimizer, steps: int, mnist) -> None:
    """Plain mini-batch training, batches of 100 drawn with replacement (seeded)."""
    (x_train, t_train), _ = mnist
    rng = np.random.default_rng(1)
    for _ in range(steps):
        batch = rng.integers(0, len(x_train), 100)
        optimizer.update(network.params, network.gradient(x_train[batch], t_train[batch]))


def trained_file(network, optimizer, steps: int, mnist, folder):
    """``network`` after ``steps`` steps of ``optimizer``, saved as ``folder/params.npz``."""
    train(network, optimizer, steps, mnist)
    path = folder / "params.npz"
    network.save_params(path)
    return path


@pytest.fixture(scope="module")
def seed_network(mnist, tmp_path_factory):
    """The original post's network and settings (SGD 0.1, 10,000 steps), saved."""
    return trained_file(DeepVisionZeroNet(784, 50, 10, dtype=np.float32, rng=1), SGD(0.1),
                        10000, mnist, tmp_path_factory.mktemp("seed"))


@pytest.fixture(scope="module")
def cnn(mnist, tmp_path_factory):
    """SimpleConvNet after two epochs of Adam, saved."""
    return trained_file(SimpleConvNet(dtype=np.float32, rng=1), Adam(0.001), 1200, mnist,
                        tmp_path_factory.mktemp("cnn"))


def picture_files(mnist_raw, folder, make, count: int, seed: int, jpeg):
    """``count`` MNIST test digits made into picture files by ``make(digit, variant, rng)``
    (JPEG where ``jpeg(variant)``, else PNG) in ``folder``; and their labels."""
    _, _, x_test, t_test = mnist_raw
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(x_test), count, replace=False)
    paths = []
    for variant, i in enumerate(chosen):
        path = folder / f"digit{variant}.{'jpg' if jpeg(variant) else 'png'}"
        path.write_bytes(make(x_test[i], variant, rng).getvalue())
        paths.append(path)
    return paths, t_test[chosen]


@pytest.fixture(scope="module")
def rendered(mnist_raw, tmp_path_factory):
    """500 MNIST test digits drawn anew as files: scaled, inverted, padded and offset,
    some in colour, some JPEG (see test_images.render); and their labels."""
    return picture_files(mnist_raw, tmp_path_factory.mktemp("digits"), render, 500, 7,
                         lambda variant: variant % 5 == 0)


@pytest.fixture(scope="module")
def photographed(mnist_raw, tmp_path_factory):
    """300 MNIST test digits as photos of ink on paper (see helpers.photograph): grey or
    tinted paper lit unevenly, blur, noise, a warm cast for a third, JPEG for half."""
    return picture_files(mnist_raw, tmp_path_factory.mktemp("photos"), photograph, 300, 20,
                         lambda variant: variant % 2 == 0)


@pytest.mark.parametrize("network, needed", [("cnn", 0.97), ("seed_network", 0.90)])
def test_trained_networks_read_photos_of_digits_on_paper(network, needed, photographed,
                                                          request):
    paths, labels = photographed
    predictions, errors = predict_files(load_predictor(request.getfixturevalue(network)), paths)
    assert errors == []
    assert np.mean([prediction.digit for prediction in predictions] == labels) >= needed


def test_a_thick_dark_three_on_grey_paper_is_a_three(seed_network, tmp_path):
    """The newcomer's photo: a 3 on grey paper (170), noise sigma 12, light from one side."""
    image = Image.new("L", (300, 300), 170)
    ImageDraw.Draw(image).text((95, 40), "3", fill=40, font_size=200)
    grey = np.asarray(image, dtype=np.float64) * np.linspace(0.88, 1.12, 300)[None, :]
    grey += np.random.default_rng(0).normal(0, 12, grey.shape)
    for suffix in ("png", "jpg"):
        path = tmp_path / f"three.{suffix}"
        Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8)).save(path, quality=80)
        (prediction,), errors = predict_files(load_predictor(seed_network), [path])
        assert errors == [] and prediction.digit == 3, prediction.probabilities


@pytest.mark.parametrize("network, needed", [("cnn", 0.97), ("seed_network", 0.90)])
def test_trained_networks_recognise_digits_drawn_anew(network, needed, rendered, request):
    paths, labels = rendered
    predictor = load_predictor(request.getfixturevalue(network))
    predictions, errors = predict_files(predictor, paths)
    assert errors == []
    digits = np.array([prediction.digit for prediction in predictions])
    assert [prediction.file for prediction in predictions] == [str(path) for path in paths]
    assert np.mean(digits == labels) >= needed
    for prediction in predictions[:20]:
        assert len(prediction.probabilities) == 10
        assert abs(sum(prediction.probabilities) - 1) < 1e-4
        assert prediction.digit == int(np.argmax(prediction.probabilities))


def draw(path, digit: str, size=(240, 320), ink=(30, 30, 30), paper=(255, 255, 255)):
    image = Image.new("RGB", size, paper)
    pen = ImageDraw.Draw(image)
    if digit == "1":
        pen.line([(120, 50), (120, 270)], fill=ink, width=24)
    else:
        pen.ellipse([50, 50, 190, 270], outline=ink, width=24)
    image.save(path)
    return path


def test_predict_prints_each_digit_with_a_bar_chart(seed_network, tmp_path, capsys):
    one, zero = draw(tmp_path / "one.png", "1"), draw(tmp_path / "zero.jpg", "0")
    code = main(["predict", str(seed_network), str(one), str(zero)])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == f"model: {seed_network} (DeepVisionZeroNet)"
    assert lines[1].startswith(f"{one}: 1 (probability ")
    assert lines[12].startswith(f"{zero}: 0 (probability ")
    assert len(lines) == 1 + 2 * 11
    assert [line.split()[0] for line in lines[2:12]] == [str(d) for d in range(10)]
    assert "█" * 20 in lines[3]  # the 1's bar is the long one


def test_bar_chart_scales_the_bars_to_the_probabilities():
    lines = bar_chart([0.5, 0.25] + [0.03125] * 8, width=8)
    assert lines[0] == "  0 ████     0.500"
    assert lines[1] == "  1 ██       0.250"
    assert lines[2] == "  2          0.031"


def test_predict_json_and_show(seed_network, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    one, other_one = draw(first / "one.png", "1"), draw(second / "one.png", "1")
    code = main(["predict", str(seed_network), str(one), str(other_one), "--json", "--show"])
    out, err = capsys.readouterr()
    assert code == 0
    results = json.loads(out)  # stdout is the JSON alone
    assert [result["file"] for result in results] == [str(one), str(other_one)]
    assert [result["digit"] for result in results] == [1, 1]
    assert all(set(result) == {"file", "digit", "probabilities"} for result in results)
    assert len(results[0]["probabilities"]) == 10
    written = [tmp_path / "one-input.png", tmp_path / "one-input-2.png"]  # no overwriting
    assert f"wrote {written[0]}, {written[1]}" in err
    for path in written:
        picture = imread(path)
        assert picture.shape[:2] == (280, 640) and picture.std() > 0.1


def test_predict_reports_bad_pictures_and_goes_on(seed_network, tmp_path, capsys):
    one = draw(tmp_path / "one.png", "1")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    blank = tmp_path / "blank.png"
    Image.new("L", (40, 40), 255).save(blank)
    code = main(["predict", str(seed_network), str(text), str(one), str(blank),
                 str(tmp_path / "missing.png")])
    out, err = capsys.readouterr()
    assert code == 1
    assert f"{one}: 1 (probability" in out
    assert err.splitlines() == [
        f"dvzero predict: error: {text}: not an image (PNG, JPEG or another format Pillow "
        f"reads)",
        f"dvzero predict: error: {blank}: no ink: the picture is blank (nothing stands out "
        f"of the paper)",
        f"dvzero predict: error: {tmp_path / 'missing.png'}: No such file or directory",
    ]


def test_predict_takes_a_run_directory(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert main(["train", "--steps", "200", "--seed", "1", "--out", str(run_dir),
                 "--no-progress"]) == 0
    capsys.readouterr()
    code = main(["predict", str(run_dir), str(draw(tmp_path / "zero.png", "0")), "--json"])
    out, _ = capsys.readouterr()
    assert code == 0 and json.loads(out)[0]["file"].endswith("zero.png")
    predictor = load_predictor(run_dir)
    assert isinstance(predictor, Predictor)
    assert predictor.params_file == run_dir / "params.npz"


def test_predict_refuses_a_network_that_does_not_read_digits(tmp_path, capsys):
    path = tmp_path / "small.npz"
    MultiLayerNet(16, [8], 10, rng=0).save_params(path)
    with pytest.raises(UsageError, match="takes 16 inputs and has 10 outputs; predicting "
                                         "digits needs 784"):
        load_predictor(path)
    code = main(["predict", str(path), str(draw(tmp_path / "one.png", "1"))])
    assert code == 2
    assert capsys.readouterr().err.startswith("dvzero predict: error: ")


def test_show_never_writes_over_an_input(seed_network, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    one = draw(tmp_path / "one.png", "1")
    input_named_like_a_picture = draw(tmp_path / "one-input.png", "0")
    before = input_named_like_a_picture.read_bytes()
    assert main(["predict", str(seed_network), str(one), str(input_named_like_a_picture),
                 "--show"]) == 0
    assert input_named_like_a_picture.read_bytes() == before
    assert (tmp_path / "one-input-2.png").is_file()
    assert (tmp_path / "one-input-input.png").is_file()


def test_shown_names_never_name_an_input_even_from_a_relative_directory(tmp_path, monkeypatch):
    from dvzero.apps.predict import Prediction, shown_names

    monkeypatch.chdir(tmp_path)
    picture = Prediction("a.png", 7, [0.1] * 10, np.zeros((28, 28)))
    names = shown_names([picture, picture], ".", inputs=["a-input.png"])
    assert [name.name for name in names] == ["a-input-2.png", "a-input-3.png"]
