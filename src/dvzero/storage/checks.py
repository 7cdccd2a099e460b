"""What every parameter file must hold: a dict of plain numeric NumPy arrays."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._i18n import _
from ..errors import ParamsFileError


def check_params_dict(params: Any, source: str) -> dict[str, NDArray]:
    """``params`` if it is a dict of numeric arrays with string keys; else ParamsFileError."""
    if not isinstance(params, dict):
        raise ParamsFileError(_("{source}: expected a dict of arrays, found {type}")
                              .format(source=source, type=type(params).__name__))
    for key, value in params.items():
        if not isinstance(key, str):
            raise ParamsFileError(_("{source}: parameter names must be strings, found {key!r}")
                                  .format(source=source, key=key))
        if not isinstance(value, np.ndarray):
            raise ParamsFileError(_("{source}: parameter {key!r} is a {type}, not a NumPy array")
                                  .format(source=source, key=key, type=type(value).__name__))
        if not is_plain_dtype(value.dtype) or value.dtype.kind == "b":
            raise ParamsFileError(_("{source}: parameter {key!r} has dtype {dtype}; numeric "
                                    "arrays expected")
                                  .format(source=source, key=key, dtype=value.dtype))
    return params


def is_plain_dtype(dtype: np.dtype) -> bool:
    """True for a simple boolean, integer or float dtype: no objects, fields or subarrays."""
    return (dtype.kind in "biuf" and not dtype.hasobject and dtype.fields is None
            and dtype.subdtype is None and dtype.flags == 0)
