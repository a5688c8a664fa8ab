"""Training and input robustness, for every estimator of the package."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.exceptions import ConvergenceWarning, NotFittedError

import skgancluster._base as base
from skgancluster import config_context
import skgancluster._neighbours as neighbours
import skgancluster._validation as validation
from conftest import make_fast


def _assert_usable(est, X):
    """Fitted, contiguous finite labels, finite predictions and embedding."""
    n_labels = len(np.unique(est.labels_))
    assert est.labels_.shape == (X.shape[0],)
    np.testing.assert_array_equal(np.unique(est.labels_), np.arange(n_labels))
    labels = est.predict(X)
    assert labels.shape == (X.shape[0],)
    assert labels.min() >= 0 and labels.max() < est.n_clusters
    assert np.isfinite(est.transform(X)).all()
    if hasattr(est, "predict_proba"):
        assert np.isfinite(est.predict_proba(X)).all()


# ------------------------------------------------------------------ divergence
def test_absurd_learning_rate_stops_clearly_never_nan_labels(estimator_class, blobs):
    X, _ = blobs
    est = make_fast(estimator_class, learning_rate=1e6, max_iter=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est.fit(X)
        except (FloatingPointError, ValueError) as exc:
            assert "learning_rate" in str(exc), "the error must say what to change"
            with pytest.raises(NotFittedError):
                est.predict(X)  # a failed fresh fit leaves no half-fitted estimator
            return
    # Otherwise it rolled back to a finite state and said so, or it never diverged
    # (saturated softmax outputs stay finite); either way it is usable.
    said = any(issubclass(w.category, ConvergenceWarning) and "diverged" in str(w.message) for w in caught)
    assert said == (est.n_iter_ < 3)
    _assert_usable(est, X)


def _nan_after(est, n_calls):
    """Make the estimator's ``_train_step`` report NaN losses after ``n_calls`` calls."""
    original, calls = est._train_step, []

    def step(x_real, ctx):
        calls.append(ctx.step)
        losses = original(x_real, ctx)
        if len(calls) > n_calls:
            losses = {k: torch.full_like(v, float("nan")) for k, v in losses.items()}
        return losses

    est._train_step = step


def test_divergence_rolls_back_to_last_finite_epoch_with_warning(estimator_class, blobs):
    X, _ = blobs
    est = make_fast(estimator_class, max_iter=3, batch_size=20)  # 3 steps per epoch
    _nan_after(est, 3)
    with pytest.warns(ConvergenceWarning, match="diverged at epoch 2.*learning_rate.*after epoch 1"):
        est.fit(X)
    del est._train_step
    assert est.n_iter_ == 1 and len(est.history_) == 1
    assert all(np.isfinite(v) for k, v in est.history_[-1].items() if isinstance(v, float))
    _assert_usable(est, X)


def test_divergence_in_first_epoch_raises_and_leaves_unfitted(estimator_class, blobs):
    X, _ = blobs
    est = make_fast(estimator_class, max_iter=2)
    _nan_after(est, 0)
    with pytest.raises(FloatingPointError, match="diverged at epoch 1.*Lower learning_rate"):
        est.fit(X)
    del est._train_step
    with pytest.raises(NotFittedError):
        est.predict(X)


def test_divergence_in_warm_fit_keeps_previous_model(estimator_class, blobs):
    X, _ = blobs
    est = make_fast(estimator_class, max_iter=1, warm_start=True).fit(X)
    before, n_iter = est.predict(X), est.n_iter_
    _nan_after(est, 0)
    with pytest.raises(FloatingPointError, match="diverged"):
        est.fit(X)
    del est._train_step
    assert est.n_iter_ == n_iter and len(est.history_) == n_iter
    np.testing.assert_array_equal(est.predict(X), before)


def test_predict_refuses_nan_networks(estimator_class, blobs):
    X, _ = blobs
    est = make_fast(estimator_class, max_iter=1).fit(X)
    if hasattr(est, "predict_proba"):  # predict takes the argmax batch by batch
        np.testing.assert_array_equal(est.predict(X), est.predict_proba(X).argmax(1))
    with torch.no_grad():
        for parameter in est.networks_.parameters():
            parameter.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="NaN or infinite"):
        est.predict(X)


# ------------------------------------------------------------- awkward data
def _constant_features(X):
    X = X.copy()
    X[:, 1] = 7.0
    X[:, 3] = 0.0
    return X


