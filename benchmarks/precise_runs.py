"""Quality and time of PreciseFeatureClustering over seeds, with KMeans beside.

Usage (from the repository root; ``PYTHONPATH=.`` unless the package is installed)::

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/precise_runs.py blobs --seeds 0 1 2
    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/precise_runs.py mnist --seeds 0 --max-iter 30 \\
        --params "conv_channels=(32, 64), hidden_units=(256,), learning_rate=2e-4"
    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/precise_runs.py artifact --seeds 0

Data sets: ``blobs`` (the paper's 8 Gaussian blobs, ``make_precise_blobs``,
K=8), ``mnist`` (``load_mnist_5k``, K=10) and ``artifact``
(``make_artifact_mnist``, K=3, labels = the artifact). Prints one line per
seed (ACC, NMI, ARI, seconds) for the estimator and for KMeans(n_init=10)
on the same data, then the median and min over seeds. ``--params`` is a
Python keyword list passed to the estimator on top of the defaults.
"""

import argparse
import ast
import statistics
import time

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from skgancluster import PreciseFeatureClustering
from skgancluster.datasets import load_mnist_5k, make_artifact_mnist, make_precise_blobs
from skgancluster.metrics import cluster_accuracy


def _params(text):
    """``"a=1, b=(2, 3)"`` -> ``{"a": 1, "b": (2, 3)}`` (literals only)."""
    if not text:
        return {}
    call = ast.parse(f"f({text})", mode="eval").body
    return {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}


def _data(name, seed, n_samples):
    if name == "blobs":
        X, y = make_precise_blobs(n_samples=n_samples, random_state=seed)
        return X, y, 8, {}
    if name == "mnist":
        X, y = load_mnist_5k()
        return X, y, 10, {"image_shape": (1, 28, 28)}
    X, y = make_artifact_mnist(random_state=seed)
    return X, y, 3, {"image_shape": (1, 28, 28)}


def _scores(y, labels):
    return (cluster_accuracy(y, labels), normalized_mutual_info_score(y, labels),
            adjusted_rand_score(y, labels))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", choices=["blobs", "mnist", "artifact"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-samples", type=int, default=4000, help="blobs only")
    parser.add_argument("--max-iter", type=int, default=None, help="epochs (default: the estimator's)")
    parser.add_argument("--params", default="", help='extra estimator parameters, e.g. "learning_rate=2e-4"')
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    extra = _params(args.params)
    if args.max_iter is not None:
        extra["max_iter"] = args.max_iter
    rows = {"precise": [], "kmeans": []}
    for seed in args.seeds:
        X, y, k, fixed = _data(args.data, seed, args.n_samples)
        started = time.perf_counter()
        est = PreciseFeatureClustering(k, random_state=seed, **fixed, **extra).fit(X)
        rows["precise"].append((*_scores(y, est.labels_), time.perf_counter() - started))
        started = time.perf_counter()
        km = KMeans(k, n_init=10, random_state=seed).fit(X)
        rows["kmeans"].append((*_scores(y, km.labels_), time.perf_counter() - started))
        for name in rows:
            acc, nmi, ari, sec = rows[name][-1]
            print(f"{args.data} seed={seed} {name:8s} ACC={acc:.4f} NMI={nmi:.4f} ARI={ari:.4f} time={sec:.1f}s",
                  flush=True)
    print(f"params: {extra}")
    for name, values in rows.items():
        arr = np.array(values)
        print(f"{name:8s} median ACC={statistics.median(arr[:, 0]):.4f} min ACC={arr[:, 0].min():.4f} "
              f"median NMI={statistics.median(arr[:, 1]):.4f} median ARI={statistics.median(arr[:, 2]):.4f} "
              f"max time={arr[:, 3].max():.1f}s")


if __name__ == "__main__":
    main()
