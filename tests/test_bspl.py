"""Tests of BSPLClusterGAN and its balanced self-paced learning."""

import pickle
import re
import warnings

import numpy as np
import pytest
import torch
from scipy.optimize import minimize
from sklearn.base import clone
from sklearn.datasets import load_digits, make_blobs
from sklearn.metrics import adjusted_rand_score

from skgancluster import BSPLClusterGAN, all_estimators
from skgancluster.bspl import balanced_self_paced_weights, min_entropy_losses, self_paced_threshold
from skgancluster.metrics import sample_agreement, sample_spread
from skgancluster.model_selection import internal_index
from skgancluster.priors import BlockBinaryPrior

from conftest import make_fast

FAST = dict(max_iter=2, hidden_units=(16,), conv_channels=(4, 8), batch_size=16, block_size=2, generator_epochs=0)


def _objective(l, groups, lam, gamma):
    onehot = np.eye(groups.max() + 1)[groups]

    def f(nu):
        s = onehot.T @ nu
        return nu @ (l - lam) + gamma * (s**2).sum(), (l - lam) + 2 * gamma * (onehot @ s)

    return f


@pytest.mark.parametrize("seed", range(20))
def test_closed_form_is_the_minimiser(seed):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(5, 40)), int(rng.integers(1, 5))
    losses, groups = 2 * rng.random(n), rng.integers(0, k, n)
    lam, gamma = 2 * rng.random(), 0.01 + 0.5 * rng.random()
    f = _objective(losses, groups, lam, gamma)
    numeric = minimize(f, np.full(n, 0.5), jac=True, method="L-BFGS-B", bounds=[(0, 1)] * n,
                       options=dict(ftol=1e-15, gtol=1e-12, maxiter=10000)).x
    closed = balanced_self_paced_weights(torch.tensor(losses), torch.tensor(groups), lam, gamma).numpy()
    np.testing.assert_allclose(closed, numeric, atol=1e-6)
    assert f(closed)[0] <= f(numeric)[0] + 1e-9


def test_closed_form_has_fractional_weights_and_is_balanced():
    # Group 0 has all the easy samples: the balance term lets group 1 in.
    losses = torch.tensor([0.0, 0.01, 0.02, 0.03, 0.5, 0.6])
    groups = torch.tensor([0, 0, 0, 0, 1, 1])
    nu = balanced_self_paced_weights(losses, groups, lam=1.0, gamma=0.2)
    assert nu[4] == 1 and nu[0] == 1 and nu[3] == 0
    assert 0 < nu[2] < 1 or 0 < nu[5] < 1
    standard = balanced_self_paced_weights(losses, groups, lam=0.55, gamma=0.0)
    np.testing.assert_array_equal(standard.numpy(), [1, 1, 1, 1, 1, 0])


def test_threshold_selects_fraction():
    gen = torch.Generator().manual_seed(0)
    losses = torch.rand(1000, generator=gen, dtype=torch.float64)
    groups = torch.randint(10, (1000,), generator=gen)
    for gamma in (0.0, 0.001):
        lam = self_paced_threshold(losses, groups, gamma, 0.01)
        nu = balanced_self_paced_weights(losses, groups, lam, gamma)
        assert 5 <= int((nu > 0).sum()) <= 15
        lam = self_paced_threshold(losses, groups, gamma, 1.0)
        assert torch.all(balanced_self_paced_weights(losses, groups, lam, gamma) == 1)
    # balanced: the 1% go to different groups
    lam = self_paced_threshold(losses, groups, 0.05, 0.01)
    nu = balanced_self_paced_weights(losses, groups, lam, 0.05)
    assert len(torch.unique(groups[nu > 0])) >= 5


def test_schedule_in_training():
    X, _ = make_blobs(400, centers=3, random_state=0)
    est = BSPLClusterGAN(3, random_state=0, **{**FAST, "max_iter": 8, "batch_size": 100}).fit(X)
    selected = est.history_[:, "selected"]
    assert selected[0] <= 0.05  # 1% of a batch of 100: one sample (per batch)
    assert selected[6] == 1.0 and selected[-1] == 1.0  # all from 3/4 of training on
    assert est.select_fraction_ == 1.0
    assert est.noise_level_ == pytest.approx(0.1)
    lr = est.optimizers_["clusterer"].param_groups[0]["lr"]
    assert lr == pytest.approx(0.1 * est.learning_rate)


def test_real_data_terms_switch():
    X, _ = make_blobs(200, centers=3, random_state=0)
    est = BSPLClusterGAN(3, random_state=0, **FAST).fit(X)
    assert np.all(np.isfinite(est.history_[:, "information"]))
    paper = BSPLClusterGAN(3, random_state=0, real_weight=0, **FAST).fit(X)
    assert "information" not in paper.history_[-1]


