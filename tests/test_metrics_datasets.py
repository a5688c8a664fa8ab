import numpy as np
import pytest

from skgancluster.datasets import make_clustergan_synthetic
from skgancluster.metrics import cluster_accuracy, purity_score


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
