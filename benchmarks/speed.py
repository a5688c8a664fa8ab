#!/usr/bin/env python
"""Training and inference throughput of every skgancluster estimator.

One command from a fresh clone (after ``make install``)::

    python benchmarks/speed.py --out speed.md          # CPU (+ CUDA when present)
    python benchmarks/speed.py --quick --out speed.md  # shorter windows
    python benchmarks/speed.py --profile               # + torch.profiler table of one CPU step

What it measures, each within one run so that a busy machine affects all
variants alike (rounds are interleaved and the median is reported):

* training throughput of ``run_training`` (the package's hot loop), in real
  samples/s and generator steps/s, on flat data (100 features) and on
  MNIST-shaped images (1x28x28, synthetic), for our default networks and the
  paper's MNIST networks;
* the same networks, batch and critic ratio trained by the straightforward
  loop (DataLoader over a TensorDataset, host-side batch transfer and
  ``.item()`` on each step's losses): the hot-loop gain ratio;
* predict / transform throughput (rows/s);
* torch intra-op threads 1 vs 2 (CPU);
* on CUDA: bf16 autocast, fused Adam, torch.compile variants, and the
  fraction of wall time the GPU is busy (torch.profiler) at batch 64 and a
  large batch.

Estimators come from ``skgancluster.all_estimators()``; ``CONFIGS`` below is
the per-class hook giving small/default/paper configurations. A class missing
from it is benchmarked with its defaults (``image_shape`` added for images).
"""

import argparse
import inspect
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import skgancluster  # noqa: E402
from skgancluster import all_estimators  # noqa: E402
from skgancluster._training import BatchSource, run_training  # noqa: E402

IMAGE = (1, 28, 28)
FLAT_FEATURES = 100

PAPER_MNIST = dict(n_clusters=10, latent_dim=30, image_shape=IMAGE, hidden_units=(1024,), conv_channels=(64, 128),
                   batch_size=64, n_critic=1)

# ----------------------------------------------------------------- per-class hook
# name -> {config label: (data kind, constructor kwargs)}. "flat"/"image" are
# the estimator's defaults on each kind of data; "paper" the paper's networks.
CONFIGS = {
    "ClusterGANClustering": {
        "defaults, flat": ("flat", dict(n_clusters=10)),
        "defaults, image": ("image", dict(n_clusters=10, image_shape=IMAGE)),
        "paper MNIST": ("image", PAPER_MNIST),
        # The public PyTorch code's unpadded convolutions: its critic 3.4M, encoder 3.5M parameters.
        "paper MNIST, reference-shaped": ("image", dict(PAPER_MNIST, conv_padding=0)),
    },
}
# Small MLP configuration per class, used by benchmarks/scale.py.
SMALL = {
    "ClusterGANClustering": dict(n_clusters=10, hidden_units=(64, 64), batch_size=256),
}


def configs_for(name, cls):
    if name in CONFIGS:
        return CONFIGS[name]
    params = inspect.signature(cls).parameters
    image = {"image_shape": IMAGE} if "image_shape" in params else None
    out = {"defaults, flat": ("flat", {})}
    if image:
        out["defaults, image"] = ("image", image)
    return out


def small_config(name, cls):
    return dict(SMALL.get(name, {}))


def n_params(module):
    return sum(p.numel() for p in module.parameters())


# ------------------------------------------------------------------- machine
def machine_description():
    model = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    lines = [
        f"- CPU: {model}, {os.cpu_count()} logical cores ({usable} usable)",
        f"- load average at start: {', '.join(f'{x:.2f}' for x in load)} (the machine may be shared)",
        f"- Python {platform.python_version()}, torch {torch.__version__}, numpy {np.__version__}, "
        f"skgancluster {skgancluster.__version__} ({Path(skgancluster.__file__).parent})",
        f"- torch intra-op threads {torch.get_num_threads()}, inter-op {torch.get_num_interop_threads()}, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}",
    ]
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        lines.append(f"- CUDA: {p.name}, {p.total_memory / 2**30:.0f} GiB, CUDA {torch.version.cuda}")
    else:
        lines.append("- CUDA: not available")
    return lines


