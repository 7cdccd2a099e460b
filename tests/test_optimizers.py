import numpy as np
import pytest

from dvzero import SGD


def test_sgd_update_in_place_keeps_dtype():
    params = {"W": np.ones((2, 2), dtype=np.float32), "b": np.zeros(2, dtype=np.float32)}
    W = params["W"]
    grads = {"W": np.full((2, 2), 2.0, dtype=np.float32), "b": np.array([1.0, -1.0], np.float32)}
    SGD(lr=0.25).update(params, grads)
    assert params["W"] is W and W.dtype == np.float32
    np.testing.assert_array_equal(W, np.full((2, 2), 0.5))
    np.testing.assert_array_equal(params["b"], [-0.25, 0.25])


def test_sgd_minimises_a_quadratic():
    params = {"x": np.array([3.0, -4.0])}
    optimizer = SGD(lr=0.1)
    for _ in range(200):
        optimizer.update(params, {"x": 2 * params["x"]})
    np.testing.assert_allclose(params["x"], [3.0 * 0.8**200, -4.0 * 0.8**200])


@pytest.mark.parametrize("lr", [0.0, -0.1, float("nan"), float("inf")])
def test_sgd_rejects_bad_learning_rates(lr):
    with pytest.raises(ValueError, match="learning rate"):
        SGD(lr=lr)
