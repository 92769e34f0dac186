"""Continual-learning methods other than sleep, as hooks on the one training loop."""

from .ewc import EWC
from .icarl import ICaRL
from .owm import OWM
from .rehearsal import Rehearsal, stored_count
from .si import SI

__all__ = ["EWC", "ICaRL", "OWM", "SI", "Rehearsal", "stored_count"]
