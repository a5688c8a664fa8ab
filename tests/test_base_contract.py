"""The base serves a method without a generator: only the method's own ideas in its class.

``InformationClustering`` is the skeleton of ``doc/design.md``: an MLP cluster
head trained on the real-data information and consistency terms alone (an
IMSAT-like method). Everything else (validation, scaling, seeding, the
training driver, inference, pickling, save/load) comes from the base.
"""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skgancluster._base import BaseDeepClustering
from skgancluster._real_data import real_data_terms
from skgancluster.nn import make_trunk


class InformationClustering(BaseDeepClustering):
    """A cluster head trained to be confident, balanced and stable under noise."""

    def __init__(self, n_clusters=8, *, image_shape=None, hidden_units=(32,), conv_channels=(8,), conv_padding=1,
                 max_iter=30, batch_size=32, learning_rate=1e-2, scaling="auto", device="cpu",
                 random_state=None, verbose=0, warm_start=False, n_jobs=None):
        self.n_clusters = n_clusters
        self.image_shape = image_shape
        self.hidden_units = hidden_units
        self.conv_channels = conv_channels
        self.conv_padding = conv_padding
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.scaling = scaling
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.n_jobs = n_jobs

    def _build_networks(self, n_features):
        return torch.nn.ModuleDict({"head": make_trunk(n_features, self.n_clusters, **self._trunk_shapes())})

    def _make_optimizers(self):
        return {"head": self._adam(self.networks_["head"].parameters(), (0.9, 0.999))}

    def _train_step(self, x_real, ctx):
        information, consistency = real_data_terms(self.networks_["head"], x_real, self._image_shape, ctx.rng)
        self.optimizers_["head"].zero_grad(set_to_none=True)
        (information + consistency).backward()
        self.optimizers_["head"].step()
        return {"information": information.detach(), "consistency": consistency.detach()}

    def _embed(self, x):
        return self.networks_["head"].features(x)

    def _mode_proba(self, x):
        return self.networks_["head"](x).softmax(1)


@pytest.fixture(scope="module")
def data():
    X, y = make_blobs(n_samples=300, centers=3, n_features=5, cluster_std=1.0, random_state=0)
    return X * 100 + 7, y


@pytest.fixture(scope="module")
def fitted(data):
    return InformationClustering(3, random_state=0).fit(data[0])


def test_a_method_without_generator_clusters(data, fitted):
    X, y = data
    assert adjusted_rand_score(y, fitted.labels_) > 0.9
    np.testing.assert_array_equal(fitted.predict(X), fitted.labels_)
    np.testing.assert_allclose(fitted.predict_proba(X).sum(1), 1.0, rtol=1e-6)
    assert fitted.transform(X).shape == (300, 32)
    assert not hasattr(fitted, "sample")
    assert fitted.history_[:, "information"][-1] < fitted.history_[:, "information"][0]


def test_a_method_without_generator_persists(data, fitted, tmp_path):
    X, _ = data
    fitted.save(tmp_path / "m.pt")
    for copy in (pickle.loads(pickle.dumps(fitted)), InformationClustering.load(tmp_path / "m.pt")):
        np.testing.assert_array_equal(copy.predict(X), fitted.labels_)
        np.testing.assert_allclose(copy.transform(X), fitted.transform(X), rtol=1e-6)
    np.testing.assert_array_equal(clone(fitted).fit(X).labels_, fitted.labels_)
    pipe = make_pipeline(FunctionTransformer(np.log1p), clone(fitted)).fit(np.abs(X))
    assert pipe.predict(np.abs(X)).shape == (300,)
