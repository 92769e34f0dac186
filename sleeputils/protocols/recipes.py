"""The paper's text against the original code: the class-incremental benchmark under both
training recipes (book/methods/protocols.md, protocol-recipes).

The paper's Methods describe 10 epochs per task, dropout 0.2 and a softmax with cross-entropy;
the original code trains 2 epochs, dropout 0.25, squared error on a ReLU output. This runs the
sequential, SRC (the same hyperparameter vector) and parallel nets under each recipe. The code
recipe's units are the incremental chapter's own, so they are computed once.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..params import Params, declare, same_as
from ..results import setting
from ..results.store import ResultStore
from .incremental import RECIPES, IncrementalConfig, run_incremental

METHODS = ("sequential", "src", "parallel")


@dataclass(frozen=True)
class RecipesConfig(Params):
    """Parameters of the recipe comparison."""

    dataset: str = declare("mnist", "benchmark: 5 tasks of 2 classes", choices=("mnist", "fashion"))
    recipes: tuple[str, ...] = declare(tuple(RECIPES), "training recipes compared",
                                       choices=tuple(RECIPES))
    trials: int = declare(5, "independent trials per recipe", low=1, high=100)
    seed: int = same_as(IncrementalConfig, "seed")
    sleep_scale: float = same_as(IncrementalConfig, "sleep_scale")
    test_subset: int | None = same_as(IncrementalConfig, "test_subset")
    hidden: tuple[int, ...] | None = same_as(IncrementalConfig, "hidden")
    per_task_train: int = same_as(IncrementalConfig, "per_task_train")


def run_recipes(config: RecipesConfig = RecipesConfig(), *, store: ResultStore | None = None,
                progress: bool = True) -> pd.DataFrame:
    """Sequential, SRC and parallel under every recipe; each headline number's setting names
    its recipe."""
    frames = []
    for recipe in config.recipes:
        inc = IncrementalConfig(dataset=config.dataset, trials=config.trials, seed=config.seed,
                                methods=METHODS, recipe=recipe, sleep_scale=config.sleep_scale,
                                test_subset=config.test_subset, hidden=config.hidden,
                                per_task_train=config.per_task_train)
        df = run_incremental(inc, store=store, progress=progress).assign(recipe=recipe)
        head = df["headline"].fillna(False).astype(bool)
        own = df["setting"] if "setting" in df else pd.Series("", df.index)
        df.loc[head, "setting"] = [setting.encode(setting.decode(s), recipe=recipe)
                                   for s in own[head].fillna("")]
        frames.append(df)
    return pd.concat(frames, ignore_index=True)
