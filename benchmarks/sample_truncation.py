"""Sample agreement against variety: AugmentedGANClustering's cluster generator with truncated noise.

Fits ``AugmentedGANClustering`` at its defaults, then draws ``sample(200,
cluster=k)`` with the generator's uniform noise ``z ~ U[-1, 1]`` scaled by each
``--psi`` value (1: the fitted model as ``sample`` uses it; smaller values draw
nearer the middle of the noise, BigGAN's "truncation"). Per value and cluster
it records the sample agreement of ``quality.py`` (the fraction of the
samples that a 5-nearest-neighbour classifier on the real rows and
``labels_`` puts in ``k``), the same judge's score for the cluster's own real
rows, and the samples' spread: their mean distance to their own mean over the
same for the cluster's real rows (1: as varied as the cluster; 0: one image).
The clusters are those of the fit; only sampling changes.

Usage (from the repository root)::

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/sample_truncation.py --dataset mnist5k --seed 2 \\
        --out benchmarks/results/AugmentedGANClustering_mnist5k_sample_truncation.jsonl
"""

import argparse
import datetime
import json
import time
from pathlib import Path

import numpy as np
import torch

from quality import DATASETS, _commit, _machine, real_agreement, sample_agreement, sample_spread, scores
from skgancluster import AugmentedGANClustering


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="mnist5k")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--psi", type=float, nargs="+", default=[1.0, 0.75, 0.5, 0.25])
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    loader, n_clusters, implied = DATASETS[args.dataset]
    X, y = loader(args.seed)
    started = time.process_time()
    est = AugmentedGANClustering(n_clusters, random_state=args.seed, **implied).fit(X)
    context = {"estimator": "AugmentedGANClustering", "dataset": args.dataset, "seed": args.seed,
               **scores(y, est.labels_), "cpu_seconds": round(time.process_time() - started, 1),
               "real_agreement": real_agreement(X, est.labels_), "commit": _commit(), "machine": _machine(),
               "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    out = Path(args.out) if args.out else None
    fitted_latent = est._latent
    for psi in args.psi:
        est._latent = lambda n, generator, device, psi=psi: fitted_latent(n, generator, device) * psi
        row = {**context, "psi": psi, "sample_agreement": sample_agreement(est, X), "spread": sample_spread(est, X)}
        drawn = [a for a in row["sample_agreement"] if a is not None]
        print(f"psi {psi}: lowest cluster {min(drawn, default=None)}, "
              f"median spread {np.median([s for s in row['spread'] if s is not None]):.3f}", flush=True)
        if out is not None:
            with out.open("a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
