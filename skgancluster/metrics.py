"""Clustering quality measures that need a label matching, and how well generation matches the clusters."""

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import issparse
from sklearn.metrics.cluster import contingency_matrix
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors
from sklearn.utils.validation import check_consistent_length, column_or_1d

from ._docs import fill_doc

__all__ = ["cluster_accuracy", "purity_score", "real_agreement", "sample_agreement", "sample_spread"]


def _contingency(y_true, y_pred):
    y_true = column_or_1d(y_true)
    y_pred = column_or_1d(y_pred)
    check_consistent_length(y_true, y_pred)
    if y_true.shape[0] == 0:
        raise ValueError("y_true and y_pred are empty.")
    return contingency_matrix(y_true, y_pred)


@fill_doc
def cluster_accuracy(y_true, y_pred):
    """Clustering accuracy under the best one-to-one matching of labels.

    Cluster ids are matched to classes by the Hungarian algorithm on the
    contingency table, then the fraction of samples whose matched label equals
    the true class is returned. Labels may be any hashable values (ints,
    strings, negative ids), and the numbers of classes and clusters may differ:
    unmatched clusters count as errors.

    Parameters
    ----------
    {{y_true_pred}}

    Returns
    -------
    accuracy : float
        In ``[0, 1]``; 1 means the partitions are identical up to renaming.

    Examples
    --------
    >>> from skgancluster.metrics import cluster_accuracy
    >>> cluster_accuracy([0, 0, 1, 1, 2], ["b", "b", "a", "a", "a"])
    0.8
    """
    table = _contingency(y_true, y_pred)
    rows, cols = linear_sum_assignment(table, maximize=True)
    return float(table[rows, cols].sum() / table.sum())


@fill_doc
def purity_score(y_true, y_pred):
    """Fraction of samples that belong to the majority class of their cluster.

    Parameters
    ----------
    {{y_true_pred}}

    Returns
    -------
    purity : float
        In ``[0, 1]``. Unlike :func:`cluster_accuracy` it rewards splitting
        classes into many clusters.

    Examples
    --------
    >>> from skgancluster.metrics import purity_score
    >>> purity_score([0, 0, 1, 1], [0, 1, 2, 3])
    1.0
    """
    table = _contingency(y_true, y_pred)
    return float(table.max(axis=0).sum() / table.sum())


def sample_agreement(estimator, X, n_samples=200, n_neighbors=5):
    """Per cluster ``k``, the fraction of ``estimator.sample(n_samples, cluster=k)`` that real neighbours put in ``k``.

    A ``n_neighbors``-nearest-neighbour classifier on the real rows ``X``
    and the fitted ``labels_`` judges the generated rows, not the model,
    whose own networks label generated rows by their cluster almost by
    construction.

    Parameters
    ----------
    estimator : fitted estimator with ``sample`` and ``labels_``
    X : array-like of shape (n_samples, n_features)
        The rows ``estimator`` was fitted on.
    n_samples : int, default=200
        Rows generated per cluster.
    n_neighbors : int, default=5

    Returns
    -------
    agreement : ndarray of shape (n_clusters_found,)
        NaN for a cluster that ``sample`` refuses (``RuntimeError``).
    """
    knn = KNeighborsClassifier(n_neighbors).fit(X, estimator.labels_)
    agreement = np.full(len(np.unique(estimator.labels_)), np.nan)
    for k, generated in _cluster_samples(estimator, len(agreement), n_samples):
        agreement[k] = (knn.predict(generated) == k).mean()
    return agreement


def _cluster_samples(estimator, n_clusters, n_samples):
    """``(k, estimator.sample(n_samples, cluster=k)[0])`` for each cluster that ``sample`` does not refuse."""
    for k in range(n_clusters):
        try:
            yield k, estimator.sample(n_samples, cluster=k)[0]
        except RuntimeError:
            continue


def sample_spread(estimator, X, n_samples=200):
    """Per cluster ``k``, how varied ``estimator.sample(n_samples, cluster=k)`` is against the real rows of ``k``.

    The mean distance of the generated rows to their own mean over the same
    for the cluster's real rows: about 1 when the samples vary as much as the
    cluster does, near 0 when they repeat one row. :func:`sample_agreement`
    alone would pass a generator that draws one typical row per cluster.

    Parameters
    ----------
    estimator : fitted estimator with ``sample`` and ``labels_``
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The rows ``estimator`` was fitted on.
    n_samples : int, default=200
        Rows generated per cluster.

    Returns
    -------
    spread : ndarray of shape (n_clusters_found,)
        NaN for a cluster that ``sample`` refuses (``RuntimeError``).
    """
    X, labels = (X.tocsr() if issparse(X) else np.asarray(X)), np.asarray(estimator.labels_)
    spread = np.full(len(np.unique(labels)), np.nan)
    for k, generated in _cluster_samples(estimator, len(spread), n_samples):
        spread[k] = _mean_radius(generated) / _mean_radius(X[labels == k])
    return spread


def _mean_radius(rows):
    """Mean distance of ``rows`` (dense or sparse) to their mean."""
    rows = rows.toarray() if issparse(rows) else np.asarray(rows)
    return np.linalg.norm(rows - rows.mean(0), axis=1).mean()


def real_agreement(X, labels, n_neighbors=5):
    """Per cluster ``k``, the fraction of its rows that the vote of their nearest other rows puts in ``k``.

    The judge of :func:`sample_agreement` applied to the real rows (each row
    left out of its own vote; ties go to the lowest label, as in
    scikit-learn's vote): the reference for :func:`sample_agreement`.
    Where it is low, the cluster's rows sit among other clusters' rows in
    the input space, and samples drawn from the whole cluster land there
    too; a generator that draws the cluster's core can score above it.

    Returns
    -------
    agreement : ndarray of shape (labels.max() + 1,)
    """
    labels = np.asarray(labels)
    neighbours = NearestNeighbors(n_neighbors=n_neighbors + 1).fit(X).kneighbors(X, return_distance=False)[:, 1:]
    n_labels = labels.max() + 1
    votes = np.apply_along_axis(np.bincount, 1, labels[neighbours], minlength=n_labels).argmax(1)
    return np.array([(votes[labels == k] == k).mean() for k in range(n_labels)])