# ------------------------------------------------------------------ helpers
def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_data(kind, n, seed=0):
    rng = np.random.default_rng(seed)
    if kind == "flat":
        return rng.standard_normal((n, FLAT_FEATURES), dtype=np.float32)
    return rng.random((n, int(np.prod(IMAGE))), dtype=np.float32)


def build(cls, params, kind, device, n_warm=512):
    """A fitted estimator (1 short epoch, so networks, optimizers and scaling exist)."""
    est = cls(**{"n_init": 1, **params}, max_iter=1, random_state=0, device=device)  # one run's epochs
    est.fit(make_data(kind, max(n_warm, 2 * est.batch_size), seed=1))
    return est


def gen_steps(est, steps):
    n_critic = getattr(est, "n_critic", 1)
    return steps // n_critic


def train_ours(est, X, n_epochs=1, autocast=None):
    """The package's hot loop (exactly what ``fit`` runs), timed."""
    device = est.device_
    source = BatchSource(X, est.input_offset_, est.input_scale_, device, est.batch_size)
    generator = torch.Generator(device).manual_seed(1)
    est._generator, est._source = generator, source
    sync(device)
    started, cpu0 = time.perf_counter(), time.process_time()
    try:
        with autocast or _nullcontext():
            run_training(est, source, n_epochs, generator)
        sync(device)
    finally:
        del est._generator, est._source
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu0
    return n_epochs * source.batches_per_epoch, elapsed, cpu


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def train_straightforward(est, X, n_epochs=1):
    """The straightforward loop on the same networks/step: DataLoader over a
    TensorDataset of the scaled data on the host, batch moved to the device
    each step, ``.item()`` on each step's losses."""
    from torch.utils.data import DataLoader, TensorDataset

    device = est.device_
    scaled = torch.from_numpy(((X - est.input_offset_) / est.input_scale_).astype(np.float32))
    loader = DataLoader(TensorDataset(scaled), batch_size=min(est.batch_size, len(X)), shuffle=True,
                        drop_last=True)
    est._generator = torch.Generator(device).manual_seed(1)
    est.networks_.train()
    step, sums = est.n_steps_, {}
    sync(device)
    started, cpu0 = time.perf_counter(), time.process_time()
    try:
        for _ in range(n_epochs):
            for (x,) in loader:
                x = x.to(device)
                for k, v in est._train_step(x, step).items():
                    sums[k] = sums.get(k, 0.0) + v.item()
                step += 1
        sync(device)
    finally:
        del est._generator
        est.networks_.eval()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu0
    steps = step - est.n_steps_
    est.n_steps_ = step
    return steps, elapsed, cpu


def calibrate(est, kind, target_s):
    """Batches per timed window so that it lasts about ``target_s`` seconds."""
    X = make_data(kind, 8 * est.batch_size, seed=2)
    steps, dt, _ = train_ours(est, X)
    per_step = dt / max(steps, 1)
    return int(min(max(target_s / per_step, 8), 5000))


def timed_round(fn, est, X):
    """(real samples/s, generator steps/s, real samples per CPU-second of this process)."""
    steps, dt, cpu = fn(est, X)
    bs = min(est.batch_size, len(X))
    return steps * bs / dt, gen_steps(est, steps) / dt, steps * bs / max(cpu, 1e-9)


def predict_rate(est, kind, n):
    X = make_data(kind, n, seed=3)
    est.predict(X[:256])  # warm-up
    out = {}
    for name in ("predict", "transform"):
        sync(est.device_)
        t = time.perf_counter()
        getattr(est, name)(X)
        sync(est.device_)
        out[name] = n / (time.perf_counter() - t)
    return out


def fmt(x):
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return lines