@pytest.mark.parametrize(
    "make_X",
    [
        _constant_features,
        lambda X: np.repeat(X[:15], 4, axis=0),  # duplicated rows
        lambda X: np.repeat(X[:1], 60, axis=0),  # one row, 60 times
        lambda X: X * 1e6,  # huge magnitudes
        lambda X: X + 1e6,  # huge offset, small spread
        lambda X: X * 1e-6,  # tiny magnitudes
        lambda X: np.round(X * 100 + 128).clip(0, 255),  # raw "pixel" counts
    ],
    ids=["constant features", "duplicated rows", "all rows equal", "x1e6", "+1e6", "x1e-6", "0..255"],
)
def test_awkward_data_trains_without_nan(estimator_class, blobs, make_X):
    X = make_X(blobs[0]).astype(np.float32)
    est = make_fast(estimator_class, max_iter=2).fit(X)
    _assert_usable(est, X)
    for v in est.history_[-1].values():
        assert not isinstance(v, float) or np.isfinite(v)
    if hasattr(est, "sample"):
        X_new, y_new = est.sample(5)
        assert np.isfinite(X_new).all() and X_new.shape == (5, X.shape[1])


# ---------------------------------------------------------------- warm start
def test_warm_start_continues(estimator_class, blobs):
    X, _ = blobs
    est = make_fast(estimator_class, max_iter=2, warm_start=True).fit(X)
    networks = est.networks_
    weights = [p.detach().clone() for p in networks.parameters()]
    est.fit(X)
    assert est.networks_ is networks, "warm_start must keep the trained networks"
    assert est.n_iter_ == 4 and len(est.history_) == 4
    assert est.history_[:, "epoch"] == [1, 2, 3, 4]
    assert any(not torch.equal(a, b) for a, b in zip(weights, networks.parameters()))
    _assert_usable(est, X)

    est.set_params(warm_start=False).fit(X)
    assert est.n_iter_ == 2 and len(est.history_) == 2, "warm_start=False starts over"


def test_warm_start_with_other_feature_count_raises(estimator_class, blobs):
    X, _ = blobs
    est = make_fast(estimator_class, max_iter=1, warm_start=True).fit(X)
    with pytest.raises(ValueError, match="X has 3 features, but .* is expecting 4"):
        est.fit(X[:, :3])


# -------------------------------------------------------- keyboard interrupt
def _interrupt_on_call(est, n):
    original, calls = est._train_step, []

    def step(x_real, ctx):
        calls.append(ctx.step)
        if len(calls) == n:
            raise KeyboardInterrupt
        return original(x_real, ctx)

    est._train_step = step


@pytest.mark.parametrize("on_interrupt", ["raise", "return"])
def test_keyboard_interrupt_keeps_last_completed_epoch(estimator_class, blobs, on_interrupt):
    X, _ = blobs
    est = make_fast(estimator_class, max_iter=5, batch_size=20)  # 3 steps per epoch
    _interrupt_on_call(est, 8)  # in the 3rd epoch
    with config_context(on_interrupt=on_interrupt), \
            pytest.warns(ConvergenceWarning, match="interrupted.*after epoch 2"):
        if on_interrupt == "raise":  # the default: a loop around fit stops too
            with pytest.raises(KeyboardInterrupt):
                est.fit(X)
        else:
            assert est.fit(X) is est
    del est._train_step
    assert est.n_iter_ == 2 and len(est.history_) == 2
    _assert_usable(est, X)
    # and it can go on from there
    est.set_params(warm_start=True, max_iter=1).fit(X)
    assert est.n_iter_ == 3


def test_keyboard_interrupt_before_first_epoch_propagates(estimator_class, blobs):
    X, _ = blobs
    est = make_fast(estimator_class, max_iter=2)
    _interrupt_on_call(est, 1)
    with pytest.warns(ConvergenceWarning, match="interrupted"), pytest.raises(KeyboardInterrupt):
        est.fit(X)
    del est._train_step
    with pytest.raises(NotFittedError):
        est.predict(X)


# ------------------------------------------------------------------- sparse
@pytest.fixture
def densified(monkeypatch):
    """Record the shape of every dense block made from a sparse matrix."""
    shapes = []
    for cls in (sp.csr_matrix, sp.csc_matrix, sp.coo_matrix, sp.csr_array, sp.csc_array, sp.coo_array):
        for name in ("toarray", "todense"):
            original = getattr(cls, name)

            def recorded(self, *args, _original=original, **kwargs):
                shapes.append(self.shape)
                return _original(self, *args, **kwargs)

            monkeypatch.setattr(cls, name, recorded)
    # Chunk sizes of the scaling statistics and of inference, small enough here
    # for the test to see that they are honoured.
    monkeypatch.setattr(validation, "STATS_CHUNK", 16)
    monkeypatch.setattr(base, "INFERENCE_BATCH", 16)
    monkeypatch.setattr(neighbours, "QUERY_ROWS", 16)
    return shapes


