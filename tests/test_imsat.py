"""IMSATClustering and the pieces it adds to the shared modules (VAT, the neighbour radius)."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits, make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import NearestNeighbors

from skgancluster import IMSATClustering
from skgancluster._neighbours import neighbour_radius
from skgancluster._training import BatchSource
from skgancluster.losses import virtual_adversarial_loss
from skgancluster.metrics import cluster_accuracy
from skgancluster.model_selection import internal_index, perturbation_agreement_score


def _source(X):
    d = X.shape[1]
    return BatchSource(X.astype(np.float32), np.zeros(d), np.ones(d), torch.device("cpu"), batch_size=10)


def test_neighbour_radius_is_exact_up_to_the_reference_size():
    X = np.random.RandomState(0).randn(300, 5)
    radius = neighbour_radius(_source(X), n_neighbours=10, reference_size=300).numpy()
    distances, _ = NearestNeighbors(n_neighbors=11).fit(X).kneighbors(X)  # itself first
    np.testing.assert_allclose(radius, distances[:, 10], rtol=1e-4)


def test_neighbour_radius_beyond_the_reference_size_is_linear_and_close(monkeypatch):
    X = np.random.RandomState(0).randn(2000, 3)
    exact = neighbour_radius(_source(X), n_neighbours=10, reference_size=2000).numpy()
    shapes, cdist = [], torch.cdist
    monkeypatch.setattr(torch, "cdist", lambda a, b: shapes.append(tuple(b.shape)) or cdist(a, b))
    approximate = neighbour_radius(_source(X), n_neighbours=10, reference_size=500,
                                   generator=torch.Generator().manual_seed(0)).numpy()
    assert {s[0] for s in shapes} == {500}, "every row is compared with the reference set only"
    ratio = np.median(approximate / exact)
    assert 0.8 < ratio < 1.25


def test_virtual_adversarial_perturbation_has_the_given_radius():
    head = torch.nn.Linear(4, 3)
    x = torch.randn(16, 4, generator=torch.Generator().manual_seed(0))
    seen = []

    def logits(rows):
        seen.append(rows.detach())
        return head(rows)

    radius = torch.linspace(0.1, 2.0, 16)
    loss = virtual_adversarial_loss(logits, x, radius, torch.Generator().manual_seed(1))
    assert loss.item() > 0
    # Calls: p(x), the power iteration at x + xi d, the loss at x + r_adv.
    torch.testing.assert_close((seen[-1] - x).norm(dim=1), radius)
    assert virtual_adversarial_loss(head, x, 0.0, torch.Generator().manual_seed(1)).item() == pytest.approx(0, abs=1e-7)


def test_clusters_blobs_and_has_no_generator():
    X, y = make_blobs(n_samples=400, centers=4, n_features=6, cluster_std=1.5, random_state=0)
    est = IMSATClustering(4, batch_size=100, max_iter=100, random_state=0, device="cpu").fit(X * 50 + 3)
    assert adjusted_rand_score(y, est.labels_) > 0.9
    np.testing.assert_allclose(est.predict_proba(X[:5] * 50 + 3).sum(1), 1.0, rtol=1e-6)
    assert est.transform(X[:5]).shape == (5, 256)  # "auto": (256, 256) for 6 features
    assert not hasattr(est, "sample") and "affine" not in est.history_[-1]
    assert {"vat", "conditional_entropy", "marginal_entropy"} <= set(est.history_[-1])


def test_hidden_units_auto_and_the_affine_self_augmentation_for_images():
    X = np.random.RandomState(0).randint(0, 256, (50, 256)).astype(np.float32)
    est = IMSATClustering(2, image_shape=(1, 16, 16), max_iter=1, batch_size=25, random_state=0,
                          device="cpu").fit(X)
    widths = [m.out_features for m in est.networks_["classifier"].modules() if isinstance(m, torch.nn.Linear)]
    assert widths == [1200, 1200, 2]
    assert "affine" in est.history_[-1]
    paper = IMSATClustering(2, image_shape=(1, 16, 16), affine_weight=0, hidden_units=(8,), max_iter=1,
                            batch_size=25, random_state=0, device="cpu").fit(X)
    assert "affine" not in paper.history_[-1]


def test_balance_warmup_grows_the_tolerance_linearly(monkeypatch):
    import skgancluster.losses as losses  # the balance term's tolerance goes through imbalance_beyond

    seen = []
    original = losses.imbalance_beyond
    monkeypatch.setattr(losses, "imbalance_beyond", lambda proba, tolerance: seen.append(tolerance) or original(
        proba, tolerance))
    X = make_blobs(n_samples=40, centers=2, n_features=3, random_state=0)[0]
    IMSATClustering(2, balance_tolerance=0.1, balance_warmup=0.5, max_iter=4, batch_size=20, random_state=0,
                    device="cpu").fit(X)
    # Two steps per epoch; the tolerance rises over the first half of the 4 epochs, then stays.
    np.testing.assert_allclose(seen, [0, 0, 0.05, 0.05, 0.1, 0.1, 0.1, 0.1])


@pytest.mark.slow
def test_load_digits_quality():
    X, y = load_digits(return_X_y=True)
    est = IMSATClustering(10, image_shape=(1, 8, 8), random_state=0, device="cpu").fit(X)
    assert cluster_accuracy(y, est.labels_) >= 0.8


def test_score_is_the_perturbation_agreement_alone_on_images():
    images = np.random.RandomState(0).randint(0, 256, (60, 64)).astype(np.float32)
    est = IMSATClustering(2, image_shape=(1, 8, 8), hidden_units=(16,), max_iter=2, batch_size=30, random_state=0,
                          device="cpu").fit(images)
    assert est.score(images) == perturbation_agreement_score(est, images)
    X = make_blobs(n_samples=60, centers=2, n_features=3, random_state=0)[0]
    flat = IMSATClustering(2, hidden_units=(16,), max_iter=2, batch_size=30, random_state=0, device="cpu").fit(X)
    neighbours = internal_index(X, flat.predict(X), "neighbour_agreement", estimator=flat)
    assert flat.score(X) == pytest.approx(neighbours + perturbation_agreement_score(flat, X))
