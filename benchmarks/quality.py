"""Clustering quality of any estimator on any data set, beside KMeans, over seeds.

Usage (from the repository root; add ``PYTHONPATH=.`` unless the package is installed)::

    OMP_NUM_THREADS=1 python benchmarks/quality.py --estimator ClusterGANClustering --dataset synthetic
    OMP_NUM_THREADS=1 python benchmarks/quality.py --estimator BSPLClusterGAN --dataset digits \\
        --params '{"self_paced": "standard"}' --seeds 0 1 2
    OMP_NUM_THREADS=1 python benchmarks/quality.py --estimator PreciseFeatureClustering --dataset mnist5k \\
        --params '{"max_iter": 30, "conv_channels": [32, 64]}' --seeds 0
    OMP_NUM_THREADS=1 python benchmarks/quality.py --estimator SIMIClusterGAN ClusterGANClustering \\
        --dataset mnist5k-cut1 --no-kmeans

Any estimator of ``skgancluster.all_estimators()`` runs on any data set below,
with the parameters the data set implies (``n_clusters``, ``image_shape`` for
images) and ``random_state`` set to the seed; ``--params`` (JSON) adds or
overrides estimator parameters (JSON lists become tuples). Several estimators
given to ``--estimator`` run in the same process, one after the other on each
seed's data, each with the same ``--params``, so that they are compared in the
same run (their rows share a ``run`` id).

Data sets (name: rows x features, K)::

    synthetic        make_clustergan_synthetic, 10,000 x 100, K=4 (data drawn with the seed)
    blobs8           make_precise_blobs, 4,000 x 2, K=8 (--n-samples; data drawn with the seed)
    digits           sklearn load_digits as 1x8x8 images, 1,797 rows, K=10
    digits-flat      the same as 64 flat features
    mnist5k          load_mnist_5k as 1x28x28 images, K=10
    mnist5k-flat     the same as 784 flat features
    artifact-mnist   make_artifact_mnist, 1x28x28 images, K=3 (labels = the artifact; data drawn with the seed)
    wine             sklearn load_wine, standardised, 178 x 13, K=3 (59 / 71 / 48)
    breast-cancer    sklearn load_breast_cancer, standardised, 569 x 30, K=2 (212 / 357)
    blobs-unequal    make_blobs, 10 features, sizes 800 / 400 / 200 / 100, cluster_std 2.5, K=4 (drawn with the seed)
    blobs-aniso      the same sizes, 10 features, each blob stretched by its own random linear map, K=4 (seed)
    iris             sklearn load_iris, standardised, 150 x 4, K=3
    cells            make_single_cell: 1,000 cells x 500 genes, 8 types from 305 to 30 cells, log-normalised (seed)
    mnist5k-cut1     make_imbalanced_mnist: digit 0 cut to 10 %, 4,550 x 1x28x28, K=10 (rows drawn with the seed)
    mnist5k-cut3     the same with digits 1, 3, 5 cut to 10, 30, 50 %, 3,950 rows, K=10
    digits-cut3      load_digits with digits 1, 3, 5 cut to 10, 30, 50 %, 1,414 rows, K=10

The imbalanced sets are also scored as the SIMI-ClusterGAN paper scores them: the model
trained on the imbalanced rows labels the whole balanced set (``predict``), whose scores
are recorded as ``test_acc``, ``test_nmi`` and ``test_ari``.

The tabular sets are standardised before any fit, so that KMeans, which has
no scaling of its own, is compared on the scale it needs.
For each seed the estimator(s) and KMeans(n_init=10, same seed) are fitted on the
same data in the same run, and on data with more than 50 features also PCA to 50
components followed by KMeans (the usual baseline for single-cell data). ``--pca N`` fits
each estimator after the same projection (``make_pipeline(PCA(N), estimator)``, recorded
as ``pca_components``); one line per fit is printed (ACC, NMI, ARI, fit
seconds), then the median and the minimum over seeds (the time column of the
``min`` line is the longest fit). Every fit is appended as one JSON line to
``--out`` (default ``benchmarks/results/<estimator>_<dataset>.jsonl``, the
first estimator's name) with run (an id shared by the rows of one invocation),
seed, method, dataset, acc, nmi, ari, seconds (wall), cpu_seconds (of the
process: the one-core fit time when other jobs share the machine), params, n_iter, torch
version, threads, machine, 1-minute load average at the start of the fit,
package version and commit, and the date; also the sizes of the true
classes and of the found clusters, each as fractions sorted from the largest
(``class_sizes``, ``cluster_sizes``), the ``contingency`` table (entry ``[i][j]``:
rows of the i-th true class in the j-th cluster, both in sorted order; which classes
a poor fit mixes),
and an estimator's fitted
``cluster_proportions_`` where it has them, and the ACC of every head
(``head_acc``) and the selected one (``best_head``) for multi-head estimators, and
for generative estimators ``sample_agreement``: per cluster k, the fraction of
``sample(200, cluster=k)`` that a 5-nearest-neighbour classifier on the real rows
with ``labels_`` puts in k, and ``real_agreement``, the same judge's score for the
real rows of each cluster (each row's 5 nearest other rows vote): the agreement that
rows of the cluster itself reach, which generated rows can hardly pass, and
``sample_spread``: per cluster, the mean distance of its 200 samples to their mean
over the same for its real rows (1: as varied as the cluster; near 0: one image
repeated, which the agreement alone would not tell from a good generator).
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import time
from pathlib import Path

import numpy as np
import sklearn
import torch
from sklearn.cluster import KMeans
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine, make_blobs
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix

import skgancluster
from skgancluster import all_estimators, datasets, metrics
from skgancluster.metrics import cluster_accuracy

RESULTS = Path(__file__).resolve().parent / "results"
MNIST_IMAGE = (1, 28, 28)
PCA_COMPONENTS = 50


def _sized(fn, seed, n_samples):
    return fn(random_state=seed) if n_samples is None else fn(n_samples=n_samples, random_state=seed)


def _anisotropic_blobs(seed):
    """Unequal blobs, each stretched by its own random linear map (not spheres: harder for KMeans)."""
    X, y = make_blobs([800, 400, 200, 100], n_features=10, cluster_std=1.0, center_box=(-8, 8), random_state=seed)
    rng = np.random.RandomState(seed)
    for k in range(4):
        X[y == k] = (X[y == k] - X[y == k].mean(0)) @ rng.normal(0, 0.8, (10, 10)) + X[y == k].mean(0)
    return X, y


def _standardised(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


# name -> (loader(seed, n_samples=None) -> (X, y), n_clusters, parameters the data set implies)
DATASETS = {
    "synthetic": (lambda seed, n_samples=None: _sized(datasets.make_clustergan_synthetic, seed, n_samples), 4, {}),
    "blobs8": (lambda seed, n_samples=None: _sized(datasets.make_precise_blobs, seed, n_samples), 8, {}),
    "digits": (lambda seed, n_samples=None: load_digits(return_X_y=True), 10, {"image_shape": (1, 8, 8)}),
    "digits-flat": (lambda seed, n_samples=None: load_digits(return_X_y=True), 10, {}),
    "mnist5k": (lambda seed, n_samples=None: datasets.load_mnist_5k(), 10, {"image_shape": MNIST_IMAGE}),
    "mnist5k-flat": (lambda seed, n_samples=None: datasets.load_mnist_5k(), 10, {}),
    "artifact-mnist": (lambda seed, n_samples=None: datasets.make_artifact_mnist(random_state=seed), 3,
                       {"image_shape": MNIST_IMAGE}),
    "wine": (lambda seed, n_samples=None: _standardised(load_wine), 3, {}),
    "breast-cancer": (lambda seed, n_samples=None: _standardised(load_breast_cancer), 2, {}),
    "blobs-unequal": (lambda seed, n_samples=None: make_blobs([800, 400, 200, 100], n_features=10, cluster_std=2.5,
                                                              random_state=seed), 4, {}),
    "blobs-aniso": (lambda seed, n_samples=None: _anisotropic_blobs(seed), 4, {}),
    "iris": (lambda seed, n_samples=None: _standardised(load_iris), 3, {}),
    "cells": (lambda seed, n_samples=None: datasets.make_single_cell(random_state=seed), 8, {}),
    # the imbalanced MNIST of the SIMI-ClusterGAN paper
    "mnist5k-cut1": (lambda seed, n_samples=None: datasets.make_imbalanced_mnist((0,), 0.1, random_state=seed), 10,
                     {"image_shape": MNIST_IMAGE}),
    "mnist5k-cut3": (lambda seed, n_samples=None: datasets.make_imbalanced_mnist(
        (1, 3, 5), (0.1, 0.3, 0.5), random_state=seed), 10, {"image_shape": MNIST_IMAGE}),
    # a small imbalanced set for quick checks: load_digits with digits 1, 3, 5 cut as above
    "digits-cut3": (lambda seed, n_samples=None: datasets.make_imbalanced(
        *load_digits(return_X_y=True), {1: 0.1, 3: 0.3, 5: 0.5}, random_state=seed), 10, {"image_shape": (1, 8, 8)}),
}
# The SIMI-ClusterGAN paper trains on the imbalanced set and tests on balanced data: each
# fit on these sets is also scored on the whole balanced set (``predict``), as ``test_*``.
BALANCED_TEST = {"mnist5k-cut1": "mnist5k", "mnist5k-cut3": "mnist5k", "digits-cut3": "digits"}
# names the former benchmarks/precise_runs.py used
ALIASES = {"blobs": "blobs8", "mnist": "mnist5k", "artifact": "artifact-mnist"}


def scores(y, labels):
    return {
        "acc": float(cluster_accuracy(y, labels)),
        "nmi": float(normalized_mutual_info_score(y, labels)),
        "ari": float(adjusted_rand_score(y, labels)),
    }


def _per_cluster(values):
    """Per-cluster values rounded, None for a cluster that ``sample`` refused (NaN)."""
    return [None if np.isnan(a) else round(float(a), 3) for a in values]


def sample_agreement(est, X):
    """:func:`skgancluster.metrics.sample_agreement`, rounded, None for a cluster that ``sample`` refuses."""
    return _per_cluster(metrics.sample_agreement(est, X))


def sample_spread(est, X):
    """:func:`skgancluster.metrics.sample_spread`, rounded, None for a cluster that ``sample`` refuses."""
    return _per_cluster(metrics.sample_spread(est, X))


def real_agreement(X, labels):
    """:func:`skgancluster.metrics.real_agreement`, rounded."""
    return [round(float(a), 3) for a in metrics.real_agreement(X, labels)]


def head_fields(est, y):
    """For multi-head estimators, every head's ACC (``head_acc``) and the selected head (``best_head``)."""
    if not hasattr(est, "head_labels_"):
        return {}
    return {"head_acc": [round(float(cluster_accuracy(y, h)), 4) for h in est.head_labels_.T],
            "best_head": int(est.best_head_)}


