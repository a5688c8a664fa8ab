"""Clustering quality measures that need a label matching."""

from scipy.optimize import linear_sum_assignment
from sklearn.metrics.cluster import contingency_matrix
from sklearn.utils.validation import check_consistent_length, column_or_1d

from ._docs import fill_doc

__all__ = ["cluster_accuracy", "purity_score"]


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
