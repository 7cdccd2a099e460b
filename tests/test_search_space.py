"""The space of a search (dvzero.search.space): ranges and their draws, each trial's values
from the seed and its number alone, grids, space files, and the refusals, one line each."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dvzero.errors import UsageError
from dvzero.runs.config import resolve
from dvzero.search import (
    Choice,
    IntRange,
    LogUniform,
    Space,
    Uniform,
    load_space,
    option_name,
    range_option,
    setting,
    trial_seed,
)

SPACE_FILE = """\
[space]
lr = {low = 1e-4, high = 0.1}
"weight-decay" = {low = 1e-6, high = 1e-3}
dropout = {low = 0.0, high = 0.5}
batch_size = {low = 32, high = 256}
optimizer = ["sgd", "adam"]
hidden = [50, "100,100", [200, 100]]
shuffle = [true, false]
init = ["he", 0.05]

[fixed]
net = "mlp"
epochs = 2

[search]
trials = 12
"""


def _space_file(tmp_path, text, name="space.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _draws(dimension, count=2000, seed=0):
    rng = np.random.default_rng(seed)
    return [dimension.draw(rng) for _ in range(count)]


# --------------------------------------------------------------------------- ranges


@settings(max_examples=200, deadline=None)
@given(low=st.floats(1e-9, 1e3), ratio=st.floats(1.0001, 1e6), seed=st.integers(0, 2**32 - 1))
def test_log_uniform_draws_stay_within_the_range(low, ratio, seed):
    dimension = LogUniform(low, low * ratio)
    for value in _draws(dimension, 20, seed):
        assert dimension.low <= value <= dimension.high


def test_log_uniform_is_uniform_in_log_space():
    exponents = np.log10(_draws(LogUniform(1e-4, 1e-1), 6000))
    counts = np.histogram(exponents, bins=[-4, -3, -2, -1])[0]
    assert np.allclose(counts / counts.sum(), 1 / 3, atol=0.03)  # each decade a third
    assert abs(exponents.mean() - (-2.5)) < 0.05


@settings(max_examples=100, deadline=None)
@given(low=st.floats(0, 10), width=st.floats(1e-3, 10), seed=st.integers(0, 2**32 - 1))
def test_uniform_draws_stay_within_the_range_with_4_significant_digits(low, width, seed):
    dimension = Uniform(low, low + width)
    for value in _draws(dimension, 20, seed):
        assert dimension.low <= value <= dimension.high
        assert value in (float(f"{value:.4g}"), dimension.low, dimension.high)


def test_uniform_draws_spread_evenly():
    values = np.array(_draws(Uniform(0.0, 0.5), 6000))
    assert abs(values.mean() - 0.25) < 0.01
    assert np.allclose(np.histogram(values, bins=5, range=(0, 0.5))[0] / 6000, 0.2, atol=0.03)


def test_drawn_floats_are_rounded_to_4_significant_digits():
    for value in _draws(LogUniform(1e-4, 1e-1), 200) + _draws(Uniform(0.0, 0.9), 200):
        assert value == float(f"{value:.4g}")


def test_integer_ranges_include_both_ends():
    values = _draws(IntRange(1, 3), 300)
    assert set(values) == {1, 2, 3}
    assert all(type(value) is int for value in values)


def test_choices_are_drawn_evenly():
    values = _draws(Choice(("sgd", "adam", "momentum")), 3000)
    assert {value: values.count(value) / 3000 for value in set(values)} == pytest.approx(
        dict.fromkeys(("sgd", "adam", "momentum"), 1 / 3), abs=0.04)


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("lr", "1e-4:1e-1", LogUniform(1e-4, 0.1)),
    ("--weight-decay", "1e-6:1e-3", LogUniform(1e-6, 1e-3)),
    ("weight_decay", "1e-6:1e-3:4", LogUniform(1e-6, 1e-3, 4)),
    ("dropout", "0:0.5", Uniform(0.0, 0.5)),
    ("init", "0.01:0.1", Uniform(0.01, 0.1)),
    ("--batch-size", "32:256", IntRange(32, 256)),
    ("steps", "100:1000:3", IntRange(100, 1000, 3)),
    ("hidden", "50:200", IntRange(50, 200)),
])
def test_range_option_reads_low_high_and_points(name, text, expected):
    assert range_option(name, text) == expected
    assert type(range_option(name, text)) is type(expected)


@pytest.mark.parametrize(("name", "text"), [
    ("lr", "0.1"), ("optimizer", "adam"), ("hidden", "100,100"), ("init", "he"),
    ("out", r"C:\runs"), ("data_dir", "a:b"),
])
def test_a_plain_value_is_fixed(name, text):
    assert range_option(name, text) is None


@pytest.mark.parametrize(("name", "text", "message"), [
    ("lr", "1:0.1", "--lr 1:0.1: an empty range (the low end must be below the high end)"),
    ("batch_size", "64:64",
     "--batch-size 64:64: an empty range (the low end must be below the high end)"),
    ("lr", "-1:1", "--lr=-1:1: the learning rate is searched on a log scale, so both ends "
                   "must be > 0"),
    ("lr", "0:1", "--lr 0:1: the learning rate is searched on a log scale, so both ends must "
                  "be > 0"),
    ("weight-decay", "0:1e-3", "--weight-decay 0:1e-3: the weight decay is searched on a log "
                               "scale, so both ends must be > 0 (to try 0 too, list the values "
                               "in a space file)"),
    ("lr", "1e-4:abc", "--lr 1e-4:abc: expected numbers, got 'abc'"),
    ("lr", "1e-4:nan", "--lr 1e-4:nan: expected numbers, got 'nan'"),
    ("steps", "1e3:1e4", "--steps 1e3:1e4: expected whole numbers, got '1e3'"),
    ("lr", "1e-4:1e-1:2.5", "--lr 1e-4:1e-1:2.5: expected whole numbers, got '2.5'"),
    ("lr", "1e-4:1e-1:1", "--lr 1e-4:1e-1:1: the number of points must be a whole number of "
                          "at least 2, got 1"),
    ("lr", "1:2:3:4", "--lr 1:2:3:4: expected LOW:HIGH, or LOW:HIGH:N for N points of a grid"),
    ("dropout", "0.2:1", "--dropout 0.2:1: both ends must be at least 0 and below 1"),
    ("init", "0:0.1", "--init 0:0.1: both ends must be > 0"),
    ("epochs", "0:10", "--epochs 0:10: both ends must be whole numbers of at least 1"),
    ("optimizer", "sgd:adam", "--optimizer sgd:adam: --optimizer is not a number, so it has "
                              "no range; list the values to try in a space file (--space)"),
    ("seed", "1:5", "--seed is the search's own and cannot be searched"),
    ("threads", "1:4", "--threads is the search's own and cannot be searched"),
    ("val_split", "0.1:0.2", "--val-split is the search's own and cannot be searched"),
])
def test_range_option_refusals_name_the_option_in_one_line(name, text, message):
    with pytest.raises(UsageError) as caught:
        range_option(name, text)
    assert str(caught.value) == message


def test_option_spellings_name_one_setting():
    assert {setting(name) for name in ("--weight-decay", "weight-decay", "weight_decay")} == {
        "weight_decay"}
    assert (setting("--init"), setting("shuffle"), setting("lerning_rate")) == (
        "weight_init_std", "sampling", None)
    assert [option_name(key) for key in ("weight_decay", "weight_init_std", "sampling")] == [
        "--weight-decay", "--init", "--shuffle"]


# --------------------------------------------------------------------------- trials


def _random_space():
    return Space({"lr": LogUniform(1e-4, 1e-1), "batch_size": IntRange(16, 256),
                  "optimizer": Choice(("sgd", "adam", "momentum")), "dropout": Uniform(0, 0.5)})


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(1, 12), number=st.integers(0, 11))
def test_a_trials_values_depend_only_on_the_seed_and_its_number(seed, count, number):
    space = _random_space()
    trials = space.trials(count, seed)
    assert len(trials) == count
    everything = space.trials(12, seed)
    assert trials == everything[:count]  # the first ones whatever the count
    assert space.trial(number, seed) == everything[number]  # and whatever the order


def test_different_trials_and_seeds_differ():
    space = _random_space()
    trials = space.trials(20, seed=3)
    assert len({trial["lr"] for trial in trials}) == 20
    assert space.trials(20, seed=4) != trials
    assert list(trials[0]) == ["batch_size", "dropout", "lr", "optimizer"]  # by name


def test_the_values_are_known_ones():
    """The same on every machine: NumPy's generators are, and floats are rounded."""
    space = Space({"lr": LogUniform(1e-4, 1e-1), "optimizer": Choice(("sgd", "adam"))})
    assert space.trial(3, seed=42) == {"lr": 0.0004543, "optimizer": "adam"}
    assert trial_seed(0, 0) == 3757552657


