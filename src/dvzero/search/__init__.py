"""``dvzero search``: a hyper-parameter search whose trials are runs of ``dvzero train``, on
Dask workers.

* :mod:`~.space`: the space searched (ranges, choices, a grid) and each trial's values;
* :mod:`~.spacefile`: a space given as a TOML file;
* :mod:`~.trial`: one trial, a run judged on the validation set, as a worker runs it;
* :mod:`~.runner`: the search driven from the client: the trials, ``results.csv``, the ranking.
"""

from .space import (
    METHODS,
    SEARCHABLE,
    Choice,
    Dimension,
    IntRange,
    LogUniform,
    Space,
    Uniform,
    option_name,
    range_option,
    setting,
    trial_seed,
)
from .spacefile import load_space

__all__ = ["METHODS", "SEARCHABLE", "Choice", "Dimension", "IntRange", "LogUniform", "Space",
           "Uniform", "load_space", "option_name", "range_option", "setting", "trial_seed"]
