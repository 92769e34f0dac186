"""Write the clean chapter notebooks (no outputs) from the cell lists below.

The notebooks are the source of truth once written; this script documents their structure and
regenerates them when the cells change: ``python tools/make_notebooks.py``.
"""

from pathlib import Path

import nbformat as nbf

ROOT = Path(__file__).resolve().parents[1]


def md(text: str):
    return nbf.v4.new_markdown_cell(text.strip())


def code(text: str, tags: tuple[str, ...] = ()):
    cell = nbf.v4.new_code_cell(text.strip())
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def write(name: str, cells: list) -> None:
    nb = nbf.v4.new_notebook()
    nb.cells = cells
    for i, cell in enumerate(cells):  # stable ids: regenerating an unchanged notebook is a no-op
        cell["id"] = f"{name}-{i:02d}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbf.write(nb, ROOT / "notebooks" / f"{name}.ipynb")


INCREMENTAL = [
    md("""
# Class-incremental benchmark

*Question.* After learning five tasks of two classes one after the other, how much of the
earlier tasks does a bias-free ReLU network keep when it sleeps (SRC) after every task, compared
with no sleep (sequential) and with training on everything at once (parallel)?
*Answer.* The table below puts our accuracy after the last task beside the paper's Table 1
{cite}`tadros2022sleep`; the sentence under it says whether we reproduce it.

The protocol is the original code's (spec §4.1-4.2): 784-1200-1200-10 network, MSE on a ReLU
output, lr 0.1, momentum 0.5, dropout 0.25, 2 epochs per task on the first 5000 training images
of each task, a sleep of 15000 + 5000 (i-1) steps after task i, accuracy on the full test set.
"""),
    code("""
profile = "quick"
dataset = None
trials = None
seed = None
hidden = None
per_task_train = None
epochs = None
sleep_scale = None
test_subset = None
""", tags=("parameters",)),
    code("""
from sleeputils.book.chapters import chapter_setup
from sleeputils.protocols.incremental import run_incremental
from sleeputils.report import figures, tables
from sleeputils.results.record import record

setup = chapter_setup("incremental", profile, dataset=dataset, trials=trials, seed=seed,
                      hidden=hidden, per_task_train=per_task_train, epochs=epochs,
                      sleep_scale=sleep_scale, test_subset=test_subset)
print(f"chapter {setup.chapter_id}, profile {profile}")
setup.table()
"""),
    md("Every trial is one stored unit: re-running an unchanged configuration reuses it."),
    code("df = run_incremental(**setup.kwargs)", tags=("hide-output",)),
    md("""
## Accuracy after the last task, beside the paper

Mean ± std over trials of the full-test accuracy after task 5 (%), with BWT and forgetting
(Mammoth's definitions) for the two continual learners.
"""),
    code("""
table = tables.versus_paper(df, "incremental")
table
"""),
    code("""
from IPython.display import Markdown
Markdown(tables.verdict(table))
"""),
    md("""
## Accuracy matrices before and after each sleep

Entry (i, j) is the accuracy on task j's test images after task i (mean over trials). Look at
the columns of old tasks: the sequential net keeps only the diagonal; SRC's sleep should move
mass back below the diagonal, usually at a cost on the newest task.
"""),
    code("figures.accuracy_matrices(df);"),
    md("## Full-test accuracy after every task"),
    code("figures.accuracy_after_each_task(df);"),
    md("""
## Where we miss: the parallel upper bound

Our parallel network ends 3.8 (MNIST) and 5.1 (Fashion-MNIST) points below the paper's "ideal"
net on the paper profile. What we checked: the forward pass, dropout convention, the backward
pass that treats the ReLU output as linear, batch-mean gradients, momentum 0.5 and U(±0.01)
initialisation follow the original code line by line (spec §3), and the same loop gives the
sequential net the paper's number (19.3 vs 19.5 on MNIST). With this tiny initialisation and no
biases the net learns slowly at first, so two epochs are far from convergence: the same MNIST
parallel net (trial 0) reaches 94.2 % after 2 epochs and 97.5 % after 6 (see the methods page).
We report the gap rather than train the parallel net longer than the original protocol says.
"""),
    md("## Recorded numbers\n\nThese are what the status page and `sleepbook check` read."),
    code("record(df, setup.chapter_id, profile)"),
]

