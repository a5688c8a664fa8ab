"""Clustering quality of any estimator on any data set, beside KMeans, over seeds.

Examples
--------
python benchmarks/quality.py --estimator ClusterGANClustering --dataset synthetic --seeds 0 1 2
python benchmarks/quality.py --estimator ClusterGANClustering --dataset mnist5k \
    --params '{"max_iter": 60}' --seeds 0 1 2 --threads 2

Prints one line per seed (ACC/NMI/ARI and fit time of the estimator and of
KMeans, same data, same run), then the median and minimum, and appends the
rows as JSON lines to ``--out`` when given.
"""

import argparse
import json
import platform
import time

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from skgancluster import all_estimators, datasets
from skgancluster.metrics import cluster_accuracy


def _digits():
    X, y = load_digits(return_X_y=True)
    return X, y


# name -> (loader, n_clusters, parameters the data set implies)
DATASETS = {
    "synthetic": (lambda seed: datasets.make_clustergan_synthetic(random_state=seed), 4, {}),
    "mnist5k": (lambda seed: datasets.load_mnist_5k(), 10, {"image_shape": (1, 28, 28)}),
    "mnist5k-flat": (lambda seed: datasets.load_mnist_5k(), 10, {}),
    "digits": (lambda seed: _digits(), 10, {"image_shape": (1, 8, 8)}),
}
for _name, _loader, _k, _extra in [
    ("blobs8", "make_precise_blobs", 8, {}),
    ("artifact-mnist", "make_artifact_mnist", 3, {"image_shape": (1, 28, 28)}),
]:
    if hasattr(datasets, _loader):  # data sets added with their methods
        DATASETS[_name] = (lambda seed, f=getattr(datasets, _loader): f(random_state=seed), _k, _extra)


def scores(y, labels):
    return {
        "acc": cluster_accuracy(y, labels),
        "nmi": normalized_mutual_info_score(y, labels),
        "ari": adjusted_rand_score(y, labels),
    }


def main(argv=None):
    estimators = dict(all_estimators())
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--estimator", choices=sorted(estimators), required=True)
    parser.add_argument("--dataset", choices=sorted(DATASETS), required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--params", default="{}", help="JSON of estimator parameters")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--out", default=None, help="append JSON lines here")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    loader, n_clusters, implied = DATASETS[args.dataset]
    params = {**implied, **json.loads(args.params)}
    print(f"# {args.estimator} on {args.dataset}, params {params}; {platform.processor() or platform.machine()}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'seed':>4} {'method':<22} {'ACC':>6} {'NMI':>6} {'ARI':>6} {'fit s':>7}")
    rows = []
    for seed in args.seeds:
        X, y = loader(seed)
        for name, make in [
            ("KMeans", lambda: KMeans(n_clusters, n_init=10, random_state=seed)),
            (args.estimator, lambda: estimators[args.estimator](n_clusters, random_state=seed, **params)),
        ]:
            started = time.perf_counter()
            labels = make().fit_predict(X)
            row = {"seed": seed, "method": name, "dataset": args.dataset, **scores(y, labels),
                   "seconds": time.perf_counter() - started, "params": params if name != "KMeans" else {}}
            rows.append(row)
            print(f"{seed:>4} {name:<22} {row['acc']:6.3f} {row['nmi']:6.3f} {row['ari']:6.3f} {row['seconds']:7.1f}",
                  flush=True)
    for name in ("KMeans", args.estimator):
        sel = [r for r in rows if r["method"] == name]
        for stat, fn in (("median", np.median), ("min", np.min)):
            print(f"{stat:>4} {name:<22} " + " ".join(f"{fn([r[m] for r in sel]):6.3f}" for m in ("acc", "nmi", "ari"))
                  + f" {fn([r['seconds'] for r in sel]) if stat == 'median' else max(r['seconds'] for r in sel):7.1f}")
    if args.out:
        with open(args.out, "a") as fh:
            for row in rows:
                fh.write(json.dumps(row, default=str) + "\n")


if __name__ == "__main__":
    main()
