"""Tests of PreciseFeatureClustering."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone

from skgancluster import PreciseFeatureClustering, all_estimators
from skgancluster.datasets import make_artifact_mnist, make_precise_blobs
from skgancluster.metrics import cluster_accuracy
from skgancluster.precise import eta_schedule

FAST = dict(hidden_units=(32, 32), max_iter=2, batch_size=32, n_init=1, random_state=0)  # one run, not five


@pytest.fixture(scope="module")
def blobs():
    return make_precise_blobs(n_samples=400, random_state=0)


@pytest.fixture(scope="module")
def fitted(blobs):
    X, _ = blobs
    return PreciseFeatureClustering(8, **FAST).fit(X)


def test_registered():
    assert ("PreciseFeatureClustering", PreciseFeatureClustering) in all_estimators()


def test_api_shapes(blobs, fitted):
    X, _ = blobs
    est = fitted
    labels = est.labels_
    assert labels.shape == (400,)
    # Contiguous labels, consistent with predict.
    assert set(np.unique(labels)) == set(range(len(est.label_modes_)))
    np.testing.assert_array_equal(est.predict(X), labels)
    proba = est.predict_proba(X)
    assert proba.shape == (400, len(est.label_modes_))
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(proba.argmax(1), labels)
    # transform: the classifier's penultimate features.
    emb = est.transform(X)
    assert emb.shape == (400, FAST["hidden_units"][-1])
    assert emb.dtype == np.float32
    assert set(est.networks_) == {"generator", "critic", "classifier"}
    Xs, ys = est.sample(10, cluster=1)
    assert Xs.shape == (10, 2) and (ys == 1).all()
    Xs, ys = est.sample(7)
    assert Xs.shape == (7, 2) and ys.shape == (7,)
    for key in ("critic", "wasserstein", "classifier", "generator", "entropy", "eta"):
        assert np.isfinite(est.history_[-1, key])


def test_deterministic_clone_pickle(blobs, fitted):
    X, _ = blobs
    again = clone(fitted).fit(X)
    np.testing.assert_array_equal(again.labels_, fitted.labels_)
    np.testing.assert_allclose(again.predict_proba(X), fitted.predict_proba(X))
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_allclose(restored.predict_proba(X), fitted.predict_proba(X))
    assert restored.eta_ == fitted.eta_


def test_save_load(tmp_path, blobs, fitted):
    X, _ = blobs
    path = tmp_path / "precise.pt"
    fitted.save(path)
    loaded = PreciseFeatureClustering.load(path)
    np.testing.assert_allclose(loaded.predict_proba(X), fitted.predict_proba(X), rtol=1e-6)
    assert loaded.eta_ == fitted.eta_ and loaded.eta_every_steps_ == fitted.eta_every_steps_


def test_eta_schedule_function():
    etas = [eta_schedule(t, 10.0, 1.2, 3) for t in range(10)]
    np.testing.assert_allclose(etas, [10, 10, 10, 12, 12, 12, 14.4, 14.4, 14.4, 17.28])
    assert eta_schedule(29, 10.0, 1.2, 1) == pytest.approx(10 * 1.2**29)
    # Past the paper's 30 stairs eta stays at its final value (warm starts).
    assert eta_schedule(10_000, 10.0, 1.2, 1) == pytest.approx(10 * 1.2**29)


def test_eta_schedule_in_fit(blobs):
    X, _ = blobs
    # 400 samples / 32 = 12 batches per epoch, 5 epochs: 60 critic steps, 12 generator steps.
    params = dict(FAST, max_iter=5, n_critic=5)
    est = PreciseFeatureClustering(8, eta0=10.0, eta_every=0.25, **params).fit(X)
    assert est.eta_every_steps_ == 3  # round(0.25 * 12)
    # The last generator step has index 11: 10 * 1.2 ** (11 // 3).
    assert est.eta_ == pytest.approx(10 * 1.2**3)
    # An int is a stair length in generator steps.
    est = PreciseFeatureClustering(8, eta_every=4, eta0=2.0, eta_growth=2.0, **params).fit(X)
    assert est.eta_every_steps_ == 4 and est.eta_ == pytest.approx(2.0 * 2.0**2)
    # The per-epoch mean of eta grows in a staircase.
    assert np.all(np.diff(est.history_[:, "eta"]) >= 0)
    # warm_start continues the same staircase (stair length kept).
    est.set_params(warm_start=True, max_iter=5).fit(X)
    assert est.eta_every_steps_ == 4 and est.eta_ == pytest.approx(2.0 * 2.0**(23 // 4))


@pytest.mark.parametrize("weights, match", [
    ([1, 1, 1], "one entry per cluster"),
    ([1, -1, 1, 1], "non-negative"),
    ([0, 0, 0, 0], "positive sum"),
    ([1, np.nan, 1, 1], "finite"),
    ([1, np.inf, 1, 1], "finite"),
    ([[1, 1], [1, 1]], "one entry per cluster"),
    (["a", "b", "c", "d"], "sequence of 4 numbers"),
])
def test_cluster_weights_validation(blobs, weights, match):
    X, _ = blobs
    with pytest.raises(ValueError, match=match):
        PreciseFeatureClustering(4, cluster_weights=weights, **FAST).fit(X)


def test_cluster_weights_prior(blobs):
    X, _ = blobs
    est = PreciseFeatureClustering(4, cluster_weights=[3, 1, 0, 0], **FAST).fit(X)
    np.testing.assert_allclose(est.prior_.weights.numpy(), [0.75, 0.25, 0, 0])
    gen = torch.Generator().manual_seed(0)
    ids = est.prior_.sample_clusters(4000, gen, torch.device("cpu"))
    counts = np.bincount(ids.numpy(), minlength=4) / 4000
    assert counts[2] == counts[3] == 0 and abs(counts[0] - 0.75) < 0.03


def test_bad_params(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match="eta_every"):
        PreciseFeatureClustering(8, eta_every=1.5, **FAST).fit(X)
    with pytest.raises(ValueError, match="n_classifier"):
        PreciseFeatureClustering(8, n_classifier=-1, **FAST).fit(X)


def test_datasets():
    X, y = make_precise_blobs(n_samples=8000, random_state=1)
    assert X.shape == (8000, 2) and np.bincount(y).tolist() == [1000] * 8
    centres = np.array([X[y == k].mean(0) for k in range(8)])
    np.testing.assert_allclose(np.linalg.norm(centres, axis=1), [1.414] * 4 + [2**0.5] * 4, atol=0.01)
    assert np.all(np.abs(np.array([X[y == k].std(0) for k in range(8)]) - 0.014) < 0.003)
    Xa, ya = make_artifact_mnist(random_state=0)
    assert Xa.shape == (5000, 784) and set(np.unique(ya)) == {0, 1, 2}
    np.testing.assert_array_equal(Xa[:, 0], np.array([25.5, 127.5, 229.5], dtype=np.float32)[ya])
    assert np.all(np.abs(np.bincount(ya) / 5000 - 1 / 3) < 0.03)


@pytest.mark.slow
def test_blobs_clustered_well():
    """The paper's 8-blob set with the defaults (75 epochs of 4000 points): every blob recovered.

    The same fit as ``benchmarks/quality.py --estimator PreciseFeatureClustering
    --dataset blobs8 --seeds 0``.
    """
    X, y = make_precise_blobs(n_samples=4000, random_state=0)
    est = PreciseFeatureClustering(8, random_state=0).fit(X)
    assert cluster_accuracy(y, est.labels_) >= 0.99
