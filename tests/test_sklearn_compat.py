"""scikit-learn's own estimator checks, once over every estimator of the package.

The checks expected to fail are listed here, each with its reason;
``xfail_strict = true`` (pyproject.toml) turns a check that starts passing
into a failure, so that the list never goes stale.
"""

from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils.estimator_checks import parametrize_with_checks

import skgancluster
from conftest import ESTIMATORS, make_fast

_SPARSE_PROBA = (
    "the check reads tags.classifier_tags.multi_class whenever the estimator has predict_proba, which is "
    "None for a clusterer (AttributeError in the check itself); sparse input is tested in test_robustness.py"
)


def expected_failed_checks(estimator):
    """Check name -> why it fails, for ``estimator``."""
    expected = {}
    if hasattr(estimator, "predict_proba"):
        expected["check_estimator_sparse_matrix"] = _SPARSE_PROBA
        expected["check_estimator_sparse_array"] = _SPARSE_PROBA
    return expected


@parametrize_with_checks([make_fast(cls) for cls in ESTIMATORS], expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_registry_lists_public_estimators():
    names = [name for name, _ in skgancluster.all_estimators()]
    assert names == sorted(names) and len(set(names)) == len(names) and names
    for name, cls in skgancluster.all_estimators():
        assert cls.__name__ == name and getattr(skgancluster, name) is cls and name in skgancluster.__all__
        # sklearn's mixin order
        mro = cls.__mro__
        assert mro.index(ClusterMixin) < mro.index(TransformerMixin) < mro.index(BaseEstimator)
