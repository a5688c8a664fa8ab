"""BSPLClusterGAN over seeds and the three ``self_paced`` variants, beside KMeans.

Usage (from the repository root)::

    OMP_NUM_THREADS=1 python benchmarks/bspl_runs.py --dataset digits --seeds 0 1 2
    OMP_NUM_THREADS=1 python benchmarks/bspl_runs.py --dataset mnist5k --seeds 0 --variants balanced

Prints one line per run (ACC / NMI / ARI / seconds) and, per variant, the
median and min ACC over the seeds. Extra estimator parameters can be given
as ``--param name=value`` (Python literals).
"""

import argparse
import ast
import statistics
import time

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from skgancluster import BSPLClusterGAN
from skgancluster.datasets import load_mnist_5k
from skgancluster.metrics import cluster_accuracy

DATASETS = {
    "digits": (lambda: load_digits(return_X_y=True), (1, 8, 8)),
    "mnist5k": (load_mnist_5k, (1, 28, 28)),
}


def scores(y, labels):
    return (cluster_accuracy(y, labels), normalized_mutual_info_score(y, labels),
            adjusted_rand_score(y, labels))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="digits")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", default=["balanced", "standard", "none"],
                        choices=["balanced", "standard", "none"])
    parser.add_argument("--param", action="append", default=[], help="name=value, e.g. max_iter=50")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    params = {}
    for item in args.param:
        name, value = item.split("=", 1)
        params[name] = ast.literal_eval(value)

    load, image_shape = DATASETS[args.dataset]
    X, y = load()
    k = len(np.unique(y))
    print(f"dataset={args.dataset} n={len(X)} k={k} params={params}", flush=True)
    results = {}
    for seed in args.seeds:
        t = time.perf_counter()
        labels = KMeans(k, n_init=10, random_state=seed).fit_predict(X)
        row = scores(y, labels)
        results.setdefault("kmeans", []).append(row[0])
        print(f"kmeans    seed={seed} ACC={row[0]:.4f} NMI={row[1]:.4f} ARI={row[2]:.4f} "
              f"time={time.perf_counter() - t:.1f}s", flush=True)
        for variant in args.variants:
            est = BSPLClusterGAN(k, image_shape=image_shape, random_state=seed,
                                 self_paced=None if variant == "none" else variant, **params)
            t = time.perf_counter()
            labels = est.fit_predict(X)
            elapsed = time.perf_counter() - t
            row = scores(y, labels)
            results.setdefault(variant, []).append(row[0])
            print(f"{variant:9s} seed={seed} ACC={row[0]:.4f} NMI={row[1]:.4f} ARI={row[2]:.4f} "
                  f"time={elapsed:.1f}s epochs={est.n_iter_}", flush=True)
    for name, accs in results.items():
        print(f"summary {name:9s} median ACC={statistics.median(accs):.4f} min ACC={min(accs):.4f} "
              f"runs={len(accs)}", flush=True)


if __name__ == "__main__":
    main()