def test_trial_seeds_depend_only_on_the_seed_and_number():
    seeds = [trial_seed(7, number) for number in range(50)]
    assert len(set(seeds)) == 50
    assert all(type(seed) is int and 0 <= seed < 2**32 for seed in seeds)
    assert seeds == [trial_seed(7, number) for number in range(50)]
    assert trial_seed(8, 0) != seeds[0]


def test_a_search_without_dimensions_varies_the_seed_only():
    assert Space({}).trials(3, 0) == [{}, {}, {}]


def test_a_random_search_needs_a_count():
    with pytest.raises(UsageError, match="^--trials: a random search needs the number"):
        _random_space().trials(None, 0)


def test_the_values_are_settings_a_run_takes(tmp_path):
    space, fixed, _options = load_space(_space_file(tmp_path, SPACE_FILE))
    for number, trial in enumerate(space.trials(30, seed=1)):
        config = resolve({**fixed, **trial, "seed": trial_seed(1, number)})
        assert {key: config[key] for key in trial} == {
            key: [value] if key == "hidden" and isinstance(value, int) else value
            for key, value in trial.items()}


# --------------------------------------------------------------------------- grids


def test_a_grid_is_the_product_of_the_points_in_name_order():
    space = Space({"optimizer": Choice(("sgd", "adam")), "lr": LogUniform(1e-4, 1e-1, 4),
                   "batch_size": IntRange(10, 20, 3)}, "grid")
    assert space.dimensions["lr"].points() == [1e-4, 1e-3, 1e-2, 1e-1]
    assert space.dimensions["batch_size"].points() == [10, 15, 20]
    product = itertools.product([10, 15, 20], [1e-4, 1e-3, 1e-2, 1e-1], ["sgd", "adam"])
    expected = [dict(zip(["batch_size", "lr", "optimizer"], point, strict=True))
                for point in product]
    assert space.size == 24
    assert space.trials(None, seed=0) == expected
    assert space.trials(24, seed=5) == expected  # the seed does not matter
    assert [space.trial(number, 0) for number in range(24)] == expected


