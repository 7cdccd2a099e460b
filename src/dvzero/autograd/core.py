"""Variables that remember how they were made, and the Functions that make them.

A :class:`Variable` wraps an array. Calling a :class:`Function` on Variables gives a new
Variable that points back at the function (its ``creator``), and the function keeps its
inputs: together they are a graph of the computation. ``y.backward()`` walks that graph
from ``y`` back to where it started, calling each function's ``backward`` (the chain rule),
and leaves ``dy/dx`` in ``x.grad`` for every Variable ``x`` the graph started from.

The layers of :mod:`dvzero.layers` do the same by hand, one ``backward`` a layer, in the
order a network lists them; here the graph finds the order itself, for any computation.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import threading
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._i18n import _


class _Recording(threading.local):
    """Whether functions record the graph, for each thread: every thread starts with ``True``."""

    enabled = True


_recording = _Recording()


@contextlib.contextmanager
def _record(enabled: bool) -> Iterator[None]:
    before, _recording.enabled = _recording.enabled, enabled
    try:
        yield
    finally:
        _recording.enabled = before


def no_grad() -> contextlib.AbstractContextManager[None]:
    """A context manager inside which functions record no graph: nothing to go back through,
    nothing kept alive (for predicting and measuring)."""
    return _record(False)


class Variable:
    """An array on the graph: ``data``, its ``grad`` after :meth:`backward`, an optional
    ``name``, and the function that made it (``creator``, ``None`` for a Variable made by
    hand: a *leaf*).

    ``requires_grad`` says whether gradients flow to it. Variables you make do; the plain
    arrays and numbers that functions are given (the data, the labels, a constant) are
    wrapped as Variables that do not, and get no gradient. Integer data becomes float64.
    """

    #: ``array + variable`` and ``array @ variable`` call the Variable's reflected operator
    #: instead of NumPy treating the Variable as an object to loop over.
    __array_ufunc__ = None

    def __init__(self, data: ArrayLike, name: str | None = None, requires_grad: bool = True
                 ) -> None:
        if isinstance(data, Variable):
            raise TypeError(_("Variable() takes an array, not a Variable: use it as it is"))
        data = np.asarray(data)
        if requires_grad and data.dtype.kind != "f":
            data = data.astype(np.float64)
        self.data: NDArray = data
        self.name = name
        self.grad: Variable | None = None
        self.creator: Function | None = None
        self.generation = 0  # how many functions deep it is: backward goes deepest first
        self.requires_grad = requires_grad

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, prefix="Variable(")
        return f"Variable({body}{f', name={self.name!r}' if self.name else ''})"

    def _repr_svg_(self) -> str | None:
        """Jupyter's picture of a Variable made by functions: the graph that made it, as
        SVG (:func:`~dvzero.autograd.graph.build_graph`). ``None`` (Jupyter shows the text
        repr) for a leaf, or when Graphviz's ``dot`` program is not installed."""
        import graphviz

        from .graph import build_graph

        if self.creator is None:
            return None
        try:
            return build_graph(self).pipe(format="svg", encoding="utf-8")
        except graphviz.ExecutableNotFound:
            return None

    def cleargrad(self) -> None:
        """Forget the gradient, before a new backward (gradients add up in leaves)."""
        self.grad = None

    def backward(self, retain_grad: bool = False, create_graph: bool = False) -> None:
        """Fill ``grad`` of every leaf this Variable was computed from: ``d self / d leaf``.

        The gradient of ``self`` itself starts as ones (for a scalar loss: 1). Each function
        is called once, when every gradient of its output is in: the functions are taken
        deepest first (by ``generation``), so a value used twice has both contributions
        summed before it flows on. Leaves add the new gradient to what they hold (call
        :meth:`cleargrad` between two backward passes that should not add up); Variables
        in between keep theirs only with ``retain_grad=True``, and never add up.

        With ``create_graph=True`` the backward functions record a graph of their own, so a
        gradient is a Variable that can be differentiated again (second derivatives, ...).
        The walk is a loop, not recursion: a chain of any length is fine.
        """
        if not self.requires_grad:
            raise ValueError(_("backward() of a Variable that needs no gradient: it was "
                               "computed from constants only, or under no_grad() (a derivative "
                               "that is constant is such a Variable)"))
        seed = Variable(np.ones_like(self.data), requires_grad=False)
        shared = {id(seed.data)}  # the arrays handed out as gradients so far
        if self.creator is None:
            self._add_grad(seed, shared)
            return
        self.grad = seed
        pending = {self: seed}  # gradients of Variables whose creator has not run yet
        queue: list[tuple[int, int, Function]] = []
        queued: set[Function] = set()
        order = itertools.count()  # breaks ties between functions of one generation

        def push(function: Function) -> None:
            if function not in queued:
                queued.add(function)
                heapq.heappush(queue, (-function.generation, next(order), function))

        push(self.creator)
        with _record(create_graph):
            while queue:
                function = heapq.heappop(queue)[2]
                output = function.output()
                gy = pending.pop(output)
                if retain_grad:
                    output.grad = gy
                gxs = function.backward(gy)
                if not isinstance(gxs, tuple):
                    gxs = (gxs,)
                for x, gx in zip(function.inputs, gxs, strict=True):
                    if not x.requires_grad:
                        continue
                    if gx is None:  # on the graph, but nothing flows to it
                        gx = Variable(np.zeros_like(x.data), requires_grad=False)
                    if x.creator is None:
                        x._add_grad(gx, shared)
                    else:
                        pending[x] = gx if x not in pending else pending[x] + gx
                        push(x.creator)

    def _add_grad(self, gx: Variable, shared: set[int]) -> None:
        """Add ``gx`` to this leaf's gradient. A gradient off the graph gets an array of its
        own when its array is read-only or already another's (``a + b`` passes one array
        back to both), so that changing one in place changes no other."""
        if self.grad is not None:
            self.grad = self.grad + gx
        elif gx.creator is None and (id(gx.data) in shared or not gx.data.flags.writeable):
            self.grad = Variable(gx.data.copy(), requires_grad=False)
        else:
            self.grad = gx
        shared.add(id(self.grad.data))

    # The operators are functions of the graph (dvzero.autograd.operators).
    def __add__(self, other: Any) -> Variable:
        return operators.add(self, other)

    def __radd__(self, other: Any) -> Variable:
        return operators.add(other, self)

    def __sub__(self, other: Any) -> Variable:
        return operators.sub(self, other)

    def __rsub__(self, other: Any) -> Variable:
        return operators.sub(other, self)

    def __mul__(self, other: Any) -> Variable:
        return operators.mul(self, other)

    def __rmul__(self, other: Any) -> Variable:
        return operators.mul(other, self)

    def __truediv__(self, other: Any) -> Variable:
        return operators.div(self, other)

    def __rtruediv__(self, other: Any) -> Variable:
        return operators.div(other, self)

    def __neg__(self) -> Variable:
        return operators.neg(self)

    def __pow__(self, exponent: float) -> Variable:
        return operators.power(self, exponent)

    def __matmul__(self, other: Any) -> Variable:
        return operators.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Variable:
        return operators.matmul(other, self)

    def __getitem__(self, index: Any) -> Variable:
        return operators.get_item(self, index)

    @property
    def T(self) -> Variable:  # noqa: N802 (NumPy's name)
        return operators.transpose(self)

    def reshape(self, *shape: int | tuple[int, ...]) -> Variable:
        return operators.reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes: int) -> Variable:
        return operators.transpose(self, axes[0] if len(axes) == 1 else (axes or None))

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Variable:
        return operators.sum(self, axis, keepdims)


