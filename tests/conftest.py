"""Shared test configuration: one fast configuration for every estimator.

Every estimator of :func:`skgancluster.all_estimators` is tested; a method
added to the registry is covered without editing the tests. The fast
configuration lives here only: it sets the parameters an estimator has
(read from ``get_params()``) and ignores the others.
"""

import os

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from skgancluster import IMSATClustering, all_estimators

# Small networks, few epochs and a large step size: a fit takes ~0.1 s, yet
# clusters sklearn's check_clustering blobs (ARI > 0.4). Tests that need no
# clustering quality pass max_iter=1 or 2 to make_fast().
FAST_PARAMS = {
    "hidden_units": (16,),
    "conv_channels": (4,),
    "latent_dim": 3,
    "max_iter": 10,
    "batch_size": 16,
    "learning_rate": 3e-3,
    "n_critic": 1,
    "generator_epochs": 0,  # no generator-only epochs after max_iter (tested in test_bspl.py, test_clustergan.py)
    "n_init": 1,  # one run (two estimators screen five by default; n_init is tested in test_model_selection.py)
    "screen_fraction": None,
    "reference_size": 16,  # IMSAT: neighbours within a reference set, densified in blocks this small
    # SKGANCLUSTER_TEST_DEVICE=cuda runs the whole suite on a GPU (the CUDA path).
    "device": os.environ.get("SKGANCLUSTER_TEST_DEVICE", "cpu"),
    "random_state": 0,
}

# SIMIClusterGAN: its first phase in the same fast configuration (cloned by each fit).
FAST_PARAMS["prior_estimator"] = IMSATClustering(
    **{k: v for k, v in FAST_PARAMS.items() if k in IMSATClustering().get_params(deep=False)})

ESTIMATORS = [cls for _, cls in all_estimators()]
ESTIMATOR_IDS = [name for name, _ in all_estimators()]
GENERATIVE = [cls for cls in ESTIMATORS if hasattr(cls, "sample")]


# Per class: SIMI's encoder needs about 60 steps (20 epochs of sklearn's 50-row check
# data) to take over its prior's clusters. The augmented GAN has a classifier of its own
# sizes, and its GAN phase needs about 60 steps before the discriminator's batch-norm
# statistics give its features their scale (with 2 GAN epochs the features are nearly
# constant and nothing is clustered).
FAST_CLASS_PARAMS = {
    "SIMIClusterGAN": {"max_iter": 20},
    "AugmentedGANClustering": {"gan_epochs": 20, "max_iter": 40, "feature_units": 16, "classifier_batch_size": 16,
                               "classifier_learning_rate": 3e-3, "n_replicas": 2, "n_heads": 2},
}


def fast_params(cls, **overrides):
    """The fast configuration of ``cls``: only the parameters it has, plus ``overrides``."""
    names = cls().get_params(deep=False)
    params = {k: v for k, v in FAST_PARAMS.items() if k in names}
    params.update(FAST_CLASS_PARAMS.get(cls.__name__, {}))
    params.update(overrides)
    return params


def make_fast(cls, **overrides):
    """An instance of ``cls`` in the fast configuration."""
    return cls(**fast_params(cls, **overrides))


@pytest.fixture(params=ESTIMATORS, ids=ESTIMATOR_IDS)
def estimator_class(request):
    """Each public estimator class in turn."""
    return request.param


@pytest.fixture(params=GENERATIVE, ids=[cls.__name__ for cls in GENERATIVE])
def generative_class(request):
    """Each public estimator class that has a generator (``sample``) in turn."""
    return request.param


@pytest.fixture(scope="session")
def blobs():
    """60 x 4 float32 blobs with 3 well separated centres."""
    X, y = make_blobs(n_samples=60, n_features=4, centers=3, cluster_std=0.5, random_state=0)
    return X.astype(np.float32), y
