"""Write the notebooks of ``notebooks/en`` and ``notebooks/zh`` from the cells below.

Each notebook is a list of cells: a code cell is a string, a text cell a pair
``(English, 中文)``. Both languages get the same code cells, so that the tests can hold
them together; only the text differs. The notebooks are stored without outputs (the tests
execute the English ones). Run ``python notebooks/make_notebooks.py`` after editing a
cell here, rather than editing the ``.ipynb`` files by hand.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent

ORIGINAL_POST = [
    ("# 1. The original post's loop\n\n"
     "The original post trains a two-layer network, `DeepVisionZeroNet` (784-50-10, sigmoid), "
     "on the MNIST digits: 10,000 steps, each on a mini-batch of 100 images, learning rate "
     "0.1, with the gradient found by **numerical differentiation**. Here is its loop on "
     "dvzero: first a few steps with its numerical gradient, to feel how slow it is, then "
     "the rest with backpropagation, which gives the same gradient thousands of times "
     "faster.",
     "# 1. 原文的训练循环\n\n"
     "原文在 MNIST 手写数字上训练一个两层网络 `DeepVisionZeroNet`（784-50-10，sigmoid）："
     "10,000 步，每步用 100 张图像组成的 mini-batch，学习率 0.1，梯度用**数值微分**求出。"
     "下面在 dvzero 上运行原文的循环：先用原文的数值梯度走几步，体会它有多慢；剩下的步数改用"
     "反向传播，它给出同样的梯度，却快几千倍。"),
    """import time

import matplotlib.pyplot as plt
import numpy as np

from dvzero import DeepVisionZeroNet, load_mnist

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)
print(x_train.shape, t_train.shape, x_test.shape, t_test.shape)""",
    ("The network is the original post's, name for name: `params` holds `W1`, `b1`, `W2` "
     "and `b2`. The post draws its batches with `np.random`, so a seed makes this run "
     "repeatable.",
     "网络就是原文的网络，名字一一对应：`params` 里是 `W1`、`b1`、`W2` 和 `b2`。原文用 "
     "`np.random` 抽取 batch，所以先设一个随机种子，让这次运行可以重现。"),
    """np.random.seed(0)
network = DeepVisionZeroNet(input_size=784, hidden_size=50, output_size=10)
for key, value in network.params.items():
    print(key, value.shape)
print("parameters:", sum(value.size for value in network.params.values()))""",
    ("## A few steps with the numerical gradient\n\n"
     "`network.numerical_gradient` nudges each of the 39,760 parameters by ±h and runs the "
     "whole network forward each time: 79,520 forward passes for one step. To keep each "
     "step to a few seconds we use batches of 10 images instead of 100, and take only two "
     "steps. Beside each, backpropagation computes the same gradient: the largest "
     "difference between the two is tiny.",
     "## 用数值梯度走几步\n\n"
     "`network.numerical_gradient` 把 39,760 个参数逐个加减 h，每次都让整个网络重新做一遍"
     "前向计算：一步就要 79,520 次前向计算。为了让每步只花几秒，这里的 batch 大小取 10 而不是 "
     "100，并且只走两步。每一步旁边也用反向传播求同一个梯度：两者的最大差别微乎其微。"),
    """batch_size = 10          # the original post: 100
learning_rate = 0.1
for i in range(2):
    batch_mask = np.random.choice(x_train.shape[0], batch_size)
    x_batch = x_train[batch_mask].astype(np.float64)
    t_batch = t_train[batch_mask]
    start = time.perf_counter()
    grad = network.numerical_gradient(x_batch, t_batch)   # the original post's gradient
    numerical_seconds = time.perf_counter() - start
    start = time.perf_counter()
    backprop = network.gradient(x_batch, t_batch)          # backpropagation
    backprop_seconds = time.perf_counter() - start
    difference = max(np.abs(grad[key] - backprop[key]).max() for key in grad)
    for key in ("W1", "b1", "W2", "b2"):
        network.params[key] -= learning_rate * grad[key]
    print(f"step {i}: loss {network.loss(x_batch, t_batch):.4f}, "
          f"numerical {numerical_seconds:.2f} s, backprop {backprop_seconds * 1000:.2f} ms, "
          f"largest difference {difference:.1e}")""",
    ("## The rest with backpropagation\n\n"
     "The same loop, with `network.gradient` in place of `network.numerical_gradient` and "
     "the post's batch of 100. The post measures the accuracies once an epoch "
     "(`iter_per_epoch`, 600 steps for 60,000 images); we take 2,000 steps instead of "
     "10,000, which is enough to pass 0.9.",
     "## 剩下的步数用反向传播\n\n"
     "还是同一个循环，只是把 `network.numerical_gradient` 换成 `network.gradient`，batch "
     "大小恢复为原文的 100。原文每个 epoch 测一次精度（`iter_per_epoch`，60,000 张图像对应 "
     "600 步）；这里只走 2,000 步而不是 10,000 步，已足以让精度超过 0.9。"),
    """batch_size = 100
