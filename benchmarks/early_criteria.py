"""ACC and the label-free criteria of ``score`` during one fit, at chosen epochs: do the runs' early scores rank them?

Usage (from the repository root)::

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/early_criteria.py --estimator ClusterGANClustering \\
        --dataset mnist5k --seeds 0 1 2 3 4

Before each listed epoch (``--epochs``, counted from the start of the fit; the
generator-only epochs at the end of a fit are skipped, as the clusters do not
change in them) the current cluster head labels the training rows, and the two
parts of ``score`` are computed on them as ``score`` computes them: the
neighbour agreement and the perturbation agreement. At the end of the fit the
same for ``labels_``. The probes run under a forked torch random state and in
evaluation mode, so the fit is the one ``fit`` alone gives (the final rows match
plain fits of the same seed). ``screen_fraction`` relies on these early scores.

One JSON line per probe goes to ``--out`` (default
``benchmarks/results/<estimator>_<dataset>_early_criteria.jsonl``): seed, epoch,
``tag`` ("probe" or "final"), ACC, ``neighbour``, ``perturbation`` and ``score``.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality import DATASETS, RESULTS, _commit, _machine, _tuples, add_fit_arguments  # noqa: E402

from skgancluster import all_estimators  # noqa: E402
from skgancluster.metrics import cluster_accuracy  # noqa: E402
from skgancluster.model_selection import neighbour_agreement_scorer, perturbation_agreement_score  # noqa: E402

EPOCHS = (2, 4, 6, 8, 10, 15, 20, 30, 40, 50, 60, 70)


def probe_fit(est, X, y, epochs, write):
    """Fit ``est`` on ``X``, calling ``write(row)`` before each epoch in ``epochs`` and at the end."""

    def criteria(tag, labels_of):
        with torch.random.fork_rng(devices=[]):
            checked = est._check_fitted_X(X)  # the rows as fit and score see them
            labels = labels_of(checked)
            # the two agreements that score adds, on the same rows
            neighbour = neighbour_agreement_scorer(est, checked)
            perturbation = perturbation_agreement_score(est, checked)
        write({"epoch": int(est.n_iter_), "tag": tag, "acc": float(cluster_accuracy(y, labels)),
               "neighbour": float(neighbour), "perturbation": float(perturbation),
               "score": float(neighbour + perturbation)})

    on_epoch_start = est._on_epoch_start

    def probed(ctx):
        in_generator_epochs = getattr(est, "_in_generator_epochs", lambda ctx: False)(ctx)
        if ctx.total_epoch in epochs and not in_generator_epochs:
            criteria("probe", est._fit_labels)  # labels_ and label_modes_ are set again at the end
            est.networks_.train()
        on_epoch_start(ctx)

    est._on_epoch_start = probed
    est.fit(X)
    criteria("final", lambda checked: est.labels_)


def report(rows):
    """Per seed, the score (and ACC) at each probed epoch and the final ACC; the rank correlation of
    each epoch's score with the final ACC over the seeds."""
    final = {r["seed"]: r for r in rows if r["tag"] == "final"}
    epochs = sorted({r["epoch"] for r in rows if r["tag"] == "probe"})
    at = {(r["seed"], r["epoch"]): r for r in rows if r["tag"] == "probe"}
    print("seed  final ACC  " + " ".join(f"{e:>12}" for e in epochs) + "   (score/ACC at the start of each epoch)")
    for seed, last in sorted(final.items()):
        cells = [f"{at[seed, e]['score']:.3f}/{at[seed, e]['acc']:.2f}" if (seed, e) in at else "" for e in epochs]
        print(f"{seed:>4} {last['acc']:10.3f}  " + " ".join(f"{c:>12}" for c in cells))
    if len(final) >= 3:
        rho = [spearmanr([at[s, e]["score"] for s in final], [final[s]["acc"] for s in final]).statistic
               if all((s, e) in at for s in final) else float("nan") for e in epochs]
        print(f"{'Spearman with the final ACC':>27} " + " ".join(f"{r:>12.2f}" for r in rho))


def main(argv=None):
    estimators = dict(all_estimators())
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_fit_arguments(parser, estimators)
    parser.add_argument("--epochs", type=int, nargs="+", default=EPOCHS)
    parser.add_argument("--report", metavar="FILE", help="print the table of an existing file and exit")
    args = parser.parse_args(argv)
    if args.report:
        report([json.loads(line) for line in open(args.report)])
        return
    if args.estimator is None or args.dataset is None:
        parser.error("--estimator and --dataset are required")
    loader, n_clusters, implied = DATASETS[args.dataset]
    params = {"n_init": 1, **implied, **_tuples(json.loads(args.params))}  # the probes follow one run
    out = Path(args.out) if args.out else RESULTS / f"{args.estimator}_{args.dataset}_early_criteria.jsonl"
    context = {"method": args.estimator, "dataset": args.dataset, "params": params, "commit": _commit(),
               "machine": _machine(), "torch": torch.__version__, "omp_num_threads": os.environ.get("OMP_NUM_THREADS")}
    torch.set_num_threads(1)
    for seed in args.seeds:
        X, y = loader(seed, None)
        est = estimators[args.estimator](n_clusters, random_state=seed, **params)
        started = time.perf_counter()

        def write(row):
            row = {"seed": seed, **row, "seconds": round(time.perf_counter() - started, 1), **context}
            with open(out, "a") as fh:
                fh.write(json.dumps(row) + "\n")
            print(f"seed {seed} epoch {row['epoch']:>3} {row['tag']:>5}: ACC {row['acc']:.3f} score {row['score']:.3f}"
                  f" (neighbour {row['neighbour']:.3f}, perturbation {row['perturbation']:.3f})", flush=True)

        probe_fit(est, X, y, set(args.epochs), write)


if __name__ == "__main__":
    main()
