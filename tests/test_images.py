"""Pictures of digits made MNIST-like: checked against MNIST's own digits, drawn anew."""

import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from dvzero.apps.images import ImageError, mnist_like, read_digit, read_grey

from helpers import render


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    rows, columns = np.indices(image.shape)
    return (rows * image).sum() / image.sum(), (columns * image).sum() / image.sum()


def test_mnist_digits_drawn_anew_come_back_as_themselves(mnist_raw):
    # MNIST's digits were made the way mnist_like works; re-rendered, they should return.
    _, _, x_test, _ = mnist_raw
    rng = np.random.default_rng(0)
    chosen = rng.choice(len(x_test), 120, replace=False)
    correlations, centres = [], []
    for variant, i in enumerate(chosen):
        ours = read_digit(render(x_test[i], variant, rng))
        assert ours.shape == (28, 28) and ours.dtype == np.float32
        assert 0 <= ours.min() and ours.max() <= 1
        correlations.append(np.corrcoef(ours.ravel(), x_test[i].ravel())[0, 1])
        centres.append(centre_of_mass(ours))
    assert np.median(correlations) > 0.95
    assert np.percentile(correlations, 10) > 0.85
    # MNIST's digits have their centre of mass at (14, 14), on average
    assert np.allclose(np.mean(centres, axis=0), 14, atol=0.2)
    assert np.allclose(np.mean([centre_of_mass(x) for x in x_test[chosen].astype(float)],
                               axis=0), 14, atol=0.2)


def bar(width: int, height: int, canvas=(200, 300), ink=0, paper=255, mode="L") -> Image.Image:
    image = Image.new(mode, canvas, paper)
    left, top = 40, 30
    ImageDraw.Draw(image).rectangle([left, top, left + width - 1, top + height - 1], fill=ink)
    return image


def test_the_ink_is_fitted_to_20x20_keeping_its_aspect_ratio():
    tall = mnist_like(np.asarray(bar(30, 120), dtype=float) / 255)
    rows = np.flatnonzero(tall.max(axis=1) > 0.5)
    columns = np.flatnonzero(tall.max(axis=0) > 0.5)
    assert len(rows) == 20 and len(columns) == 5  # 120 -> 20, so 30 -> 5
    wide = mnist_like(np.asarray(bar(160, 40), dtype=float) / 255)
    assert np.flatnonzero(wide.max(axis=0) > 0.5).size == 20
    assert np.flatnonzero(wide.max(axis=1) > 0.5).size == 5
    assert np.allclose(centre_of_mass(tall), 14, atol=0.5)
    assert tall[0].max() == tall[-1].max() == 0  # a 4-pixel border, as in MNIST


def test_dark_on_light_and_light_on_dark_give_the_same_input():
    grey = np.asarray(bar(30, 90), dtype=float) / 255
    np.testing.assert_allclose(mnist_like(grey), mnist_like(1 - grey), atol=1e-6)
    # faint pencil on grey paper is stretched to the full range
    faint = 0.6 + 0.2 * grey
    np.testing.assert_allclose(mnist_like(faint), mnist_like(grey), atol=2 / 255)


def save(image: Image.Image, tmp_path, name: str):
    path = tmp_path / name
    image.save(path)
    return path


def test_colour_and_transparent_pictures_read_like_grey_ones(tmp_path):
    grey = read_digit(save(bar(30, 90), tmp_path, "grey.png"))
    colour = read_digit(save(bar(30, 90, ink=(20, 30, 140), paper=(250, 240, 220), mode="RGB"),
                             tmp_path, "colour.png"))
    np.testing.assert_allclose(colour, grey, atol=0.1)
    # black ink on a see-through background (what drawing apps export)
    transparent = bar(30, 90, ink=(0, 0, 0, 255), paper=(0, 0, 0, 0), mode="RGBA")
    np.testing.assert_allclose(read_digit(save(transparent, tmp_path, "ink.png")), grey,
                               atol=1e-6)
    assert read_grey(save(transparent, tmp_path, "ink2.png"))[0, 0] == 1.0  # white paper


