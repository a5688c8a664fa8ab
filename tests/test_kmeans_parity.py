"""What a user who swaps ``KMeans`` for one of ours expects to keep working."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from conftest import make_fast


def test_pandas_output_names_the_embedding_columns(estimator_class, blobs):
    X, _ = blobs
    est = make_fast(estimator_class, max_iter=2)
    pipe = make_pipeline(StandardScaler(), est).set_output(transform="pandas")
    out = pipe.fit_transform(pd.DataFrame(X, columns=list("abcd")))
    prefix = estimator_class.__name__.lower()
    names = est.get_feature_names_out()
    assert isinstance(out, pd.DataFrame) and out.shape == (len(X), len(names))
    assert list(out.columns) == list(names) == [f"{prefix}{i}" for i in range(len(names))]
    np.testing.assert_allclose(out.to_numpy(), est.transform(StandardScaler().fit_transform(X)), rtol=1e-5)


def test_hasattr_predict_proba_tells_whether_it_can_be_called(estimator_class, blobs):
    X, _ = blobs
    params = estimator_class().get_params()
    est = make_fast(estimator_class, max_iter=1).fit(X)
    if hasattr(est, "predict_proba"):
        np.testing.assert_allclose(est.predict_proba(X).sum(1), 1.0, rtol=1e-5)
    else:  # BSPLClusterGAN: K-means labels on the codes
        with pytest.raises(AttributeError):
            est.predict_proba(X)
    if params.get("inference") is not None:  # ClusterGAN-like: K-means in the embedding has no probabilities
        est = make_fast(estimator_class, max_iter=1, inference="kmeans").fit(X)
        assert not hasattr(est, "predict_proba")
        assert est.predict(X).shape == (len(X),)


def test_a_fit_with_fewer_clusters_than_asked_says_so(estimator_class, blobs):
    X, _ = blobs
    X = np.repeat(X[:1], len(X), axis=0)  # one point repeated: one cluster is all any method can find
    with pytest.warns(ConvergenceWarning, match=r"Found 1 clusters where n_clusters=3"):
        est = make_fast(estimator_class, max_iter=1, n_clusters=3).fit(X)
    assert np.unique(est.labels_).tolist() == [0]
    if hasattr(est, "predict_proba"):
        assert est.predict_proba(X[:2]).shape == (2, 1)


def test_no_warning_when_every_cluster_is_found(blobs):
    from skgancluster import IMSATClustering

    X, _ = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = make_fast(IMSATClustering, n_clusters=3, max_iter=30).fit(X)
    assert len(np.unique(est.labels_)) == 3


def test_image_arrays_are_read_channels_first(estimator_class, tmp_path):
    rng = np.random.RandomState(0)
    X4 = rng.rand(40, 1, 8, 8).astype(np.float32)
    est = make_fast(estimator_class, max_iter=1, n_clusters=2).fit(X4)
    assert est.image_shape_ == (1, 8, 8)
    labels = est.predict(X4)
    np.testing.assert_array_equal(est.predict(X4.reshape(40, -1)), labels)  # flat rows, same model
    np.testing.assert_array_equal(est.predict(X4[:, 0]), labels)  # (n, height, width)
    np.testing.assert_array_equal(est.predict(X4.tolist()), labels)  # nested lists too
    est.save(tmp_path / "model.pt")
    loaded = estimator_class.load(tmp_path / "model.pt")
    assert loaded.image_shape_ == (1, 8, 8)
    np.testing.assert_array_equal(loaded.predict(X4), labels)
    with pytest.raises(ValueError, match="fitted on images of shape \\(1, 8, 8\\)"):
        est.predict(rng.rand(40, 2, 8, 8))


@pytest.mark.parametrize("X, params, match", [
    (np.random.RandomState(0).rand(20, 8, 8, 3), {}, "channels last.*transpose\\(0, 3, 1, 2\\)"),
    (np.random.RandomState(0).rand(20, 64), {"image_shape": (8, 8, 1)}, "looks like \\(height, width, channels\\)"),
    (np.random.RandomState(0).rand(20, 1, 8, 8), {"image_shape": (1, 4, 16)}, "X holds images of shape \\(1, 8, 8\\)"),
])
def test_channels_last_mistakes_get_a_clear_error(X, params, match):
    from skgancluster import ClusterGANClustering

    with pytest.raises(ValueError, match=match):
        make_fast(ClusterGANClustering, max_iter=1, n_clusters=2, **params).fit(X)


def test_colour_rows_stored_channels_last_are_recognised():
    from skgancluster import ClusterGANClustering

    fields = np.cumsum(np.cumsum(np.random.RandomState(0).randn(30, 3, 16, 16), 2), 3)  # smooth colour images
    channels_first = fields.reshape(30, -1)
    channels_last = fields.transpose(0, 2, 3, 1).reshape(30, -1)
    make_fast(ClusterGANClustering, max_iter=1, n_clusters=2, image_shape=(3, 16, 16)).fit(channels_first)
    with pytest.raises(ValueError, match="look like channels-last images"):
        make_fast(ClusterGANClustering, max_iter=1, n_clusters=2, image_shape=(3, 16, 16)).fit(channels_last)
