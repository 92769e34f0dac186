"""The single-task sleep: which vector each setting uses, that a zero-length sleep changes
nothing, and the verdict on synthetic gains."""

from __future__ import annotations

import pandas as pd

from sleeputils.protocols.single import SingleTaskConfig, run_single, vector
from sleeputils.report.single import paired, single_verdict
from sleeputils.results.store import ResultStore


def test_each_setting_sleeps_with_the_nearest_original_vector() -> None:
    assert [vector(e) for e in (1, 10, 14, 15, 20, 28, 29, 40, 100)] == [
        "reduced10", "reduced10", "reduced10", "reduced20", "reduced20", "reduced20",
        "reduced40", "reduced40", "reduced40"]


def test_settings_share_the_point_both_sweeps_contain() -> None:
    config = SingleTaskConfig(epochs=(5, 10), images=(1000, 5000))
    assert config.settings == [(5, 5000), (10, 5000), (10, 1000)]


def test_a_zero_length_sleep_changes_no_accuracy() -> None:
    config = SingleTaskConfig(epochs=(1,), images=(300,), trials=1, hidden=(32, 32),
                              sleep_scale=0.0, test_subset=500)
    p = paired(run_single(config, store=ResultStore.disabled(), progress=False))
    assert len(p) == 4 and (p["gain"] == 0).all()  # 2 settings x 2 splits


def _synthetic(gains: dict[int, list[float]], images: int = 5000) -> pd.DataFrame:
    rows = []
    for epochs, gs in gains.items():
        for trial, g in enumerate(gs):
            for split in ("test", "train"):
                for when, v in (("before", 50.0), ("after", 50.0 + g)):
                    rows.append({"metric": f"{split}_acc", "when": when, "value": v,
                                 "epochs": epochs, "images": images, "trial": trial,
                                 "headline": True})
    return pd.DataFrame(rows)


def test_verdict_follows_the_signs_and_the_tests() -> None:
    text = single_verdict(_synthetic({1: [5.0, 6.0, 7.0], 40: [-1.0, -1.2, -0.9]}))
    assert "1 epoch on 5000 images: sleep **helps**" in text
    assert "40 epochs on 5000 images: sleep **hurts**" in text
    assert "**holds**" in text
    text = single_verdict(_synthetic({1: [-5.0, -6.0, -7.0], 40: [1.0, 1.2, 0.9]}))
    assert "**does not hold**" in text
    text = single_verdict(_synthetic({1: [5.0, 6.0], 40: [-1.0, -1.2]}))  # two trials each
    assert "1 epoch on 5000 images: sleep **is not tested**" in text
    assert "too few trials to test" in text and "**cannot be judged**" in text


def test_verdict_on_the_original_runs_and_on_the_whole_sweep() -> None:
    text = single_verdict(_synthetic({1: [-5.0, -6.0, -7.0], 10: [5.0, 6.0, 7.0],
                                      40: [0.5, -0.4, 0.1]}))
    assert "**holds** on the original's runs (10, 40 epochs)" in text
    assert "**does not hold** over the epochs sweep (1, 10, 40 epochs)" in text
    assert "at 40 it has no clear effect" in text


def test_the_images_sweep_is_judged_too_with_the_point_both_sweeps_share() -> None:
    """Fewer images train less, as fewer epochs do: the images sweep (at 10 epochs) gets its own
    lines and its own judgement, sharing the 10-epoch, 5000-image point with the epochs sweep."""
    epochs = _synthetic({1: [5.0, 6.0, 7.0], 10: [1.0, 1.5, 1.2]})
    images = pd.concat([_synthetic({10: [-5.0, -6.0, -7.0]}, images=1000),
                        _synthetic({10: [-3.0, -3.5, -3.2]}, images=20000)])
    text = single_verdict(pd.concat([epochs, images]))
    assert "1000 images for 10 epochs: sleep **hurts**" in text
    assert "20000 images for 10 epochs: sleep **hurts**" in text
    assert "**holds** over the epochs sweep" not in text  # 1 and 10 epochs both help
    assert ("**does not hold** over the images sweep at 10 epochs (1000, 5000, 20000 images): "
            "at 1000 images the sleep hurts, at 20000 it hurts") in text