iters_num = 2000         # the original post: 10000
iter_per_epoch = max(x_train.shape[0] / batch_size, 1)
train_loss_list, train_acc_list, test_acc_list = [], [], []
start = time.perf_counter()
for i in range(iters_num):
    batch_mask = np.random.choice(x_train.shape[0], batch_size)
    x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
    grad = network.gradient(x_batch, t_batch)
    for key in ("W1", "b1", "W2", "b2"):
        network.params[key] -= learning_rate * grad[key]
    train_loss_list.append(network.loss(x_batch, t_batch))
    if i % iter_per_epoch == 0:
        train_acc_list.append(network.accuracy(x_train, t_train))
        test_acc_list.append(network.accuracy(x_test, t_test))
        print(f"step {i}: train acc {train_acc_list[-1]:.4f}, test acc {test_acc_list[-1]:.4f}")
print(f"{iters_num} steps in {time.perf_counter() - start:.1f} s; "
      f"test acc {network.accuracy(x_test, t_test):.4f}")""",
    ("The loss of each mini-batch falls quickly, then slowly, and jitters because each batch "
     "is different:",
     "每个 mini-batch 的损失先快后慢地下降，并且因为每个 batch 都不同而上下抖动："),
    """fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(train_loss_list, linewidth=0.5)
ax.set_xlabel("step")
ax.set_ylabel("loss")
plt.show()""",
    ("At the post's speed (about 45 s a step on the author's computer) the 2,000 steps above "
     "would have taken a day; with backpropagation they take a few seconds. The next "
     "notebook looks at why the two gradients agree.",
     "按原文的速度（在作者的电脑上每步约 45 秒），上面的 2,000 步要花上一整天；用反向传播只要"
     "几秒。下一个笔记本看看两种梯度为什么一致。"),
]

GRADIENT_CHECK = [
    ("# 2. Backpropagation and the gradient check\n\n"
     "Each layer of a network has a `forward` and a `backward` side by side: `backward` turns "
     "the gradient of the layer's output into the gradient of its input and of its own "
     "parameters, by the chain rule. A mistake there would still train, only worse, so "
     "every layer is checked against numerical differentiation, which is slow but hard to "
     "get wrong. This is the **gradient check**.",
     "# 2. 反向传播与梯度确认\n\n"
     "网络的每一层都有并排写着的 `forward` 和 `backward`：`backward` 按链式法则，把该层输出的"
     "梯度变成输入的梯度和该层参数的梯度。这里写错了，网络照样能训练，只是训练得更差，所以每一层"
     "都要和数值微分对照：数值微分很慢，却不容易写错。这就是**梯度确认**。"),
    """import time

import numpy as np

from dvzero import Affine, DeepVisionZeroNet, MultiLayerNet, load_mnist, numerical_gradient

rng = np.random.default_rng(0)""",
    ("## One layer\n\n"
     "`Affine` computes `x @ W + b`. Suppose the loss above it is `L = sum(out * dout)`: then "
     "the gradient arriving from above is exactly `dout`, and `backward(dout)` must give "
     "`dL/dx`, `dL/dW` and `dL/db`. `numerical_gradient(f, W)` nudges each element of `W` "
     "in place and measures how `L` moves.",
     "## 一层\n\n"
     "`Affine` 计算 `x @ W + b`。假设它上面的损失是 `L = sum(out * dout)`，那么从上面传来的"
     "梯度正好是 `dout`，而 `backward(dout)` 应当给出 `dL/dx`、`dL/dW` 和 `dL/db`。"
     "`numerical_gradient(f, W)` 原地逐个微调 `W` 的元素，测量 `L` 如何变化。"),
    """W, b = rng.normal(size=(4, 3)), rng.normal(size=3)
