"""Every test computes on one thread, as every stored unit does (results.executor). ``make test``
runs one pytest-xdist process per core, and PyTorch, OpenBLAS and OpenMP each default to one
thread per core in every process: two processes on two cores then oversubscribe them, and
OpenMP's spinning threads slowed a VAE test tenfold. The variables cover the libraries loaded
later (scipy's and scikit-learn's own OpenBLAS and OpenMP); threadpoolctl, the ones already
loaded."""

import os

from threadpoolctl import threadpool_limits

from sleeputils.results.executor import PINNED_THREADS, UNIT_THREADS

for _name in PINNED_THREADS:
    os.environ[_name] = str(UNIT_THREADS)

import torch  # noqa: E402  (after the variables, which it reads when it loads)

torch.set_num_threads(UNIT_THREADS)
threadpool_limits(UNIT_THREADS)
