"""What the ``dvzero`` command's help says beyond each option, and how it is laid out: the
examples, laid out by hand, and a formatter that wraps at spaces (and, in Chinese, between
characters, counting each as two columns)."""

from __future__ import annotations

import argparse
import re
import textwrap

from .._i18n import N_

#: The files --data-dir expects, for the help.
DATA_FILES_HELP = N_("train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
                     "t10k-labels-idx1-ubyte, plain or .gz; Kaggle's names "
                     "(train-images.idx3-ubyte, ...) work too")

#: The examples of the help, laid out by hand (their translations keep the layout).
MAIN_EXAMPLES = N_("""\
examples:
  dvzero train                          train the original post's network (seconds)
  dvzero train --seed 1 --out runs/a    the same run, bit for bit, whenever seed 1 is given
  dvzero train --gradient numerical --steps 3
                                        the original post's slow method, with a time projection
  dvzero evaluate runs/a                test accuracy of a run, on the data it was trained on
  dvzero predict runs/a seven.png       the run's network on your own picture of a digit
  dvzero serve                          draw digits in the browser and watch the network read them
  dvzero bench                          how fast this machine runs the network, against its floor
  dvzero graph                          draw the graph of the network's loss (autograd)
  dvzero train --resume runs/a          continue an interrupted run
  dvzero train --net mlp --epochs 20    a deeper network, trained with Adam
  dvzero train --net cnn --epochs 20    a convolutional network (about 4 minutes on 2 cores)
  dvzero experiment optimizers          compare the six optimizers in a picture
""")

TRAIN_EXAMPLES = N_(
    "examples:\n"
    "  dvzero train                                   the original post's settings\n"
    "  dvzero train --hidden 100 --activation relu    a wider network with ReLU\n"
    "  dvzero train --data-dir ~/fashion-mnist        any four IDX files in MNIST's format\n"
    "  dvzero train --resume runs/a --lr 0.01         continue runs/a with a lower learning rate\n"
    "  dvzero train --net mlp --hidden 100,100,100,100 --activation relu --init he "
    "--optimizer adam --lr 0.001 --epochs 20\n"
    "                                                 four hidden layers, Adam, 20 epochs\n"
    "  dvzero train --net mlp --batchnorm --dropout 0.2 --lr-schedule cosine --epochs 20\n"
    "                                                 batch normalisation, dropout, cosine decay\n"
    "  dvzero train --net deep-cnn --epochs 12        the book's DeepConvNet (about 14 minutes)\n"
)

FORCE_HELP = N_("replace --out if it exists (without it, an existing file is refused)")


class HelpFormatter(argparse.HelpFormatter):
    """Wraps at spaces only, so file names stay whole (Chinese also between its
    characters), and keeps the examples' layout."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return _wrap(" ".join(text.split()), width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:  # the examples, laid out by hand
            return text
        return "\n".join(indent + line
                         for line in _wrap(" ".join(text.split()), width - len(indent)))


#: Chinese characters and punctuation, two columns wide each in a terminal.
_WIDE = "\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
#: What a line may break before: a word of narrow characters, or one wide character, with
#: the punctuation that must not begin a line (，。) or end one (（) kept beside it; and
#: the space before it, if any.
_PIECE = re.compile(f"( ?)([（《“]*(?:[^\\s{_WIDE}]+|[{_WIDE}])[，。；：、）》”！？]*)")


def _wrap(text: str, width: int) -> list[str]:
    """The lines of ``text`` at most ``width`` columns wide (a long word alone exceeds it),
    broken at spaces; for Chinese also between two characters, but not before punctuation."""
    if not re.search(f"[{_WIDE}]", text):
        return textwrap.wrap(text, width, break_on_hyphens=False)
    text = re.sub(f"(?<=[{_WIDE}]) (?=[{_WIDE}])", "", text)  # Chinese words take no spaces
    lines, line = [], ""
    for space, piece in _PIECE.findall(text):
        if line and _columns(line + space + piece) > width:
            lines.append(line)
            line = piece
        else:
            line += space + piece if line else piece
    return lines + [line] if line else lines


def _columns(text: str) -> int:
    """How many columns ``text`` takes in a terminal."""
    return len(text) + len(re.findall(f"[{_WIDE}]", text))