def test_grid_points_are_spaced_and_rounded():
    assert Uniform(0.0, 0.5, 3).points() == [0.0, 0.25, 0.5]
    assert Uniform(0.1, 0.2, 4).points() == [0.1, 0.1333, 0.1667, 0.2]
    assert IntRange(1, 3, 5).points() == [1, 2, 3]  # no point twice


@pytest.mark.parametrize(("dimensions", "message"), [
    ({}, "--grid: nothing to search; give a range with its number of points (e.g. --lr "
         "1e-4:1e-1:4) or a space file (--space)"),
    ({"lr": LogUniform(1e-4, 0.1)}, "--lr 0.0001:0.1: a grid needs the number of points of "
                                    "each range (LOW:HIGH:N, or num = N in a space file)"),
])
def test_grid_refusals(dimensions, message):
    with pytest.raises(UsageError) as caught:
        Space(dimensions, "grid")
    assert str(caught.value) == message


def test_a_grid_runs_every_point():
    space = Space({"optimizer": Choice(("sgd", "adam"))}, "grid")
    with pytest.raises(UsageError) as caught:
        space.trials(5, 0)
    assert str(caught.value) == ("--trials 5: a grid search tries each of the grid's 2 points; "
                                 "leave out the number of trials")


# --------------------------------------------------------------------------- space files