def add_fit_arguments(parser, estimators):
    """The arguments of the scripts that fit one estimator over seeds (``criteria.py``, ``n_init_runs.py``,
    ``early_criteria.py``)."""
    parser.add_argument("--estimator", choices=sorted(estimators))
    parser.add_argument("--dataset", choices=sorted(DATASETS))
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--params", default="{}", help="JSON of estimator parameters")
    parser.add_argument("--out", default=None)


def _front_end(est, n_components, seed):
    """``est``, or ``est`` after PCA to ``n_components`` when that is given."""
    return est if n_components is None else make_pipeline(PCA(n_components, random_state=seed), est)


def _sorted_fractions(labels):
    """Fraction of the rows in each group, largest first."""
    return np.round(np.sort(np.bincount(np.unique(labels, return_inverse=True)[1]))[::-1] / len(labels), 4).tolist()


def _estimators_in(params, estimators):
    """Turn a parameter given as ``{"IMSATClustering": {...}}`` into that estimator (e.g. ``prior_estimator``)."""
    out = {}
    for name, value in params.items():
        if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in estimators:
            (cls_name, kwargs), = value.items()
            value = estimators[cls_name](**kwargs)
        out[name] = value
    return out


def _tuples(value):
    """JSON lists -> tuples (scikit-learn style parameters such as ``conv_channels``)."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


def _commit():
    """Commit of the imported package's checkout, '+dirty' if it has local changes; None outside git."""
    where = Path(skgancluster.__file__).resolve().parent
    try:
        head = subprocess.run(["git", "-C", str(where), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(where), "status", "--porcelain", "--", "."], capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")


def _machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    gpu = f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
    return f"{cpu}, {os.cpu_count()} cores{gpu}"


def summary_lines(rows, methods):
    lines = []
    for name in methods:
        sel = [r for r in rows if r["method"] == name]
        if not sel:
            continue
        for stat, fn, tfn in (("median", np.median, np.median), ("min", np.min, np.max)):
            lines.append(f"{stat:>6} {name:<24} " + " ".join(f"{fn([r[m] for r in sel]):6.3f}"
                                                             for m in ("acc", "nmi", "ari"))
                         + f" {tfn([r['seconds'] for r in sel]):8.1f}")
    return lines


def main(argv=None):
    estimators = dict(all_estimators())
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog="Data sets: " + ", ".join(DATASETS))
    parser.add_argument("--estimator", choices=sorted(estimators), nargs="+", required=True,
                        help="one estimator, or several to compare in the same run")
    parser.add_argument("--dataset", choices=sorted([*DATASETS, *ALIASES]), required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--params", default="{}", help='JSON of estimator parameters, e.g. \'{"max_iter": 30}\'')
    parser.add_argument("--n-samples", type=int, default=None, help="rows of the generated sets (synthetic, blobs8)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    parser.add_argument("--out", default=None,
                        help="JSON lines file to append to (default benchmarks/results/<estimator>_<dataset>.jsonl)")
    parser.add_argument("--no-kmeans", action="store_true", help="skip the KMeans (and PCA+KMeans) fits")
    parser.add_argument("--pca", type=int, default=None, metavar="N",
                        help="fit each estimator after PCA to N components (a Pipeline; no sample_agreement)")
    args = parser.parse_args(argv)
    dataset = ALIASES.get(args.dataset, args.dataset)
    torch.set_num_threads(args.threads)
    loader, n_clusters, implied = DATASETS[dataset]
    extra = _tuples(json.loads(args.params))
    if not isinstance(extra, dict):
        parser.error("--params must be a JSON object")
    params = {**implied, **_estimators_in(extra, estimators)}
    names = list(dict.fromkeys(args.estimator))
    out = Path(args.out) if args.out else RESULTS / f"{names[0]}_{dataset}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    context = {
        "torch": torch.__version__, "sklearn": sklearn.__version__, "skgancluster": skgancluster.__version__,
        "commit": _commit(), "threads": torch.get_num_threads(), "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "machine": _machine(), "python": platform.python_version(),
        "run": datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}",
    }
    print(f"# {', '.join(names)} on {dataset}, params {params}; {context['machine']}, torch {context['torch']}, "
          f"{context['threads']} torch threads, OMP_NUM_THREADS={context['omp_num_threads']}, "
          f"package {context['skgancluster']} ({context['commit']}); rows -> {out}", flush=True)
    print(f"{'seed':>6} {'method':<24} {'ACC':>6} {'NMI':>6} {'ARI':>6} {'fit s':>8}", flush=True)
    rows = []
    for seed in args.seeds:
        X, y = loader(seed, args.n_samples)
        fits = [(name, params, lambda name=name: _front_end(
                    estimators[name](n_clusters, random_state=seed, **params), args.pca, seed))
                for name in names]
        if not args.no_kmeans:
            fits.append(("KMeans", {"n_init": 10}, lambda: KMeans(n_clusters, n_init=10, random_state=seed)))
            if X.shape[1] > PCA_COMPONENTS:  # the usual baseline on wide data (single-cell, pixels)
                fits.append(("PCA+KMeans", {"n_components": PCA_COMPONENTS, "n_init": 10},
                             lambda: make_pipeline(PCA(PCA_COMPONENTS, random_state=seed),
                                                   KMeans(n_clusters, n_init=10, random_state=seed))))
        for name, used, make in fits:
            est = make()
            load = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
            started, cpu_started = time.perf_counter(), time.process_time()
            labels = est.fit_predict(X)
            seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
            row = {"seed": seed, "method": name, "dataset": dataset, "n_samples": int(len(y)),
                   "n_clusters": n_clusters, **scores(y, labels), "seconds": round(seconds, 3),
                   "cpu_seconds": round(cpu_seconds, 3),
                   "params": used, "n_iter": int(getattr(est, "n_iter_", 0)) or None,
                   "class_sizes": _sorted_fractions(y), "cluster_sizes": _sorted_fractions(labels),
                   # [i][j]: rows of class i in cluster j, which shows the classes that a poor fit mixes
                   "contingency": contingency_matrix(y, labels).tolist(), **context,
                   "loadavg_1min": load,
                   "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
            if dataset in BALANCED_TEST:
                X_test, y_test = DATASETS[BALANCED_TEST[dataset]][0](seed)
                row.update({f"test_{k}": v for k, v in scores(y_test, est.predict(X_test)).items()})
            if args.pca and name in names:
                row["pca_components"] = args.pca
            if hasattr(est, "cluster_proportions_"):
                row["cluster_proportions"] = np.round(est.cluster_proportions_, 4).tolist()
            if hasattr(est, "sample"):
                row["sample_agreement"] = sample_agreement(est, X)
                row["real_agreement"] = real_agreement(X, est.labels_)
                row["sample_spread"] = sample_spread(est, X)
            row.update(head_fields(est, y))
            rows.append(row)
            with open(out, "a") as fh:  # row by row, so an interrupted run keeps its finished fits
                fh.write(json.dumps(row, default=lambda v: repr(v) if hasattr(v, "get_params") else list(v)) + "\n")
            test = "  test (balanced) " + " ".join(f"{row['test_' + m]:.3f}" for m in ("acc", "nmi", "ari")) \
                if "test_acc" in row else ""
            print(f"{seed:>6} {name:<24} {row['acc']:6.3f} {row['nmi']:6.3f} {row['ari']:6.3f} {seconds:8.1f}{test}",
                  flush=True)
    for line in summary_lines(rows, (*names, "KMeans", "PCA+KMeans")):
        print(line)


if __name__ == "__main__":
    main()
