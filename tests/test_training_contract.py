"""The shared training contract: interrupts inside a step, warm starts, threads, verbosity, scaling."""

import os

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.exceptions import ConvergenceWarning

from conftest import make_fast
from skgancluster import BSPLClusterGAN, ClusterGANClustering, PreciseFeatureClustering
from skgancluster._training import BatchSource


def _adversary(est):
    """The network each method freezes during its generator step."""
    return est.networks_["critic" if "critic" in est.networks_ else "discriminator"]


class _InterruptWhenFrozen:
    """Forward pre-hook: raise KeyboardInterrupt the ``n``-th time the module runs with frozen weights."""

    def __init__(self, n):
        self.n, self.calls = n, 0

    def __call__(self, module, args):
        if not next(module.parameters()).requires_grad:
            self.calls += 1
            if self.calls == self.n:
                raise KeyboardInterrupt


def test_interrupt_inside_the_generator_step_leaves_every_network_trainable(generative_class, blobs):
    X, _ = blobs
    est = make_fast(generative_class, max_iter=1, batch_size=20).fit(X)
    hook = _InterruptWhenFrozen(n=2)  # in the 1st epoch of the next fit, inside a step
    handle = _adversary(est).register_forward_pre_hook(hook)
    est.set_params(warm_start=True, max_iter=3)
    with pytest.warns(ConvergenceWarning, match="interrupted"), pytest.raises(KeyboardInterrupt):
        est.fit(X)
    handle.remove()
    assert hook.calls == 2, "the interrupt was not raised inside a frozen step"
    assert all(p.requires_grad for p in est.networks_.parameters())
    est.set_params(max_iter=1).fit(X)  # trains on
    assert est.n_iter_ == 2


def test_warm_start_refuses_changed_architecture(blobs):
    X, _ = blobs
    est = make_fast(ClusterGANClustering, max_iter=1, warm_start=True).fit(X)
    est.set_params(hidden_units=(32,))
    with pytest.raises(ValueError, match=r"hidden_units=\[16\] -> \[32\] changed since fit"):
        est.fit(X)
    est.set_params(hidden_units=[16], learning_rate=1e-3).fit(X)  # same shape as a list; other parameters may change
    assert est.n_iter_ == 2
    est.set_params(n_clusters=4)
    with pytest.raises(ValueError, match="n_clusters=8 -> 4"):
        est.fit(X)


def test_bspl_warm_start_continues_its_schedules():
    X = np.random.RandomState(0).randn(200, 3)
    est = BSPLClusterGAN(2, max_iter=4, hidden_units=(8,), batch_size=50, block_size=2, random_state=0,
                         generator_epochs=0, warm_start=True).fit(X)
    assert est.noise_level_ == pytest.approx(est.noise_end) and est.schedule_epochs_ == 4
    est.fit(X)
    # Past the planned length the schedules stay at their final values; they do not restart.
    assert est.schedule_epochs_ == 4 and est.noise_level_ == pytest.approx(est.noise_end)
    assert est.history_[:, "selected"][4:] == [1.0, 1.0, 1.0, 1.0]
    assert est.optimizers_["clusterer"].param_groups[0]["lr"] == pytest.approx(0.1 * est.learning_rate)


def test_precise_eta_is_restored_with_the_networks_on_rollback(blobs):
    X, _ = blobs
    est = make_fast(PreciseFeatureClustering, max_iter=3, batch_size=20, eta_every=1)  # 3 steps per epoch
    original, calls = est._train_step, []

    def step(x_real, ctx):
        calls.append(ctx.step)
        losses = original(x_real, ctx)
        if len(calls) > 3:  # epoch 2 diverges, after eta has moved on
            losses = {k: torch.full_like(v, float("nan")) for k, v in losses.items()}
        return losses

    est._train_step = step
    with pytest.warns(ConvergenceWarning, match="diverged at epoch 2"):
        est.fit(X)
    assert len(calls) == 6 and est.n_iter_ == 1
    assert est.eta_ == est.history_[-1]["eta"] == pytest.approx(est.eta0 * est.eta_growth**2)


