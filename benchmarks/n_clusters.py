"""Does ``select_n_clusters`` find the number of clusters? Tables for known-K data sets.

Usage (from the repository root)::

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/n_clusters.py --estimator IMSATClustering --dataset blobs5 \\
        --candidates 2 3 4 5 6 7 8

Data sets: ``blobs3``, ``blobs5``, ``blobs8`` (``make_blobs``, 1,000 x 10, that many
centres, drawn with ``--seed``), ``synthetic`` (``make_clustergan_synthetic``, 2,000 x
100, K=4), ``digits`` (load_digits as 1x8x8 images, K=10), ``mnist5k`` (1x28x28, K=10).
``--estimator KMeans`` runs scikit-learn's ``KMeans(n_init=3)`` as a reference.
``select_n_clusters`` runs at its defaults (80 % subsamples, ``random_state=--seed``)
with ``--n-pairs`` pairs of subsamples per candidate (default 1); the table is printed
and appended as one JSON line to ``--out`` (default
``benchmarks/results/select_n_clusters.jsonl``) with the chosen K by every criterion.
``--report`` prints the rows of ``--out`` as the Markdown table of ``doc/benchmarks.md``
(the last row of each estimator and data set, the choice made again from its table by
``model_selection.choose_n_clusters``) without fitting; ``--report-seeds FILE ...`` prints
the choice of each criterion per estimator and seed, over the rows of the files on one
data set (``--dataset``, default ``synthetic``), and how many found the true K.
``--reference`` writes, for ``--dataset`` and ``--seed``, the silhouette that
``select_n_clusters`` would compute for the true labels and for ``KMeans(n_init=10)``
with each candidate K, fitted on all rows: how far the data let the silhouette find
the true K at all.
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

from sklearn.cluster import KMeans
from sklearn.datasets import load_digits, make_blobs

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality import RESULTS, _commit, _machine, _tuples  # noqa: E402

from skgancluster import all_estimators, datasets  # noqa: E402
from skgancluster.model_selection import (N_CLUSTERS_CRITERIA, choose_n_clusters, internal_index,  # noqa: E402
                                          select_n_clusters)

# The criteria the results page's tables compare, in their column order.
REPORTED = ("silhouette", "stability", "consensus")


def load(name, seed):
    """(X, the true labels, true K, parameters the data set implies)."""
    if name.startswith("blobs"):
        k = int(name[len("blobs"):])
        return (*make_blobs(1000, n_features=10, centers=k, random_state=seed), k, {})
    if name == "synthetic":
        return (*datasets.make_clustergan_synthetic(n_samples=2000, random_state=seed), 4, {})
    if name == "digits":
        return (*load_digits(return_X_y=True), 10, {"image_shape": (1, 8, 8)})
    if name == "mnist5k":
        return (*datasets.load_mnist_5k(), 10, {"image_shape": (1, 28, 28)})
    raise SystemExit(f"unknown data set {name!r}")


def _marked(k, true_k):
    """K for a Markdown table, in bold where it is the true K."""
    return f"**{k}**" if k == true_k else str(k)


def _rows(paths):
    """The JSON lines of the files, in order."""
    for path in paths:
        yield from (json.loads(line) for line in Path(path).read_text().splitlines())


def _cpu(machine):
    """The processor's family in a machine description ("Intel(R) Xeon(R) Processor, 2 cores" -> "Xeon")."""
    return next((name for name in ("EPYC", "Xeon") if name in machine), machine)


def report(path):
    """The Markdown table of the results page: one line per (data set, estimator), the last row of each."""
    last = {(row["dataset"], row["estimator"]): row for row in _rows([path])}
    print("| data set (true K) | candidates | estimator | stability per K | chosen by " + " | by ".join(REPORTED)
          + " | fit time (all candidates) | commit, CPU |")
    print("|---|---|---|---|" + "---|" * len(REPORTED) + "---|---|")
    order = ["blobs3", "blobs5", "blobs8", "synthetic", "digits", "mnist5k"]
    for (dataset, estimator), row in sorted(last.items(), key=lambda item: (
            order.index(item[0][0]) if item[0][0] in order else len(order), item[0][1] != "KMeans", item[0][1])):
        ks = [r["n_clusters"] for r in row["table"]]
        stability = " / ".join(f"{r['stability']:.2f}" for r in row["table"])
        # chosen again from the table: rows written before a change of the rule keep the old choice
        chosen = [_marked(choose_n_clusters(row["table"], c), row["true_k"])
                  for c in REPORTED]
        print(f"| {dataset} ({row['true_k']}) | {ks[0]}-{ks[-1]} | {estimator} | {stability} | "
              + " | ".join(chosen) + f" | {row['seconds']:.0f} s | {row['commit']}, {_cpu(row['machine'])} |")


