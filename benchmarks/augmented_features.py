"""How well do AugmentedGANClustering's discriminator features cluster?

The method clusters the feature layer ``M`` of a DCGAN discriminator. This script
trains the GAN phase only (``max_iter = gan_epochs``, no classifier) on load_digits
and clusters ``M = transform(X)`` three ways, beside KMeans on the raw rows: KMeans
on ``M``, KMeans on 50 principal components of the standardised ``M``, and
``IMSATClustering`` at its defaults on ``M``. It separates the two phases: if ``M``
clusters worse than the raw rows, the features limit the method whatever the
classifier does.

Usage (from the repository root)::

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/augmented_features.py --seeds 0 1 2 --gan-epochs 30 83

One JSON line per (seed, gan_epochs) is appended to
``benchmarks/results/AugmentedGANClustering_digits_features.jsonl`` (or ``--out``).
"""

import argparse
import json
import pathlib
import sys
import time

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from quality import RESULTS, _commit  # noqa: E402

from skgancluster import AugmentedGANClustering, IMSATClustering  # noqa: E402
from skgancluster.metrics import cluster_accuracy  # noqa: E402

OUT = RESULTS / "AugmentedGANClustering_digits_features.jsonl"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--gan-epochs", type=int, nargs="+", default=[30])
    parser.add_argument("--out", type=pathlib.Path, default=OUT)
    args = parser.parse_args()
    torch.set_num_threads(1)
    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float32)
    for gan_epochs in args.gan_epochs:
        for seed in args.seeds:
            start = time.process_time()
            gan = AugmentedGANClustering(10, image_shape=(1, 8, 8), gan_epochs=gan_epochs, max_iter=gan_epochs,
                                         random_state=seed).fit(X)
            features = gan.transform(X)
            row = {"seed": seed, "gan_epochs": gan_epochs, "gan_cpu_seconds": round(time.process_time() - start, 1),
                   "feature_norm_mean": float(np.linalg.norm(features, axis=1).mean())}

            def kmeans_acc(data):
                return cluster_accuracy(y, KMeans(10, n_init=10, random_state=seed).fit_predict(data))

            row["kmeans_raw_acc"] = kmeans_acc(X)
            row["kmeans_features_acc"] = kmeans_acc(features)
            row["kmeans_features_pca50_acc"] = kmeans_acc(
                PCA(50, random_state=seed).fit_transform(StandardScaler().fit_transform(features)))
            row["imsat_features_acc"] = cluster_accuracy(
                y, IMSATClustering(10, random_state=seed).fit_predict(features))
            row.update(torch=torch.__version__, commit=_commit(), date=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
            print(json.dumps(row), flush=True)
            with open(args.out, "a") as fh:
                fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
