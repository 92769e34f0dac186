"""The methods without a hook of their own: sequential training (the lower bound), SRC on it,
and parallel training on every task at once (the upper bound; book/methods/protocols.md,
protocol-incremental)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .registry import MethodSpec, register, with_src

SEQUENTIAL = register(MethodSpec(
    name="sequential", display="sequential", label="training-loop", order=0,
    chapters=("incremental", "crossmodal", "paradigms")))

SRC = register(with_src(SEQUENTIAL, order=40))

#: SRC sleeping with the vector the committed sleep search chose for the data set, beside the
#: original's (book/methods/protocols.md, protocol-sleep-search).
SRC_SEARCHED = register(dataclasses.replace(
    with_src(SEQUENTIAL, name="src_searched", display="SRC, searched vector", order=41,
             chapters=("incremental", "paradigms")),
    label="protocol-sleep-search", searched_vector=True))


@dataclass(frozen=True)
class ParallelSettings:
    """Parallel training's own setting."""

    parallel_epochs: int | None = None  # SGD epochs of the parallel net; None: the protocol's


PARALLEL = register(MethodSpec(
    name="parallel", display="parallel", label="protocol-incremental", order=100,
    chapters=("incremental", "crossmodal"), settings=ParallelSettings, loop="joint"))