PATCHES = [
    md("""
# Toy overlapping patches

*Question.* When two tasks share input pixels, how much does learning the second erase the
first, and can one SRC sleep bring it back?
*Answer.* The figure below shows accuracy on all four images after task 1, after task 2 and
after sleep, against the number of shared pixels (the paper's toy figure
{cite}`tadros2022sleep`); the weight histograms show what sleep did to the weights.

Protocol (spec §4.8): four 10×10 binary images, `overlap` ON pixels shared by all four and the
rest unique (16 ON pixels per image; see `sleeputils.data.make_patches` for the integer rule that
replaces the original's non-integer count), a 100 → 4 softmax network without hidden layer, lr
0.05, batch 2, 4 epochs on images 1-2, 2 epochs on images 3-4, then one 30000-step sleep driven
by the mean of all four images.
"""),
    code("""
profile = "quick"
overlaps = None
trials = None
seed = None
""", tags=("parameters",)),
    code("""
from IPython.display import Markdown, display

from sleeputils.book.chapters import chapter_setup
from sleeputils.protocols.patches import run_patches
from sleeputils.report import figures, tables
from sleeputils.results.record import record

setup = chapter_setup("patches", profile, overlaps=overlaps, trials=trials, seed=seed)
print(f"chapter {setup.chapter_id}, profile {profile}")
setup.table()
"""),
    code("df = run_patches(**setup.kwargs)", tags=("hide-output",)),
    md("""
## Accuracy against overlap

Mean ± std over trials. 50 % means one task is fully remembered and the other forgotten;
100 % means both are known.
"""),
    code("figures.patches_accuracy(df);"),
    code("""
acc = df[df["metric"].str.startswith("acc_")]
acc.pivot_table(index="overlap", columns="stage", values="value", aggfunc=["mean", "std"]).round(1)
"""),
    md("""
## What sleep does to the weights

Weights from task-1-unique, shared and task-2-unique pixels onto each output, after task 2
(before sleep) and after sleep, at the overlap where the paper reports recovery. The paper's
claim to test: task-1-unique pixels become inhibitory (more negative) inputs of the task-2
outputs (3 and 4).
"""),
    code("""
shown = 12 if 12 in set(df["overlap"]) else int(df["overlap"].median())
figures.patches_weights(df, shown);
"""),
    code("""
weights = figures.mean_weights(df).loc[shown]
display(weights)
Markdown(tables.weight_claim(weights))
"""),
    code("record(df, setup.chapter_id, profile)"),
]

REHEARSAL = [
    md("""
# Rehearsal and rehearsal + SRC

*Question.* If a network may keep a small random fraction of the old tasks' data and replay it
while learning each new task, does sleeping after every task still help, and by how much?
*Answer.* The table gives final accuracy at each fraction for rehearsal alone and with SRC, and
SRC's gain measured per trial; the figure puts the paper's Table 1 values
{cite}`tadros2022sleep` beside our curves.

Protocol (spec §4.5): the class-incremental benchmark of the previous chapters (5 tasks of two
classes, 784-1200-1200-10, 2 epochs per task), where before task i ≥ 2 the network also gets
`round(N_old · p, −2)` random examples drawn from *all* training data of the earlier tasks.
Rehearsal + SRC is the same run with an SRC sleep after every task, using the hyperparameter
vector the original code picks for that fraction. Both networks of a trial share initial weights,
batch order and stored examples, so their difference is paired. The paper quotes its MNIST
rehearsal number at "0.75 % of old data", which is not a fraction of the original sweep: we do
not pretend to match a point, we show where the paper's numbers fall on the curve.
"""),
    code("""
profile = "quick"
dataset = None
fractions = None
trials = None
seed = None
hidden = None
per_task_train = None
epochs = None
sleep_scale = None
test_subset = None
""", tags=("parameters",)),
    code("""
from IPython.display import Markdown

from sleeputils.book.chapters import chapter_setup
from sleeputils.book.check import load_paper_values
from sleeputils.protocols.rehearsal import run_rehearsal
from sleeputils.report import figures, tables
from sleeputils.results.record import record

setup = chapter_setup("rehearsal", profile, dataset=dataset, fractions=fractions, trials=trials,
                      seed=seed, hidden=hidden, per_task_train=per_task_train, epochs=epochs,
                      sleep_scale=sleep_scale, test_subset=test_subset)
print(f"chapter {setup.chapter_id}, profile {profile}")
setup.table()
"""),
    code("df = run_rehearsal(**setup.kwargs)", tags=("hide-output",)),
    md("""
## Final accuracy against the fraction replayed

Mean ± std over trials of the full-test accuracy after task 5; *gain* is rehearsal + SRC minus
rehearsal, trial by trial.
"""),
    code("tables.rehearsal_table(df)"),
    code("""
paper = load_paper_values()
paper = paper[(paper["chapter"] == "incremental") & (paper["dataset"] == setup.kwargs["dataset"])
              & paper["method"].isin(["rehearsal", "rehearsal_src"])]
figures.rehearsal_curve(df, paper);
"""),
    md("## Where the paper's numbers fall"),
    code("Markdown(tables.rehearsal_verdict(df, paper))"),
    md("""
## The whole sweep (paper profile)

The full-protocol numbers committed under `results/paper/` (every fraction of the original
sweep, 5 trials), whichever profile built this page.
"""),
    code("""
from sleeputils.results.record import load_records

committed = tables.committed_sweep(setup.chapter_id, load_records("paper"))
committed if not isinstance(committed, str) else Markdown(committed)
"""),
    md("## Full-test accuracy after every task, at each fraction"),
    code("""
for p, part in df.groupby("fraction"):
    figures.accuracy_after_each_task(part).suptitle(f"{100 * p:g} % of old data replayed")
"""),
    md("## Recorded numbers\n\nThese are what the status page and `sleepbook check` read."),
    code("record(df, setup.chapter_id, profile)"),
]

if __name__ == "__main__":
    write("incremental", INCREMENTAL)
    write("patches", PATCHES)
    write("rehearsal", REHEARSAL)