# ------------------------------------------------------------------- sections
def section_params(out):
    out += ["", "## Parameter counts: paper MNIST networks", ""]
    out += ["Paper / public PyTorch code: generator 6.6M, encoder 3.5M, critic 3.4M.", ""]
    rows = []
    from skgancluster import ClusterGANClustering

    for label in ("paper MNIST", "paper MNIST, reference-shaped"):
        est = ClusterGANClustering(**CONFIGS["ClusterGANClustering"][label][1], max_iter=1, device="cpu")
        est._check_params(100, int(np.prod(IMAGE)))
        nets = est._build_networks(int(np.prod(IMAGE)))
        rows.append([label] + [f"{n_params(nets[k]) / 1e6:.2f}M" for k in ("generator", "encoder", "critic")])
    out += md_table(["networks", "generator", "encoder", "critic"], rows)


def section_training(out, device, args):
    out += ["", f"## Training and inference throughput ({device.type})", ""]
    out += [f"Median over {args.rounds} interleaved rounds of a ~{args.seconds:g} s window each. "
            "'ours' = `run_training` (the loop `fit` runs, incl. its per-epoch snapshot); "
            "'straightforward' = DataLoader + host batch transfer + `.item()` per step, same "
            "networks, `_train_step`, batch and critic ratio. Gain = ours / straightforward. "
            "samples/CPU-s divides by the CPU time of this process (user+sys, all its threads): "
            "less sensitive to other load on a shared machine than wall-clock rates.", ""]
    rows = []
    for name, cls in all_estimators():
        for label, (kind, params) in configs_for(name, cls).items():
            est = build(cls, params, kind, device)
            n_batches = calibrate(est, kind, args.seconds)
            X = make_data(kind, n_batches * est.batch_size, seed=4)
            ours, base = [], []
            for _ in range(args.rounds):
                ours.append(timed_round(train_ours, est, X))
                base.append(timed_round(train_straightforward, est, X))
            o_s = statistics.median(r[0] for r in ours)
            o_g = statistics.median(r[1] for r in ours)
            b_s = statistics.median(r[0] for r in base)
            o_c = statistics.median(r[2] for r in ours)
            b_c = statistics.median(r[2] for r in base)
            pr = predict_rate(est, kind, args.n_predict)
            rows.append([name, label, est.batch_size, getattr(est, "n_critic", "-"), fmt(o_s), fmt(o_g),
                         fmt(o_c), fmt(b_s), fmt(b_c), f"{o_s / b_s:.2f}x", f"{o_c / b_c:.2f}x",
                         fmt(pr["predict"]), fmt(pr["transform"])])
            print(f"  [{device.type}] {name} / {label}: {fmt(o_s)} samples/s, gain {o_s / b_s:.2f}x",
                  file=sys.stderr, flush=True)
    out += md_table(["estimator", "config", "batch", "n_critic", "train samples/s", "gen steps/s",
                     "samples/CPU-s", "straightforward samples/s", "straightforward samples/CPU-s",
                     "gain (wall)", "gain (CPU)", "predict rows/s", "transform rows/s"], rows)


def section_threads(out, args):
    counts = [int(t) for t in args.threads.split(",")]
    out += ["", "## torch intra-op threads (CPU)", ""]
    out += [f"Thread counts interleaved within one run, median of {args.rounds} rounds.", ""]
    from skgancluster import ClusterGANClustering

    before = torch.get_num_threads()
    rows = []
    for label in ("paper MNIST", "paper MNIST, reference-shaped", "defaults, flat"):
        kind, params = CONFIGS["ClusterGANClustering"][label]
        est = build(ClusterGANClustering, params, kind, torch.device("cpu"))
        n_batches = []
        for t in counts:  # windows sized by the slowest thread count
            torch.set_num_threads(t)
            n_batches.append(calibrate(est, kind, args.seconds))
        X = make_data(kind, min(n_batches) * est.batch_size, seed=4)
        res = {t: [] for t in counts}
        for _ in range(args.rounds):
            for t in counts:
                torch.set_num_threads(t)
                res[t].append(timed_round(train_ours, est, X))
        torch.set_num_threads(before)
        print(f"  [threads] {label} done", file=sys.stderr, flush=True)
        for t in counts:
            rows.append([label, t, fmt(statistics.median(r[0] for r in res[t])),
                         fmt(statistics.median(r[1] for r in res[t])), fmt(statistics.median(r[2] for r in res[t]))])
    out += md_table(["config", "threads", "train samples/s", "gen steps/s", "samples/CPU-s"], rows)


