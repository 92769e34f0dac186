"""Layer gains: the data-based normalisation and its recursion quirk, in closed form."""

import numpy as np
import pytest

from sleeputils.sleep.normalisation import diehl_lambdas, layer_scales


def test_diehl_lambda_quirk_closed_form():
    # book/methods/sleep.md, eq-lambda: lambda = [1/s1, s1/s2, s2/(s1 s3)]
    assert diehl_lambdas([2.0, 4.0, 8.0]) == pytest.approx([0.5, 0.5, 0.25])
    assert diehl_lambdas([3.0, 5.0]) == pytest.approx([1 / 3, 3 / 5])  # textbook for 2 layers
    with pytest.raises(ValueError, match="layer 2"):
        diehl_lambdas([1.0, 0.0])


def test_layer_scales_take_weight_or_activation_maximum():
    w = [np.array([[0.3, -1.0]]), np.array([[-0.2]])]
    assert layer_scales(w, [0.1, 0.0]) == [0.3, 0.0]
    assert layer_scales(w, [2.0, 0.5]) == [2.0, 0.5]
