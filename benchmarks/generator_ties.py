"""How strongly the generator's epochs tie ClusterGANClustering's generator to its clusters.

Fits ``ClusterGANClustering`` at its defaults with ``generator_epochs=0`` (the
clustering alone), then, for each ``--weights`` value, runs ``--epochs``
generator epochs on a copy of that fit with the mode-mean tie at that weight
(0: the frozen encoder's cycle losses only). The clusters do not change (the
encoder is frozen); each row records the per-cluster sample agreement of
``quality.py`` (the fraction of ``sample(200, cluster=k)`` that 5 real
neighbours put in ``k``) and the critic's Wasserstein estimate per epoch,
which rises when the generated rows stop looking real (a large weight pulls
them towards their cluster's mean image). ``--save DIR`` also writes a
10 x 10 grid of samples per weight (one row per cluster; needs matplotlib).

Usage (from the repository root)::

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/generator_ties.py --dataset mnist5k --seed 0 \\
        --weights 0 0.1 1 10 --out benchmarks/results/ClusterGANClustering_mnist5k_generator_ties.jsonl
"""

import argparse
import copy
import datetime
import json
import time
from pathlib import Path

import numpy as np
import torch

from quality import DATASETS, _commit, _machine, sample_agreement, scores
from skgancluster import ClusterGANClustering
from skgancluster._training import BatchSource, run_training


def generator_epochs(est, X, epochs, weight, seed):
    """Run ``epochs`` generator epochs on ``est`` (fitted with ``generator_epochs=0``) with the tie at ``weight``."""
    est.generator_epochs = epochs  # every epoch of this training is a generator epoch
    est._mode_mean_weight = weight
    source = BatchSource(X, est.input_offset_, est.input_scale_, est.device_, est.batch_size)
    run_training(est, source, epochs, torch.Generator(est.device_).manual_seed(seed))


def save_grid(est, path, image_shape):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(est.label_modes_)
    fig, axes = plt.subplots(n, 10, figsize=(6, 0.6 * n))
    for k in range(n):
        for j, row in enumerate(est.sample(10, cluster=k)[0]):
            axes[k, j].imshow(row.reshape(image_shape[1:]), cmap="gray")
            axes[k, j].axis("off")
    fig.savefig(path, dpi=60)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="mnist5k")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.1, 1.0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--save", type=Path, default=None, help="folder for the sample grids (images only)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    loader, n_clusters, implied = DATASETS[args.dataset]
    X, y = loader(args.seed)
    X = np.asarray(X, dtype=np.float32)
    started = time.process_time()
    fitted = ClusterGANClustering(n_clusters, generator_epochs=0, n_init=1, random_state=args.seed, **implied).fit(X)
    base = {"dataset": args.dataset, "seed": args.seed, "acc": round(scores(y, fitted.labels_)["acc"], 4),
            "fit_cpu_seconds": round(time.process_time() - started, 1), "commit": _commit(),
            "machine": _machine(), "date": datetime.date.today().isoformat()}
    runs = [(None, fitted)]
    for weight in args.weights:
        est = copy.deepcopy(fitted)
        generator_epochs(est, X, args.epochs, weight, args.seed)
        np.testing.assert_array_equal(est._fit_labels(X), fitted.labels_)  # the frozen encoder kept the clusters
        runs.append((weight, est))
    with args.out.open("a") as out:
        for weight, est in runs:
            tied = weight is not None
            row = {**base, "generator_epochs": args.epochs if tied else 0, "mode_mean_weight": weight,
                   "sample_agreement": sample_agreement(est, X),
                   "wasserstein": [round(r["wasserstein"], 3) for r in est.history_[-args.epochs:]] if tied
                   else [round(r["wasserstein"], 3) for r in est.history_[-3:]]}
            print(json.dumps(row), flush=True)
            out.write(json.dumps(row) + "\n")
            if args.save and est.image_shape_ is not None:
                args.save.mkdir(parents=True, exist_ok=True)
                save_grid(est, args.save / f"{args.dataset}_seed{args.seed}_weight{weight}.png", est.image_shape_)


if __name__ == "__main__":
    main()
