"""Every test computes on one thread. ``make test`` runs one pytest-xdist process per core, and
PyTorch, OpenBLAS and OpenMP each default to one thread per core in every process: two processes
on two cores then oversubscribe them, and OpenMP's spinning threads slowed a VAE test tenfold.
One thread is also what every stored unit computes on (results.executor), so a test and a unit
round the same way. The variables cover the libraries loaded later (scipy's and scikit-learn's
own OpenBLAS and OpenMP); threadpoolctl, the ones already loaded."""

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import torch  # noqa: E402  (after the variables, which it reads when it loads)
from threadpoolctl import threadpool_limits  # noqa: E402

torch.set_num_threads(1)
threadpool_limits(1)