def test_sparse_batches_copy_the_order_to_the_host_once_per_epoch(monkeypatch):
    X = sp.random(100, 5, density=0.3, format="csr", dtype=np.float32, random_state=0)
    source = BatchSource(X, np.zeros(5), np.ones(5), torch.device("cpu"), batch_size=10)
    copies, original = [], torch.Tensor.cpu

    def counted(self, *args, **kwargs):
        copies.append(self.shape)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "cpu", counted)
    batches = list(source.epoch(torch.Generator().manual_seed(0)))
    assert len(batches) == 10 and len(copies) <= 1
    index = np.concatenate([i for i, _ in batches])
    np.testing.assert_array_equal(np.sort(index), np.arange(100))
    rows = torch.cat([rows for _, rows in batches])
    np.testing.assert_allclose(rows.numpy(), X[index].toarray(), rtol=1e-6)


def test_standard_scaling_is_exact_under_a_large_offset():
    rng = np.random.RandomState(0)
    X = rng.randn(200, 3)
    X[:, 0] = 3e7 + 4 * rng.randint(0, 2, 200)  # spread 2 on an offset of 3e7
    X[:, 1] = 1e7 + rng.rand(200)
    X = X.astype(np.float32)
    est = ClusterGANClustering(2, max_iter=1, hidden_units=(8,), latent_dim=2, scaling="standard",
                               device="cpu", random_state=0).fit(X)
    np.testing.assert_allclose(est.input_offset_, X.astype(np.float64).mean(0), rtol=1e-12)
    np.testing.assert_allclose(est.input_scale_, X.astype(np.float64).std(0), rtol=1e-9)


def test_backprop_labels_do_not_depend_on_row_positions():
    rng = np.random.RandomState(0)
    X = rng.randn(300, 4) * 3 + rng.randint(0, 4, (300, 1)) * 2
    est = ClusterGANClustering(4, max_iter=2, hidden_units=(16,), latent_dim=3, inference="backprop",
                               device="cpu", random_state=0).fit(X)
    labels = est.predict(X)
    np.testing.assert_array_equal(est.predict(X[::-1])[::-1], labels)
    np.testing.assert_array_equal(np.concatenate([est.predict(X[i:i + 7]) for i in range(0, 300, 7)]), labels)


# ------------------------------------------------------------ threads, verbose
@pytest.mark.parametrize("n_jobs, expected", [(None, 1), (2, 2), (-1, len(os.sched_getaffinity(0)))])
def test_n_jobs_sets_threads_during_calls_and_restores_the_callers(blobs, n_jobs, expected):
    X, _ = blobs
    est = make_fast(ClusterGANClustering, max_iter=1, n_jobs=n_jobs, device="cpu")  # CPU threads; CUDA keeps them
    seen, original = [], est._train_step

    def step(x_real, ctx):
        seen.append(torch.get_num_threads())
        return original(x_real, ctx)

    est._train_step = step
    previous = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        est.fit(X)
        assert torch.get_num_threads() == 3
        for call in (est.predict, est.transform):
            call(X)
            assert torch.get_num_threads() == 3
        est.sample(2)
        assert torch.get_num_threads() == 3  # ClusterGAN: sample too
    finally:
        torch.set_num_threads(previous)
    assert set(seen) == {expected}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # warnings are not verbosity
def test_verbose_levels(estimator_class, blobs, capsys):
    X, _ = blobs
    make_fast(estimator_class, max_iter=2, verbose=0).fit(X)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    make_fast(estimator_class, max_iter=2, verbose=2).fit(X)
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["epoch 1", "epoch 2"]
    assert all("=" in line for line in lines)  # the epoch's losses
    make_fast(estimator_class, max_iter=2, verbose=1).fit(X)
    assert "2/2" in capsys.readouterr().err  # the progress bar