def section_cuda(out, args, device=torch.device("cuda")):
    """CUDA variants and GPU-busy fraction (only runs when CUDA is present;
    ``--cuda-path-on-cpu`` runs the same code on the CPU to check it)."""
    from skgancluster import ClusterGANClustering

    kind, params = CONFIGS["ClusterGANClustering"][args.cuda_config]
    out += ["", f"## {device.type.upper()} variants (ClusterGAN, {args.cuda_config})", ""]
    out += ["GPU busy = summed CUDA kernel time / wall time over a profiled steady-state window.", ""]
    rows = []
    for batch in (64, args.large_batch):
        for variant in ("plain", "fused Adam", "bf16 autocast", "fused Adam + bf16", "torch.compile"):
            if variant == "torch.compile" and not args.compile:
                continue
            est = build(ClusterGANClustering, {**params, "batch_size": batch}, kind, device, n_warm=2 * batch)
            if "fused" in variant:
                use_fused_adam(est)
            if variant == "torch.compile":
                for k in list(est.networks_):
                    est.networks_[k] = torch.compile(est.networks_[k])
            autocast = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if "bf16" in variant else None
            fn = (lambda e, X: train_ours(e, X, autocast=autocast())) if autocast else train_ours
            X = make_data(kind, 8 * batch, seed=2)
            fn(est, X)  # warm-up (and compilation)
            steps, dt, _ = fn(est, X)
            n_batches = int(min(max(args.seconds / (dt / steps), 8), 5000))
            X = make_data(kind, n_batches * batch, seed=4)
            rates = [timed_round(fn, est, X) for _ in range(args.rounds)]
            busy = (gpu_busy_fraction(fn, est, make_data(kind, min(n_batches, 50) * batch, seed=5))
                    if device.type == "cuda" else float("nan"))
            rows.append([batch, variant, fmt(statistics.median(r[0] for r in rates)),
                         fmt(statistics.median(r[1] for r in rates)), f"{100 * busy:.0f}%"])
            print(f"  [{device.type}] batch {batch} {variant}: {rows[-1][2]} samples/s, busy {rows[-1][4]}",
                  file=sys.stderr, flush=True)
    out += md_table(["batch", "variant", "train samples/s", "gen steps/s", "GPU busy"], rows)


def use_fused_adam(est):
    """Replace the estimator's (fresh) Adam optimizers by fused ones, same settings."""
    est.optimizers_ = {k: type(o)([{"params": g["params"]} for g in o.param_groups],
                                 **{**o.defaults, "fused": True, "foreach": None})
                       for k, o in est.optimizers_.items()}


def section_cpu_adam(out, args):
    """Default (foreach) Adam vs fused Adam on the CPU, interleaved."""
    from skgancluster import ClusterGANClustering

    out += ["", f"## CPU: foreach Adam (default) vs fused Adam, {torch.get_num_threads()} thread(s)", "",
            f"Median of {args.rounds} interleaved rounds.", ""]
    rows = []
    for label in ("defaults, flat", "paper MNIST"):
        kind, params = CONFIGS["ClusterGANClustering"][label]
        ests = {}
        for variant in ("foreach Adam", "fused Adam"):
            ests[variant] = build(ClusterGANClustering, params, kind, torch.device("cpu"))
            if variant == "fused Adam":
                use_fused_adam(ests[variant])
        n_batches = calibrate(ests["foreach Adam"], kind, args.seconds)
        X = make_data(kind, n_batches * ests["foreach Adam"].batch_size, seed=4)
        res = {v: [] for v in ests}
        for _ in range(args.rounds):
            for v, est in ests.items():
                res[v].append(timed_round(train_ours, est, X))
        rows += [[label, v, fmt(statistics.median(r[0] for r in res[v])), fmt(statistics.median(r[1] for r in res[v])),
                  fmt(statistics.median(r[2] for r in res[v]))] for v in ests]
        print(f"  [adam] {label} done", file=sys.stderr, flush=True)
    out += md_table(["config", "optimizer", "train samples/s", "gen steps/s", "samples/CPU-s"], rows)


