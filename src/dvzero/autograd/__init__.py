"""Autograd: a graph that differentiates itself.

Compute with :class:`Variable` s and the functions of :mod:`dvzero.autograd.functions`
(``F``), and each result remembers how it was made; ``loss.backward()`` then fills
``grad`` of every Variable the loss came from::

    import numpy as np
    from dvzero.autograd import Variable, functions as F

    x = Variable(np.array(0.5), name="x")
    y = F.tanh(x) ** 2
    y.backward(create_graph=True)  # dy/dx, itself on a graph
    dy = x.grad
    x.cleargrad()
    dy.backward()                  # d2y/dx2 in x.grad

:mod:`~dvzero.autograd.core` holds Variable, Function and the backward walk;
:mod:`~dvzero.autograd.operators` the Functions behind ``+ - * / ** @``, indexing and
shapes; :mod:`~dvzero.autograd.functions` the rest (``F``); :mod:`~dvzero.autograd.conv`
``conv2d`` and ``max_pool2d``; :mod:`~dvzero.autograd.graph` the drawing.
"""

from . import functions
from .core import Function, Variable, as_variable, no_grad
from .graph import plot_graph, to_dot

__all__ = ["Function", "Variable", "as_variable", "functions", "no_grad", "plot_graph", "to_dot"]