def test_code_cycle_switch():
    """The code cycle term trains: the clusterer learns to give generated rows their block."""
    X, _ = make_blobs(200, centers=3, random_state=0)
    est = BSPLClusterGAN(3, random_state=0, cycle_weight=1, **{**FAST, "max_iter": 10})
    cycle = est.fit(X).history_[:, "cycle"]
    assert np.all(np.isfinite(cycle)) and cycle[-1] < cycle[0] - 0.1
    paper = BSPLClusterGAN(3, random_state=0, **FAST).fit(X)
    assert "cycle" not in paper.history_[-1]


def test_generator_epochs_tie_the_generator_and_leave_the_clusters():
    """The generator's epochs train G's ties to the blocks; the clusterer and the clusters stay as they were."""
    X, _ = make_blobs(200, centers=3, random_state=0)
    est = BSPLClusterGAN(3, random_state=0, **{**FAST, "generator_epochs": 10}).fit(X)
    assert est.n_iter_ == FAST["max_iter"] + 10 and est.schedule_epochs_ == FAST["max_iter"]
    cycle, block_mean = est.history_[FAST["max_iter"]:, "generator_cycle"], est.history_[FAST["max_iter"]:, "block_mean"]
    ties = cycle + block_mean
    assert np.all(np.isfinite(ties)) and ties[-1] < ties[0] - 0.1
    assert "entropy" not in est.history_[-1]
    assert est.networks_["mode_means"].means.shape == (3, 2) and est.networks_["mode_means"].seen.any()
    paper = BSPLClusterGAN(3, random_state=0, **{**FAST, "generator_epochs": 0}).fit(X)
    assert paper.n_iter_ == FAST["max_iter"] and "generator_cycle" not in paper.history_[-1]
    np.testing.assert_array_equal(est.labels_, paper.labels_)
    frozen_state = est.networks_["clusterer"].state_dict()
    for name, value in paper.networks_["clusterer"].state_dict().items():
        if not name.endswith("num_batches_tracked"):  # a counter that batch norm's momentum makes unused
            torch.testing.assert_close(frozen_state[name], value, msg=name)
    # sample draws at the noise of the generator's epochs; the paper's training ends at noise_end
    assert est.noise_level_ == est.noise_start and paper.noise_level_ == pytest.approx(paper.noise_end)
    # and they run at the full step size, where the clustering epochs end at a tenth of it
    assert est.optimizers_["generator"].param_groups[0]["lr"] == pytest.approx(est.learning_rate)
    assert paper.optimizers_["generator"].param_groups[0]["lr"] == pytest.approx(0.1 * paper.learning_rate)


def test_generator_epochs_make_the_samples_of_a_cluster_vary():
    """Without them a block draws near copies of one row; with them its samples spread over its cluster."""
    X, _ = make_blobs(n_samples=300, centers=4, n_features=5, cluster_std=0.6, random_state=0)
    fits = {epochs: make_fast(BSPLClusterGAN, n_clusters=4, max_iter=40, generator_epochs=epochs,
                              random_state=0).fit(X) for epochs in (0, 10)}
    spread = {epochs: sample_spread(est, X, n_samples=100) for epochs, est in fits.items()}
    assert spread[10].min() > 2 * spread[0].max(), spread
    assert sample_agreement(fits[10], X, n_samples=100).min() >= 0.9


def test_prior():
    prior = BlockBinaryPrior(3, 4, 0.2)
    z, noise, clusters = prior.sample(50, torch.Generator().manual_seed(0), "cpu")
    assert z.shape == (50, 12) and prior.dim == 12
    assert noise.min() >= 0 and noise.max() <= 0.2
    np.testing.assert_allclose((z - noise).view(50, 3, 4)[torch.arange(50), clusters], 1.0)
    assert torch.all((z - noise).sum(1) == 4)
    fixed = prior.sample(5, None, "cpu", clusters=torch.full((5,), 2))[2]
    assert torch.all(fixed == 2)


def test_min_entropy_prefers_block_codes():
    prior = BlockBinaryPrior(4, 3, 0.0)
    block = prior.codes(torch.arange(32) % 4)
    blurry = torch.rand(32, 12, generator=torch.Generator().manual_seed(0))
    assert min_entropy_losses(block).mean() < 0.1 * min_entropy_losses(blurry).mean()


def test_api():
    X, y = make_blobs(300, n_features=4, centers=3, random_state=1)
    est = BSPLClusterGAN(3, random_state=0, **FAST)
    labels = est.fit_predict(X)
    assert labels.shape == (300,) and set(labels) <= {0, 1, 2}
    np.testing.assert_array_equal(est.predict(X), labels)
    codes = est.transform(X)
    assert codes.shape == (300, 6) and codes.min() >= 0 and codes.max() <= 1
    np.testing.assert_array_equal(est.hash(X), codes > 0.5)
    assert est.hash(X).dtype == bool
    assert est.cluster_centers_.shape == (3, 6) and isinstance(est.cluster_centers_, np.ndarray)
    assert len(est.label_modes_) == 3 and est.label_modes_.max() < 3
    Xs, ys = est.sample(5, cluster=1)
    assert Xs.shape == (5, 4) and np.all(ys == 1)
    assert not hasattr(est, "predict_proba")
    assert est.transform(X.astype(np.float32)).dtype == np.float32
    # same seed, same result; clone is unfitted
    np.testing.assert_array_equal(clone(est).fit_predict(X), labels)
    with pytest.raises(ValueError, match="self_paced"):
        BSPLClusterGAN(3, self_paced="fast").fit(X)
    with pytest.raises(ValueError):
        est.predict(X[:, :3])
    assert ("BSPLClusterGAN", BSPLClusterGAN) in all_estimators()


