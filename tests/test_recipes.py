"""The two training recipes: the code recipe's units are the incremental chapter's own, the
paper-text recipe changes epochs, dropout and output."""

from __future__ import annotations

from sleeputils.protocols.incremental import IncrementalConfig, method_unit
from sleeputils.protocols.recipes import RecipesConfig, run_recipes
from sleeputils.results.store import ResultStore


def test_code_recipe_units_are_the_incremental_chapters() -> None:
    code = method_unit(IncrementalConfig(), "src", None).key()
    assert "recipe" not in code and code["epochs"] == 2
    text = method_unit(IncrementalConfig(recipe="paper-text"), "src", None).key()
    assert text == {**code, "recipe": "paper-text", "epochs": 10}
    assert method_unit(IncrementalConfig(recipe="paper-text", epochs=3), "src", None).epochs == 3


def test_both_recipes_run_and_differ(tmp_path) -> None:
    config = RecipesConfig(trials=1, hidden=(32, 32), per_task_train=100, sleep_scale=0.01,
                           test_subset=500)
    df = run_recipes(config, store=ResultStore(tmp_path), progress=False)
    finals = df[df["headline"].fillna(False).astype(bool) & (df["metric"] == "final_acc")]
    finals = finals.set_index("setting")
    assert set(finals.index) == {'{"recipe":"code"}', '{"recipe":"paper-text"}'}
    code = finals.loc['{"recipe":"code"}'].set_index("method")["value"]
    text = finals.loc['{"recipe":"paper-text"}'].set_index("method")["value"]
    assert set(code.index) == set(text.index) == {"sequential", "src", "parallel"}
    assert (code != text).any()  # other epochs, dropout and loss give other numbers
