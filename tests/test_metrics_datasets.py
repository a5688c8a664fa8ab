import numpy as np
import pytest
from scipy.sparse import csr_matrix
from sklearn.datasets import make_blobs

from skgancluster.datasets import make_clustergan_synthetic, make_single_cell
from skgancluster.metrics import cluster_accuracy, purity_score, sample_agreement, sample_spread


def test_accuracy_is_invariant_to_renaming():
    y = np.array([0, 0, 1, 1, 2, 2])
    assert cluster_accuracy(y, np.array([5, 5, 9, 9, -1, -1])) == 1.0
    assert cluster_accuracy(y, np.array(["c", "c", "a", "a", "b", "b"])) == 1.0


def test_accuracy_counts_errors_and_unmatched_clusters():
    y = [0, 0, 0, 1, 1, 1]
    assert cluster_accuracy(y, [0, 0, 1, 1, 1, 1]) == pytest.approx(5 / 6)
    # More clusters than classes: the extra cluster cannot be matched.
    assert cluster_accuracy(y, [0, 0, 2, 1, 1, 1]) == pytest.approx(5 / 6)
    assert purity_score(y, [0, 1, 2, 3, 4, 5]) == 1.0


def test_accuracy_rejects_bad_input():
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        cluster_accuracy([0, 1], [0])
    with pytest.raises(ValueError, match="empty"):
        cluster_accuracy([], [])


def test_synthetic_set_matches_the_paper_description():
    X, y = make_clustergan_synthetic(random_state=0)
    assert X.shape == (10000, 100) and X.dtype == np.float32
    assert np.bincount(y).tolist() == [2500] * 4
    assert 0 < X.min() and X.max() < 1  # outputs of a sigmoid
    X2, y2 = make_clustergan_synthetic(random_state=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)


def test_single_cell_set_has_unequal_types_that_pca_kmeans_finds_in_part():
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    X, y = make_single_cell(random_state=0)
    sizes = np.bincount(y)
    assert X.shape == (1000, 500) and X.dtype == np.float32 and len(sizes) == 8
    assert sizes[0] / sizes[-1] == pytest.approx(10, rel=0.1) and np.all(np.diff(sizes) <= 0)
    assert X.min() >= 0 and np.isclose(np.expm1(X).sum(1), 1e4, rtol=1e-3).all()  # log1p of counts per 10,000
    np.testing.assert_array_equal(make_single_cell(random_state=0)[0], X)
    counts, _ = make_single_cell(log_normalise=False, random_state=0)
    assert np.array_equal(counts, np.round(counts)) and counts.var(0).mean() > counts.mean(0).mean()  # over-dispersed
    labels = KMeans(8, n_init=10, random_state=0).fit_predict(PCA(50, random_state=0).fit_transform(X))
    assert 0.45 < cluster_accuracy(y, labels) < 0.95  # structure that is there, but not trivial
    with pytest.raises(ValueError, match="too few"):
        make_single_cell(n_genes=50)


class _Sampler:
    """A fitted-looking estimator whose samples of a cluster are its real rows, or one of them repeated."""

    def __init__(self, X, labels, copies):
        self.X, self.labels_, self.copies = X, labels, copies

    def sample(self, n_samples, cluster):
        rows = self.X[self.labels_ == cluster]
        picked = np.zeros(n_samples, int) if self.copies else np.arange(n_samples) % len(rows)
        return rows[picked], np.full(n_samples, cluster)


def test_sample_spread_tells_copies_from_the_cluster_and_agreement_does_not():
    X, labels = make_blobs(300, centers=3, random_state=0)
    varied, copies = _Sampler(X, labels, copies=False), _Sampler(X, labels, copies=True)
    np.testing.assert_allclose(sample_spread(varied, X, n_samples=100), 1.0, atol=0.15)
    np.testing.assert_allclose(sample_spread(varied, csr_matrix(X), n_samples=100), sample_spread(varied, X, n_samples=100))
    np.testing.assert_allclose(sample_spread(copies, X, n_samples=100), 0.0, atol=1e-12)
    assert sample_agreement(copies, X, n_samples=100).min() == 1.0  # the agreement alone passes copies
