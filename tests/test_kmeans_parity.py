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
