"""SIMIClusterGAN: the first phase it reuses, the codes it feeds the generator, its quality."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from skgancluster import IMSATClustering, SIMIClusterGAN
from skgancluster.metrics import sample_agreement
from skgancluster.model_selection import internal_index

SMALL_PRIOR = dict(hidden_units=(64,), max_iter=40, batch_size=64)


def _blobs(sizes=(300, 300, 300), std=1.0):
    return make_blobs(n_samples=list(sizes), n_features=10, cluster_std=std, random_state=0)


def _small(**params):
    base = dict(hidden_units=(64,), latent_dim=4, max_iter=20, generator_epochs=0, device="cpu", random_state=0,
                prior_estimator=IMSATClustering(**SMALL_PRIOR))
    return SIMIClusterGAN(3, **{**base, **params})


def test_clusters_blobs_through_its_fitted_first_phase():
    X, y = _blobs()
    est = _small().fit(X * 20 - 7)
    assert isinstance(est.prior_estimator_, IMSATClustering) and est.prior_estimator_.n_clusters == 3
    assert adjusted_rand_score(y, est.labels_) > 0.95
    # The encoder takes over the prior's clusters; the proportions are the prior's.
    assert adjusted_rand_score(est.prior_estimator_.labels_, est.labels_) > 0.95
    np.testing.assert_allclose(est.cluster_proportions_, np.bincount(est.prior_estimator_.labels_) / len(X))
    np.testing.assert_allclose(est.predict_proba(X[:5] * 20 - 7).sum(1), 1.0)


def test_generator_codes_follow_the_learned_proportions():
    X, _ = _blobs((500, 250, 100))
    # A K-means first phase finds these sizes exactly; any clusterer with predict serves.
    est = _small(prior_estimator=KMeans(n_init=3, random_state=0)).fit(X)
    assert isinstance(est.prior_estimator_, KMeans) and est.prior_estimator_.n_clusters == 3
    np.testing.assert_allclose(np.sort(est.cluster_proportions_), np.array([100, 250, 500]) / 850)
    # sample() draws clusters with the learned weights, not uniformly.
    _, drawn = est.sample(4000)
    drawn_share = np.bincount(drawn, minlength=len(est.label_modes_)) / 4000
    expected = est.cluster_proportions_[est.label_modes_] / est.cluster_proportions_[est.label_modes_].sum()
    np.testing.assert_allclose(drawn_share, expected, atol=0.03)
    # The encoder's clusters keep the unequal sizes of the data.
    assert adjusted_rand_score(est.prior_estimator_.labels_, est.labels_) > 0.9


def test_generator_epochs_leave_the_clusters_and_draw_each_one():
    X, _ = _blobs((500, 250, 100))
    est = _small(generator_epochs=5).fit(X)
    paper = _small().fit(X)
    np.testing.assert_array_equal(est.labels_, paper.labels_)
    assert est.n_iter_ == paper.n_iter_ + 5 and "mode_mean" in est.history_[-1]
    assert "prior_cross_entropy" not in est.history_[-1]  # the encoder is frozen in these epochs
    assert min(sample_agreement(est, X)) >= 0.9


def test_score_is_the_first_phase_score_and_ranks_a_trained_fit_first():
    X, y = _blobs()
    trained = _small().fit(X)
    barely = _small(prior_estimator=IMSATClustering(**{**SMALL_PRIOR, "max_iter": 1, "learning_rate": 1e-4})).fit(X)
    assert adjusted_rand_score(y, trained.labels_) > 0.95 > 0.6 > adjusted_rand_score(y, barely.labels_)
    assert trained.score(X) > barely.score(X)
    assert trained.score(X) == trained.prior_estimator_.score(X)


class _KMeansWithoutScore(ClusterMixin, BaseEstimator):
    def __init__(self, n_clusters=3):
        self.n_clusters = n_clusters

    def fit(self, X, y=None):
        self.kmeans_ = KMeans(self.n_clusters, n_init=3, random_state=0).fit(X)
        return self

    def predict(self, X):
        return self.kmeans_.predict(X)


def test_score_falls_back_on_the_neighbour_agreement_without_a_first_phase_score():
    X, _ = _blobs()
    est = _small(prior_estimator=_KMeansWithoutScore()).fit(X)
    assert est.score(X) == internal_index(X, est.labels_, "neighbour_agreement", estimator=est)


def test_first_phase_gets_this_estimators_settings():
    X, _ = _blobs()
    est = SIMIClusterGAN(3, hidden_units=(16,), max_iter=1, random_state=3, device="cpu")
    est._check_params(*X.shape)  # what fit resolves before the first phase
    prior = est._make_prior_estimator()
    assert isinstance(prior, IMSATClustering)
    assert (prior.n_clusters, prior.device, prior.image_shape) == (3, "cpu", None)
    # Sizes may follow imbalanced classes once the clusters have formed, but no cluster takes two
    # classes; the best of three runs (the departures from IMSAT).
    assert (prior.balance_tolerance, prior.balance_warmup, prior.max_cluster_size, prior.n_init) == (0.1, 0.5, 1.5, 3)
    assert prior.random_state == est._make_prior_estimator().random_state  # derived from random_state=3
    given = IMSATClustering(n_clusters=7, random_state=None)
    est.set_params(prior_estimator=given)
    prior = est._make_prior_estimator()
    assert prior is not given and prior.n_clusters == 3 and prior.random_state is not None
    assert given.n_clusters == 7 and given.random_state is None  # the parameter is never changed


class _OutOfRangeLabels(ClusterMixin, BaseEstimator):
    def fit(self, X, y=None):
        return self

    def predict(self, X):
        return np.full(len(X), 5)


def test_refuses_a_first_phase_whose_labels_are_not_codes():
    X, _ = _blobs()
    est = _small(prior_estimator=_OutOfRangeLabels())
    with pytest.raises(ValueError, match=r"prior_estimator must label each row with an int in \[0, 3\)"):
        est.fit(X)
    assert not hasattr(est, "networks_") and not hasattr(est, "prior_estimator_")


def test_warm_start_keeps_the_first_phase():
    X, _ = _blobs()
    est = _small(max_iter=2).fit(X)
    prior, proportions = est.prior_estimator_, est.cluster_proportions_.copy()
    est.set_params(warm_start=True, max_iter=1).fit(X[::2])
    assert est.prior_estimator_ is prior and est.n_iter_ == 3
    np.testing.assert_array_equal(est.cluster_proportions_, proportions)
