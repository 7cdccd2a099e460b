"""The original post's training script, on dvzero: read it top to bottom.

原文的训练脚本，用 dvzero 实现：从上往下读即可。

    python examples/seed_train.py                      # backpropagation, 10,000 steps, seconds
    python examples/seed_train.py --gradient numerical --steps 3   # the post's method: slow!

It keeps the post's own loop, prints and plot; only the gradient can be switched between the
post's numerical differentiation and backpropagation (the next installment's fix).
"""

import argparse
import datetime

import matplotlib

matplotlib.use("Agg")  # write the plot to a file; works with no screen
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dvzero import DeepVisionZeroNet, load_mnist  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--steps", type=int, default=10000, help="gradient-descent steps (10000)")
parser.add_argument("--gradient", choices=["backprop", "numerical"], default="backprop")
parser.add_argument("--plot", default="seed_accuracy.png", help="where to save the plot")
args = parser.parse_args()

# Load MNIST: 60,000 training and 10,000 test images, pixels scaled to [0, 1], one-hot labels.
# 读取 MNIST 手写数字集
(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)
print("x_train:", x_train.shape)
print("t_train:", t_train.shape)
print("x_test:", x_test.shape)
print("t_test:", t_test.shape)

# The network: 784 inputs (28 x 28 pixels), 50 hidden neurons, 10 outputs (digits 0-9).
# 实例化神经网络
network = DeepVisionZeroNet(input_size=784, hidden_size=50, output_size=10)

step_num = args.steps  # steps of gradient descent / 梯度下降法的步数
train_size = x_train.shape[0]
batch_size = 100  # images per mini-batch / 批处理数
learning_rate = 0.1  # step size / 学习率
train_loss_list = []  # loss after every step / 损失函数值
train_acc_list = []  # accuracy on the training set, once per epoch / 训练精度
test_acc_list = []  # accuracy on the test set, once per epoch / 测试精度
iter_per_epoch = max(train_size / batch_size, 1)  # 600 steps see 60,000 images once

for i in range(step_num):
    # 1. A random mini-batch (with replacement). 随机选取 batch_size 个样本
    batch_mask = np.random.choice(train_size, batch_size)
    x_batch = x_train[batch_mask]
    t_batch = t_train[batch_mask]

    # 2. The gradient of the loss for every weight. 计算梯度
    if args.gradient == "numerical":
        # The post's method: 2 loss evaluations per parameter, 79,520 per step, each over
        # the whole batch.
        grad = network.numerical_gradient(x_batch, t_batch)
    else:
        grad = network.gradient(x_batch, t_batch)  # backpropagation: one pass back

    # 3. A small step against the gradient. 更新参数
    for key in ("W1", "b1", "W2", "b2"):
        network.params[key] -= learning_rate * grad[key]

    # Record the loss after the update. 每次更新完参数以后，求出损失函数值并保存
    loss = network.loss(x_batch, t_batch)
    train_loss_list.append(loss)

    if i % iter_per_epoch == 0:
        train_acc = network.accuracy(x_train, t_train)
        test_acc = network.accuracy(x_test, t_test)
        train_acc_list.append(train_acc)
        test_acc_list.append(test_acc)
        print(i, " train acc, test acc | " + str(train_acc) + ", " + str(test_acc))
    if args.gradient == "numerical" or i % 1000 == 0 or i == step_num - 1:
        now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        print(now, "Number of steps completed:", i)

# The accuracies of the trained network (the loop measures them once per epoch only).
# 训练结束后的最终精度
train_acc = network.accuracy(x_train, t_train)
test_acc = network.accuracy(x_test, t_test)
print(f"final: train acc {train_acc:.4f}, test acc {test_acc:.4f} after {step_num} steps")

# Save the final parameters (the post's pickle file). 保存最终的权重参数
network.save_params()

# Plot train and test accuracy per epoch. 把训练精度和测试精度用图表示出来
x = np.arange(len(train_acc_list))
plt.plot(x, train_acc_list, label="train acc")
plt.plot(x, test_acc_list, label="test acc", linestyle="--")
plt.xlabel("epochs")
plt.ylabel("accuracy")
plt.ylim(0, 1.0)
plt.legend(loc="lower right")
plt.savefig(args.plot)
print("saved params_two_layer.pkl and", args.plot)