def test_files_that_are_not_digits_are_refused_with_their_name(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    with pytest.raises(ImageError, match=r"notes\.png: not an image"):
        read_digit(text)
    good = save(bar(30, 90), tmp_path, "good.png")
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ImageError, match=r"truncated\.png: a damaged or unreadable image"):
        read_digit(truncated)
    blank = save(Image.new("L", (64, 64), 200), tmp_path, "blank.png")
    with pytest.raises(ImageError, match=r"blank\.png: no ink"):
        read_digit(blank)
    with pytest.raises(ImageError, match=r"good\.png: 200x300 pixels is more than the 1,000"):
        read_digit(good, max_pixels=1000)
    with pytest.raises(FileNotFoundError):
        read_digit(tmp_path / "missing.png")


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG file whose header claims ``width x height`` pixels (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("side", [6000, 10000, 50000])
def test_a_huge_picture_is_refused_before_it_is_decoded(tmp_path, side, recwarn):
    # 6000 x 6000 is under Pillow's limits but over dvzero's; 10000 x 10000 gets Pillow's
    # warning (silenced: dvzero's error says it all); 50000 x 50000 Pillow's error
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_claiming(side, side))
    assert bomb.stat().st_size < 200
    with pytest.raises(ImageError, match=r"bomb\.png: .*more .*than the 25,000,000"):
        read_digit(bomb)
    assert len(recwarn) == 0


def test_mnist_like_refuses_what_is_not_a_picture():
    with pytest.raises(ImageError, match="2-D"):
        mnist_like(np.zeros((3, 4, 5)))
    with pytest.raises(ImageError, match="no ink"):
        mnist_like(np.full((10, 10), 0.5))


def test_a_photo_stored_sideways_is_turned_upright(tmp_path):
    upright = bar(30, 120, canvas=(200, 200))
    sideways = upright.rotate(90, expand=True)  # stored turned, as phones do
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: turn 90 degrees clockwise to view
    path = tmp_path / "photo.jpg"
    sideways.save(path, exif=exif.tobytes(), quality=95)
    expected = read_digit(save(upright, tmp_path, "u.png"))  # a tall bar
    assert np.corrcoef(read_digit(path).ravel(), expected.ravel())[0, 1] > 0.9
    lying = read_digit(save(sideways, tmp_path, "sideways.png"))  # a wide bar
    assert np.corrcoef(lying.ravel(), expected.ravel())[0, 1] < 0.5


def test_sixteen_bit_and_float_pictures_keep_their_range(tmp_path):
    grey = read_digit(save(bar(30, 90), tmp_path, "grey.png"))
    levels = np.where(np.asarray(bar(30, 90)) > 0, 50000, 20000).astype(np.uint16)
    sixteen = Image.fromarray(levels)  # mode I;16: dark ink at 20000 on paper at 50000
    assert sixteen.mode.startswith("I;16")
    np.testing.assert_allclose(read_digit(save(sixteen, tmp_path, "16.png")), grey, atol=1e-6)
    floats = Image.fromarray(np.asarray(bar(30, 90), dtype=np.float32) / 255)
    np.testing.assert_allclose(read_digit(save(floats, tmp_path, "f.tif")), grey, atol=1e-6)


def test_light_ink_on_a_see_through_background(tmp_path):
    grey = read_digit(save(bar(30, 90), tmp_path, "grey.png"))
    white_ink = bar(30, 90, ink=(255, 255, 255, 255), paper=(255, 255, 255, 0), mode="RGBA")
    np.testing.assert_allclose(read_digit(save(white_ink, tmp_path, "w.png")), grey, atol=1e-6)


def test_a_thin_stroke_on_a_big_canvas_keeps_its_strength(tmp_path):
    image = Image.new("L", (3000, 3000), 255)
    ImageDraw.Draw(image).line([(1500, 400), (1500, 2600)], fill=0, width=3)
    digit = read_digit(save(image, tmp_path, "thin.png"))
    assert digit.max() == 1.0
    assert read_grey(tmp_path / "thin.png").shape == (1024, 1024)  # shrunk before the maths


def paper(side=300, brightness=190.0, noise=10.0, seed=0) -> np.ndarray:
    """Grey paper lit from the left, with sensor noise, as grey levels 0-255."""
    rng = np.random.default_rng(seed)
    light = np.linspace(0.85, 1.15, side)[None, :]
    return brightness * light + rng.normal(0, noise, (side, side))


