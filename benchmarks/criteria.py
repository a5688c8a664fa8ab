"""Which label-free criterion tells a good fit from a bad one? Candidates against ACC, over seeds.

Usage (from the repository root)::

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/criteria.py --estimator IMSATClustering --dataset digits \\
        --seeds 0 1 2 3 4 5 6 7 8 9

Each seed fits the estimator at its defaults (plus ``--params``) on a data set
of ``benchmarks/quality.py`` and computes, without the labels:

- ``neighbour_agreement`` (how often a row's 10 nearest neighbours share its
  label, corrected for chance: the estimators' ``score``), ``silhouette``, their
  sum ``neighbours_and_silhouette``, ``calinski_harabasz`` and
  ``davies_bouldin`` (negated): the internal indices
  of ``skgancluster.model_selection.internal_index``, in the fixed space (the
  input as the estimator scales it, PCA to 50 components, 2,000 rows at most);
- ``soft_mi``: ``H(mean p) - mean H(p)`` of ``predict_proba`` on the data, the
  information the soft assignments carry (IMSAT's objective without VAT), and
  ``confidence``, its second term alone (``-mean H(p)``), which does not
  favour clusters of even size;
- ``perturbation_agreement``: how often a row's label survives the package's
  perturbation of real rows (shift, rotation, zoom and slant for images;
  Gaussian noise for flat rows), 3 draws, corrected for chance
  (``model_selection.perturbation_agreement_score``; rows written before it
  existed hold the uncorrected fraction over all rows);
- ``score``: the estimator's ``score``;
- ``prior_score``: for two-phase estimators (``prior_estimator_``), the first
  phase's ``score``, which judges the labels that phase decided;
- ``sample_agreement``: for generative estimators, the mean over clusters of
  the fraction of ``sample(200, cluster=k)`` that 5 real neighbours put in k;
- the last epoch's training losses (``history_``).

One JSON line per fit (with ACC, NMI, ARI) goes to ``--out`` (default
``benchmarks/results/criteria_<estimator>_<dataset>.jsonl``); at the end the
Spearman rank correlation of every criterion with ACC over the fits in the
file is printed. ``--report`` prints it for existing files without fitting.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality import (DATASETS, RESULTS, _commit, _estimators_in, _machine, _tuples, add_fit_arguments,  # noqa: E402
                     head_fields, sample_agreement, scores)

from skgancluster import all_estimators  # noqa: E402
from skgancluster.losses import entropy  # noqa: E402
from skgancluster.model_selection import internal_index, perturbation_agreement_score  # noqa: E402

INDICES = ("neighbour_agreement", "silhouette", "calinski_harabasz", "davies_bouldin")


def soft_mi_and_confidence(est, X):
    proba = torch.as_tensor(est.predict_proba(X))
    confidence = float(-entropy(proba).mean())
    return float(entropy(proba.mean(0))) + confidence, confidence


def criteria(est, X):
    labels = est.labels_
    out = {name: internal_index(X, labels, name, estimator=est) for name in INDICES}
    out["neighbours_and_silhouette"] = out["neighbour_agreement"] + out["silhouette"]
    if hasattr(est, "predict_proba"):
        out["soft_mi"], out["confidence"] = soft_mi_and_confidence(est, X)
    out["perturbation_agreement"] = perturbation_agreement_score(est, X)
    out["score"] = est.score(X)
    if hasattr(getattr(est, "prior_estimator_", None), "score"):
        out["prior_score"] = est.prior_estimator_.score(X)
    if hasattr(est, "sample"):
        per_cluster = [a for a in sample_agreement(est, X) if a is not None]
        out["sample_agreement"] = float(np.mean(per_cluster)) if per_cluster else 0.0
    last = est.history_[-1]
    out.update({f"loss_{k}": float(v) for k, v in last.items() if isinstance(v, (int, float)) and k != "epoch"})
    return out


def report(paths):
    for path in paths:
        rows = [json.loads(line) for line in open(path)]
        if len(rows) < 3:
            continue
        acc = [r["acc"] for r in rows]
        print(f"# {path}: {len(rows)} fits, ACC {min(acc):.3f}-{max(acc):.3f} (median {np.median(acc):.3f})")
        names = sorted({k for r in rows for k in r["criteria"]})
        for name in names:
            pairs = [(r["acc"], r["criteria"][name]) for r in rows if np.isfinite(r["criteria"].get(name, np.nan))]
            if len(pairs) >= 3:
                rho = spearmanr(*zip(*pairs)).statistic
                print(f"  {name:<32} Spearman {rho:+.2f}  ({len(pairs)} fits)")


def main(argv=None):
    estimators = dict(all_estimators())
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_fit_arguments(parser, estimators)
    parser.add_argument("--data-seed", type=int,
                        help="draw a generated data set with this seed for every fit (default: each fit's seed), "
                             "so that the runs n_init draws can be trained apart on one data set")
    parser.add_argument("--save-labels", metavar="DIR", help="also save each fit's labels_ there (.npy)")
    parser.add_argument("--report", nargs="*", help="print the correlations of these files and exit")
    args = parser.parse_args(argv)
    if args.report is not None:
        return report(args.report)
    torch.set_num_threads(1)
    loader, n_clusters, implied = DATASETS[args.dataset]
    # one run per fit (n_init=1 unless --params says otherwise): the criteria are judged on single runs
    params = {"n_init": 1, **implied, **_estimators_in(_tuples(json.loads(args.params)), estimators)}
    out = Path(args.out) if args.out else RESULTS / f"criteria_{args.estimator}_{args.dataset}.jsonl"
    for seed in args.seeds:
        data_seed = seed if args.data_seed is None else args.data_seed
        X, y = loader(data_seed)
        est = estimators[args.estimator](n_clusters, random_state=seed, **params)
        started, cpu_started = time.perf_counter(), time.process_time()
        est.fit(X)
        row = {"seed": seed, "data_seed": data_seed, "method": args.estimator, "dataset": args.dataset,
               "params": params,
               **scores(y, est.labels_), "seconds": round(time.perf_counter() - started, 1),
               "cpu_seconds": round(time.process_time() - cpu_started, 1), **head_fields(est, y),
               "commit": _commit(), "machine": _machine(), "torch": torch.__version__, "criteria": criteria(est, X)}
        with open(out, "a") as fh:
            fh.write(json.dumps(row, default=lambda v: repr(v) if hasattr(v, "get_params") else list(v)) + "\n")
        if args.save_labels:
            np.save(Path(args.save_labels) / f"{args.estimator}_{args.dataset}_{seed}.npy", est.labels_)
        print(f"seed {seed} ACC {row['acc']:.3f} " + " ".join(f"{k} {v:.3f}" for k, v in row["criteria"].items()),
              flush=True)
    report([out])


if __name__ == "__main__":
    main()
