"""How well do AugmentedGANClustering's discriminator features cluster?

The method clusters the feature layer ``M`` of a DCGAN discriminator. This script
trains the GAN phase only (no classifier) and clusters the discriminator's features
beside KMeans on the raw rows: KMeans on ``M``, KMeans on 50 principal components of
the standardised ``M``, KMeans on 20 principal components of ``M`` and of the last
convolution's output (the paper's measure of its features), and ``IMSATClustering``
at its defaults on ``M`` and on the convolution's output. It separates the two phases:
if the features cluster worse than the raw rows, they limit the method whatever the
classifier does.

Usage (from the repository root)::

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/augmented_features.py --seeds 0 1 2 --gan-epochs 30 83
    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/augmented_features.py --dataset mnist5k --snapshots \\
        --seeds 0 1 2 --gan-epochs 5 15 30

Each ``--gan-epochs`` value is a separate GAN, or with ``--snapshots`` one GAN per
seed measured as it reaches each value (a warm-started fit continues the GAN phase;
the IMSAT fits then run at the last value only). One JSON line per (seed, GAN
epochs) is appended to ``benchmarks/results/AugmentedGANClustering_<dataset>_features.jsonl``
(or ``--out``).
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

from skgancluster import AugmentedGANClustering, IMSATClustering, datasets  # noqa: E402
from skgancluster.metrics import cluster_accuracy  # noqa: E402

DATASETS = {
    "digits": (lambda: load_digits(return_X_y=True), (1, 8, 8)),
    "mnist5k": (datasets.load_mnist_5k, (1, 28, 28)),
}


def conv_features(gan, X):
    """The discriminator's last convolution output (flattened), before its feature layer ``M``."""
    discriminator = gan.networks_["discriminator"]
    convolutions = discriminator.trunk.body[0]
    shape = discriminator.front.out_shape
    return gan._map_batches(X, lambda x: convolutions(discriminator.front(x).view(-1, *shape)))


def measure(gan, X, y, seed, with_imsat):
    features, conv = gan.transform(X), conv_features(gan, X)

    def kmeans_acc(data):
        return cluster_accuracy(y, KMeans(10, n_init=10, random_state=seed).fit_predict(data))

    def pca_kmeans_acc(data, n_components, standardise=False):
        data = StandardScaler().fit_transform(data) if standardise else data
        return kmeans_acc(PCA(n_components, random_state=seed).fit_transform(data))

    row = {"feature_norm_mean": float(np.linalg.norm(features, axis=1).mean()),
           "kmeans_raw_acc": kmeans_acc(X), "kmeans_features_acc": kmeans_acc(features),
           "kmeans_features_pca50_acc": pca_kmeans_acc(features, 50, standardise=True),
           "kmeans_features_pca20_acc": pca_kmeans_acc(features, 20),
           "kmeans_conv_pca20_acc": pca_kmeans_acc(conv, 20)}
    if with_imsat:
        row["imsat_features_acc"] = cluster_accuracy(y, IMSATClustering(10, random_state=seed).fit_predict(features))
        row["imsat_conv_acc"] = cluster_accuracy(y, IMSATClustering(10, random_state=seed).fit_predict(conv))
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="digits")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--gan-epochs", type=int, nargs="+", default=[30])
    parser.add_argument("--snapshots", action="store_true", help="one GAN per seed, measured at each --gan-epochs")
    parser.add_argument("--out", type=pathlib.Path)
    args = parser.parse_args()
    out = args.out or RESULTS / f"AugmentedGANClustering_{args.dataset}_features.jsonl"
    torch.set_num_threads(1)
    load, image_shape = DATASETS[args.dataset]
    X, y = load()
    X = X.astype(np.float32)
    runs = ([(seed, args.gan_epochs) for seed in args.seeds] if args.snapshots
            else [(seed, [e]) for e in args.gan_epochs for seed in args.seeds])
    for seed, epochs in runs:
        gan = AugmentedGANClustering(10, image_shape=image_shape, gan_epochs=epochs[-1], random_state=seed,
                                     augmentation=None, warm_start=True)  # transform: the feature layer M
        start, trained = time.process_time(), 0
        for gan_epochs in epochs:
            gan.set_params(max_iter=gan_epochs - trained).fit(X)
            trained = gan_epochs
            row = {"dataset": args.dataset, "seed": seed, "gan_epochs": gan_epochs, "snapshots": args.snapshots,
                   "gan_cpu_seconds": round(time.process_time() - start, 1)}
            row.update(measure(gan, X, y, seed, with_imsat=gan_epochs == epochs[-1]))
            row.update(torch=torch.__version__, commit=_commit(), date=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
            print(json.dumps(row), flush=True)
            with open(out, "a") as fh:
                fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
