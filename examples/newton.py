"""Newton's method with second derivatives from the graph: the minimum of x⁴ - 2x².

用计算图求二阶导数的牛顿法：求 x⁴ - 2x² 的极小值。

    python examples/newton.py

Gradient descent steps by -lr * f'(x) and needs a learning rate; Newton's method steps by
-f'(x) / f''(x), the minimum of the parabola that fits f at x. With create_graph=True, the
backward pass records its own graph, so f'(x) is a Variable that can be differentiated
again: f''(x) comes from the graph too, with no formula written by hand.
"""

import numpy as np

from dvzero.autograd import Variable


def f(x):
    return x ** 4 - 2 * x ** 2


x = Variable(np.array(2.0), name="x")
for step in range(1, 11):
    x.cleargrad()
    y = f(x)
    y.backward(create_graph=True)  # the gradient on a graph of its own
    dy = x.grad  # f'(x) = 4x³ - 4x, a Variable
    x.cleargrad()
    dy.backward()  # differentiate f'(x) again
    d2y = x.grad  # f''(x) = 12x² - 4
    x.data = x.data - dy.data / d2y.data
    print(f"step {step}: x = {float(x.data):.15f}, f'(x) was {float(dy.data):+.3e}")
    if abs(x.data - 1.0) < 1e-10:
        break
print(f"reached the minimum x = 1 in {step} steps")