def test_a_space_file_gives_ranges_choices_fixed_settings_and_options(tmp_path):
    space, fixed, options = load_space(_space_file(tmp_path, SPACE_FILE))
    assert space.method == "random"
    assert space.dimensions == {
        "batch_size": IntRange(32, 256), "dropout": Uniform(0.0, 0.5),
        "hidden": Choice((50, [100, 100], [200, 100])), "lr": LogUniform(1e-4, 0.1),
        "optimizer": Choice(("sgd", "adam")), "sampling": Choice(("shuffle", "replacement")),
        "weight_decay": LogUniform(1e-6, 1e-3), "weight_init_std": Choice(("he", 0.05))}
    assert fixed == {"net": "mlp", "epochs": 2}
    assert options == {"trials": 12}


def test_a_space_files_table_reads_back():
    space = Space({"lr": LogUniform(1e-4, 0.1, 3), "sampling": Choice(("shuffle", "replacement")),
                   "weight_init_std": Choice(("he", 0.01))})
    table = space.table()
    assert table == {"lr": {"low": 1e-4, "high": 0.1, "num": 3}, "shuffle": [True, False],
                     "init": ["he", 0.01]}
    assert Space.from_table(table) == space


def test_a_grid_file(tmp_path):
    path = _space_file(tmp_path, '[space]\nlr = {low = 0.001, high = 0.1, num = 3}\n'
                                 'hidden = {low = 50, high = 100, num = 2}\n'
                                 '[fixed]\n"--weight-init-std" = 0.01\n'
                                 '[search]\nmethod = "grid"\n')
    space, fixed, options = load_space(path)
    assert (space.method, space.size, options) == ("grid", 6, {"method": "grid"})
    assert fixed == {"weight_init_std": 0.01}
    assert space.trials(None, 0)[:3] == [{"hidden": 50, "lr": 0.001}, {"hidden": 50, "lr": 0.01},
                                         {"hidden": 50, "lr": 0.1}]


