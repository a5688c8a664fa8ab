"""Pickle, joblib, deepcopy, clone and the safe save/load, for every estimator."""

import copy
import io
import pathlib
import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from conftest import make_fast
from skgancluster import ClusterGANClustering, PreciseFeatureClustering
from skgancluster._persistence import PersistenceMixin


@pytest.fixture(scope="module")
def fitted_estimators(request):
    """One fitted estimator per class, shared by the tests of this module."""
    cache = {}

    def get(cls, X):
        if cls not in cache:
            cache[cls] = make_fast(cls, max_iter=2, n_clusters=3).fit(X)
        return cache[cls]

    return get


@pytest.fixture
def fitted(estimator_class, fitted_estimators, blobs):
    return fitted_estimators(estimator_class, blobs[0])


def _outputs(est, X):
    out = {"predict": est.predict(X), "transform": est.transform(X), "labels_": est.labels_,
           "sample": est.sample(4)[0] if est.random_state is not None and hasattr(est, "sample") else None}
    if hasattr(est, "predict_proba"):
        out["predict_proba"] = est.predict_proba(X)
    return out


def _assert_same_outputs(a, b, X):
    out_a, out_b = _outputs(a, X), _outputs(b, X)
    assert out_a.keys() == out_b.keys()
    for k in out_a:
        if out_a[k] is not None:
            np.testing.assert_array_equal(out_a[k], out_b[k], err_msg=k)


def _pickle(est):
    return pickle.loads(pickle.dumps(est))