x = rng.normal(size=(2, 4))
dout = rng.normal(size=(2, 3))          # the gradient coming from above
layer = Affine(W, b)
layer.forward(x)
dx = layer.backward(dout)


def L(_):
    return np.sum(layer.forward(x) * dout)


for name, backprop, array in (("x", dx, x), ("W", layer.dW, W), ("b", layer.db, b)):
    numerical = numerical_gradient(L, array)
    print(name, np.abs(backprop - numerical).max())""",
    ("## A whole network\n\n"
     "The same check for the original post's network, with a smaller hidden layer (10 units) "
     "so that the numerical gradient takes a moment, on three images in float64. The error "
     "is measured relative to each parameter's largest gradient; the tests require it to "
     "stay below 1e-6.",
     "## 整个网络\n\n"
     "对原文的网络做同样的确认：隐藏层改小为 10 个单元，让数值梯度很快算完；用 3 张图像，"
     "float64。误差相对于每个参数最大的梯度来计算；测试要求它小于 1e-6。"),
    """(x_train, t_train), _ = load_mnist(one_hot_label=True)
x, t = x_train[:3].astype(np.float64), t_train[:3]


def check(network, x, t):
    start = time.perf_counter()
    numerical = network.numerical_gradient(x, t)
    middle = time.perf_counter()
    backprop = network.gradient(x, t)
    end = time.perf_counter()
    for key in numerical:
        largest = np.abs(numerical[key]).max()
        error = np.abs(backprop[key] - numerical[key]).max()
        if largest > 1e-6:    # relative to the largest gradient, unless that is zero
            error /= largest
        print(f"{key:7} {str(numerical[key].shape):10} largest {largest:.1e}, error {error:.1e}")
    print(f"numerical {middle - start:.2f} s, backprop {(end - middle) * 1000:.2f} ms")


check(DeepVisionZeroNet(784, 10, 10, rng=0), x, t)""",
    ("Deeper networks have more kinds of layers: here ReLU, He's initial weights, batch "
     "normalization (its `gamma` and `beta` are parameters too) and weight decay. Each "
     "layer's `backward` passes the check. The biases `b1` and `b2` come just before a batch "
     "normalization, which subtracts the batch's mean: they cannot change the loss, and both "
     "ways find their gradient zero (up to rounding; the error is then not divided).",
     "更深的网络有更多种层：这里有 ReLU、He 的权重的初始值、Batch Normalization（它的 `gamma` "
     "和 `beta` 也是参数）以及权值衰减。每一层的 `backward` 都通过了确认。"
     "偏置 `b1` 和 `b2` 后面紧接着 Batch Normalization，它会减去 batch 的平均值："
     "这两个偏置改变不了损失，两种方法求出的梯度都是零（只差舍入误差；这时误差不再相除）。"),
    """network = MultiLayerNet(784, [10, 10], 10, activation="relu", weight_init_std="he",
                        weight_decay_lambda=0.1, use_batchnorm=True, rng=0)
check(network, x, t)""",
    ("## Why it matters: the cost\n\n"
     "The numerical gradient needs two forward passes per parameter; backpropagation one "
     "forward and one backward pass for all of them. The ratio grows with the number of "
     "parameters: for the original post's 39,760 parameters and a batch of 100 it is tens of "
     "thousands.",
     "## 为什么重要：代价\n\n"
     "数值梯度每个参数要两次前向计算；反向传播对全部参数只要一次前向计算和一次反向传播。参数越多，"
     "两者的差距越大：对原文的 39,760 个参数和大小为 100 的 batch，差距是几万倍。"),
    """for hidden in (5, 10, 20):
    network = DeepVisionZeroNet(784, hidden, 10, rng=0)
    size = sum(value.size for value in network.params.values())
    start = time.perf_counter()
    network.numerical_gradient(x, t)
    numerical = time.perf_counter() - start
    start = time.perf_counter()
    network.gradient(x, t)
    backprop = time.perf_counter() - start
    print(f"{size:6} parameters: numerical {numerical:.3f} s, backprop {backprop * 1e3:.3f} ms, "
          f"ratio {numerical / backprop:,.0f}")""",
]

OPTIMIZERS = [
    ("# 3. Optimizers and initial weights\n\n"
     "Plain gradient descent (SGD) is not the only way to use a gradient. Momentum remembers "
     "where it was going; AdaGrad, RMSprop and Adam give each parameter its own step. And "
     "before any step, the **initial weights** decide whether the signal survives a deep "
     "network at all. Small runs on 10,000 training images show both.",
     "# 3. 优化器与权重的初始值\n\n"
     "使用梯度的方法不止朴素的梯度下降法（SGD）一种。Momentum 记住此前前进的方向；AdaGrad、"
     "RMSprop 和 Adam 给每个参数各自的步长。而在迈出第一步之前，**权重的初始值**就决定了信号"
     "能不能穿过一个深的网络。下面在 10,000 张训练图像上做几个小实验，把两者都展示出来。"),
    """import matplotlib.pyplot as plt
