"""The original post's ``.pkl`` files, read safely.

``save_params`` in the original post pickles a ``dict`` of NumPy arrays. Pickle can run
arbitrary code, so such files are read through :class:`RestrictedUnpickler`, which admits
only what a dict of NumPy arrays needs; a scan of the opcodes refuses everything else
before anything is executed.
"""

from __future__ import annotations

import io
import os
import pickle
import pickletools
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._atomic import atomic_write
from .._i18n import N_, _
from ..errors import ParamsFileError
from .checks import check_params_dict, is_plain_dtype

#: What a pickled dict of NumPy arrays is made of; above all, nothing that builds arbitrary
#: objects (INST, OBJ, NEWOBJ), no extension codes and no persistent ids.
_SAFE_OPCODES = frozenset("""
    PROTO FRAME STOP MARK POP POP_MARK DUP
    NONE NEWTRUE NEWFALSE INT BININT BININT1 BININT2 LONG LONG1 LONG4 FLOAT BINFLOAT
    STRING BINSTRING SHORT_BINSTRING UNICODE BINUNICODE SHORT_BINUNICODE BINUNICODE8
    BINBYTES SHORT_BINBYTES BINBYTES8 BYTEARRAY8
    EMPTY_TUPLE TUPLE TUPLE1 TUPLE2 TUPLE3 EMPTY_LIST LIST APPEND APPENDS
    EMPTY_DICT DICT SETITEM SETITEMS
    GLOBAL STACK_GLOBAL REDUCE BUILD
    PUT BINPUT LONG_BINPUT MEMOIZE GET BINGET LONG_BINGET
""".split())
_MEMO_OPCODES = frozenset(("PUT", "BINPUT", "LONG_BINPUT", "GET", "BINGET", "LONG_BINGET"))

#: dtype codes a parameter array may have: booleans, integers and floats (no objects).
_NUMERIC_DTYPE_CODES = frozenset(
    f"{kind}{size}" for kind in "iu" for size in (1, 2, 4, 8)
) | {"f2", "f4", "f8", "b1", "?"}


class _NdarrayToken:
    """Stands for ``numpy.ndarray`` inside a pickle: it may be named, never called."""

    def __repr__(self) -> str:
        return "<numpy.ndarray (restricted)>"


_NDARRAY = _NdarrayToken()


#: The message for a file that is neither kind of parameter file (a CSV, a text, a picture).
NOT_A_PARAMS_FILE = N_("not a dvzero parameter file: expected a .npz written by dvzero or a "
                        ".pkl written by save_params, as in the original post")


def _refuse(what: str) -> ParamsFileError:
    """The refusal of a pickle that does ``what`` (a translated phrase: "builds an array of
    objects")."""
    return ParamsFileError(_("refusing a pickle that {what}; a parameter file holds only arrays")
                           .format(what=what))


def _safe_reconstruct(subtype: Any, shape: Any, typecode: Any) -> NDArray:
    # NumPy pickles every array as _reconstruct(ndarray, (0,), b'b') followed by BUILD,
    # whose state NumPy checks itself; any other call is not an array being unpickled.
    if subtype is not _NDARRAY or shape != (0,) or typecode != b"b":
        raise _refuse(_("calls numpy's _reconstruct with unusual arguments"))
    return np.ndarray.__new__(np.ndarray, (0,), "b")


def _safe_dtype(spec: Any, align: Any = False, copy: Any = False) -> np.dtype:
    if not isinstance(spec, str) or spec.lstrip("<>=|") not in _NUMERIC_DTYPE_CODES:
        raise _refuse(_("asks for the dtype {spec!r}").format(spec=spec))
    return np.dtype(spec, bool(align), bool(copy))


def _safe_frombuffer(buffer: Any, dtype: Any, shape: Any, order: Any) -> NDArray:
    if not isinstance(buffer, (bytes, bytearray)) or not isinstance(dtype, np.dtype):
        raise _refuse(_("calls numpy's _frombuffer with unusual arguments"))
    if dtype.hasobject or order not in ("C", "F"):
        raise _refuse(_("builds an array of objects"))
    return np.frombuffer(buffer, dtype=dtype).reshape(shape, order=order)


def _safe_encode(text: Any, encoding: Any = "utf-8") -> bytes:
    # Protocols 0-2 store array bytes as latin-1 text; nothing else is ever encoded.
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise _refuse(_("calls codecs.encode with unusual arguments"))
    return text.encode("latin-1")


def _empty_bytes(*args: Any) -> bytes:
    # Protocols 0-2 write the empty data of a zero-size array as bytes(); never bytes(n),
    # which would let a file allocate as much memory as it likes.
    if args:
        raise _refuse(_("calls bytes() with arguments"))
    return b""


_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    **{(f"{prefix}.multiarray", "_reconstruct"): _safe_reconstruct
       for prefix in ("numpy._core", "numpy.core")},
    **{(f"{prefix}.numeric", "_frombuffer"): _safe_frombuffer
       for prefix in ("numpy._core", "numpy.core")},
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _safe_dtype,
    ("_codecs", "encode"): _safe_encode,
    ("builtins", "bytes"): _empty_bytes,
    ("__builtin__", "bytes"): _empty_bytes,
}


def _starts_like_a_pickle(data: bytes) -> bool:
    """True for the first bytes of a dict pickled with any protocol (0: ``(dp``, 1: ``}``)."""
    if data[:1] == pickle.PROTO:
        return len(data) > 1 and 2 <= data[1] <= pickle.HIGHEST_PROTOCOL
    return data[:2] == b"(d" or data[:1] == pickle.EMPTY_DICT


