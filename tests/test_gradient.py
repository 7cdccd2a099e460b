import numpy as np
import pytest

from dvzero import gradient_descent, numerical_diff, numerical_gradient


def function_1(x):
    return 0.01 * x**2 + 0.1 * x


def function_2(x):
    return np.sum(x**2)


def test_numerical_diff_matches_analytic_derivative():
    # d/dx (0.01 x^2 + 0.1 x) = 0.02 x + 0.1
    assert numerical_diff(function_1, 5.0) == pytest.approx(0.2, abs=1e-9)
    assert numerical_diff(function_1, 10.0) == pytest.approx(0.3, abs=1e-9)


@pytest.mark.parametrize("point", [[3.0, 4.0], [0.0, 2.0], [3.0, 0.0]])
def test_numerical_gradient_of_sum_of_squares(point):
    x = np.array(point)
    np.testing.assert_allclose(numerical_gradient(function_2, x), 2 * x, atol=1e-8)


def test_numerical_gradient_any_shape_and_restores_x():
    rng = np.random.default_rng(1)
    for shape in [(), (4,), (2, 3), (2, 2, 3)]:
        x = rng.normal(size=shape)
        before = x.copy()
        grad = numerical_gradient(lambda a: np.sum(np.sin(a)), x)
        assert grad.shape == x.shape
        np.testing.assert_allclose(grad, np.cos(before), atol=1e-7)
        np.testing.assert_array_equal(x, before)


def test_numerical_gradient_perturbs_in_place_for_the_seed_idiom():
    """f may ignore its argument and read the array through another reference."""
    W = np.array([[1.0, -2.0], [0.5, 3.0]])
    holder = {"W": W}

    def loss_W(_):
        return float(np.sum(holder["W"] ** 3))

    np.testing.assert_allclose(numerical_gradient(loss_W, W), 3 * W**2, rtol=1e-7)


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.array([1.0, 2.0])
    calls = []

    def failing(a):
        calls.append(a.copy())
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        numerical_gradient(failing, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])
    np.testing.assert_allclose(calls[0], [1.0 + 1e-4, 2.0])


def test_numerical_gradient_rejects_integer_and_non_arrays():
    with pytest.raises(TypeError, match="float"):
        numerical_gradient(function_2, np.array([3, 4]))
    with pytest.raises(TypeError, match="NumPy array"):
        numerical_gradient(function_2, [3.0, 4.0])


def test_gradient_descent_finds_the_minimum():
    init_x = np.array([-3.0, 4.0])
    x = gradient_descent(function_2, init_x=init_x, lr=0.1, step_num=100)
    np.testing.assert_allclose(x, [0.0, 0.0], atol=1e-8)
    # Closed form: each step multiplies x by (1 - 2 lr).
    np.testing.assert_allclose(x, init_x * (1 - 2 * 0.1) ** 100, rtol=1e-6)
    np.testing.assert_array_equal(init_x, [-3.0, 4.0])  # not modified


def test_gradient_descent_learning_rate_too_large_or_small():
    init_x = np.array([-3.0, 4.0])
    assert np.all(np.abs(gradient_descent(function_2, init_x, lr=10.0, step_num=100)) > 1e10)
    np.testing.assert_allclose(
        gradient_descent(function_2, init_x, lr=1e-10, step_num=100), init_x, rtol=1e-6
    )


def test_gradient_descent_rejects_negative_steps():
    with pytest.raises(ValueError, match="step_num"):
        gradient_descent(function_2, np.array([1.0]), step_num=-1)