import numpy as np

from dvzero import MultiLayerNet, Trainer, load_mnist
from dvzero.optimizers import DEFAULT_LR, SGD, make_optimizer

(x_train, t_train), (x_test, t_test) = load_mnist()
x_small, t_small = x_train[:10000], t_train[:10000]
test_set = {"test": (x_test[:2000], t_test[:2000])}


def smooth(values, window=20):
    return np.convolve(values, np.ones(window) / window, mode="valid")""",
    ("## Six optimizers\n\n"
     "The same network (784-100-100-100-100-10, ReLU, He's initial weights) from the same "
     "initial weights trains 300 steps on the same batches with each optimizer, at its usual "
     "learning rate (`DEFAULT_LR`).",
     "## 六个优化器\n\n"
     "同一个网络（784-100-100-100-100-10，ReLU，He 的权重的初始值）从同样的权重的初始值出发，"
     "在同样的 batch 上用每个优化器各训练 300 步，学习率取各自常用的值（`DEFAULT_LR`）。"),
    """histories = {}
for name, lr in DEFAULT_LR.items():
    network = MultiLayerNet(784, [100, 100, 100, 100], 10, activation="relu",
                            weight_init_std="he", rng=1)
    trainer = Trainer(network, x_small, t_small, test_set, step_num=300,
                      optimizer=make_optimizer(name), rng=1)
    histories[name] = trainer.run()
    print(f"{name:9} lr {lr:<6} test acc {histories[name].test_acc_list[-1]:.4f}")

fig, ax = plt.subplots(figsize=(7, 4))
for name, history in histories.items():
    ax.plot(smooth(history.train_loss_list), label=name)
ax.set_xlabel("step")
ax.set_ylabel("loss (average of 20 steps)")
ax.legend()
plt.show()""",
    ("## Initial weights\n\n"
     "Five layers of ReLU, three scales of initial weights: a standard deviation of 0.01, "
     "Xavier's `sqrt(1 / n)` and He's `sqrt(2 / n)`, where n is the number of inputs of a "
     "layer. Before any training, look at the hidden layers' activations on 1,000 images: "
     "with 0.01 they shrink layer by layer towards zero, so the gradients vanish too.",
     "## 权重的初始值\n\n"
     "五层 ReLU，三种权重的初始值的尺度：标准差 0.01、Xavier 的 `sqrt(1 / n)` 和 He 的 "
     "`sqrt(2 / n)`，其中 n 是一层的输入个数。训练之前，先看看隐藏层在 1,000 张图像上的激活值："
     "用 0.01 时，它们一层比一层小，趋近于零，梯度也随之消失。"),
    """inits = (0.01, "xavier", "he")
fig, axes = plt.subplots(1, 3, figsize=(10, 3), sharey=True)
for ax, init in zip(axes, inits, strict=True):
    network = MultiLayerNet(784, [100] * 4, 10, activation="relu", weight_init_std=init, rng=1)
    a = x_small[:1000]
    means = []
    for layer in range(1, 5):   # the hidden layers, computed by hand: relu(a @ W + b)
        a = np.maximum(0, a @ network.params[f"W{layer}"] + network.params[f"b{layer}"])
        means.append(a.mean())
    ax.bar(range(1, 5), means)
    ax.set_yscale("log")
    ax.set_title(f"init {init}")
    ax.set_xlabel("hidden layer")
axes[0].set_ylabel("mean activation")
plt.show()""",
    ("Then train each for 300 steps with SGD (learning rate 0.1):",
     "然后用 SGD（学习率 0.1）把每个网络训练 300 步："),
    """fig, ax = plt.subplots(figsize=(7, 4))
