"""The one training driver every estimator runs.

A method supplies its networks, optimizers and a ``_train_step(x_real, ctx)``
that performs its updates on one real mini-batch and returns its losses as
0-d tensors; ``ctx`` is the :class:`TrainingContext` of the running ``fit``.
This module owns everything around that: batches drawn on the device, losses
accumulated on the device and read once per epoch, history, progress
display, divergence checks, and keyboard interrupts.
"""

import contextlib
import copy
import dataclasses
import os
import sys
import time
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from ._config import get_config

__all__ = ["BatchSource", "TrainingContext", "TrainingDivergedError", "frozen", "run_training", "torch_threads"]


# A mean epoch loss this large (or NaN/inf) means the run has diverged, even if
# it is still finite: healthy GAN losses stay within a few orders of unity.
_EXPLODED = 1e12


class TrainingDivergedError(FloatingPointError):
    """Raised when a loss becomes NaN or infinite before any epoch completed."""


class BatchSource:
    """Real data served as scaled mini-batches on the training device.

    Dense data is moved to the device once and batches are drawn by indexing
    there; sparse data stays sparse on the host and only each mini-batch is
    densified. Scaling is applied per batch, so no scaled copy of the whole
    data set is ever made.

    Parameters
    ----------
    X : ndarray or scipy CSR matrix of float32, shape (n_samples, n_features)
    offset, scale : ndarray of shape (n_features,)
        The learned input scaling ``(x - offset) / scale``.
    device : torch.device
    batch_size : int
        Capped at ``n_samples``; the last incomplete batch of an epoch is
        dropped (batch norm needs full batches), so every sample is seen with
        probability ``1 - (n_samples mod batch_size) / n_samples`` per epoch.
    """

    def __init__(self, X, offset, scale, device, batch_size):
        self.sparse = not isinstance(X, np.ndarray)
        self.n_samples = X.shape[0]
        self.batch_size = min(batch_size, self.n_samples)
        self.device = device
        self.offset = torch.as_tensor(offset, dtype=torch.float32, device=device)
        self.inv_scale = 1.0 / torch.as_tensor(scale, dtype=torch.float32, device=device)
        self.X = X if self.sparse else as_tensor_readonly(X).to(device)

    @property
    def batches_per_epoch(self):
        return self.n_samples // self.batch_size

    def scale(self, x):
        return (x - self.offset) * self.inv_scale

    def rows(self, index):
        """Scaled rows ``index``: a tensor on the device (dense data) or a host array (sparse data)."""
        if self.sparse:
            dense = self.X[index].toarray()
            return self.scale(torch.from_numpy(dense).to(self.device, non_blocking=True))
        return self.scale(self.X[index])

    def in_order(self, chunk_size):
        """Yield ``(start, rows)``: every scaled row, in order, ``chunk_size`` rows at a time."""
        for start in range(0, self.n_samples, chunk_size):
            stop = min(self.n_samples, start + chunk_size)
            index = np.arange(start, stop) if self.sparse else torch.arange(start, stop, device=self.device)
            yield start, self.rows(index)

    def host_rows(self):
        """The rows as ``fit`` was given them (validated, unscaled), on the host.

        For a fitted first phase, which applies its own scaling. A view on
        the CPU; a copy from another device.
        """
        return self.X if self.sparse else self.X.cpu().numpy()

    def epoch(self, generator, batch_size=None):
        """Yield ``(index, rows)`` for the mini-batches of one shuffled pass over the data.

        ``index`` holds the rows' positions in ``X``: a tensor on the device
        (dense data) or a host array (sparse data). ``batch_size`` replaces
        the source's for this pass (capped at ``n_samples``).
        """
        size = self.batch_size if batch_size is None else min(batch_size, self.n_samples)
        order = torch.randperm(self.n_samples, generator=generator, device=self.device)
        if self.sparse:  # rows of a host matrix: one copy of the order per epoch, not one per batch
            order = order.cpu().numpy()
        for b in range(self.n_samples // size):
            index = order[b * size:(b + 1) * size]
            yield index, self.rows(index)


@dataclasses.dataclass
class TrainingContext:
    """What the training hooks of a method may read while ``fit`` runs.

    The driver fills it; methods read it and never keep it (it is gone when
    ``fit`` returns).

    Attributes
    ----------
    rng : torch.Generator
        The fit's generator on the training device: draw every random
        number of a step (priors, perturbations, gradient-penalty points)
        from it, so that fits are reproducible.
    source : BatchSource
        The real data (``source.batches_per_epoch``, ``source.n_samples``).
    n_epochs : int
        Epochs this ``fit`` trains for.
    first_epoch : int
        Epochs trained before this ``fit`` (``n_iter_`` at its start: 0 for
        a cold fit, more for a ``warm_start`` fit).
    epoch : int
        Index of the running epoch within this ``fit``, from 0.
    step : int
        Index of the running step over the estimator's life (``n_steps_``
        when the step started).
    batch_index : tensor or ndarray
        Positions in ``X`` of the rows of the running mini-batch, for
        per-sample values a method computed at the start of the fit.

    A method may keep other per-fit values on the context (set them in
    ``_on_epoch_start`` when ``ctx.epoch == 0``); they are gone with it.
    """

    rng: torch.Generator
    source: BatchSource
    n_epochs: int
    first_epoch: int
    epoch: int = 0
    step: int = 0
    batch_index: object = None

    @property
    def device(self):
        return self.source.device

    @property
    def batch_positions(self):
        """``batch_index`` as a tensor on the training device, to index per-sample tensors kept there."""
        return torch.as_tensor(self.batch_index, device=self.device)

    @property
    def total_epoch(self):
        """Index of the running epoch over the estimator's life (0 at the first epoch of a cold fit)."""
        return self.first_epoch + self.epoch


@contextlib.contextmanager
def frozen(*modules):
    """Turn off the gradients of ``modules``' parameters inside the block, whatever happens.

    For a step that backpropagates through a network it must not update
    (the critic during the generator's step): no gradient is computed for
    it, and ``requires_grad`` is restored even when the step raises or is
    interrupted.
    """
    flags = [(p, p.requires_grad) for m in modules for p in m.parameters()]
    try:
        for p, _ in flags:
            p.requires_grad_(False)
        yield
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)