def gpu_busy_fraction(fn, est, X):
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        torch.cuda.synchronize()
        t = time.perf_counter()
        fn(est, X)
        torch.cuda.synchronize()
        wall = time.perf_counter() - t
    busy_us = 0.0
    for evt in prof.events():
        if str(getattr(evt, "device_type", "")).endswith("CUDA"):
            busy_us += getattr(evt, "device_time", None) or getattr(evt, "cuda_time", 0.0) or 0.0
    return min(busy_us / 1e6 / wall, 1.0)


def section_profile(out, args):
    """torch.profiler: what dominates one CPU training step of the paper networks."""
    from torch.profiler import ProfilerActivity, profile

    from skgancluster import ClusterGANClustering

    kind, params = CONFIGS["ClusterGANClustering"]["paper MNIST"]
    est = build(ClusterGANClustering, params, kind, torch.device("cpu"))
    X = make_data(kind, 10 * est.batch_size, seed=2)
    train_ours(est, X)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        train_ours(est, X)
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=18, max_name_column_width=40)
    out += ["", "## CPU profile: 10 steps of the paper MNIST networks (self CPU time)", "", "```", table, "```"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", help="also write the markdown here")
    p.add_argument("--device", default="all", choices=["all", "cpu", "cuda"])
    p.add_argument("--seconds", type=float, default=4.0, help="length of each timed window")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds per measurement")
    p.add_argument("--n-predict", type=int, default=20000, help="rows for predict/transform timing")
    p.add_argument("--torch-threads", type=int, help="torch.set_num_threads for the main tables "
                   "(default: torch's own default)")
    p.add_argument("--fused-adam-cpu", action="store_true", help="compare foreach vs fused Adam on the CPU")
    p.add_argument("--threads", default="1,2", help="CPU thread counts to compare ('' to skip)")
    p.add_argument("--large-batch", type=int, default=1024, help="CUDA: the large batch size")
    p.add_argument("--compile", action="store_true", help="CUDA: also time torch.compile'd networks")
    p.add_argument("--profile", action="store_true", help="add a torch.profiler table of CPU steps")
    p.add_argument("--quick", action="store_true", help="--seconds 1.5 --rounds 2 --n-predict 5000")
    p.add_argument("--cuda-config", default="paper MNIST", choices=list(CONFIGS["ClusterGANClustering"]),
                   help="CUDA section: which ClusterGAN configuration")
    p.add_argument("--cuda-path-on-cpu", action="store_true", help="run the CUDA section's code on the CPU (check)")
    p.add_argument("--skip-training", action="store_true", help="only parameter counts/threads/profile")
    args = p.parse_args(argv)
    if args.quick:
        args.seconds, args.rounds, args.n_predict = 1.5, 2, 5000

    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    out = ["# skgancluster speed benchmark", "", f"Command: `python benchmarks/{Path(__file__).name} "
           + " ".join(sys.argv[1:] if argv is None else argv) + "`", ""]
    out += machine_description()
    section_params(out)
    devices = []
    if args.device in ("all", "cpu"):
        devices.append(torch.device("cpu"))
    if args.device in ("all", "cuda") and torch.cuda.is_available():
        devices.append(torch.device("cuda"))

    def save():  # after each section, so a long run interrupted keeps what it measured
        if args.out:
            Path(args.out).write_text("\n".join(out) + "\n")

    save()
    if not args.skip_training:
        for device in devices:
            section_training(out, device, args)
            save()
    if args.fused_adam_cpu and args.device in ("all", "cpu"):
        section_cpu_adam(out, args)
        save()
    if args.threads and args.device in ("all", "cpu"):
        section_threads(out, args)
        save()
    if torch.device("cuda") in devices:
        section_cuda(out, args)
    elif args.cuda_path_on_cpu:
        section_cuda(out, args, torch.device("cpu"))
    elif args.device in ("all", "cuda"):
        out += ["", "CUDA not available on this machine: CUDA sections skipped."]
    save()
    if args.profile:
        section_profile(out, args)
    text = "\n".join(out) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