for init in inits:
    network = MultiLayerNet(784, [100] * 4, 10, activation="relu", weight_init_std=init, rng=1)
    history = Trainer(network, x_small, t_small, test_set, step_num=300,
                      optimizer=SGD(lr=0.1), rng=1).run()
    ax.plot(smooth(history.train_loss_list), label=f"init {init}")
    print(f"init {init!s:7} test acc {history.test_acc_list[-1]:.4f}")
ax.set_xlabel("step")
ax.set_ylabel("loss (average of 20 steps)")
ax.legend()
plt.show()""",
    ("With 0.01 the loss stays at about 2.30, the loss of a guess among ten digits "
     "(`-log(0.1)`): the network does not learn. `dvzero experiment optimizers` and "
     "`dvzero experiment init` run the longer versions of these comparisons.",
     "用 0.01 时，损失一直停在 2.30 左右，也就是在十个数字中瞎猜的损失（`-log(0.1)`）：网络"
     "学不到东西。`dvzero experiment optimizers` 和 `dvzero experiment init` 运行这两个对比"
     "更长的版本。"),
]

CONVNET = [
    ("# 4. A convolutional network and its filters\n\n"
     "A fully connected layer sees an image as 784 unrelated numbers. A **convolution** "
     "slides small filters over it, the same 5x5 weights at every position, so it can learn "
     "strokes and edges wherever they are. `SimpleConvNet` is the book's: convolution (30 "
     "filters of 5x5), max-pooling, ReLU, a hidden affine layer of 100, and the output.",
     "# 4. 卷积神经网络和它的滤波器\n\n"
     "全连接层把一张图像看成 784 个互不相干的数。**卷积**则让小小的滤波器在图像上滑动，每个位置"
     "用同一组 5x5 的权重，所以不管笔画和边缘出现在哪里都能学到。`SimpleConvNet` 就是书中的"
     "网络：卷积（30 个 5x5 的滤波器）、最大池化、ReLU、100 个单元的全连接隐藏层，以及输出层。"),
    """import time

import matplotlib.pyplot as plt
import numpy as np

from dvzero import SimpleConvNet, Trainer, load_mnist
from dvzero.optimizers import Adam

(x_train, t_train), (x_test, t_test) = load_mnist(flatten=False)   # images (N, 1, 28, 28)
x_small, t_small = x_train[:5000], t_train[:5000]
network = SimpleConvNet(dtype=np.float32, rng=1)
for key, value in network.params.items():
    print(key, value.shape)""",
    ("Train it for 300 steps of 50 images on 5,000 training images, with Adam. Keep a copy "
     "of the filters first, to see what training changed.",
     "用 Adam 在 5,000 张训练图像上训练 300 步，每步 50 张图像。先把滤波器复制一份，以便看出"
     "训练改变了什么。"),
    """W1_before = network.params["W1"].copy()
trainer = Trainer(network, x_small, t_small, {"test": (x_test[:2000], t_test[:2000])},
                  step_num=300, batch_size=50, optimizer=Adam(lr=0.001), rng=1)
start = time.perf_counter()
history = trainer.run()
print(f"300 steps in {time.perf_counter() - start:.1f} s")
for step, train_acc, test_acc in zip(history.epoch_steps, history.train_acc_list,
                                     history.test_acc_list, strict=True):
    print(f"step {step}: train acc {train_acc:.4f}, test acc {test_acc:.4f}")
print(f"after 300 steps: test acc {network.accuracy(x_test[:2000], t_test[:2000]):.4f}")""",
    ("## The filters\n\n"
     "The first layer's 30 filters before training, after, and the change between them. "
     "The filters start as random noise, and a few hundred steps change them only a little, "
     "so the change is where the learning shows: smooth strokes and edges.",
     "## 滤波器\n\n"
     "第一层的 30 个滤波器：训练前、训练后，以及两者之差。滤波器一开始是随机噪声，几百步的训练"
     "只改变它们一点点，所以学到的东西要看两者之差：平滑的笔画和边缘。"),
    """def show_filters(filters, title):
    fig, axes = plt.subplots(2, 15, figsize=(10, 1.6))
    for ax, f in zip(axes.flat, filters[:, 0], strict=True):
        ax.imshow(f, cmap="gray")
        ax.axis("off")
    fig.suptitle(title)
    plt.show()


