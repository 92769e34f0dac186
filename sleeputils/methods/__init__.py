"""Continual-learning methods other than sleep, as hooks on the one training loop."""

from .rehearsal import Rehearsal, stored_count

__all__ = ["Rehearsal", "stored_count"]
