"""Every test computes on one thread. ``make test`` runs one pytest-xdist process per core, and
PyTorch, OpenBLAS and OpenMP each default to one thread per core in every process: two processes
on two cores then oversubscribe them, and OpenMP's spinning threads slowed a VAE test tenfold.
One thread is also what every stored unit computes on (results.executor), so a test and a unit
round the same way."""

import torch
from threadpoolctl import threadpool_limits

torch.set_num_threads(1)
threadpool_limits(1)
