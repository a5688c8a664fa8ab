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

With ``--screen-fraction F`` the N runs stop after that fraction of their epochs,
as ``fit`` with ``screen_fraction=F`` trains them, and the run that ``n_init=N``
keeps is then trained from its seed to the end (``run`` ``"kept"``);
``--no-single`` leaves out the plain fits.

One JSON line per run goes to ``--out`` (default
``benchmarks/results/<estimator>_<dataset>_n_init_runs.jsonl``): ``seed`` (the outer
seed), ``run`` (``"single"`` or the index among the N), ``random_state`` of the run,
ACC, NMI, ARI, ``score``, ``complete`` (every cluster found), seconds,
cpu_seconds and ``screened`` (the fraction, or None for a whole run). At the end,
and with ``--report`` for existing files, it prints per seed the single fit's ACC
and the kept run's, their median and minimum, and the Spearman correlation of
``score`` with ACC over the runs (screened runs: at the point they stopped).
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


def fit_one(name, dataset, params, outer_seed, run, random_state, screen_fraction=None):
    torch.set_num_threads(1)
    loader, n_clusters, _ = DATASETS[dataset]
    X, y = loader(outer_seed, None)
    est = dict(all_estimators())[name](n_clusters, random_state=int(random_state), n_init=1, **params)
    est._screen_fraction = screen_fraction  # as fit with screen_fraction trains each run
    started, cpu_started = time.perf_counter(), time.process_time()
    labels = est.fit_predict(X)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return {"seed": outer_seed, "run": run, "random_state": int(random_state), "method": name, "dataset": dataset,
            **scores(y, labels), "score": float(est.score(X)),
            "complete": bool(len(np.unique(labels)) == n_clusters), "seconds": round(seconds, 3),
            "cpu_seconds": round(cpu_seconds, 3), "n_iter": int(est.n_iter_), "screened": screen_fraction,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def report(rows, n_init):
    by_seed = {}
    for r in rows:
        by_seed.setdefault(r["seed"], {})[r["run"]] = r
    single, kept = [], []
    print(f"{'seed':>5} {'n_init=1':>9} {f'n_init={n_init}':>9}  runs (ACC/score)")
    for seed, runs in sorted(by_seed.items()):
        chosen = [runs.get(i) for i in range(n_init)]
        if None in chosen:
            print(f"{seed:>5} incomplete: {sorted(map(str, runs))}")
            continue
        best = best_run([r["complete"] for r in chosen], [r["score"] for r in chosen])
        if chosen[best].get("screened") and "kept" not in runs:
            print(f"{seed:>5} the kept run is not trained yet")
            continue
        single.append(runs["single"]["acc"] if "single" in runs else np.nan)
        kept.append(runs["kept"]["acc"] if chosen[best].get("screened") else chosen[best]["acc"])
        detail = " ".join(f"{r['acc']:.3f}/{r['score']:.3f}{'*' if i == best else ''}" for i, r in enumerate(chosen))
        print(f"{seed:>5} {single[-1]:9.3f} {kept[-1]:9.3f}  {detail}")
    if single:
        print(f"{'median':>5} {np.median(single):9.3f} {np.median(kept):9.3f}")
        print(f"{'min':>5} {min(single):9.3f} {min(kept):9.3f}   ({len(single)} seeds)")
    runs = [r for r in rows if r["run"] != "kept"]
    if len(runs) >= 3:
        rho = spearmanr([r["acc"] for r in runs], [r["score"] for r in runs]).statistic
        print(f"Spearman correlation of score with ACC over all {len(runs)} runs: {rho:+.2f}")


def main(argv=None):
    estimators = dict(all_estimators())
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_fit_arguments(parser, estimators)
    parser.add_argument("--n-init", type=int, default=5)
    parser.add_argument("--screen-fraction", type=float, help="as screen_fraction: the runs stop after this "
                        "fraction of their epochs; then the best run of each seed trains to the end ('kept')")
    parser.add_argument("--no-single", action="store_true", help="leave out the plain fit of each seed")
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
        tasks += [] if args.no_single else [(seed, "single", seed, None)]
        tasks += [(seed, i, s, args.screen_fraction) for i, s in enumerate(runs)]
    print(f"# {args.estimator} on {args.dataset}, {len(tasks)} fits over {args.jobs} processes -> {out}", flush=True)
    rows = run_tasks(tasks, args, params, context, out)
    if args.screen_fraction is not None:  # each seed's best screened run, trained to the end
        kept = []
        for seed in args.seeds:
            chosen = sorted((r for r in rows if r["seed"] == seed and r["run"] != "single"), key=lambda r: r["run"])
            best = best_run([r["complete"] for r in chosen], [r["score"] for r in chosen])
            kept.append((seed, "kept", chosen[best]["random_state"], None))
        rows += run_tasks(kept, args, params, context, out)
    report(rows, args.n_init)


def run_tasks(tasks, args, params, context, out):
    rows = []
    fits = Parallel(n_jobs=args.jobs, return_as="generator_unordered")(
        delayed(fit_one)(args.estimator, args.dataset, params, *task) for task in tasks)
    for row in fits:
        row.update(context)
        rows.append(row)
        with open(out, "a") as fh:  # row by row, so an interrupted run keeps its finished fits
            fh.write(json.dumps(row) + "\n")
        print(f"seed {row['seed']} run {row['run']}: ACC {row['acc']:.3f} score {row['score']:.3f} "
              f"{row['cpu_seconds']:.0f} s", flush=True)
    return rows


if __name__ == "__main__":
    main()