def as_variable(x: Any, like: Variable | None = None) -> Variable:
    """``x`` itself if it is a Variable, else ``x`` wrapped as a constant (no gradient).

    A Python number or 0-d array next to ``like`` takes ``like``'s float dtype, so that
    ``2 * x`` of a float32 ``x`` stays float32.
    """
    if isinstance(x, Variable):
        return x
    x = np.asarray(x)
    if like is not None and x.ndim == 0 and like.dtype.kind == "f":
        x = x.astype(like.dtype)
    return Variable(x, requires_grad=False)


class Function:
    """One step of a computation: ``forward`` on arrays, ``backward`` on Variables.

    A subclass writes ``forward(*arrays)``, returning the output array, and
    ``backward(gy)``, returning the gradient for each input (one Variable, or a tuple of
    them, ``None`` for an input that needs none; ``self.inputs`` holds the input Variables
    and ``self.output()`` the output). ``backward`` is made of Functions too, so with
    ``create_graph`` it records a graph of its own.

    The function holds its output weakly: when the last reference to the output goes, the
    graph behind it goes too.
    """

    inputs: tuple[Variable, ...]
    output: weakref.ref[Variable]
    generation: int

    def __call__(self, *inputs: Any) -> Variable:
        if hasattr(self, "inputs"):
            raise RuntimeError(_("a {function} is called once, as it keeps its inputs for "
                                 "backward: make a new one for each call")
                               .format(function=type(self).__name__))
        inputs = tuple(as_variable(x) for x in inputs)
        y = Variable(self.forward(*(x.data for x in inputs)), requires_grad=False)
        if _recording.enabled and any(x.requires_grad for x in inputs):
            self.inputs = inputs
            self.generation = max(x.generation for x in inputs)
            y.creator, y.generation, y.requires_grad = self, self.generation + 1, True
            self.output = weakref.ref(y)
        return y

    def forward(self, *xs: NDArray) -> NDArray:
        raise NotImplementedError

    def backward(self, gy: Variable) -> Variable | None | tuple[Variable | None, ...]:
        raise NotImplementedError


from . import operators  # noqa: E402  (the operators are Functions; they need the above)