W1_after = network.params["W1"]
show_filters(W1_before, "before training")
show_filters(W1_after, "after training")
show_filters(W1_after - W1_before, "the change")""",
    ("## What the filters see\n\n"
     "`network.first_hidden(x)` gives the first hidden layer's output for an image: 30 "
     "feature maps of 12x12 (24x24 after the convolution, halved by the pooling), one per "
     "filter.",
     "## 滤波器看到了什么\n\n"
     "`network.first_hidden(x)` 给出一张图像在第一个隐藏层的输出：30 个 12x12 的特征图（卷积后"
     "是 24x24，池化后减半），每个滤波器一个。"),
    """image = x_test[:1]
maps = network.first_hidden(image)[0]
print("predicted:", network.predict(image).argmax(), "label:", t_test[0])
fig, axes = plt.subplots(2, 16, figsize=(11, 1.6))
axes[0, 0].imshow(image[0, 0], cmap="gray")
for ax, feature_map in zip(axes.flat[1:31], maps, strict=True):
    ax.imshow(feature_map, cmap="gray")
for ax in axes.flat:
    ax.axis("off")
plt.show()""",
    ("A full run, `dvzero train --net cnn --epochs 20`, reaches about 0.99 test accuracy "
     "and writes the same picture of filters as `filters.png`.",
     "完整的运行 `dvzero train --net cnn --epochs 20` 能达到约 0.99 的测试精度，并把同样的"
     "滤波器图写成 `filters.png`。"),
]

AUTOGRAD = [
    ("# 5. Autograd and its graph\n\n"
     "The layers carry a `backward` written by hand. **Autograd** does it another way: each "
     "value remembers how it was made, and the computation becomes a **computational graph** "
     "that can walk itself backwards. In `dvzero.autograd` a `Variable` wraps an array, and "
     "the functions of `F` (`dvzero.autograd.functions`) compute on Variables.",
     "# 5. 自动微分与计算图\n\n"
     "各层带着手写的 `backward`。**自动微分**换了一种做法：每个值都记得自己是怎么算出来的，整个"
     "计算就成了一张能自己往回走的**计算图**。在 `dvzero.autograd` 中，`Variable` 包装一个数组，"
     "`F`（`dvzero.autograd.functions`）里的函数在 Variable 上计算。"),
    """import shutil

import numpy as np
from IPython.display import display

from dvzero import DeepVisionZeroNet, load_mnist
from dvzero.autograd import Variable, plot_graph, to_dot
from dvzero.autograd import functions as F


def show(graph_output):
    \"\"\"The graph inline when Graphviz's dot is installed, else the start of its DOT text.\"\"\"
    if shutil.which("dot"):
        display(plot_graph(graph_output))
    else:
        print("\\n".join(to_dot(graph_output).splitlines()[:12]), "\\n...")""",
    ("## A derivative, and the derivative of a derivative\n\n"
     "`y = tanh(x)²`. `y.backward()` walks the graph from `y` back to `x`, a **leaf** (a "
     "Variable made by hand), and leaves `dy/dx` in `x.grad`. With `create_graph=True` the "
     "backward pass records a graph of its own, so the gradient can be differentiated again.",
     "## 导数，以及导数的导数\n\n"
     "`y = tanh(x)²`。`y.backward()` 沿计算图从 `y` 走回 `x`，也就是一个**叶子节点**（亲手创建的 "
     "Variable），并把 `dy/dx` 留在 `x.grad` 中。加上 `create_graph=True`，反向传播会记录自己的"
     "计算图，于是梯度还可以再求一次导。"),
    """x = Variable(np.array(0.5), name="x")
y = F.tanh(x) ** 2                # y remembers: the square of the tanh of x
y.backward(create_graph=True)     # dy/dx = 2 tanh(x) (1 - tanh(x)^2), itself on a graph
dy = x.grad
x.cleargrad()
dy.backward()                     # so it can be differentiated again: d2y/dx2
print(f"{float(dy.data):.4f} {float(x.grad.data):.4f}")   # 0.7269 0.5652

t = np.tanh(0.5)                  # the same by hand
print(f"{2 * t * (1 - t**2):.4f} {2 * (1 - t**2) ** 2 - 4 * t**2 * (1 - t**2):.4f}")""",
    ("The graph of `y`: boxes are functions, ovals are Variables. Then the graph that "
     "backward built for `dy/dx`, the one differentiated a second time.",
     "`y` 的计算图：方框是函数，椭圆是 Variable。接着是反向传播为 `dy/dx` 建的计算图，也就是"
     "第二次求导所走的那张图。"),
    """show(y)
