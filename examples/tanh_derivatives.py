"""tanh and its first four derivatives, each from the graph of the one before.

tanh 及其一到四阶导数，每一阶都由上一阶的计算图求出。

    python examples/tanh_derivatives.py [--out tanh.png] [--graph tanh_graph.png]

y = tanh(x) on 200 points; backward(create_graph=True) gives dy/dx as a Variable with a
graph of its own, and backward on that gives the second derivative, and so on. The plot
shows the five curves; --graph draws the graph that backward built for the second
derivative (Graphviz's dot program is needed to draw it).
"""

import argparse

import matplotlib

matplotlib.use("Agg")  # write the plot to a file; works with no screen
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dvzero.autograd import Variable, plot_graph  # noqa: E402
from dvzero.autograd import functions as F  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", default="tanh.png", help="the plot to write (tanh.png)")
parser.add_argument("--graph", help="also draw the graph of the second derivative (.png, .svg)")
args = parser.parse_args()

x = Variable(np.linspace(-4, 4, 200), name="x")
y = F.tanh(x)
y.name = "y"
curves = [y.data]
for order in range(1, 5):
    x.cleargrad()
    F.sum(y).backward(create_graph=True)  # each point's derivative: the sum separates them
    y = x.grad  # the derivative, itself on a graph
    y.name = f"d{order}y"
    curves.append(y.data)
    if order == 2 and args.graph:
        x.cleargrad()  # x.grad is this derivative itself: do not show it as x's gradient
        plot_graph(y, args.graph)
        print("drew the graph of the second derivative into", args.graph)

figure, axes = plt.subplots(figsize=(7, 4))
for order, curve in enumerate(curves):
    axes.plot(x.data, curve, label="tanh(x)" if order == 0 else f"derivative {order}")
axes.set_xlabel("x")
axes.legend(loc="lower right", fontsize="small")
axes.grid(alpha=0.3)
figure.tight_layout()
figure.savefig(args.out, dpi=100)
print("wrote", args.out)
