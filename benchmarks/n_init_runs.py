"""``n_init=N`` against ``n_init=1`` over seeds, with the N runs of each fit trained in parallel.

Usage (from the repository root)::

    PYTHONPATH=. python benchmarks/n_init_runs.py --estimator ClusterGANClustering --dataset digits \\
        --seeds 0 1 2 3 4 5 6 7 8 9 --n-init 5 --jobs 2

``fit`` with ``n_init=N`` trains N fresh single fits from seeds it draws from
``random_state`` and keeps the best one by ``score`` (among the runs that found
every cluster). This script trains exactly those runs, as independent
``n_init=1`` fits spread over ``--jobs`` processes, plus the plain ``n_init=1``
fit of each seed, and then applies the same rule (``skgancluster._base.best_run``)
to say which run ``n_init=N`` keeps. So it gives the figures of ``n_init=N`` in
1/``--jobs`` of the wall time; every run's ACC and score are kept as well.

One JSON line per run goes to ``--out`` (default
``benchmarks/results/<estimator>_<dataset>_n_init_runs.jsonl``): ``seed`` (the outer
seed), ``run`` (``"single"`` or the index among the N), ``random_state`` of the run,
ACC, NMI, ARI, ``score``, ``complete`` (every cluster found), seconds and
cpu_seconds. At the end, and with ``--report`` for existing files, it prints
per seed the single fit's ACC and the kept run's, their median and minimum, and the
Spearman correlation of ``score`` with ACC over all the runs.
"""

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from joblib import Parallel, delayed
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality import (DATASETS, RESULTS, _commit, _estimators_in, _machine, _tuples, add_fit_arguments,  # noqa: E402
                     scores)

from skgancluster import all_estimators  # noqa: E402
from skgancluster._base import best_run, run_seeds  # noqa: E402


def fit_one(name, dataset, params, outer_seed, run, random_state):
    torch.set_num_threads(1)
    loader, n_clusters, _ = DATASETS[dataset]
    X, y = loader(outer_seed, None)
    est = dict(all_estimators())[name](n_clusters, random_state=int(random_state), n_init=1, **params)
    started, cpu_started = time.perf_counter(), time.process_time()
    labels = est.fit_predict(X)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return {"seed": outer_seed, "run": run, "random_state": int(random_state), "method": name, "dataset": dataset,
            **scores(y, labels), "score": float(est.score(X)),
            "complete": bool(len(np.unique(labels)) == n_clusters), "seconds": round(seconds, 3),
            "cpu_seconds": round(cpu_seconds, 3), "n_iter": int(est.n_iter_),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def report(rows, n_init):
    by_seed = {}
    for r in rows:
        by_seed.setdefault(r["seed"], {})[r["run"]] = r
    single, kept = [], []
    print(f"{'seed':>5} {'n_init=1':>9} {f'n_init={n_init}':>9}  runs (ACC/score)")
    for seed, runs in sorted(by_seed.items()):
        chosen = [runs.get(i) for i in range(n_init)]
        if "single" not in runs or None in chosen:
            print(f"{seed:>5} incomplete: {sorted(map(str, runs))}")
            continue
        best = best_run([r["complete"] for r in chosen], [r["score"] for r in chosen])
        single.append(runs["single"]["acc"])
        kept.append(chosen[best]["acc"])
        detail = " ".join(f"{r['acc']:.3f}/{r['score']:.3f}{'*' if i == best else ''}" for i, r in enumerate(chosen))
        print(f"{seed:>5} {single[-1]:9.3f} {kept[-1]:9.3f}  {detail}")
    if single:
        print(f"{'median':>5} {np.median(single):9.3f} {np.median(kept):9.3f}")
        print(f"{'min':>5} {min(single):9.3f} {min(kept):9.3f}   ({len(single)} seeds)")
    if len(rows) >= 3:
        rho = spearmanr([r["acc"] for r in rows], [r["score"] for r in rows]).statistic
        print(f"Spearman correlation of score with ACC over all {len(rows)} runs: {rho:+.2f}")


def main(argv=None):
    estimators = dict(all_estimators())
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_fit_arguments(parser, estimators)
    parser.add_argument("--n-init", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=1, help="processes, one torch thread each")
    parser.add_argument("--report", metavar="FILE", help="print the table of an existing file and exit")
    args = parser.parse_args(argv)
    if args.report:
        report([json.loads(line) for line in open(args.report)], args.n_init)
        return
    if args.estimator is None or args.dataset is None:
        parser.error("--estimator and --dataset are required")
    loader, n_clusters, implied = DATASETS[args.dataset]
    params = {**implied, **_estimators_in(_tuples(json.loads(args.params)), estimators)}
    out = Path(args.out) if args.out else RESULTS / f"{args.estimator}_{args.dataset}_n_init_runs.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    context = {"params": {k: repr(v) if hasattr(v, "get_params") else v for k, v in params.items()},
               "n_init": args.n_init, "torch": torch.__version__, "commit": _commit(), "machine": _machine(),
               "threads": 1, "omp_num_threads": os.environ.get("OMP_NUM_THREADS")}
    # seed by seed, so that an interrupted run has whole seeds
    tasks = []
    for seed in args.seeds:
        runs = run_seeds(np.random.RandomState(seed), args.n_init)
        tasks += [(seed, "single", seed), *((seed, i, s) for i, s in enumerate(runs))]
    print(f"# {args.estimator} on {args.dataset}, {len(tasks)} fits over {args.jobs} processes -> {out}", flush=True)
    rows = []
    fits = Parallel(n_jobs=args.jobs, return_as="generator_unordered")(
        delayed(fit_one)(args.estimator, args.dataset, params, seed, run, state) for seed, run, state in tasks)
    for row in fits:
        row.update(context)
        rows.append(row)
        with open(out, "a") as fh:  # row by row, so an interrupted run keeps its finished fits
            fh.write(json.dumps(row) + "\n")
        print(f"seed {row['seed']} run {row['run']}: ACC {row['acc']:.3f} score {row['score']:.3f} "
              f"{row['cpu_seconds']:.0f} s", flush=True)
    report(rows, args.n_init)


if __name__ == "__main__":
    main()
