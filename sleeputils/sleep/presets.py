"""Named SRC hyperparameter vectors and the sleep-length rules.

See book/methods/sleep.md, src-hyperparameters (eq-sleep-length).

The numbers live in ``presets.yaml`` beside this file; this module turns an entry into a typed,
validated :class:`SleepParams`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import yaml

_PRESET_FILE = Path(__file__).with_name("presets.yaml")


@dataclass(frozen=True)
class SleepParams:
    """Everything one SRC sleep needs besides the network and the data.

    See book/methods/sleep.md, src-hyperparameters.
    """

    r_max: float  # max input rate; P(input spike) = min(1, 2*dt*r_max*x)
    inc: float  # potentiation step for a pre+post coincidence
    dec: float  # depression step for a post spike without a pre spike
    beta: tuple[float, ...]  # per-layer threshold scales beta_k (extra entries are ignored)
    alpha_scale: float  # alpha_k = alpha_scale * lambda_k (Diehl data-based factor)
    lengths: dict = field(default_factory=lambda: {"growing": [15000, 5000]})  # eq-sleep-length
    window: int | None = 11  # side of the random input window on 2-D images; None = full vector
    dt: float = 0.001  # time step (s)
    decay: float = 0.999  # membrane decay delta per step
    threshold: float = 1.0  # theta; layer k fires when v >= theta * beta_k
    source: str = ""  # where in the original code the vector comes from
    intended_lengths: tuple[float, ...] | None = None  # cross-modal: lengths before uint8

    def corrected(self) -> SleepParams:
        """The cross-modal vector with the sleep lengths it was meant to have (rounded), not the
        255 steps uint8 saturated them to (book/methods/deviations.md, dev-crossmodal-variants)."""
        if self.intended_lengths is None:
            raise ValueError(f"preset {self.source!r} has no intended lengths to restore")
        return replace(self, lengths={"per_task": [round(x) for x in self.intended_lengths]})

    def __post_init__(self) -> None:
        if self.r_max < 0 or self.inc < 0 or self.dec < 0:
            raise ValueError("r_max, inc and dec must be >= 0")
        # beta_k = 0 appears in several original GA vectors (a unit then fires whenever v >= 0,
        # see book/methods/sleep.md, src-hyperparameters); negative thresholds have no meaning.
        if len(self.beta) == 0 or any(b < 0 for b in self.beta):
            raise ValueError(f"beta must be a non-empty list of values >= 0, got {self.beta}")
        if self.alpha_scale <= 0 or self.dt <= 0 or self.threshold <= 0:
            raise ValueError("alpha_scale, dt and threshold must be > 0")
        if not 0.0 < self.decay <= 1.0:
            raise ValueError(f"decay must be in (0, 1], got {self.decay}")
        if self.window is not None and self.window <= 0:
            raise ValueError(f"window must be a positive size or None, got {self.window}")
        _check_lengths(self.lengths)

    @property
    def spike_gain(self) -> float:
        """Per-pixel spike-probability gain 2*dt*r_max (note the factor 2).

        See book/methods/sleep.md, eq-input-spikes.
        """
        return 2.0 * self.dt * self.r_max

    def thresholds(self, n_layers: int) -> tuple[float, ...]:
        """theta * beta_k for k = 1..n_layers; too few betas is an error."""
        if len(self.beta) < n_layers:
            raise ValueError(f"{n_layers} layers need {n_layers} beta values, got {self.beta}")
        return tuple(self.threshold * b for b in self.beta[:n_layers])

    def sleep_length(self, task_number: int, scale: float = 1.0) -> int:
        """Steps of the sleep after task ``task_number`` (1-based), times ``scale``.

        See book/methods/sleep.md, eq-sleep-length.
        """
        if task_number < 1:
            raise ValueError(f"task_number is 1-based, got {task_number}")
        if scale < 0:
            raise ValueError(f"scale must be >= 0, got {scale}")
        rule, value = next(iter(self.lengths.items()))
        if rule == "growing":
            base, step = value
            steps = base + step * (task_number - 1)
        elif rule == "fixed":
            steps = value
        else:  # per_task
            steps = value[min(task_number, len(value)) - 1]
        return int(round(steps * scale))

    def with_(self, **changes) -> SleepParams:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)


def _check_lengths(lengths: dict) -> None:
    rules = ("growing", "fixed", "per_task")
    if len(lengths) != 1 or next(iter(lengths)) not in rules:
        raise ValueError(f"lengths must be one of {rules}, got {lengths}")
    value = next(iter(lengths.values()))
    values = value if isinstance(value, list | tuple) else [value]
    if any(v < 0 for v in values):
        raise ValueError(f"sleep lengths must be >= 0, got {lengths}")


@cache
def _table() -> dict[str, dict]:
    with open(_PRESET_FILE) as fh:
        return yaml.safe_load(fh)


def preset_names() -> tuple[str, ...]:
    """All named presets, in file order."""
    return tuple(_table())


def preset(name: str) -> SleepParams:
    """The named hyperparameter vector (ValueError naming the valid ones).

    See book/methods/sleep.md, src-hyperparameters.
    """
    table = _table()
    if name not in table:
        raise ValueError(f"unknown SRC preset {name!r}; valid presets: {', '.join(table)}")
    entry = dict(table[name])
    entry["beta"] = tuple(entry["beta"])
    if "intended_lengths" in entry:
        entry["intended_lengths"] = tuple(entry["intended_lengths"])
    return SleepParams(**entry)


def with_vector(base: SleepParams, vector: dict[str, float]) -> SleepParams:
    """``base`` (sleep lengths, window, constants) with the searched fields of ``vector``."""
    n_layers = sum(n.startswith("beta_") for n in vector)
    beta = tuple(vector[f"beta_{k}"] for k in range(1, n_layers + 1)) + base.beta[n_layers:]
    return base.with_(r_max=vector["r_max"], inc=vector["inc"], dec=vector["dec"], beta=beta,
                      alpha_scale=vector["alpha_scale"])
