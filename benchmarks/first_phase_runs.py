"""Which run of SIMIClusterGAN's first phase each label-free criterion would keep.

Usage (from the repository root)::

    # the seeds of the runs the default first phase draws for SIMIClusterGAN(random_state=0..4), 5 each
    python benchmarks/first_phase_runs.py --seeds 0 1 2 3 4 --runs 5 --print-seeds
    # fit each run alone with its criteria (one process per core), then:
    python benchmarks/first_phase_runs.py --seeds 0 1 2 3 4 --runs 5 --report FILE [FILE ...]

``SIMIClusterGAN(random_state=r)`` fits its first phase, an ``IMSATClustering`` with
``n_init=3``, from the seed ``r`` gives it, and that estimator's ``n_init`` runs
start from seeds drawn from that one (``skgancluster._base.run_seeds``). Fitted
alone with ``benchmarks/criteria.py`` (``--params '{"balance_tolerance": 0.1,
"balance_warmup": 0.5}'``, the first phase's departures, and ``--seeds`` the
printed run seeds), each run's row holds its ACC and the label-free candidates;
``--report`` says per outer seed which run the best of the first 3 (the default)
or of all ``--runs`` would keep by each candidate, with the median and minimum
ACC of the kept runs; and how many pairs of one seed's runs each candidate orders
as their ACC does, which is what ``n_init`` needs of a criterion (a correlation
over all runs also counts the differences between seeds). The rows do not say
whether a run found every cluster, which ``n_init`` also weighs. SIMIClusterGAN's
labels are its first phase's, so the kept run's ACC is, within about 0.001, what
SIMI reaches.

With ``--of n_init`` the runs are instead those of ``SIMIClusterGAN(random_state=r,
n_init=--runs)`` itself (whole SIMI fits, each with its own first phase), and the
report is of the best of all ``--runs``; ``prior_score`` (the first phase's
``score``, SIMIClusterGAN's own) is among the candidates when the rows hold it.
"""

import argparse
import itertools
import json

import numpy as np

from skgancluster import IMSATClustering, SIMIClusterGAN
from skgancluster._base import run_seeds

CANDIDATES = ("score", "prior_score", "perturbation_agreement", "neighbour_agreement", "soft_mi")


def first_phase_seeds(outer_seed, n_runs):
    """The seeds of the first ``n_runs`` runs of SIMIClusterGAN(random_state=outer_seed)'s first phase."""
    prior = IMSATClustering(random_state=SIMIClusterGAN(random_state=outer_seed)._seed())  # as SIMI seeds it
    return [int(s) for s in run_seeds(prior._rng(), n_runs)]


def n_init_seeds(outer_seed, n_runs):
    """The seeds of the runs of SIMIClusterGAN(random_state=outer_seed, n_init=n_runs)."""
    return [int(s) for s in run_seeds(SIMIClusterGAN(random_state=outer_seed)._rng(), n_runs)]


def report(paths, outer_seeds, n_runs, seeds_of=first_phase_seeds, kept_of=(3,)):
    rows = {}
    for path in paths:
        for line in open(path):
            row = json.loads(line)
            rows[row["seed"]] = row
    candidates = [c for c in CANDIDATES if all(c in row["criteria"] for row in rows.values())]
    kept = {(c, n): [] for c in candidates for n in (*kept_of, n_runs)}
    ordered = {c: [0, 0] for c in candidates}  # pairs of one seed's runs the candidate orders as ACC does, all pairs
    for outer in outer_seeds:
        runs = [rows.get(s) for s in seeds_of(outer, n_runs)]
        if None in runs:
            print(f"seed {outer}: missing runs")
            continue
        print(f"seed {outer}: runs' ACC " + " / ".join(f"{r['acc']:.3f}" for r in runs))
        for candidate, counts in ordered.items():
            for a, b in itertools.combinations(runs, 2):
                if a["acc"] != b["acc"]:
                    counts[0] += (a["acc"] > b["acc"]) == (a["criteria"][candidate] > b["criteria"][candidate])
                    counts[1] += 1
        for (candidate, n), accs in kept.items():
            best = int(np.argmax([r["criteria"][candidate] for r in runs[:n]]))
            accs.append(runs[best]["acc"])
    for (candidate, n), accs in kept.items():
        if accs:
            print(f"best of {n} by {candidate:<24} ACC per seed {' / '.join(f'{a:.3f}' for a in accs)}  "
                  f"median {np.median(accs):.3f}  min {min(accs):.3f}")
    for candidate, (agree, pairs) in ordered.items():
        if pairs:
            print(f"{candidate:<24} orders {agree} of {pairs} pairs of one seed's runs as ACC does ({agree / pairs:.2f})")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", required=True, help="SIMIClusterGAN's random_state")
    parser.add_argument("--runs", type=int, default=5, help="runs per seed (the default first phase keeps 3)")
    parser.add_argument("--print-seeds", action="store_true", help="print the run seeds and exit")
    parser.add_argument("--report", nargs="*", help="criteria.py output files of the runs")
    parser.add_argument("--of", choices=("first_phase", "n_init"), default="first_phase",
                        help="the runs of SIMI's first phase, or of SIMI's own n_init")
    args = parser.parse_args(argv)
    seeds_of, kept_of = (first_phase_seeds, (3,)) if args.of == "first_phase" else (n_init_seeds, ())
    if args.print_seeds:
        for outer in args.seeds:
            print(outer, *seeds_of(outer, args.runs))
        return
    report(args.report, args.seeds, args.runs, seeds_of, kept_of)


if __name__ == "__main__":
    main()