def test_persistence(tmp_path):
    X, _ = make_blobs(200, n_features=3, centers=2, random_state=0)
    est = BSPLClusterGAN(2, random_state=0, noise_start=0.4, **{**FAST, "generator_epochs": 2}).fit(X)
    expected = est.predict(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(est)).predict(X), expected)
    est.save(tmp_path / "bspl.pt")
    loaded = BSPLClusterGAN.load(tmp_path / "bspl.pt")
    np.testing.assert_array_equal(loaded.predict(X), expected)
    np.testing.assert_allclose(loaded.transform(X), est.transform(X), rtol=1e-6)
    # saved and restored: the noise of the generator's epochs, at which sample draws
    assert loaded.noise_level_ == pytest.approx(0.4) and loaded.prior_.noise == pytest.approx(0.4)
    assert isinstance(loaded.cluster_centers_, np.ndarray)
    np.testing.assert_array_equal(loaded.label_modes_, est.label_modes_)
    torch.testing.assert_close(loaded.networks_["mode_means"].means, est.networks_["mode_means"].means)
    # a warm fit continues: max_iter clustering epochs at the schedules' final values, then the generator's
    loaded.set_params(warm_start=True).fit(X)
    assert loaded.n_iter_ == 2 * (FAST["max_iter"] + 2) and loaded.schedule_epochs_ == FAST["max_iter"]
    assert "entropy" in loaded.history_[FAST["max_iter"] + 2] and "block_mean" in loaded.history_[-1]


@pytest.mark.parametrize("augmentation", ["shift", "shift_flip", "noise"])
def test_images_and_augmentations(augmentation):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 255, size=(64, 1 * 8 * 8)).astype(np.float64)
    est = BSPLClusterGAN(2, image_shape=(1, 8, 8), augmentation=augmentation, random_state=0, **FAST).fit(X)
    assert est.transform(X).shape == (64, 4)
    Xs, _ = est.sample(3)
    assert Xs.shape == (3, 64) and Xs.min() >= 0 and Xs.max() <= 255


@pytest.mark.parametrize("self_paced", ["balanced", "standard", None])
def test_clusters_blobs(self_paced):
    X, y = make_blobs(600, n_features=8, centers=4, cluster_std=1.0, random_state=3)
    est = BSPLClusterGAN(4, max_iter=15, hidden_units=(64,), self_paced=self_paced, random_state=0)
    assert adjusted_rand_score(y, est.fit_predict(X)) > 0.9


def test_score_is_the_neighbour_agreement_alone():
    X, _ = make_blobs(200, n_features=8, centers=3, random_state=0)
    est = BSPLClusterGAN(3, random_state=0, **FAST).fit(X)
    assert est.score(X) == internal_index(X, est.labels_, "neighbour_agreement", estimator=est)


@pytest.mark.parametrize("seed", [0, 2])
def test_each_cluster_samples_from_its_own_block_or_says_it_cannot(seed):
    """sample(cluster=k) lands among the real rows of cluster k (judged by 5 real neighbours),
    or fit warned that k has no block of its own (the generator dropped that blob)."""
    X, _ = make_blobs(n_samples=300, centers=4, n_features=5, cluster_std=0.6, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = make_fast(BSPLClusterGAN, n_clusters=4, max_iter=40, generator_epochs=10, random_state=seed).fit(X)
    said = [re.search(r"Clusters \[([\d, ]*)\]", str(w.message)) for w in caught]
    warned = {int(k) for m in said if m for k in m.group(1).split(",")}
    assert len(set(est.label_modes_.tolist())) == len(est.label_modes_), "two clusters share a block"
    for k, agreement in enumerate(sample_agreement(est, X, n_samples=100)):
        assert agreement >= 0.9 or k in warned, (k, agreement, warned)


@pytest.mark.slow
def test_every_cluster_of_digits_is_drawn_by_its_own_block():
    """At the defaults on load_digits, sample(cluster=k) lands among the real rows of cluster k for every k.

    Judged by 5 real neighbours, not by the model (its clusterer labels generated
    rows by their block almost by construction). Without the generator's ties to
    the clusterer's blocks two to four clusters draw other digits, and without the
    block-sum head of the real-data terms K-means may cut a cluster that no block
    holds (doc/benchmarks.md).
    """
    X = load_digits().data
    est = BSPLClusterGAN(10, image_shape=(1, 8, 8), random_state=0).fit(X)
    agreement = sample_agreement(est, X)
    assert min(agreement) >= 0.9, np.round(agreement, 2)
    spread = sample_spread(est, X)  # and not by copies of one image: the clusters' variety, in part at least
    assert min(spread) >= 0.3, np.round(spread, 2)