def _scan_pickle(data: bytes) -> None:
    """Refuse, before anything runs, a pickle with opcodes a dict of arrays never needs.

    The opcodes are read, not run, in one pass. What is found decides the message, in this
    order: an import of anything but NumPy's array machinery is refused as possibly
    malicious; bytes that do not start like a pickled dict (a text, a CSV) are called not a
    parameter file, not an attack; a pickle that does not parse is called damaged; then
    opcodes that build objects and memo indices beyond the number of opcodes (which could
    only serve to make the unpickler allocate a huge table) are refused.
    """
    starts_like_a_pickle = _starts_like_a_pickle(data)
    bad_import = unsafe_opcode = bad_memo = parse_error = None
    strings: list[str] = []  # for STACK_GLOBAL in files that the unpickler never sees
    try:
        for count, (opcode, argument, _position) in enumerate(pickletools.genops(data),
                                                               start=1):
            name = opcode.name
            imported = None
            if name in ("GLOBAL", "INST"):
                imported = tuple(str(argument).partition(" ")[::2])
            elif name == "STACK_GLOBAL" and not starts_like_a_pickle and len(strings) >= 2:
                imported = (strings[-2], strings[-1])
            if imported and imported not in _ALLOWED_GLOBALS and bad_import is None:
                bad_import = ".".join(imported)
            if isinstance(argument, str):
                strings.append(argument)
            if name not in _SAFE_OPCODES and unsafe_opcode is None:
                unsafe_opcode = name
            if (name in _MEMO_OPCODES and bad_memo is None
                    and (not isinstance(argument, int) or argument > count)):
                bad_memo = argument
    except Exception as exc:  # unknown opcode, truncated argument, no STOP, ...
        parse_error = exc
    if bad_import is not None:
        raise _refuse(_("imports {name} (it may be malicious)").format(name=bad_import))
    if not starts_like_a_pickle:
        raise ParamsFileError(_(NOT_A_PARAMS_FILE))
    if parse_error is not None:
        raise ParamsFileError(_("a damaged or truncated pickle ({reason})")
                              .format(reason=parse_error))
    if unsafe_opcode is not None:
        raise _refuse(_("uses the opcode {opcode}").format(opcode=unsafe_opcode))
    if bad_memo is not None:
        raise _refuse(_("uses the memo index {index!r}").format(index=bad_memo))


class RestrictedUnpickler(pickle._Unpickler):
    """An unpickler that can rebuild a dict of NumPy arrays and nothing else.

    Pickle rebuilds objects by importing and calling whatever the file names. This class
    admits a handful of names, each replaced by a guarded stand-in that accepts only the
    arguments NumPy's own pickles use (no object arrays, no arbitrary dtypes, no
    ``numpy.ndarray(...)`` calls). It is the pure-Python unpickler, whose memo is a dict,
    so a file cannot make it allocate a huge table. Use :func:`load_params_pickle`, which
    also scans the opcodes first.
    """

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise ParamsFileError(_("refusing to load {module}.{name}: a parameter pickle may "
                                    "contain only NumPy arrays, and this one asks to import "
                                    "other code (it may be malicious)")
                                  .format(module=module, name=name)) from None

    def persistent_load(self, pid: Any) -> Any:
        raise _refuse(_("has persistent references"))

    def load_build(self) -> None:
        """BUILD sets an object's state: allowed only with the states NumPy itself writes.

        A dtype's state can carry flags and fields; a forged one could mark a float dtype
        as holding object references, which NumPy would then follow. So a dtype may only
        receive the plain state of a simple numeric type, and an array only a state whose
        dtype is such a type.
        """
        state = self.stack[-1]
        target = self.stack[-2] if len(self.stack) > 1 else None
        if isinstance(target, np.dtype):
            if not _is_plain_dtype_state(state):
                raise _refuse(_("sets the unusual dtype state {state!r}").format(state=state))
        elif isinstance(target, np.ndarray):
            if not (isinstance(state, tuple) and len(state) == 5
                    and isinstance(state[2], np.dtype) and is_plain_dtype(state[2])):
                raise _refuse(_("sets an array state with an unusual dtype"))
        else:
            raise _refuse(_("sets the state of a {type}").format(type=type(target).__name__))
        super().load_build()

    dispatch = dict(pickle._Unpickler.dispatch)
    dispatch[pickle.BUILD[0]] = load_build


def _is_plain_dtype_state(state: Any) -> bool:
    # (version, byte order, subarray, names, fields, itemsize, alignment, flags)
    return (isinstance(state, tuple) and len(state) == 8 and state[0] == 3
            and state[1] in ("<", ">", "|", "=") and state[2:] == (None, None, None, -1, -1, 0))


def save_params_pickle(path: str | os.PathLike[str], params: Mapping[str, NDArray]) -> None:
    """Write the original post's format: ``pickle.dump`` of a plain dict of arrays (atomically)."""
    with atomic_write(path, "wb") as handle:
        pickle.dump(dict(params), handle)


def load_params_pickle(path: str | os.PathLike[str]) -> dict[str, NDArray]:
    """Read the original post's ``.pkl`` format safely (see :class:`RestrictedUnpickler`)."""
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        _scan_pickle(data)
        params = RestrictedUnpickler(io.BytesIO(data)).load()
    except ParamsFileError as exc:
        raise ParamsFileError(_("{path}: {message}").format(path=path, message=exc)) from None
    except Exception as exc:  # any malformed pickle: truncated, wrong opcodes, ...
        raise ParamsFileError(_("{path}: not a readable parameter pickle ({error!r})")
                              .format(path=path, error=exc)) from exc
    return check_params_dict(params, str(path))
