"""Sample agreement against variety: the generator's noise narrowed or widened at sampling time.

Fits the estimator at its defaults, then draws ``sample(200, cluster=k)`` at
each ``--psi`` value, changing only how much noise the generator gets:

- ``AugmentedGANClustering``: its cluster generator's uniform noise
  ``z ~ U[-1, 1]`` scaled by ``psi`` (1: as ``sample`` draws; smaller values
  draw nearer the middle of the noise, BigGAN's "truncation");
- ``BSPLClusterGAN``: ``psi`` is the level ``a`` of the prior's noise
  ``U[0, a]`` around each block code (``sample`` draws at the level of the
  generator's epochs, ``noise_start``, 0.5 by default; with
  ``generator_epochs=0`` at the level training ended with, ``noise_end``, 0.1).

Per value and cluster it records the sample agreement of ``quality.py`` (the
fraction of the samples that a 5-nearest-neighbour classifier on the real
rows and ``labels_`` puts in ``k``), the same judge's score for the
cluster's own real rows, and the samples' spread: their mean distance to
their own mean over the same for the cluster's real rows (1: as varied as
the cluster; 0: one image). The clusters are those of the fit.

Usage (from the repository root)::

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/sample_truncation.py --dataset mnist5k --seed 2 \\
        --out benchmarks/results/AugmentedGANClustering_mnist5k_sample_truncation.jsonl
    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/sample_truncation.py --estimator BSPLClusterGAN \\
        --dataset digits --seed 0 --psi 0.1 0.2 0.3 0.5 --out benchmarks/results/BSPLClusterGAN_sample_noise.jsonl
"""

import argparse
import datetime
import json
import time
from pathlib import Path

import numpy as np
import torch

from quality import DATASETS, _commit, _machine, real_agreement, sample_agreement, sample_spread, scores
from skgancluster import AugmentedGANClustering, BSPLClusterGAN

ESTIMATORS = {"AugmentedGANClustering": AugmentedGANClustering, "BSPLClusterGAN": BSPLClusterGAN}


def set_noise(est, psi, fitted_latent):
    """Make ``est.sample`` draw with the noise of ``psi`` (see the module docstring)."""
    if isinstance(est, BSPLClusterGAN):
        est.noise_level_ = psi
    else:
        est._latent = lambda n, generator, device: fitted_latent(n, generator, device) * psi


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--estimator", choices=sorted(ESTIMATORS), default="AugmentedGANClustering")
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="mnist5k")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--psi", type=float, nargs="+", default=[1.0, 0.75, 0.5, 0.25])
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    loader, n_clusters, implied = DATASETS[args.dataset]
    X, y = loader(args.seed)
    started = time.process_time()
    est = ESTIMATORS[args.estimator](n_clusters, random_state=args.seed, **implied).fit(X)
    context = {"estimator": args.estimator, "dataset": args.dataset, "seed": args.seed,
               **scores(y, est.labels_), "cpu_seconds": round(time.process_time() - started, 1),
               "real_agreement": real_agreement(X, est.labels_), "commit": _commit(), "machine": _machine(),
               "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    out = Path(args.out) if args.out else None
    fitted_latent = getattr(est, "_latent", None)
    for psi in args.psi:
        set_noise(est, psi, fitted_latent)
        row = {**context, "psi": psi, "sample_agreement": sample_agreement(est, X), "spread": sample_spread(est, X)}
        drawn = [a for a in row["sample_agreement"] if a is not None]
        print(f"psi {psi}: lowest cluster {min(drawn, default=None)}, "
              f"median spread {np.median([s for s in row['spread'] if s is not None]):.3f}", flush=True)
        if out is not None:
            with out.open("a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
