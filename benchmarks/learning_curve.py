"""Clustering accuracy against training time, for any estimator and data set.

Trains with ``warm_start=True`` in chunks of ``--every`` epochs and scores the
labels after each chunk, so one run shows how quality grows with time. Use it
to compare training recipes (learning rate, critic ratio, network sizes).

Example
-------
python benchmarks/learning_curve.py --estimator ClusterGANClustering --dataset mnist5k \
    --params '{"real_weight": 0}' --every 10 --epochs 60 --seed 0 --threads 1
"""

import argparse
import json
import time

import torch

from quality import DATASETS, scores
from skgancluster import all_estimators


def main(argv=None):
    estimators = dict(all_estimators())
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--estimator", choices=sorted(estimators), required=True)
    parser.add_argument("--dataset", choices=sorted(DATASETS), required=True)
    parser.add_argument("--params", default="{}", help="JSON of estimator parameters")
    parser.add_argument("--every", type=int, default=10, help="epochs between scores")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    loader, n_clusters, implied = DATASETS[args.dataset]
    params = {"n_init": 1, **implied, **json.loads(args.params)}  # the curve of one run
    X, y = loader(args.seed)
    est = estimators[args.estimator](n_clusters, random_state=args.seed, warm_start=True,
                                     max_iter=args.every, **params)
    print(f"# {args.estimator} on {args.dataset}, seed {args.seed}, params {params}, "
          f"{torch.get_num_threads()} threads")
    training_seconds = 0.0
    while not hasattr(est, "n_iter_") or est.n_iter_ < args.epochs:
        started = time.perf_counter()
        est.fit(X)
        training_seconds += time.perf_counter() - started
        s = scores(y, est.labels_)
        print(f"epoch {est.n_iter_:4d}  {training_seconds:7.0f} s  ACC {s['acc']:.3f}  NMI {s['nmi']:.3f}  "
              f"ARI {s['ari']:.3f}", flush=True)


if __name__ == "__main__":
    main()
