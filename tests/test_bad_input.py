"""Bad input gets a clear error naming the problem, for every estimator.

Table-driven: each row is (case id, how to build X / the estimator, the
exception type, a regex the message must match). Nothing is silently fixed.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

from conftest import make_fast

RNG = np.random.RandomState(0)
X_GOOD = RNG.randn(30, 4).astype(np.float32)


def _with(value, row=0, col=0, dtype=np.float64):
    X = X_GOOD.astype(dtype)
    X[row, col] = value
    return X


# (id, X, estimator overrides, exception, message regex) for fit
FIT_CASES = [
    ("nan", _with(np.nan), {}, ValueError, "NaN"),
    ("inf", _with(np.inf), {}, ValueError, "infinity"),
    ("-inf", _with(-np.inf), {}, ValueError, "infinity"),
    ("sparse nan", sp.csr_matrix(_with(np.nan)), {}, ValueError, "NaN"),
    ("sparse inf", sp.csr_matrix(_with(np.inf)), {}, ValueError, "infinity"),
    ("empty", np.empty((0, 4)), {}, ValueError, "0 sample"),
    ("no features", np.empty((30, 0)), {}, ValueError, "0 feature"),
    ("1-D", X_GOOD[:, 0], {}, ValueError, "Expected 2D array, got 1D array"),
    ("5-D", X_GOOD.reshape(30, 1, 1, 2, 2), {}, ValueError, "dim 5"),
    ("str array", np.array([["a", "b"]] * 30), {}, ValueError, "numbers only.*string"),
    ("object array with str", np.array([[1.0, "b"]] * 30, dtype=object), {}, ValueError, "numbers only.*string"),
    ("object array with dict", np.array([[{"a": 1}, 2.0]] * 30, dtype=object), {}, TypeError,
     "numbers only"),
    ("object array with None", np.array([[1.0, None]] * 30, dtype=object), {}, ValueError, "NaN"),
    ("complex", X_GOOD + 1j, {}, ValueError, "[Cc]omplex"),
    ("beyond float32", _with(1e300), {}, ValueError, "too large for float32"),
    ("fewer samples than clusters", X_GOOD[:2], {"n_clusters": 3}, ValueError, "n_samples=2 should be >= n_clusters=3"),
    ("n_clusters=0", X_GOOD, {"n_clusters": 0}, ValueError, "'n_clusters' parameter.*Got 0 "),
    ("n_clusters=-3", X_GOOD, {"n_clusters": -3}, ValueError, "'n_clusters' parameter.*Got -3 "),
    ("n_clusters=2.5", X_GOOD, {"n_clusters": 2.5}, ValueError, "'n_clusters' parameter.*int.*Got 2.5 "),
    ("n_clusters='3'", X_GOOD, {"n_clusters": "3"}, ValueError, "'n_clusters' parameter.*Got '3' "),
    ("n_clusters=None", X_GOOD, {"n_clusters": None}, ValueError, "'n_clusters' parameter.*Got None "),
    ("batch_size=0", X_GOOD, {"batch_size": 0}, ValueError, "'batch_size' parameter.*Got 0 "),
    ("batch_size=-1", X_GOOD, {"batch_size": -1}, ValueError, "'batch_size' parameter.*Got -1 "),
    ("batch_size=1", X_GOOD, {"batch_size": 1}, ValueError, r"'batch_size' parameter.*\[2, inf\).*Got 1 "),
    ("batch_size=2.5", X_GOOD, {"batch_size": 2.5}, ValueError, "'batch_size' parameter.*Got 2.5 "),
    ("max_iter=0", X_GOOD, {"max_iter": 0}, ValueError, "'max_iter' parameter.*Got 0 "),
    ("max_iter=-5", X_GOOD, {"max_iter": -5}, ValueError, "'max_iter' parameter.*Got -5 "),
    ("learning_rate=0", X_GOOD, {"learning_rate": 0}, ValueError, "'learning_rate' parameter.*Got 0 "),
    ("learning_rate=-1", X_GOOD, {"learning_rate": -1.0}, ValueError, "'learning_rate' parameter.*Got -1.0 "),
    ("image_shape wrong size", X_GOOD, {"image_shape": (1, 3, 3)}, ValueError,
     r"image_shape=\(1, 3, 3\) holds 9 values but X has 4 features"),
    ("image_shape 2 entries", X_GOOD, {"image_shape": (2, 2)}, ValueError, "image_shape must have 3 entries"),
    ("image_shape zero", X_GOOD, {"image_shape": (0, 2, 2)}, ValueError, "image_shape must contain positive ints"),
    ("image_shape str", X_GOOD, {"image_shape": "2x2"}, ValueError, "'image_shape' parameter"),
    ("hidden_units zero", X_GOOD, {"hidden_units": (0,)}, ValueError, "hidden_units must contain positive ints"),
    ("hidden_units int", X_GOOD, {"hidden_units": 8}, ValueError, "'hidden_units' parameter"),
    ("scaling unknown", X_GOOD, {"scaling": "robust"}, ValueError, "'scaling' parameter"),
    ("device unknown", X_GOOD, {"device": "tpu"}, ValueError, "device='tpu'"),
    ("device torch has but we do not run on", X_GOOD, {"device": "mps"}, ValueError, "device=.mps. is not supported"),
    ("verbose negative", X_GOOD, {"verbose": -1}, ValueError, "'verbose' parameter"),
    ("warm_start str", X_GOOD, {"warm_start": "yes"}, ValueError, "'warm_start' parameter"),
]


@pytest.mark.parametrize("X, overrides, exc, match", [c[1:] for c in FIT_CASES], ids=[c[0] for c in FIT_CASES])
def test_fit_rejects_bad_input(estimator_class, X, overrides, exc, match):
    params = {k: v for k, v in overrides.items() if k in estimator_class().get_params()}
    if len(params) < len(overrides):
        pytest.skip(f"{estimator_class.__name__} has no parameter {set(overrides) - set(params)}")
    est = make_fast(estimator_class, **{"max_iter": 1, **params})
    with pytest.raises(exc, match=match):
        est.fit(X)
    assert not hasattr(est, "labels_"), "a failed fit must not leave a fitted-looking estimator"


@pytest.fixture(scope="module")
def fitted():
    """One fitted estimator per class, shared by the predict-time cases."""
    cache = {}

    def get(cls):
        if cls not in cache:
            cache[cls] = make_fast(cls, max_iter=1, n_clusters=3).fit(X_GOOD)
        return cache[cls]

    return get


# (id, X) given to a fitted estimator's predict / transform / predict_proba
PREDICT_CASES = [
    ("wrong feature count", X_GOOD[:, :3], ValueError, "X has 3 features, but .* is expecting 4 features"),
    ("too many features", np.hstack([X_GOOD, X_GOOD]), ValueError, "X has 8 features, but .* is expecting 4"),
    ("nan", _with(np.nan), ValueError, "NaN"),
    ("inf", _with(np.inf), ValueError, "infinity"),
    ("sparse nan", sp.csr_matrix(_with(np.nan)), ValueError, "NaN"),
    ("sparse wrong feature count", sp.csr_matrix(X_GOOD[:, :3]), ValueError, "X has 3 features"),
    ("empty", np.empty((0, 4)), ValueError, "0 sample"),
    ("1-D", X_GOOD[0], ValueError, "Expected 2D array, got 1D array"),
    ("3-D", X_GOOD.reshape(30, 2, 2), ValueError, "X holds images of shape .* fitted on flat rows"),
    ("str", np.array([["a", "b", "c", "d"]] * 3), ValueError, "numbers only.*string"),
    ("complex", X_GOOD + 1j, ValueError, "[Cc]omplex"),
]
METHODS = ["predict", "transform", "predict_proba", "fit_predict"]


@pytest.mark.parametrize("method", METHODS[:3])
@pytest.mark.parametrize("X, exc, match", [c[1:] for c in PREDICT_CASES], ids=[c[0] for c in PREDICT_CASES])
def test_predict_rejects_bad_input(estimator_class, fitted, method, X, exc, match):
    est = fitted(estimator_class)
    if not hasattr(est, method):
        pytest.skip(f"{estimator_class.__name__} has no {method}")
    with pytest.raises(exc, match=match):
        getattr(est, method)(X)


@pytest.mark.parametrize("method", ["predict", "transform", "predict_proba", "sample", "save"])
def test_unfitted_estimator_raises_not_fitted(estimator_class, method, tmp_path):
    est = make_fast(estimator_class)
    if not hasattr(est, method):
        pytest.skip(f"{estimator_class.__name__} has no {method}")
    arg = tmp_path / "m.pt" if method == "save" else (1 if method == "sample" else X_GOOD)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(est, method)(arg)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_samples": 0}, "n_samples must be a positive int"),
        ({"n_samples": -2}, "n_samples must be a positive int"),
        ({"n_samples": 1.5}, "n_samples must be a positive int"),
        ({"n_samples": 2, "cluster": 99}, r"cluster must be an int in \[0, "),
        ({"n_samples": 2, "cluster": -1}, r"cluster must be an int in \[0, "),
        ({"n_samples": 2, "cluster": "a"}, r"cluster must be an int in \[0, "),
    ],
)
def test_sample_rejects_bad_arguments(generative_class, fitted, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fitted(generative_class).sample(**kwargs)


def test_bad_input_leaves_fitted_estimator_usable(estimator_class, fitted):
    """A rejected predict does not break the estimator."""
    est = fitted(estimator_class)
    before = est.predict(X_GOOD)
    with pytest.raises(ValueError):
        est.predict(_with(np.nan))
    np.testing.assert_array_equal(est.predict(X_GOOD), before)