def report_seeds(paths, dataset):
    """Markdown: per estimator, the K each criterion chose on each seed, the true K in bold, and the totals."""
    rows = {(row["estimator"], row.get("seed", 0)): row for row in _rows(paths)  # the last of each estimator and seed
            if row["dataset"] == dataset and row.get("n_pairs", 1) == 1}
    print("| estimator | seeds | " + " | ".join(f"chosen by {c}" for c in REPORTED) + " |")
    print("|---|---|" + "---|" * len(REPORTED))
    found = dict.fromkeys(REPORTED, 0)
    for estimator in sorted({e for e, _ in rows}):
        seeds = sorted(s for e, s in rows if e == estimator)
        cells = []
        for criterion in REPORTED:
            chosen = [choose_n_clusters(rows[estimator, s]["table"], criterion) for s in seeds]
            found[criterion] += sum(k == rows[estimator, s]["true_k"] for k, s in zip(chosen, seeds))
            cells.append(" / ".join(_marked(k, rows[estimator, s]["true_k"]) for k, s in zip(chosen, seeds)))
        print(f"| {estimator} | {', '.join(map(str, seeds))} | " + " | ".join(cells) + " |")
    print(f"| true K found | {len(rows)} runs | " + " | ".join(f"{found[c]} of {len(rows)}" for c in REPORTED) + " |")


def reference(dataset, seed, candidates, out):
    """The silhouette of the true labels and of KMeans with each candidate K, one JSON line to ``out``."""
    X, y, true_k, _ = load(dataset, seed)
    kmeans = {k: internal_index(X, KMeans(k, n_init=10, random_state=0).fit_predict(X)) for k in candidates}
    row = {"dataset": dataset, "seed": seed, "true_k": true_k, "true_labels_silhouette": internal_index(X, y),
           "kmeans_silhouette": kmeans, "commit": _commit()}
    print(json.dumps(row))
    with open(out, "a") as fh:
        fh.write(json.dumps(row) + "\n")


def main(argv=None):
    estimators = dict(all_estimators())
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--estimator", choices=sorted([*estimators, "KMeans"]))
    parser.add_argument("--dataset")
    parser.add_argument("--candidates", type=int, nargs="+")
    parser.add_argument("--params", default="{}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-pairs", type=int, default=1, help="pairs of subsamples per candidate")
    parser.add_argument("--out", default=str(RESULTS / "select_n_clusters.jsonl"))
    parser.add_argument("--report", action="store_true", help="print the table of --out and exit")
    parser.add_argument("--report-seeds", nargs="+", metavar="FILE",
                        help="print each criterion's choice per estimator and seed on --dataset and exit")
    parser.add_argument("--reference", action="store_true",
                        help="write the silhouette of the true labels and of KMeans per candidate K and exit")
    args = parser.parse_args(argv)
    if args.report:
        return report(args.out)
    if args.report_seeds:
        return report_seeds(args.report_seeds, args.dataset or "synthetic")
    if args.reference:
        return reference(args.dataset, args.seed, args.candidates, args.out)
    if not (args.estimator and args.dataset and args.candidates):
        parser.error("--estimator, --dataset and --candidates are required to fit")
    X, _, true_k, implied = load(args.dataset, args.seed)
    params = {**implied, **_tuples(json.loads(args.params))}
    estimator = KMeans(n_init=3) if args.estimator == "KMeans" else estimators[args.estimator](**params)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        selection = select_n_clusters(estimator, X, args.candidates, n_pairs=args.n_pairs,
                                      random_state=args.seed)
    seconds = time.perf_counter() - started
    chosen = {criterion: choose_n_clusters(selection.table, criterion) for criterion in N_CLUSTERS_CRITERIA}
    print(f"# {args.estimator} on {args.dataset} (true K={true_k}), seed {args.seed}, {seconds:.0f} s")
    print(selection)
    print("chosen K by " + ", ".join(f"{c}: {k}" for c, k in chosen.items()))
    row = {"estimator": args.estimator, "dataset": args.dataset, "true_k": true_k, "seed": args.seed,
           "n_pairs": args.n_pairs,
           "params": params if args.estimator != "KMeans" else {"n_init": 3}, "chosen": chosen,
           "table": selection.table, "seconds": round(seconds, 1), "commit": _commit(), "machine": _machine()}
    with open(args.out, "a") as fh:
        fh.write(json.dumps(row, default=list) + "\n")


if __name__ == "__main__":
    main()
