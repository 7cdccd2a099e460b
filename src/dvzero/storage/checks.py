"""What every parameter file must hold: a dict of plain numeric NumPy arrays."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import ParamsFileError


def check_params_dict(params: Any, source: str) -> dict[str, NDArray]:
    """``params`` if it is a dict of numeric arrays with string keys; else ParamsFileError."""
    if not isinstance(params, dict):
        raise ParamsFileError(f"{source}: expected a dict of arrays, found {type(params).__name__}")
    for key, value in params.items():
        if not isinstance(key, str):
            raise ParamsFileError(f"{source}: parameter names must be strings, found {key!r}")
        if not isinstance(value, np.ndarray):
            raise ParamsFileError(f"{source}: parameter {key!r} is a {type(value).__name__}, "
                                  f"not a NumPy array")
        if not is_plain_dtype(value.dtype) or value.dtype.kind == "b":
            raise ParamsFileError(f"{source}: parameter {key!r} has dtype {value.dtype}; "
                                  f"numeric arrays expected")
    return params


def is_plain_dtype(dtype: np.dtype) -> bool:
    """True for a simple boolean, integer or float dtype: no objects, fields or subarrays."""
    return (dtype.kind in "biuf" and not dtype.hasobject and dtype.fields is None
            and dtype.subdtype is None and dtype.flags == 0)