def _joblib(est):
    buffer = io.BytesIO()
    joblib.dump(est, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


def _params(est):
    """Parameters by value: an estimator-valued one (SIMI's prior) through its own parameters."""
    return {k: v for k, v in est.get_params(deep=True).items() if not hasattr(v, "get_params")}


COPIES = {"pickle": _pickle, "joblib": _joblib, "deepcopy": copy.deepcopy}


@pytest.mark.parametrize("how", COPIES)
def test_copies_of_fitted_estimator_predict_identically(fitted, blobs, how):
    X, _ = blobs
    copied = COPIES[how](fitted)
    assert copied is not fitted and copied.networks_ is not fitted.networks_
    assert _params(copied) == _params(fitted)
    assert copied.n_iter_ == fitted.n_iter_ and copied.history_.to_list() == fitted.history_.to_list()
    _assert_same_outputs(fitted, copied, X)


@pytest.mark.parametrize("how", COPIES)
def test_copy_is_independent_and_can_keep_training(fitted, blobs, how):
    X, _ = blobs
    before = fitted.predict(X)
    copied = COPIES[how](fitted)
    copied.set_params(warm_start=True, max_iter=1).fit(X)
    assert copied.n_iter_ == fitted.n_iter_ + 1
    np.testing.assert_array_equal(fitted.predict(X), before)
    assert fitted.n_iter_ == 2


@pytest.mark.parametrize("how", COPIES)
def test_copies_of_unfitted_estimator(estimator_class, blobs, how):
    X, _ = blobs
    est = make_fast(estimator_class, max_iter=1)
    copied = COPIES[how](est)
    assert _params(copied) == _params(est)
    with pytest.raises(NotFittedError):
        copied.predict(X)
    _assert_same_outputs(est.fit(X), copied.fit(X), X)


def test_clone(fitted, estimator_class, blobs):
    X, _ = blobs
    cloned = clone(fitted)
    assert _params(cloned) == _params(fitted)
    assert not hasattr(cloned, "networks_") and not hasattr(cloned, "labels_")
    with pytest.raises(NotFittedError):
        cloned.predict(X)
    # same parameters, same random_state: a refit gives the same model
    _assert_same_outputs(fitted, cloned.fit(X), X)
    unfitted = make_fast(estimator_class)
    assert _params(clone(unfitted)) == _params(unfitted)


def _tensors_in(obj, seen=None, depth=0):
    """Every tensor reachable from ``obj`` (modules, optimizer states, dicts, objects)."""
    seen = set() if seen is None else seen
    if id(obj) in seen or depth > 8:
        return
    seen.add(id(obj))
    if torch.is_tensor(obj):
        yield obj
    elif isinstance(obj, PersistenceMixin):  # a nested estimator is pickled through its own __getstate__
        yield from _tensors_in(obj.__getstate__(), seen, depth + 1)
    elif isinstance(obj, torch.nn.Module):
        yield from obj.state_dict().values()
    elif isinstance(obj, torch.optim.Optimizer):
        yield from _tensors_in(obj.state_dict(), seen, depth + 1)
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _tensors_in(v, seen, depth + 1)
    elif isinstance(obj, (list, tuple, set)):
        for v in obj:
            yield from _tensors_in(v, seen, depth + 1)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        yield from _tensors_in(vars(obj), seen, depth + 1)


def test_pickled_state_holds_only_cpu_tensors(fitted):
    state = fitted.__getstate__()
    tensors = list(_tensors_in(state))
    assert tensors, "the walk found no tensor: it does not look where the weights are"
    assert all(t.device.type == "cpu" for t in tensors)
    # and the live estimator was not moved by pickling
    assert next(fitted.networks_.parameters()).device == fitted.device_
    unpickled = _pickle(fitted)
    assert all(t.device.type == "cpu" for t in _tensors_in(pickle.loads(pickle.dumps(state))))
    assert str(unpickled.device_) == str(fitted.device_)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fitted_model_unpickles_on_cpu_only_machine(estimator_class, blobs, monkeypatch):
    X, _ = blobs
    est = make_fast(estimator_class, max_iter=1, device="cuda").fit(X)
    payload = pickle.dumps(est)
    assert all(t.device.type == "cpu" for t in _tensors_in(est.__getstate__()))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    on_cpu = pickle.loads(payload)
    assert on_cpu.device_.type == "cpu"
    assert all(t.device.type == "cpu" for t in _tensors_in(vars(on_cpu)))
    np.testing.assert_array_equal(on_cpu.predict(X), est.predict(X))
    on_cpu.set_params(warm_start=True).fit(X)  # and it trains on


# ------------------------------------------------------------- save / load
def test_save_load_round_trip(fitted, estimator_class, blobs, tmp_path):
    X, _ = blobs
    path = tmp_path / "model.pt"
    fitted.save(path)
    loaded = estimator_class.load(path)
    assert type(loaded) is estimator_class
    assert _params(loaded) == _params(fitted)
    for name in ("n_features_in_", "n_iter_", "n_steps_"):
        assert getattr(loaded, name) == getattr(fitted, name)
    assert loaded.history_.to_list() == fitted.history_.to_list()
    _assert_same_outputs(fitted, loaded, X)
    # and it can keep training
    loaded.set_params(warm_start=True, max_iter=1).fit(X)
    assert loaded.n_iter_ == fitted.n_iter_ + 1


def test_save_load_keeps_feature_names(estimator_class, blobs, tmp_path):
    pd = pytest.importorskip("pandas")
    X, _ = blobs
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    est = make_fast(estimator_class, max_iter=1).fit(df)
    est.save(tmp_path / "m.pt")
    loaded = estimator_class.load(tmp_path / "m.pt")
    np.testing.assert_array_equal(loaded.feature_names_in_, est.feature_names_in_)
    np.testing.assert_array_equal(loaded.predict(df), est.predict(df))


def test_load_refuses_other_class(fitted, estimator_class, tmp_path):
    class Other(estimator_class):
        pass

    fitted.save(tmp_path / "m.pt")
    with pytest.raises(TypeError, match=f"holds a {estimator_class.__name__}, not a Other"):
        Other.load(tmp_path / "m.pt")


class _Payload:
    """Creates ``marker`` when unpickled: what an attacker's file would run."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def test_payload_is_real(tmp_path):
    """Control: the payload does create its marker when unpickled normally."""
    marker = tmp_path / "pwned"
    pickle.loads(pickle.dumps(_Payload(marker)))
    assert marker.exists()


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("where", ["inside a saved file", "as a params entry", "plain pickle"])
def test_load_refuses_malicious_pickle(fitted, estimator_class, tmp_path, where):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    if where == "plain pickle":
        path.write_bytes(pickle.dumps(_Payload(marker)))
    else:
        # a real save() file with the payload added in
        fitted.save(path)
        payload = torch.load(path, weights_only=True)
        if where == "inside a saved file":
            payload["fitted"]["labels_"] = _Payload(marker)
        else:
            payload["params"] = _Payload(marker)
        torch.save(payload, path)
    with pytest.raises(ValueError, match="cannot be loaded safely"):
        estimator_class.load(path)
    assert not marker.exists(), "load() executed the pickled payload"


def test_load_refuses_foreign_files(estimator_class, tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(ValueError, match="not a file written by skgancluster's save"):
        estimator_class.load(path)
    path.write_bytes(b"not a torch file at all")
    with pytest.raises(ValueError, match="(not a file written by|cannot be loaded safely)"):
        estimator_class.load(path)


def test_save_takes_numpy_parameters(tmp_path, blobs):
    X, _ = blobs
    est = make_fast(PreciseFeatureClustering, max_iter=1, n_clusters=3, batch_size=np.int64(16),
                    cluster_weights=np.array([2.0, 1.0, 1.0]), learning_rate=np.float32(3e-3)).fit(X)
    est.save(tmp_path / "m.pt")
    loaded = PreciseFeatureClustering.load(tmp_path / "m.pt")
    assert loaded.batch_size == 16 and loaded.learning_rate == pytest.approx(3e-3)
    np.testing.assert_array_equal(loaded.cluster_weights, [2.0, 1.0, 1.0])
    assert isinstance(loaded.cluster_weights, np.ndarray)
    _assert_same_outputs(est, loaded, X)


def test_save_writes_nothing_that_load_would_refuse(fitted, tmp_path):
    path = tmp_path / "m.pt"
    fitted.extra_ = pathlib.Path("somewhere")  # a fitted attribute with no safe form
    try:
        with pytest.raises(TypeError, match="cannot store the fitted attribute extra_"):
            fitted.save(path)
    finally:
        del fitted.extra_
    assert not path.exists()
    changed = copy.deepcopy(fitted).set_params(hidden_units=(32,))
    with pytest.raises(ValueError, match="hidden_units.*changed since fit"):
        changed.save(path)
    assert not path.exists()


def test_nested_estimator_round_trips(fitted, blobs, tmp_path):
    """A fitted first phase kept as a fitted attribute (as a two-phase method does) is saved with it."""
    X, _ = blobs
    outer = make_fast(ClusterGANClustering, max_iter=1, n_clusters=3).fit(X)
    outer.first_phase_ = fitted
    try:
        outer.save(tmp_path / "m.pt")
    finally:
        del outer.first_phase_
    loaded = ClusterGANClustering.load(tmp_path / "m.pt")
    assert type(loaded.first_phase_) is type(fitted)
    _assert_same_outputs(fitted, loaded.first_phase_, X)
    _assert_same_outputs(outer, loaded, X)


def test_image_estimator_round_trips(estimator_class, tmp_path):
    if "image_shape" not in estimator_class().get_params():
        pytest.skip("no image_shape parameter")
    X = np.random.RandomState(0).randint(0, 256, (40, 16)).astype(np.float32)  # raw 4x4 pixels
    est = make_fast(estimator_class, max_iter=1, n_clusters=2, image_shape=(1, 4, 4)).fit(X)
    est.save(tmp_path / "m.pt")
    for copied in (_pickle(est), copy.deepcopy(est), estimator_class.load(tmp_path / "m.pt")):
        _assert_same_outputs(est, copied, X)
    if hasattr(est, "sample"):
        X_new, _ = est.sample(3)
        assert X_new.min() >= X.min() - 1e-3 and X_new.max() <= X.max() + 1e-3  # back in pixel scale