@contextlib.contextmanager
def torch_threads(n_jobs, device):
    """Run with ``n_jobs`` torch threads on the CPU, then restore the caller's count.

    torch's thread count is process-wide, so it is set only for the duration
    of a call. As in scikit-learn, ``None`` means 1 and ``-1`` every core this
    process may use (one thread per fit is what ``GridSearchCV(n_jobs=...)``
    needs; on a busy machine extra threads are several times slower, see
    ``doc/benchmarks.md``).
    """
    if device.type != "cpu":
        yield
        return
    n_jobs = 1 if n_jobs is None else n_jobs
    n_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    n_threads = n_jobs if n_jobs > 0 else max(1, n_cores + 1 + n_jobs)
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def as_tensor_readonly(X):
    """A float32 tensor sharing memory with ``X``; we never write into it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(X)


def _snapshot(estimator):
    return {
        "networks": copy.deepcopy(estimator.networks_.state_dict()),
        "optimizers": {k: copy.deepcopy(o.state_dict()) for k, o in estimator.optimizers_.items()},
        "attributes": copy.deepcopy(estimator._training_state()),
    }


def _restore(estimator, snapshot):
    estimator.networks_.load_state_dict(snapshot["networks"])
    for name, state in snapshot["optimizers"].items():
        estimator.optimizers_[name].load_state_dict(state)
    for name, value in snapshot["attributes"].items():
        setattr(estimator, name, value)


def run_training(estimator, source, n_epochs, generator, stop_after=None):
    """Train ``estimator`` for ``n_epochs`` passes over ``source``, drawing from ``generator``.

    With ``stop_after``, training ends after that many epochs while the
    schedules (``ctx.n_epochs``) stay planned for ``n_epochs``.

    Returns the number of epochs completed. On a non-finite loss the networks
    are restored to the end of the last finite epoch and training stops with a
    warning; if no epoch of this fit completed, :class:`TrainingDivergedError`
    is raised. On ``KeyboardInterrupt`` the last completed epoch is kept and a
    warning says so; the interrupt propagates when no epoch has completed, or
    with ``on_interrupt="raise"`` (the default of
    :func:`skgancluster.set_config`), and with "return" training just ends.
    """
    history = estimator.history_
    first_epoch = estimator.n_iter_
    ctx = TrainingContext(rng=generator, source=source, n_epochs=n_epochs, first_epoch=first_epoch,
                          step=estimator.n_steps_)
    snapshot = _snapshot(estimator)
    estimator.networks_.train()
    progress = _Progress(estimator.verbose, n_epochs)
    done = 0
    try:
        for epoch in range(n_epochs if stop_after is None else min(stop_after, n_epochs)):
            started = time.perf_counter()
            ctx.epoch = epoch
            estimator._on_epoch_start(ctx)
            sums, counts = {}, {}
            for ctx.batch_index, x_real in source.epoch(generator, estimator._epoch_batch_size(ctx)):
                for name, value in estimator._train_step(x_real, ctx).items():
                    sums[name] = sums[name] + value if name in sums else value
                    counts[name] = counts.get(name, 0) + 1
                ctx.step += 1
            # The one host synchronisation of the epoch.
            values = torch.stack([sums[k].float() for k in sums]).tolist() if sums else []
            losses = {k: v / counts[k] for k, v in zip(sums, values)}
            bad = [k for k, v in losses.items() if not abs(v) < _EXPLODED]
            if bad:
                _restore(estimator, snapshot)
                message = (
                    f"Training diverged at epoch {first_epoch + epoch + 1}: loss "
                    f"{', '.join(repr(k) for k in bad)} is not finite or exploded (|loss| > 1e12). Lower "
                    f"learning_rate (now {estimator.learning_rate!r})"
                    + (" or scale the input (scaling='standard')" if estimator.scaling is None else "")
                    + "."
                )
                if done == 0:
                    raise TrainingDivergedError(message)
                warnings.warn(message + f" Kept the state after epoch {first_epoch + done}.",
                              ConvergenceWarning, stacklevel=3)
                break
            done += 1
            estimator.n_steps_ = ctx.step
            history.new_epoch()
            history.record("epoch", first_epoch + done)
            history.record("dur", time.perf_counter() - started)
            for k, v in {**losses, **estimator._epoch_record()}.items():
                history.record(k, v)
            estimator.n_iter_ = first_epoch + done
            snapshot = _snapshot(estimator)
            progress.update(first_epoch + done, losses)
    except KeyboardInterrupt:
        _restore(estimator, snapshot)
        warnings.warn(
            f"Training interrupted; keeping the state after epoch {estimator.n_iter_}.",
            ConvergenceWarning, stacklevel=3,
        )
        if estimator.n_iter_ == 0 or get_config()["on_interrupt"] == "raise":
            raise
    finally:
        progress.close()
        estimator.networks_.eval()
    return done


class _Progress:
    """verbose=1: a progress bar with the latest losses; verbose=2: a line per epoch."""

    def __init__(self, verbose, total):
        self.verbose = verbose
        self.bar = None
        if verbose == 1:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, unit="epoch", file=sys.stderr, leave=True)

    def update(self, epoch, losses):
        text = {k: f"{v:.4g}" for k, v in losses.items()}
        if self.bar is not None:
            self.bar.set_postfix(text, refresh=False)
            self.bar.update(1)
        elif self.verbose >= 2:
            print(f"epoch {epoch}: " + ", ".join(f"{k}={v}" for k, v in text.items()), flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()