@pytest.mark.parametrize("container", [sp.csr_matrix, sp.csc_matrix, sp.csr_array, sp.coo_matrix])
def test_sparse_input_is_densified_per_batch_only(estimator_class, blobs, densified, container):
    X, _ = blobs
    X = X.copy()
    X[X < 0] = 0  # really sparse
    dense = make_fast(estimator_class, max_iter=2, batch_size=10).fit(X)
    densified.clear()
    X_sparse = container(X)
    est = make_fast(estimator_class, max_iter=2, batch_size=10).fit(X_sparse)
    assert densified, "sparse input was never densified: it was converted elsewhere"
    assert max(rows for rows, _ in densified) <= 16, f"dense blocks of {sorted(set(densified))} rows"
    np.testing.assert_array_equal(est.labels_, dense.labels_)
    np.testing.assert_array_equal(est.predict(X_sparse), dense.predict(X))
    np.testing.assert_allclose(est.transform(X_sparse), dense.transform(X), rtol=1e-5, atol=1e-6)
    if hasattr(est, "predict_proba"):
        proba = est.predict_proba(X_sparse)
        assert proba.shape == (X.shape[0], len(np.unique(est.labels_)))
        np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-6)
    assert max(rows for rows, _ in densified) <= 16


# ---------------------------------------------------------------- DataFrames
def test_dataframe_sets_feature_names_and_checks_them(estimator_class, blobs):
    pd = pytest.importorskip("pandas")
    X, _ = blobs
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    est = make_fast(estimator_class, max_iter=1).fit(df)
    np.testing.assert_array_equal(est.feature_names_in_, ["a", "b", "c", "d"])
    np.testing.assert_array_equal(est.predict(df), est.labels_)
    with pytest.raises(ValueError, match="feature names should match"):
        est.predict(df.rename(columns={"a": "z"}))
    with pytest.raises(ValueError, match="feature names should match"):
        est.transform(df[["b", "a", "c", "d"]])
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        est.predict(X)

    plain = make_fast(estimator_class, max_iter=1).fit(X)
    assert not hasattr(plain, "feature_names_in_")
    with pytest.warns(UserWarning, match="X has feature names, but .* was fitted without feature names"):
        plain.predict(df)


# -------------------------------------------------- precision, reproducibility
def test_float64_gives_same_labels_as_float32(estimator_class, blobs):
    X, _ = blobs
    est32 = make_fast(estimator_class, max_iter=2).fit(X)
    est64 = make_fast(estimator_class, max_iter=2).fit(X.astype(np.float64))
    np.testing.assert_array_equal(est32.labels_, est64.labels_)
    np.testing.assert_array_equal(est32.predict(X.astype(np.float64)), est32.labels_)
    assert est32.transform(X).dtype == np.float32
    assert est32.transform(X.astype(np.float64)).dtype == np.float64


def test_same_random_state_same_result(estimator_class, blobs):
    X, _ = blobs
    a = make_fast(estimator_class, max_iter=2, random_state=7).fit(X)
    b = make_fast(estimator_class, max_iter=2, random_state=7).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    if hasattr(a, "sample"):
        np.testing.assert_array_equal(a.sample(5)[0], b.sample(5)[0])
    assert a.history_.to_list()[-1].keys() == b.history_.to_list()[-1].keys()
    for k, v in a.history_[-1].items():
        if k != "dur":
            assert v == b.history_[-1][k]


@pytest.mark.parametrize("random_state", [None, 0, np.random.RandomState(3)], ids=["None", "int", "RandomState"])
def test_global_random_states_untouched(estimator_class, blobs, random_state):
    X, _ = blobs
    np.random.seed(123)
    torch.manual_seed(123)
    np_state, torch_state = np.random.get_state(), torch.get_rng_state()
    est = make_fast(estimator_class, max_iter=1, random_state=random_state).fit(X)
    est.predict(X)
    if hasattr(est, "sample"):
        est.sample(3)
    after = np.random.get_state()
    assert np_state[0] == after[0] and np.array_equal(np_state[1], after[1]) and np_state[2:] == after[2:]
    assert torch.equal(torch_state, torch.get_rng_state())
