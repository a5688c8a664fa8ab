#!/usr/bin/env python
"""Scale: time per epoch linear in n_samples, peak memory flat beyond the data.

    python benchmarks/scale.py --out scale.md                 # 10k, 100k, 1M dense + 1M x 2000 sparse
    python benchmarks/scale.py --sizes 10000,100000 --no-sparse --estimators BSPLClusterGAN

Each size runs in its own subprocess, so its peak RSS (``resource.getrusage``
``ru_maxrss``) is its own: synthetic float32 data with 100 features is made
in the child, the estimator (each class's small MLP configuration from
``benchmarks/speed.py``) is fitted for one epoch, then ``predict`` runs on all
rows (it streams in batches of ``_INFERENCE_BATCH`` rows). The budget checked
is ``data bytes + 1 GiB`` (the torch import alone is included in the RSS).
The sparse case is a 1M x 2000 CSR matrix at 1% density (float32 values,
int32 indices), which would take 8 GB dense.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GiB = 2**30


def maxrss_bytes():
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r if sys.platform == "darwin" else r * 1024


def child(name, n, sparse, n_features, density):
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import numpy as np
    import torch

    import skgancluster
    from speed import small_config

    cls = dict(skgancluster.all_estimators())[name]
    rss_import = maxrss_bytes()
    rng = np.random.default_rng(0)
    if sparse:
        import scipy.sparse as sp

        per_row = int(round(n_features * density))
        indptr = np.arange(0, n * per_row + 1, per_row, dtype=np.int64 if n * per_row >= 2**31 else np.int32)
        indices = np.empty(n * per_row, dtype=np.int32)
        for start in range(0, n, 100_000):  # sorted, distinct columns per row, made in chunks
            stop = min(start + 100_000, n)
            block = np.sort(rng.integers(0, n_features // per_row, (stop - start, per_row), dtype=np.int32)
                            + np.arange(per_row, dtype=np.int32) * (n_features // per_row), axis=1)
            indices[start * per_row:stop * per_row] = block.ravel()
        data = rng.random(n * per_row, dtype=np.float32)
        X = sp.csr_matrix((data, indices, indptr), shape=(n, n_features))
        data_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    else:
        X = rng.standard_normal((n, n_features), dtype=np.float32)
        data_bytes = X.nbytes
    rss_data = maxrss_bytes()
    est = cls(**{"n_init": 1, **small_config(name, cls)}, max_iter=1, random_state=0, device="cpu")  # one run
    t = time.perf_counter()
    est.fit(X)
    fit_s = time.perf_counter() - t
    epoch_s = float(est.history_[-1, "dur"])
    rss_fit = maxrss_bytes()
    t = time.perf_counter()
    labels = est.predict(X)
    predict_s = time.perf_counter() - t
    assert labels.shape == (n,)
    rss_end = maxrss_bytes()
    print(json.dumps(dict(
        estimator=name, n=n, sparse=sparse, n_features=n_features, data_bytes=data_bytes,
        batch_size=est.batch_size, steps=int(est.n_steps_), epoch_s=epoch_s, fit_s=fit_s, predict_s=predict_s,
        rss_import=rss_import, rss_data=rss_data, rss_fit=rss_fit, rss_peak=rss_end,
        threads=torch.get_num_threads(),
    )))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out")
    p.add_argument("--sizes", default="10000,100000,1000000")
    p.add_argument("--no-sparse", action="store_true")
    p.add_argument("--sparse-rows", type=int, default=1_000_000)
    p.add_argument("--estimators", help="comma-separated class names (default: all)")
    p.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        name, n, sparse, d, density = args.child
        return child(name, int(n), sparse == "1", int(d), float(density))

    sys.path.insert(0, str(ROOT))
    import skgancluster

    jobs = []
    names = [name for name, _ in skgancluster.all_estimators()]
    for name in args.estimators.split(",") if args.estimators else names:
        jobs += [(name, int(n), 0, 100, 1.0) for n in args.sizes.split(",") if n]
        if not args.no_sparse:
            jobs.append((name, args.sparse_rows, 1, 2000, 0.01))
    rows, results = [], []
    for job in jobs:
        cmd = [sys.executable, __file__, "--child", *map(str, job)]
        print("  running", " ".join(cmd[2:]), file=sys.stderr, flush=True)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            rows.append([job[0], job[1], "sparse" if job[2] else "dense", "FAILED: " + proc.stderr[-300:]])
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        results.append(r)
        print("  json:", json.dumps(r), file=sys.stderr, flush=True)
        budget = r["data_bytes"] + GiB
        rows.append([
            r["estimator"], f"{r['n']:,} x {r['n_features']}" + (" CSR 1%" if r["sparse"] else ""),
            f"{r['data_bytes'] / 2**20:,.0f}", r["batch_size"], f"{r['steps']:,}", f"{r['epoch_s']:.1f}",
            f"{1e6 * r['epoch_s'] / r['n']:.1f}", f"{r['predict_s']:.1f}", f"{r['rss_import'] / 2**20:,.0f}",
            f"{r['rss_fit'] / 2**20:,.0f}", f"{r['rss_peak'] / 2**20:,.0f}", f"{(r['rss_peak'] - r['data_bytes']) / 2**20:,.0f}",
            "yes" if r["rss_peak"] < budget else "NO",
        ])
        print("  ", rows[-1], file=sys.stderr, flush=True)
    header = ["estimator", "data", "data MiB", "batch", "steps", "epoch s", "epoch us/row", "predict s (all rows)",
              "RSS after import MiB", "peak RSS after fit MiB", "peak RSS after predict MiB", "peak - data MiB", "< data + 1 GiB"]
    out = ["# skgancluster scale benchmark", "",
           f"Command: `python benchmarks/scale.py {' '.join(sys.argv[1:] if argv is None else argv)}`", "",
           f"- {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average at start "
           f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}; Python {platform.python_version()}", "",
           "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    text = "\n".join(out) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