show(dy)""",
    ("## A network's loss as a graph\n\n"
     "Every network can build its loss as a graph of `F` from its own parameters: "
     "`network.loss_graph(x, t)` returns the loss and the parameters as Variables. After "
     "`loss.backward()` their gradients are those of backpropagation through the layers.",
     "## 把网络的损失写成计算图\n\n"
     "每个网络都能用自己的参数、以 `F` 的函数构建损失的计算图：`network.loss_graph(x, t)` 返回"
     "损失，以及作为 Variable 的参数。执行 `loss.backward()` 之后，它们的梯度与沿各层反向传播"
     "得到的梯度相同。"),
    """(x_train, t_train), _ = load_mnist()
x, t = x_train[:100], t_train[:100]
network = DeepVisionZeroNet(784, 50, 10, dtype=np.float64, rng=0)
loss, params = network.loss_graph(x, t)
loss.backward()
backprop = network.gradient(x, t)
print("loss", float(loss.data))
for key, param in params.items():
    print(key, np.abs(param.grad.data - backprop[key]).max())""",
    ("The same loss written out by hand with `F`, as the original post's network computes "
     "it: `F.linear` is `x @ W + b` in one step, as the `Affine` layer is.",
     "同一个损失也可以用 `F` 亲手写出来，就像原文的网络那样计算：`F.linear` 一步算出 "
     "`x @ W + b`，和 `Affine` 层一样。"),
    """W1 = Variable(network.params["W1"], name="W1")
b1 = Variable(network.params["b1"], name="b1")
W2 = Variable(network.params["W2"], name="W2")
b2 = Variable(network.params["b2"], name="b2")
hidden = F.sigmoid(F.linear(Variable(x, name="x"), W1, b1))
my_loss = F.softmax_cross_entropy(F.linear(hidden, W2, b2), t)
my_loss.backward()
print(float(my_loss.data), np.abs(W1.grad.data - backprop["W1"]).max())
show(my_loss)""",
]

OWN_DIGIT = [
    ("# 6. Reading your own digit\n\n"
     "A network trained on MNIST expects what MNIST's digits look like: white strokes on "
     "black, scaled to fit 20x20 and centred by their centre of mass in 28x28. "
     "`dvzero.apps.images.read_digit` makes any picture of one digit look like that, a "
     "drawing or a photo of paper. Here we draw two digits with Pillow, one clean, one like "
     "a photo, in a temporary folder, read them and ask a quickly trained network.",
     "# 6. 识别你自己写的数字\n\n"
     "在 MNIST 上训练的网络，期待的是 MNIST 数字的样子：黑底白字，缩放到 20x20 以内，按质心居中"
     "放在 28x28 里。`dvzero.apps.images.read_digit` 能把任何一张只有一个数字的图片变成这个"
     "样子，无论是画出来的，还是拍下来的纸。下面用 Pillow 在一个临时文件夹里画两个数字，一个干净，"
     "一个像照片，读取它们，再让一个快速训练出的网络来识别。"),
    """import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from dvzero import MultiLayerNet, Trainer, load_mnist
from dvzero.apps.images import read_digit
from dvzero.optimizers import Adam

folder = tempfile.TemporaryDirectory()   # the pictures go here, and are removed at the end
work = Path(folder.name)""",
    ("## A quickly trained network\n\n"
     "A network with two hidden layers of 100, trained with Adam for 2,000 steps (about "
     "three epochs): enough for about 0.96 test accuracy.",
     "## 快速训练一个网络\n\n"
     "一个有两层 100 个单元隐藏层的网络，用 Adam 训练 2,000 步（约三个 epoch）：测试精度约 "
     "0.96，够用了。"),
    """(x_train, t_train), (x_test, t_test) = load_mnist()
network = MultiLayerNet(784, [100, 100], 10, activation="relu", weight_init_std="he", rng=1)
history = Trainer(network, x_train, t_train, {"test": (x_test, t_test)}, step_num=2000,
                  optimizer=Adam(lr=0.001), rng=1).run()
print(f"test acc {history.test_acc_list[-1]:.4f}")""",
    ("## Two pictures\n\n"
     "A clean drawing: a black 7 on white, as a paint program would save it. And a photo-like "
     "3: a pencil-grey stroke on tinted paper lit more on one side, blurred a little, with "
     "noise, saved as JPEG.",
     "## 两张图片\n\n"
     "一张干净的画：白底黑色的 7，就像画图软件保存的那样。另一张像照片的 3：在一侧更亮的有色纸上"
     "用铅笔灰写成，稍有模糊，带着噪声，存成 JPEG。"),
    """drawing = Image.new("L", (240, 240), 255)
