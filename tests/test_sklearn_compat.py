"""scikit-learn's own estimator checks, once over every estimator of the package.

The checks expected to fail are listed here, each with its reason;
``xfail_strict = true`` (pyproject.toml) turns a check that starts passing
into a failure, so that the list never goes stale.
"""

import pytest
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils.estimator_checks import (
    check_dont_overwrite_parameters,
    check_fit1d,
    check_fit2d_1feature,
    check_fit2d_1sample,
    check_fit2d_predict1d,
    check_methods_subset_invariance,
    parametrize_with_checks,
)

import skgancluster
from conftest import ESTIMATORS, ESTIMATOR_IDS, fast_params, make_fast

# These checks set ``n_clusters=1``, which the estimators reject on purpose
# (a clustering needs at least 2 clusters). test_one_cluster_checks_with_two_clusters
# runs them again with n_clusters floored at 2, so that what they really test
# (1-D / 1-sample / 1-feature input, subset invariance, no parameter
# overwritten by fit) is still tested.
ONE_CLUSTER_CHECKS = [
    check_dont_overwrite_parameters,
    check_fit2d_predict1d,
    check_methods_subset_invariance,
    check_fit2d_1sample,
    check_fit2d_1feature,
]
_ONE_CLUSTER = "sets n_clusters=1, which is rejected by design (n_clusters >= 2); rerun below with n_clusters=2"
_SPARSE_PROBA = (
    "the check reads tags.classifier_tags.multi_class whenever the estimator has predict_proba, which is "
    "None for a clusterer (AttributeError in the check itself); sparse input is tested in test_robustness.py"
)


def expected_failed_checks(estimator):
    """Check name -> why it fails, for ``estimator``."""
    expected = {check.__name__: _ONE_CLUSTER for check in ONE_CLUSTER_CHECKS}
    if hasattr(estimator, "predict_proba"):
        expected["check_estimator_sparse_matrix"] = _SPARSE_PROBA
        expected["check_estimator_sparse_array"] = _SPARSE_PROBA
    return expected


@parametrize_with_checks([make_fast(cls) for cls in ESTIMATORS], expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def _at_least_two_clusters(cls):
    class AtLeastTwoClusters(cls):
        @property
        def n_clusters(self):
            return self._n_clusters

        @n_clusters.setter
        def n_clusters(self, value):
            self._n_clusters = max(value, 2)

    AtLeastTwoClusters.__name__ = AtLeastTwoClusters.__qualname__ = cls.__name__
    return AtLeastTwoClusters


@pytest.mark.parametrize("check", [*ONE_CLUSTER_CHECKS, check_fit1d], ids=lambda c: c.__name__)
@pytest.mark.parametrize("cls", ESTIMATORS, ids=ESTIMATOR_IDS)
def test_one_cluster_checks_with_two_clusters(cls, check):
    shim = _at_least_two_clusters(cls)
    check(cls.__name__, shim(**fast_params(cls)))


def test_registry_lists_public_estimators():
    names = [name for name, _ in skgancluster.all_estimators()]
    assert names == sorted(names) and len(set(names)) == len(names) and names
    for name, cls in skgancluster.all_estimators():
        assert cls.__name__ == name and getattr(skgancluster, name) is cls and name in skgancluster.__all__
        # sklearn's mixin order
        mro = cls.__mro__
        assert mro.index(ClusterMixin) < mro.index(TransformerMixin) < mro.index(BaseEstimator)