def as_picture(grey: np.ndarray) -> np.ndarray:
    return np.clip(grey, 0, 255) / 255


def seven(grey: np.ndarray, ink=40.0, offset=(60, 80)) -> np.ndarray:
    """A thick 7 (two strokes) drawn onto the paper ``grey`` (0-255), in place."""
    top, left = offset
    grey[top:top + 22, left:left + 130] = ink  # the bar
    for row in range(150):  # the stem, slanting left as it falls
        column = left + 110 - row * 0.45
        grey[top + 20 + row, int(column):int(column) + 22] = ink
    return grey


def test_blank_paper_and_noise_are_not_digits():
    with pytest.raises(ImageError, match="no ink"):
        mnist_like(as_picture(paper()))  # grey, unevenly lit, noisy: still blank
    noise = np.random.default_rng(1).uniform(0, 255, (200, 200))
    with pytest.raises(ImageError, match="no ink"):
        mnist_like(noise / 255)


def test_a_photo_reads_like_the_same_digit_drawn_cleanly():
    clean = mnist_like(as_picture(seven(np.full((300, 300), 255.0))))
    photo = mnist_like(as_picture(seven(paper())))
    assert np.corrcoef(photo.ravel(), clean.ravel())[0, 1] > 0.95
    # the paper is gone: black wherever the clean drawing has no ink, as in MNIST
    assert photo[clean == 0].mean() < 0.01


def test_specks_and_squared_paper_lines_are_dropped():
    clean = mnist_like(as_picture(seven(np.full((300, 300), 255.0))))
    grey = paper(brightness=200, noise=6)
    grey[15::30, :] = 110  # the grid of squared paper (方格本), 30 pixels apart
    grey[:, 15::30] = 110
    seven(grey)
    for row, column in ((20, 250), (270, 30), (280, 280)):  # specks of dust
        grey[row:row + 4, column:column + 4] = 60
    cleaned = mnist_like(as_picture(grey))
    assert np.corrcoef(cleaned.ravel(), clean.ravel())[0, 1] > 0.95


def test_blue_ballpoint_on_cream_paper(tmp_path):
    clean = mnist_like(as_picture(seven(np.full((300, 300), 255.0))))
    mask = seven(np.zeros((300, 300)), ink=1.0) > 0
    rgb = np.empty((300, 300, 3))
    rgb[:] = (235, 225, 200)  # cream paper
    rgb[mask] = (40, 60, 150)  # blue ink
    path = tmp_path / "blue.jpg"
    Image.fromarray(rgb.astype(np.uint8), "RGB").save(path, quality=80)
    assert np.corrcoef(read_digit(path).ravel(), clean.ravel())[0, 1] > 0.95


def test_a_digit_cropped_tight_keeps_its_strokes(mnist_raw):
    """A stem or a bar across the whole picture is the digit's, not a line of the paper."""
    _, _, x_test, t_test = mnist_raw
    for digit in (1, 4, 7):
        for i in np.flatnonzero(t_test == digit)[:15]:
            ink = x_test[i] / 255
            rows = np.flatnonzero((ink > 0.2).any(axis=1))
            columns = np.flatnonzero((ink > 0.2).any(axis=0))
            tight = ink[rows[0] - 1:rows[-1] + 2, columns[0] - 1:columns[-1] + 2]
            ours = mnist_like(1 - tight)  # dark on light, a pixel of paper around the ink
            assert np.corrcoef(ours.ravel(), mnist_like(1 - ink).ravel())[0, 1] > 0.8, digit


def test_a_stroke_across_the_drawing_pad_is_read():
    pad = Image.new("L", (280, 280), 0)
    ImageDraw.Draw(pad).line([(140, 10), (140, 270)], fill=255, width=18)  # a 1, top to bottom
    assert mnist_like(np.asarray(pad, dtype=float) / 255).max() == 1.0


@pytest.mark.parametrize("side, stroke", [(800, (slice(200, 600), 400)), (5, (slice(1, 4), 2))])
def test_a_one_pixel_stroke_is_ink(side, stroke):
    grey = np.ones((side, side))
    grey[stroke] = 0
    digit = mnist_like(grey)
    assert digit.max() == 1.0 and np.allclose(centre_of_mass(digit), 14, atol=1)
