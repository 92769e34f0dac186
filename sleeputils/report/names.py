"""How people read the records' ids: the one table of display names every report uses."""

from __future__ import annotations

from ..methods.registry import all_specs, get

#: Method ids the tables list first, in this order (the rest follow the registry's order).
_FIRST = ("sequential", "src", "ewc", "si", "owm", "parallel", "rehearsal", "rehearsal_src")
#: Records' method ids that are not registered methods: a score or variant of one.
_UNREGISTERED = {
    "icarl_nme": "iCaRL, nearest mean", "icarl_src_nme": "iCaRL + SRC, nearest mean",
    "wscl-no-dreaming": "WSCL without dreaming", "wscl-no-freezing": "WSCL without freezing",
    "wscl+nrem": "WSCL + NREM (ours)", "vae": "VAE", "owm_recipe": "OWM, authors' recipe",
}
#: Method ids as the records write them -> as tables, verdicts and legends name them: each
#: registered method's display name (its spec holds it), then the unregistered ids.
METHODS = {**{m: get(m).display for m in _FIRST},
           **{spec.name: spec.display for spec in all_specs()}, **_UNREGISTERED}
#: The symbol of each baseline's searched strength.
STRENGTHS = {"ewc": "λ", "si": "c", "owm": "α"}
#: Headline metrics of the incremental chapters.
METRICS = {"final_acc": "final accuracy (%)", "bwt": "BWT (points)",
           "forgetting": "forgetting (points)"}
#: iCaRL's two scores: the metric each is recorded as, and its name for people.
SCORES = {"final_acc": "softmax", "nme_acc": "nearest mean"}
#: Class-IL and task-IL evaluation conventions (WSCL).
CONVENTIONS = {"class_all": "class-IL, all heads", "class_seen": "class-IL, seen heads",
               "task": "task-IL"}
#: Stages at which the patches chapter measures.
STAGES = {"after_task1": "after task 1", "after_task2": "after task 2",
          "after_sleep": "after sleep"}
#: Class-incremental benchmarks by data set.
BENCHMARKS = {"mnist": "Split-MNIST", "fashion": "Split-Fashion"}
#: The two datasets of the generative-replay chapters.
GENERATIVE_DATA = {"d1": "dataset 1 (remote)", "d2": "dataset 2 (recent)"}


def method_name(method: str) -> str:
    """A method's display name; an id without one (a custom method) is shown as it is."""
    return METHODS.get(method, method)


#: The sleep-vector search: Optuna's samplers, the vectors the test set scores, the protocols
#: searched and the searched fields (``beta_k`` is shown as β_k).
SAMPLERS = {"nsga2": "NSGA-II (genetic)", "cmaes": "CMA-ES", "tpe": "TPE", "random": "random"}
VECTORS = {"searched": "searched on validation", "original": "the original's", "none": "no sleep"}
SEARCHES = {"incremental": "class-incremental", "single": "single task"}
SLEEP_FIELDS = {"r_max": "r_max", "inc": "inc", "dec": "dec", "alpha_scale": "alpha_scale"}


def sleep_field(name: str) -> str:
    """A searched field's display name: ``beta_2`` is β_2."""
    return f"β_{name.removeprefix('beta_')}" if name.startswith("beta_") else SLEEP_FIELDS[name]


def search_name(protocol: str, epochs: float | None = None, images: float | None = None) -> str:
    """``class-incremental``, or ``single task, 2 epochs, 5000 images``."""
    if epochs is None or epochs != epochs:  # NaN: a class-incremental row
        return SEARCHES[protocol]
    name = f"{SEARCHES[protocol]}, {int(epochs)} epoch{'s' * (int(epochs) != 1)}"
    return name if images is None or images != images else f"{name}, {int(images)} images"
