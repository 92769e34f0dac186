"""sleeputils: the package behind sleepbook (protocols, methods, results and reports)."""

import warnings

# Optuna imports tqdm.auto, which inside a Jupyter kernel looks for ipywidgets to draw notebook
# bars and warns when they are absent. The book's bars are tqdm's text ones on purpose, so a
# chapter run would print that warning on every run for nothing.
warnings.filterwarnings("ignore", message="IProgress not found", module="tqdm")
