"""The words of the ``dvzero`` command line: unknown options answered by their command with
the option meant, the help of each option true for every network, the files a command
writes replaced only with ``--force``, and the messages that say what to pass instead."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout

import numpy as np
import pytest
from PIL import Image, ImageDraw

from dvzero.cli import main
from dvzero.networks import NETS, DeepVisionZeroNet
from dvzero.runs import Run
from dvzero.runs.config import resolve

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _inside_tmp_path(tmp_path, monkeypatch):
    """Commands write into the current directory (digits.png, runs/): keep it a temporary one."""
    monkeypatch.chdir(tmp_path)


def usage_error(argv: list[str], capsys) -> str:
    """The one line on stderr of a command line the parser refuses (exit code 2)."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    assert info.value.code == 2 and out == ""
    assert err.count("\n") == 1, err
    return err.rstrip("\n")


# --------------------------------------------------------------------------- unknown options


@pytest.mark.parametrize(("argv", "unknown", "meant"), [
    (["train", "--learning-rate", "0.1"], "--learning-rate 0.1", "--lr"),
    (["train", "--learning_rate=0.1"], "--learning_rate=0.1", "--lr"),
    (["train", "--lr-rate", "0.1"], "--lr-rate 0.1", "--lr"),
    (["train", "--hidden-size", "100"], "--hidden-size 100", "--hidden"),
    (["train", "--iterations", "100"], "--iterations 100", "--steps"),
    (["train", "--iters", "100"], "--iters 100", "--steps"),
    (["train", "--batch_size", "10"], "--batch_size 10", "--batch-size"),
    (["train", "--num-epochs", "2"], "--num-epochs 2", "--epochs"),
    (["train", "--sed", "1"], "--sed 1", "--seed"),  # a typo, for difflib
    (["train", "--optimiser", "adam"], "--optimiser adam", "--optimizer"),
    (["evaluate", "runs/a", "--data_dir", "d"], "--data_dir d", "--data-dir"),
    (["predict", "net.npz", "a.png", "--jsn"], "--jsn", "--json"),
    (["plot", "runs/a", "--overwrite"], "--overwrite", "--force"),
    (["data", "--output", "d.png"], "--output d.png", "--out"),
    (["graph", "--output=g.svg"], "--output=g.svg", "--out"),
    (["serve", "--prot=8080"], "--prot=8080", "--port"),
    (["bench", "--outt", "b.json"], "--outt b.json", "--out"),
    (["experiment", "optimizers", "--random-seed", "1"], "--random-seed 1", "--seed"),
])
def test_an_unknown_option_is_answered_by_its_command_with_the_option_meant(
        argv, unknown, meant, capsys):
    command = argv[0]
    assert usage_error(argv, capsys) == (
        f"dvzero {command}: error: unrecognized arguments: {unknown}; did you mean {meant}? "
        f"(see 'dvzero {command} --help')")


def test_only_the_command_s_own_options_are_suggested(capsys):
    # --lr is train's: evaluate has nothing near it to suggest
    assert usage_error(["evaluate", "runs/a", "--lr", "0.1"], capsys) == (
        "dvzero evaluate: error: unrecognized arguments: --lr 0.1 (see 'dvzero evaluate "
        "--help')")
    assert usage_error(["evaluate", "a", "b"], capsys) == (
        "dvzero evaluate: error: unrecognized arguments: b (see 'dvzero evaluate --help')")


def test_several_unknown_options_get_a_guess_each(capsys):
    assert usage_error(["train", "--hiden", "3", "--sed", "1", "--colour", "red"], capsys) == (
        "dvzero train: error: unrecognized arguments: --hiden 3 --sed 1 --colour red; did you "
        "mean --hidden for --hiden, --seed for --sed? (see 'dvzero train --help')")


def test_an_ambiguous_option_gets_the_one_people_mean(capsys):
    err = usage_error(["train", "--batch", "5"], capsys)
    assert err.startswith("dvzero train: error: ambiguous option: --batch could match ")
    assert err.endswith("; did you mean --batch-size? (see 'dvzero train --help')")


def help_text(*command: str) -> str:
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit):
        main([*command, "--help"])
    return out.getvalue()


def test_the_main_help_points_to_each_command_s_options():
    assert "see dvzero COMMAND --help (e.g. dvzero train --help)" in " ".join(help_text().split())


# --------------------------------------------------------------------------- missing words


@pytest.mark.parametrize(("argv", "got"), [
    (["predict", "three.png"], "got only three.png"),
    (["predict", "--json", "three.png"], "got only three.png"),
    (["predict"], "got nothing"),
])
def test_predict_without_its_model_says_the_model_comes_first(argv, got, capsys):
    assert usage_error(argv, capsys) == (
        f"dvzero predict: error: give the model first, then the pictures: dvzero predict "
        f"RUN_DIR_OR_PARAMS IMAGE ...; {got} (see 'dvzero predict --help')")


