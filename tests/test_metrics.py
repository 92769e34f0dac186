"""BWT and forgetting against hand-computed values."""

import numpy as np
import pytest

from sleeputils.metrics import backward_transfer, forgetting


def test_bwt_and_forgetting_closed_form():
    R = np.array([[90.0, 0, 0], [50.0, 80, 0], [30.0, 60, 70]])
    assert backward_transfer(R) == pytest.approx(((30 - 90) + (60 - 80)) / 2)
    assert forgetting(R) == pytest.approx(((90 - 30) + (80 - 60)) / 2)
    R2 = np.array([[50.0, 0], [70.0, 90]])  # improvement: negative forgetting
    assert forgetting(R2) == pytest.approx(-20.0)
    with pytest.raises(ValueError):
        forgetting(np.zeros((2, 3)))
