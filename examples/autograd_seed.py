"""The original post's loop, trained by autograd: the loss is a graph, and backward() walks it.

原文的训练循环，用自动微分训练：损失是一张计算图，backward() 沿着它往回走。

    python examples/autograd_seed.py                  # 10,000 steps, a few seconds
    python examples/autograd_seed.py --graph graph.png --steps 600

The network is the post's (784-50-10, sigmoid, softmax with cross-entropy), written out with
the functions of dvzero.autograd (F) instead of the DeepVisionZeroNet class: the four
parameters are Variables, each step builds the loss from them, and loss.backward() leaves
each one's gradient in its .grad. No backward method is written here: the graph knows it.
"""

import argparse

import numpy as np

from dvzero import load_mnist
from dvzero.autograd import Variable, no_grad, plot_graph
from dvzero.autograd import functions as F

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--steps", type=int, default=10000, help="gradient-descent steps (10000)")
parser.add_argument("--seed", type=int, default=0, help="seed of the weights and batches (0)")
parser.add_argument("--graph", help="also draw the first step's graph into this .png or .svg")
args = parser.parse_args()

# Load MNIST, pixels in [0, 1], one-hot labels. 读取 MNIST 手写数字集
(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)
rng = np.random.default_rng(args.seed)

# The post's parameters, each a Variable: an array that will receive a gradient.
# 原文的参数，每个都是一个 Variable：会得到梯度的数组
W1 = Variable(0.01 * rng.standard_normal((784, 50)), name="W1")
b1 = Variable(np.zeros(50), name="b1")
W2 = Variable(0.01 * rng.standard_normal((50, 10)), name="W2")
b2 = Variable(np.zeros(10), name="b2")
params = [W1, b1, W2, b2]


def scores(x):
    """The network's forward pass, as functions of the graph. 前向传播"""
    hidden = F.sigmoid(F.linear(x, W1, b1))
    return F.linear(hidden, W2, b2)


def accuracy(x, t):
    with no_grad():  # measuring only: record no graph. 只是测量，不记录计算图
        predicted = np.argmax(scores(x).data, axis=1)
    return float(np.mean(predicted == np.argmax(t, axis=1)))


train_size, batch_size, learning_rate = x_train.shape[0], 100, 0.1
iter_per_epoch = max(train_size // batch_size, 1)
for i in range(args.steps):
    # 1. A random mini-batch (with replacement). 随机选取 batch_size 个样本
    batch_mask = rng.choice(train_size, batch_size)
    x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]

    # 2. The loss as a graph, then backward: every parameter's gradient. 构建损失并反向传播
    loss = F.softmax_cross_entropy(scores(x_batch), t_batch)
    for param in params:
        param.cleargrad()  # gradients add up in leaves: start each step from zero
    loss.backward()
    if i == 0 and args.graph:
        loss.name = "loss"
        plot_graph(loss, args.graph)
        print("drew the first step's graph into", args.graph)

    # 3. A small step against the gradient. 更新参数
    for param in params:
        param.data -= learning_rate * param.grad.data

    if i % iter_per_epoch == 0:
        train_acc, test_acc = accuracy(x_train, t_train), accuracy(x_test, t_test)
        print(i, " train acc, test acc | " + str(train_acc) + ", " + str(test_acc))

print(f"final: train acc {accuracy(x_train, t_train):.4f}, test acc "
      f"{accuracy(x_test, t_test):.4f} after {args.steps} steps")