def test_empty_data_dir_is_refused_before_the_run_is_announced(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    for out in ([], ["--out", str(tmp_path / "a" / "run")]):
        assert main(["train", "--data-dir", str(empty), "--no-progress", *out]) == 1
        printed, err = capsys.readouterr()
        assert printed == ""  # no "training into ..." for a run that never was
        assert err.startswith(f"dvzero train: error: {empty}: missing train-images-idx3-ubyte")
        assert sorted(path.name for path in tmp_path.iterdir()) == ["empty"]  # no runs/, no a/


# --------------------------------------------------------------------------- options x networks

EVERY = set(NETS)
#: A setting, the networks that take it, and the words the option's help names it by
#: (``None``: every network takes it, and the help need not say so).
TAKEN_BY = [
    (["--hidden", "30"], EVERY, None),
    (["--hidden", "30,20"], {"mlp"}, "a list"),
    (["--activation", "sigmoid"], {"two-layer", "mlp"}, "sigmoid"),
    (["--activation", "relu"], EVERY, "relu"),
    (["--activation", "tanh"], {"mlp"}, "tanh"),
    (["--init", "he"], {"mlp", "cnn", "deep-cnn"}, "he and xavier"),
    (["--init", "xavier"], {"mlp", "cnn", "deep-cnn"}, "he and xavier"),
    (["--init", "0.05"], EVERY, "a standard deviation"),
    (["--weight-init-std", "0.05"], EVERY, None),
    (["--optimizer", "momentum"], EVERY, None),
    (["--lr-schedule", "step"], EVERY, None),
    (["--weight-decay", "0.001"], {"mlp", "cnn", "deep-cnn"}, ""),
    (["--dropout", "0.3"], {"mlp", "deep-cnn"}, ""),
    (["--batchnorm"], {"mlp"}, ""),
    (["--train-eval-sample", "100"], EVERY, None),
    (["--gradient", "autograd"], EVERY, None),
    (["--gradient", "numerical", "--numerical", "structured"], {"two-layer"}, "structured"),
    (["--gradient", "numerical", "--numerical", "naive"], EVERY, "naive"),
]


class Settled(Exception):
    """Raised where the run would start: the complete settings ``dvzero train`` made."""


@pytest.fixture
def settle(monkeypatch, capsys):
    """``settle(argv)``: the settings ``dvzero train ARGV`` would start a run with, or the
    one-line error it refuses them with."""
    def start(cls, given, out=None):
        raise Settled(resolve(given))

    monkeypatch.setattr(Run, "start", classmethod(start))

    def settled(argv: list[str]) -> dict | str:
        try:
            code = main(["train", *argv])
        except Settled as settings:
            return settings.args[0]
        assert code == 2
        err = capsys.readouterr().err
        assert err.startswith("dvzero train: error: ") and err.count("\n") == 1, err
        return err

    return settled


def train_options_help() -> dict[str, str]:
    """The help of each option of ``dvzero train``, as one line, by option."""
    entries: dict[str, str] = {}
    option = None
    for line in help_text("train").splitlines():
        match = re.match(r"  (--[\w-]+)", line)
        if match:
            option = match.group(1)
            entries[option] = line
        elif option and line.startswith("   "):  # the help goes on
            entries[option] += " " + line
        else:
            option = None
    return {option: " ".join(text.split()) for option, text in entries.items()}


def networks_phrase(nets: set[str]) -> str:
    """``mlp, cnn and deep-cnn``, in the order of NETS; ``every network`` for all."""
    names = [net for net in NETS if net in nets]
    if len(names) == len(NETS):
        return "every network"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


@pytest.mark.parametrize(("argv", "nets", "words"), TAKEN_BY,
                         ids=[" ".join(argv) for argv, _, _ in TAKEN_BY])
def test_each_network_takes_what_the_help_says(settle, argv, nets, words):
    for net in NETS:
        settings = settle([*argv, "--net", net])
        assert isinstance(settings, dict) == (net in nets), (net, settings)
    if words is None:
        return
    option = [word for word in argv if word.startswith("--")][-1]
    helped = train_options_help()[option]
    other_nets = "|".join(map(re.escape, NETS))
    # "WORDS ... for NETS", naming these networks and no more
    said = rf"{re.escape(words)}[^;()]*? for {re.escape(networks_phrase(nets))}" \
           rf"(?!,? (and )?({other_nets})\b)"
    assert re.search(said, helped), helped


def shown(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


#: Options whose default depends on the network: the setting, how the help shows its value,
#: and what the run needs for the option to apply.
DEFAULTS = [
    ("--hidden", "hidden", shown, []),
    ("--activation", "activation", shown, []),
    ("--init", "weight_init_std", shown, []),
    ("--optimizer", "optimizer", shown, []),
    ("--lr-schedule", "lr_schedule", shown, []),
    ("--train-eval-sample", "train_eval_sample", lambda value: shown(value or "all"), []),
    ("--dropout", "dropout", lambda value: shown(value or "none"), []),
    ("--threads", "threads", lambda value: "1" if value == 1 else "every core", []),
    ("--numerical", "numerical", shown, ["--gradient", "numerical"]),
]


@pytest.mark.parametrize(("option", "key", "show", "needs"), DEFAULTS,
                         ids=[row[0] for row in DEFAULTS])
def test_the_help_gives_each_network_s_own_default(settle, option, key, show, needs,
                                                   monkeypatch):
    monkeypatch.setattr("dvzero.runs.config.available_cores", lambda: 4)  # "every core": 4
    clause = re.findall(r"\(default: ([^()]*)\)", train_options_help()[option])[-1]
    said = {}
    for part in clause.split("; "):
        value, _, nets = part.partition(" for ")
        for net in re.split(r", | and ", nets) if nets else NETS:
            said[net] = value
    for net in said:
        assert said[net] == show(settle([*needs, "--net", net])[key]), (net, clause)
    assert set(said) <= set(NETS)
    if option != "--dropout":  # the only networks with dropout are mlp and deep-cnn
        assert set(said) == set(NETS)


# --------------------------------------------------------------------------- --force


def refused(argv: list[str], capsys) -> str:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1, err
    return err.rstrip("\n")


def test_data_run_twice_refuses_to_replace_digits_png(tmp_path, small_mnist_dir, capsys):
    data = ["data", "--data-dir", str(small_mnist_dir)]
    assert main(data) == 0
    capsys.readouterr()
    digits = tmp_path / "digits.png"
    digits.write_bytes(b"my own picture")
    assert refused(data, capsys) == (
        "dvzero data: error: digits.png already exists; add --force to replace it, or give "
        "another name with --out")
    assert digits.read_bytes() == b"my own picture"
    assert main([*data, "--force"]) == 0
    assert digits.read_bytes().startswith(PNG_MAGIC)


def test_bench_refuses_to_replace_its_figures_before_measuring(tmp_path, monkeypatch, capsys):
    from dvzero.apps import bench

    measured = []
    monkeypatch.setattr(bench, "run_bench", lambda progress: measured.append(1))
    out = tmp_path / "bench.json"
    out.write_text("{}")
    assert refused(["bench"], capsys) == (
        "dvzero bench: error: bench.json already exists; add --force to replace it, or give "
        "another name with --out")
    assert measured == [] and out.read_text() == "{}"


def test_graph_refuses_to_replace_its_picture_or_its_dot(tmp_path, capsys):
    (tmp_path / "g.dot").write_text("digraph mine {}")
    assert refused(["graph", "--out", "g.png"], capsys) == (
        "dvzero graph: error: g.dot already exists; add --force to replace it, or give "
        "another name with --out")
    (tmp_path / "g.png").write_bytes(b"mine")
    assert refused(["graph", "--out", "g.png"], capsys).startswith(
        "dvzero graph: error: g.png and g.dot already exist; add --force to replace them, ")
    assert (tmp_path / "g.dot").read_text() == "digraph mine {}"
    main(["graph", "--out", "g.png", "--force"])  # without Graphviz, the .dot alone
    assert "digraph mine" not in (tmp_path / "g.dot").read_text()


def draw_one(path):
    image = Image.new("L", (60, 80), 255)
    ImageDraw.Draw(image).line([(30, 10), (30, 70)], fill=0, width=8)
    image.save(path)
    return path


def test_predict_show_refuses_to_replace_a_picture_it_would_write(tmp_path, capsys):
    network = tmp_path / "net.npz"
    DeepVisionZeroNet(784, 50, 10, dtype=np.float32, rng=0).save_params(network)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one, other_one = draw_one(tmp_path / "a" / "one.png"), draw_one(tmp_path / "b" / "one.png")
    # the second one.png is shown as one-input-2.png: that name is checked too
    second = tmp_path / "one-input-2.png"
    second.write_bytes(b"mine")
    argv = ["predict", str(network), str(one), str(other_one), "--show"]
    assert refused(argv, capsys) == (
        f"dvzero predict: error: {second} already exists; add --force to replace it, or run "
        f"the command in another directory")
    assert second.read_bytes() == b"mine" and not (tmp_path / "one-input.png").exists()
    assert main([*argv, "--force"]) == 0
    assert second.read_bytes().startswith(PNG_MAGIC)
    assert (tmp_path / "one-input.png").read_bytes().startswith(PNG_MAGIC)
