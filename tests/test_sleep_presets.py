"""The preset table: every named vector loads, lengths follow their rule, bad ones fail."""

import pytest

from sleeputils.sleep.presets import preset, preset_names


def test_presets_load_and_lengths_follow_the_rule():
    names = preset_names()
    assert {"mnist", "fashion", "cifar10", "cub200", "patches", "crossmodal"} <= set(names)
    for name in names:
        p = preset(name)
        assert p.spike_gain == pytest.approx(2 * 0.001 * p.r_max)
    mnist = preset("mnist")
    assert [mnist.sleep_length(i) for i in range(1, 6)] == [15000, 20000, 25000, 30000, 35000]
    assert preset("cifar10").sleep_length(4) == 15000
    assert preset("crossmodal").sleep_length(2) == 255
    assert mnist.sleep_length(2, scale=0.1) == 2000
    assert preset("patches").thresholds(1) == (pytest.approx(1.045),)


def test_bad_presets_are_rejected():
    with pytest.raises(ValueError, match="valid presets: mnist"):
        preset("mnits")
    with pytest.raises(ValueError, match="beta"):
        preset("mnist").with_(beta=(1.0, -1.0, 1.0))
    with pytest.raises(ValueError, match="lengths"):
        preset("mnist").with_(lengths={"fixed": -5})
    with pytest.raises(ValueError, match="3 layers need 3 beta"):
        preset("mnist").with_(beta=(1.0,)).thresholds(3)