@pytest.mark.parametrize(("text", "message"), [
    ("[space]\nlr = {low = 1, high = }\n", "not valid TOML: Invalid value (line 2)"),
    ("[space]\nlr = [0.1]\nlr = [0.2]\n", "not valid TOML: Cannot overwrite a value (line 3)"),
    ("[space]\nlerning_rate = [0.1]\n", "unknown option 'lerning_rate' (did you mean lr?)"),
    ("[fixed]\nweight-decy = 0.1\n", "unknown option 'weight-decy' (did you mean weight_decay?)"),
    ("[space]\nzzz = [1]\n", "unknown option 'zzz'; a space file takes lr, weight_decay, "
                             "dropout, hidden, optimizer, batch_size, net, activation, init, "
                             "lr_schedule, epochs, steps, batchnorm, shuffle, train_eval_sample, "
                             "dtype, gradient"),
    ("[space]\nlr = {low = 1, high = 0.1}\n",
     "--lr 1:0.1: an empty range (the low end must be below the high end)"),
    ("[space]\nlr = {low = -1, high = 1}\n",
     "--lr -1:1: the learning rate is searched on a log scale, so both ends must be > 0"),
    ("[space]\nbatch-size = {low = 10, high = 20.5}\n",
     "--batch-size 10:20.5: expected whole numbers, got '20.5'"),
    ("[space]\nlr = {low = 0.1, high = \"a\"}\n", "--lr 0.1:a: expected numbers, got 'a'"),
    ("[space]\nlr = {low = 1e-4, high = 0.1, num = 1}\n", "--lr 0.0001:0.1: the number of "
                                                         "points must be a whole number of at "
                                                         "least 2, got 1"),
    ("[space]\nlr = {low = 1e-4}\n", "--lr = {'low': 0.0001}: a range takes low, high and, for "
                                     "a grid, num"),
    ("[space]\noptimizer = {low = 1, high = 2}\n",
     "--optimizer 1:2: --optimizer is not a number, so it has no range; list the values to try "
     "in a space file (--space)"),
    ("[space]\nlr = 0.1\n", "lr = 0.1: give a list of values or a range such as {low = 0.001, "
                            "high = 0.1}; a single value goes in [fixed]"),
    ("[space]\noptimizer = []\n", "--optimizer: an empty list; give at least one value"),
    ("[space]\noptimizer = [\"sgd\", \"adamm\"]\n",
     "--optimizer 'adamm': not a valid value (see 'dvzero train --help')"),
    ("[space]\nlr = [0.1, 0]\n", "--lr 0: not a valid value (see 'dvzero train --help')"),
    ("[space]\nhidden = [\"100,x\"]\n",
     "--hidden '100,x': not a valid value (see 'dvzero train --help')"),
    ("[fixed]\nbatchnorm = 1\n", "--batchnorm 1: not a valid value (see 'dvzero train --help')"),
    ("[space]\nseed = [1, 2]\n", "--seed is the search's own and cannot be searched"),
    ("[space]\ndata-dir = [\"a\"]\n", "--data-dir is the search's own and cannot be searched"),
    ("[space]\nnumerical = [\"naive\"]\n", "--numerical cannot be searched; give it in [fixed]"),
    ("[fixed]\nout = \"runs\"\n", "--out is the search's own and cannot be set in a space file"),
    ("[space]\nweight-decay = [0.1]\nweight_decay = [0.2]\n", "--weight-decay is given twice, "
                                                          "as [space] weight-decay and as "
                                                          "[space] weight_decay"),
    ("[space]\nlr = [0.1]\n[fixed]\nlr = 0.2\n",
     "--lr is given twice, as [space] lr and as [fixed] lr"),
    ("lr = 0.1\n", "lr = ...: a space file holds only the tables [space], [fixed] and [search]"),
    ("[spaec]\n", "spaec = ...: a space file holds only the tables [space], [fixed] and "
                  "[search]"),
    ("[search]\nworkers = 2\n", "[search] workers = ...: the table [search] takes method and "
                                "trials"),
    ("[search]\nmethod = \"grdi\"\n", "[search] method = 'grdi': choose from random, grid"),
    ("[search]\ntrials = 0\n", "[search] trials = 0: must be a whole number of at least 1"),
    ("[search]\nmethod = \"grid\"\n", "--grid: nothing to search; give a range with its number "
                                      "of points (e.g. --lr 1e-4:1e-1:4) or a space file "
                                      "(--space)"),
    ("[space]\nlr = {low = 1e-4, high = 0.1}\n[search]\nmethod = \"grid\"\n",
     "--lr 0.0001:0.1: a grid needs the number of points of each range (LOW:HIGH:N, or num = "
     "N in a space file)"),
    ("[space]\nlr = [0.1, 0.01]\n[search]\nmethod = \"grid\"\ntrials = 3\n",
     "[search] trials = 3: a grid search tries each of the grid's 2 points; leave out the "
     "number of trials"),
])
def test_space_file_refusals_name_the_file_and_the_option_in_one_line(tmp_path, text, message):
    with pytest.raises(UsageError) as caught:
        load_space(_space_file(tmp_path, text))
    assert str(caught.value) == f"{tmp_path / 'space.toml'}: {message}"
    assert "\n" not in str(caught.value)


def test_a_missing_or_unreadable_space_file(tmp_path):
    with pytest.raises(UsageError, match=r"^nowhere\.toml: no such file or directory$"):
        load_space("nowhere.toml")
    with pytest.raises(UsageError, match=r": cannot be read \(.+\)$"):
        load_space(tmp_path)
    path = tmp_path / "latin.toml"
    path.write_bytes(b"[space]\nnet = ['\xe9']\n")
    with pytest.raises(UsageError, match=r"latin\.toml: not valid TOML: .*utf-8"):
        load_space(path)


def test_an_empty_space_file_is_a_random_search_of_nothing(tmp_path):
    space, fixed, options = load_space(_space_file(tmp_path, ""))
    assert (space, fixed, options) == (Space({}), {}, {})