pen = ImageDraw.Draw(drawing)
pen.line([(60, 50), (180, 50), (110, 200)], fill=0, width=16, joint="curve")
drawing.save(work / "seven.png")

rng = np.random.default_rng(0)
light = np.linspace(1.0, 0.7, 320)[None, :, None]              # lit from the left
paper = np.array([235, 225, 200])[None, None, :] * light * np.ones((240, 320, 1))
three = Image.new("L", (320, 240), 0)
pen = ImageDraw.Draw(three)
pen.arc([115, 30, 215, 125], start=180, end=90, fill=255, width=12)
pen.arc([110, 110, 220, 215], start=270, end=160, fill=255, width=12)
ink = np.asarray(three.filter(ImageFilter.GaussianBlur(2)), dtype=float)[..., None] / 255
photo = paper * (1 - 0.6 * ink) + rng.normal(0, 6, paper.shape)
Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)).save(work / "three.jpg", quality=80)""",
    ("## Read and predict\n\n"
     "`read_digit(path)` returns a float32 `(28, 28)` array in [0, 1]. The network takes "
     "rows of 784, and `predict` returns the softmax's probabilities for the ten digits.",
     "## 读取并识别\n\n"
     "`read_digit(path)` 返回一个取值在 `[0, 1]` 的 float32 `(28, 28)` 数组。网络的输入是 784 "
     "个数一行，`predict` 返回 softmax 给出的十个数字各自的概率。"),
    """names = ["seven.png", "three.jpg"]
fig, axes = plt.subplots(2, 3, figsize=(9, 5))
for row, name in zip(axes, names, strict=True):
    digit = read_digit(work / name)
    probabilities = network.predict(digit.reshape(1, 784))[0]
    row[0].imshow(Image.open(work / name), cmap="gray")
    row[0].set_title(name)
    row[1].imshow(digit, cmap="gray")
    row[1].set_title(f"read: {digit.shape}")
    row[2].bar(range(10), probabilities)
    row[2].set_xticks(range(10))
    row[2].set_title(f"predicted: {probabilities.argmax()}")
    print(f"{name}: {probabilities.argmax()} ({probabilities.max():.2f})")
for ax in axes[:, :2].flat:
    ax.axis("off")
plt.tight_layout()
plt.show()""",
    ("Try your own: save a picture of a digit and give its path to `read_digit`, or use the "
     "command line, `dvzero predict RUN_DIR_OR_PARAMS IMAGE`, or draw in the browser with "
     "`dvzero serve`. Finally, the temporary folder is removed.",
     "试试你自己的数字：把一张数字图片存下来，把路径交给 `read_digit`；也可以用命令行 "
     "`dvzero predict RUN_DIR_OR_PARAMS IMAGE`，或者用 `dvzero serve` 在浏览器里画。最后删除"
     "临时文件夹。"),
    """folder.cleanup()""",
]

NOTEBOOKS = {
    "01_the_original_post": ORIGINAL_POST,
    "02_backprop_and_the_gradient_check": GRADIENT_CHECK,
    "03_optimizers_and_initial_weights": OPTIMIZERS,
    "04_a_convolutional_network": CONVNET,
    "05_autograd_and_its_graph": AUTOGRAD,
    "06_reading_your_own_digit": OWN_DIGIT,
}

METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def notebook(cells: list, language: int) -> nbformat.NotebookNode:
    """The notebook of ``cells`` with the text of ``language`` (0: English, 1: 中文)."""
    book = nbformat.v4.new_notebook(metadata=METADATA)
    for index, cell in enumerate(cells):
        if isinstance(cell, tuple):
            new = nbformat.v4.new_markdown_cell(cell[language])
        else:
            new = nbformat.v4.new_code_cell(cell)
        new["id"] = f"cell-{index:02d}"   # stable ids: regenerating changes nothing
        book.cells.append(new)
    nbformat.validate(book)
    return book


def main() -> None:
    for language, folder in enumerate(("en", "zh")):
        (HERE / folder).mkdir(exist_ok=True)
        for name, cells in NOTEBOOKS.items():
            nbformat.write(notebook(cells, language), HERE / folder / f"{name}.ipynb")


if __name__ == "__main__":
    main()
