"""Choosing without labels: unsupervised scorers, a whole-data splitter, and the number of clusters.

A clustering is judged here by internal indices (neighbour agreement,
silhouette, Calinski-Harabasz, Davies-Bouldin) computed in a space that does
not depend on the model being judged: the input, scaled as the estimator scales it
(min-max for images, per-feature standardisation for flat rows), projected by
PCA to at most 50 components fitted on the data with a fixed seed. The
learned embedding (``transform``) is not used: each candidate has its own,
and a model that squeezes its embedding into tight blobs would score well
whatever it clusters.

The estimators' ``score`` and ``n_init`` use the sum of the neighbour
agreement and the perturbation agreement (how often a row keeps its cluster
under a small label-preserving perturbation): of the candidates measured,
these two ranked fits by their accuracy where the global indices did not, the
first on load_digits, the second also on MNIST-5k, where the first could not
(``doc/benchmarks.md``, "Choosing without labels");
:class:`~skgancluster.AugmentedGANClustering` and
:class:`~skgancluster.SIMIClusterGAN` use the neighbour agreement alone,
which chose their runs better than the sum. The agreements are local: they do
not see two distant groups merged, and on well-separated blobs they rank fits
less well than the silhouette. Compare with them runs of one ``n_clusters``,
and choose the number of clusters with :func:`select_n_clusters`.
"""

import warnings

import numpy as np
import scipy.sparse as sp
import torch
from joblib import Parallel, delayed
from scipy.stats import rankdata
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score, calinski_harabasz_score, davies_bouldin_score, silhouette_score
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state
from sklearn.utils.validation import _num_samples, check_array

from ._real_data import REAL_PERTURBATION_WITH_SLANT, perturb_real

# Rows an internal index is computed on at most (drawn at random beyond).
_SAMPLE_SIZE = 2000

__all__ = ["internal_index", "neighbour_agreement_score", "perturbation_agreement_score", "make_internal_scorer",
           "neighbour_agreement_scorer", "silhouette_scorer", "calinski_harabasz_scorer", "davies_bouldin_scorer",
           "WholeDataSplit", "select_n_clusters", "choose_n_clusters", "NClustersSelection", "N_CLUSTERS_CRITERIA"]


def _chance_corrected(observed, labels):
    """``(observed - e) / (1 - e)`` with ``e = sum_k p_k^2``, the agreement of labels drawn at random
    with the found cluster sizes: a run that merges clusters does not score higher for its bigger clusters."""
    sizes = np.unique(labels, return_counts=True)[1] / len(labels)
    expected = float((sizes ** 2).sum())
    return float((observed - expected) / (1 - expected))


def neighbour_agreement_score(Z, labels, n_neighbors=10):
    """How often a row's nearest neighbours share its label, corrected for chance.

    The fraction ``a`` of each row's ``n_neighbors`` nearest neighbours (in
    ``Z``) that have its label, against the fraction ``e = sum_k p_k^2``
    expected if labels were drawn at random with the found cluster sizes
    ``p_k``: ``(a - e) / (1 - e)``, 1 when neighbours always agree, 0 at
    chance. The correction keeps a run that merges two clusters from
    scoring higher only because its clusters are bigger.
    """
    labels = np.asarray(labels)
    n_neighbors = min(n_neighbors, len(labels) - 1)
    _, index = NearestNeighbors(n_neighbors=n_neighbors + 1).fit(Z).kneighbors(Z)
    return _chance_corrected((labels[index[:, 1:]] == labels[:, None]).mean(), labels)


def perturbation_agreement_score(estimator, X, *, n_draws=3, sample_size=_SAMPLE_SIZE, random_state=0):
    """How often a row keeps its cluster when it is perturbed, corrected for chance.

    The rows get the package's label-preserving perturbation (images: a
    small shift, rotation, zoom and change of slant; flat rows: Gaussian
    noise of 0.1 in the estimator's scaled units), ``n_draws`` times, and the
    fraction of them that ``estimator.predict`` leaves in their cluster is
    corrected for chance as in :func:`neighbour_agreement_score`. A fit whose
    clusters cut a class along a direction that does not matter (slanted and
    upright digits apart) loses rows to the other cluster under the
    perturbation.

    Parameters
    ----------
    estimator : fitted estimator of this package
        Its clusters, input scaling and ``image_shape_`` are used.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The data.
    n_draws : int, default=3
        Perturbed copies of the rows.
    sample_size : int or None, default=2000
        Rows drawn (with ``random_state``) to compute it on; None uses every row.
    random_state : int, default=0
        Seed of the rows and of the perturbations: fixed, so that fits are
        compared on the same perturbed rows.

    Returns
    -------
    score : float
        1 when no row changes cluster, 0 at chance; ``-inf`` when the rows
        fall in a single cluster.
    """
    X = _score_rows(estimator._check_fitted_X(X), sample_size, random_state)
    return _perturbation_agreement(estimator, X, estimator._predict_checked(X), n_draws, random_state)


def _perturbation_agreement(estimator, X, labels, n_draws=3, random_state=0):
    """:func:`perturbation_agreement_score` of the ``labels`` of rows ``X``, already checked and drawn."""
    if len(np.unique(labels)) < 2:
        return -np.inf
    X = X.toarray() if sp.issparse(X) else X
    offset = torch.as_tensor(np.asarray(estimator.input_offset_, dtype=np.float32))
    scale = torch.as_tensor(np.asarray(estimator.input_scale_, dtype=np.float32))
    scaled = (torch.as_tensor(X, dtype=torch.float32) - offset) / scale
    generator = torch.Generator().manual_seed(random_state)
    kept = []
    for _ in range(n_draws):
        perturbed = perturb_real(scaled, estimator.image_shape_, generator, REAL_PERTURBATION_WITH_SLANT)
        kept.append(estimator._predict_checked((perturbed * scale + offset).numpy()) == labels)
    return _chance_corrected(np.mean(kept), labels)


_INDICES = {
    # name -> (function, sign that makes higher better)
    "neighbour_agreement": (neighbour_agreement_score, 1.0),
    "silhouette": (silhouette_score, 1.0),
    "calinski_harabasz": (calinski_harabasz_score, 1.0),
    "davies_bouldin": (davies_bouldin_score, -1.0),
}


def fixed_space(X, estimator=None, n_components=50, random_state=0):
    """``X`` in the space the indices are computed in, as a dense float64 array.

    Scaled with the estimator's learned input scaling when it has one (it
    depends on ``X`` and ``scaling`` only, not on the training), else
    standardised per feature; then projected by PCA (fixed seed) when wider
    than ``n_components`` (or than the number of rows, on fewer rows).
    """
    X = _as_rows(X)
    X = X.toarray() if sp.issparse(X) else X
    offset, scale = getattr(estimator, "input_offset_", None), getattr(estimator, "input_scale_", None)
    if offset is None or np.shape(offset)[-1:] not in ((), (X.shape[1],)):
        offset, scale = X.mean(0), X.std(0)
    Z = (X - offset) / np.where(np.asarray(scale) > 0, scale, 1.0)
    if n_components is not None:
        n_components = min(n_components, Z.shape[0])  # PCA has at most one component per row
        if Z.shape[1] > n_components:
            Z = PCA(n_components, svd_solver="randomized", random_state=random_state).fit_transform(Z)
    return Z


def internal_index(X, labels, metric="silhouette", *, estimator=None, n_components=50, sample_size=_SAMPLE_SIZE,
                   random_state=0):
    """An internal clustering index of ``labels`` in the fixed space, higher is better.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The data the labels belong to.
    labels : array-like of shape (n_samples,)
        Cluster labels.
    metric : {"neighbour_agreement", "silhouette", "calinski_harabasz", "davies_bouldin"}, \
            default="silhouette"
        The index (see :func:`neighbour_agreement_score`, the estimators'
        ``score``); Davies-Bouldin (lower is better) is returned negated.
    estimator : estimator or None, default=None
        Whose input scaling defines the space (see the module docstring).
    n_components : int or None, default=50
        PCA width of the space; None keeps every feature.
    sample_size : int or None, default=2000
        Rows drawn (with ``random_state``) to compute the index on, so the
        cost stays bounded on large data; None uses every row.
    random_state : int, default=0
        Seed of the PCA and of the row sample: fixed, so that candidates are
        compared on the same rows.

    Returns
    -------
    score : float
        The index, or ``-inf`` when ``labels`` has a single cluster (every
        index needs two).
    """
    if metric not in _INDICES:
        raise ValueError(f"metric={metric!r}; expected one of {sorted(_INDICES)}.")
    X, labels = _as_rows(X), np.asarray(labels)
    rows = _sample_rows(labels.shape[0], sample_size, random_state)
    if rows is not None:
        X, labels = X[rows], labels[rows]
    return _index_in_space(fixed_space(X, estimator, n_components, random_state), labels, metric)


def _index_in_space(Z, labels, metric):
    """``metric`` of ``labels`` on rows ``Z`` already in the fixed space, higher is better."""
    if len(np.unique(labels)) < 2:
        return -np.inf
    fn, sign = _INDICES[metric]
    return sign * float(fn(Z, labels))


def _as_rows(X):
    """A 2-D float64 array or CSR matrix; image arrays ``(n, ...)`` are flattened."""
    if not sp.issparse(X) and np.ndim(X) > 2:
        X = np.asarray(X).reshape(len(X), -1)
    return check_array(X, accept_sparse="csr", dtype=np.float64)


def _score_rows(X, sample_size=_SAMPLE_SIZE, random_state=0):
    """At most ``sample_size`` rows of ``X``, drawn with ``random_state``: the rows a score is computed on."""
    rows = _sample_rows(_num_samples(X), sample_size, random_state)
    return X if rows is None else _take(X, rows)


def _sample_rows(n_samples, sample_size, random_state):
    if sample_size is None or n_samples <= sample_size:
        return None
    return np.sort(check_random_state(random_state).choice(n_samples, sample_size, replace=False))


class _InternalIndexScorer:
    """A ``GridSearchCV`` scorer: ``internal_index`` of ``estimator.predict(X)``."""

    def __init__(self, metric, n_components, sample_size, random_state):
        self.metric, self.n_components = metric, n_components
        self.sample_size, self.random_state = sample_size, random_state

    def __call__(self, estimator, X, y=None):
        rows = _sample_rows(X.shape[0], self.sample_size, self.random_state)
        if rows is not None:  # predict on the rows scored only
            X = _take(X, rows)
        return internal_index(X, estimator.predict(X), self.metric, estimator=_final_step(estimator),
                              n_components=self.n_components, sample_size=None, random_state=self.random_state)

    def __repr__(self):
        return (f"make_internal_scorer({self.metric!r}, n_components={self.n_components}, "
                f"sample_size={self.sample_size}, random_state={self.random_state})")


def _final_step(estimator):
    """The last step of a pipeline (whose scaling would describe its own input, not X): None then."""
    return None if hasattr(estimator, "steps") else estimator


def make_internal_scorer(metric="silhouette", *, n_components=50, sample_size=_SAMPLE_SIZE, random_state=0):
    """A label-free scorer for ``GridSearchCV(scoring=...)``: an internal index of ``predict(X)``.

    Parameters
    ----------
    metric : {"neighbour_agreement", "silhouette", "calinski_harabasz", "davies_bouldin"}, \
            default="silhouette"
        See :func:`internal_index`; higher is better for all.
    n_components, sample_size, random_state
        As in :func:`internal_index`; the rows are drawn before ``predict``,
        so the cost of scoring stays bounded on large data.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y=None) -> float``; ``y`` is never read.

    Examples
    --------
    >>> from sklearn.cluster import KMeans
    >>> from sklearn.datasets import make_blobs
    >>> from skgancluster.model_selection import make_internal_scorer
    >>> X, _ = make_blobs(300, centers=3, random_state=0)
    >>> scorer = make_internal_scorer("silhouette")
    >>> good = scorer(KMeans(3, n_init=3, random_state=0).fit(X), X)
    >>> bad = scorer(KMeans(8, n_init=3, random_state=0).fit(X), X)
    >>> bool(good > bad)
    True
    """
    if metric not in _INDICES:
        raise ValueError(f"metric={metric!r}; expected one of {sorted(_INDICES)}.")
    return _InternalIndexScorer(metric, n_components, sample_size, random_state)


neighbour_agreement_scorer = make_internal_scorer("neighbour_agreement")
silhouette_scorer = make_internal_scorer("silhouette")
calinski_harabasz_scorer = make_internal_scorer("calinski_harabasz")
davies_bouldin_scorer = make_internal_scorer("davies_bouldin")


class WholeDataSplit:
    """One "split" whose training and test rows are both all of ``X``.

    The usual idiom of unsupervised model selection: ``GridSearchCV`` fits each
    candidate on the whole data and scores it there, with a label-free scorer.

    Examples
    --------
    >>> import numpy as np
    >>> from skgancluster.model_selection import WholeDataSplit
    >>> [(train.tolist(), test.tolist()) for train, test in WholeDataSplit().split(np.zeros((3, 2)))]
    [([0, 1, 2], [0, 1, 2])]
    """

    def split(self, X, y=None, groups=None):
        """Yield ``(all rows, all rows)`` once."""
        rows = np.arange(_num_samples(X))
        yield rows, rows

    def get_n_splits(self, X=None, y=None, groups=None):
        """1."""
        return 1

    def __repr__(self):
        return "WholeDataSplit()"


# The indices select_n_clusters reports: the neighbour agreement is left out, as it rises when clusters merge.
_K_INDICES = ("silhouette", "calinski_harabasz", "davies_bouldin")
# The rules select_n_clusters and choose_n_clusters accept, the default first.
N_CLUSTERS_CRITERIA = ("silhouette", "stability", "consensus", "calinski_harabasz", "davies_bouldin")


def _fit_on_rows(estimator, X, rows, n_clusters, seed):
    est = clone(estimator).set_params(n_clusters=n_clusters, random_state=seed)
    with warnings.catch_warnings():  # a candidate K that loses clusters is part of what is measured
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(_take(X, rows))
    return est


def _take(X, rows):
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]


class NClustersSelection:
    """The result of :func:`select_n_clusters`.

    Attributes
    ----------
    table : list of dict
        One row per candidate ``n_clusters``: ``stability`` (mean adjusted Rand
        index between the two subsample fits on their common rows, over the
        pairs), ``stability_std``, ``n_found`` (clusters found, median over
        the fits) and the internal indices ``silhouette``,
        ``calinski_harabasz`` and ``davies_bouldin`` (negated) of the fits'
        labels on all of ``X``, averaged, and ``silhouette_std`` over the fits.
    n_clusters : int
        The chosen number of clusters.
    criterion : str
        The rule that chose it (see :func:`select_n_clusters`).
    estimator : estimator or None
        With ``refit=True``, a clone fitted on all of ``X`` with the chosen
        ``n_clusters``.
    """

    def __init__(self, table, n_clusters, criterion, estimator=None):
        self.table, self.n_clusters, self.criterion, self.estimator = table, n_clusters, criterion, estimator

    def __repr__(self):
        head = f"NClustersSelection(n_clusters={self.n_clusters}, criterion={self.criterion!r})"
        columns = ("n_clusters", "stability", "n_found", "silhouette", "calinski_harabasz", "davies_bouldin")
        lines = ["  " + " ".join(f"{c:>17}" for c in columns)]
        for row in self.table:
            lines.append("  " + " ".join(f"{row[c]:>17.3f}" if isinstance(row[c], float) else f"{row[c]:>17}"
                                         for c in columns))
        return "\n".join([head, *lines])

    def plot(self, ax=None):
        """Stability (left axis) and silhouette (right axis) against ``n_clusters``, the choice marked.

        The silhouette has its own axis because its range is much narrower
        than the stability's. Returns the left axes. Needs matplotlib
        (``pip install matplotlib``).
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError as exc:
            raise ImportError("NClustersSelection.plot needs matplotlib: pip install matplotlib") from exc
        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.2))
        ks = [row["n_clusters"] for row in self.table]
        ax.plot(ks, [row["stability"] for row in self.table], "o-", color="C0",
                label="stability (ARI of subsample fits)")
        ax.set_ylabel("stability")
        right = ax.twinx()
        right.plot(ks, [row["silhouette"] for row in self.table], "s--", color="C1", label="silhouette (fixed space)")
        right.set_ylabel("silhouette")
        ax.axvline(self.n_clusters, color="grey", linestyle=":", label=f"chosen by {self.criterion}: {self.n_clusters}")
        ax.set_xlabel("n_clusters")
        ax.set_xticks(ks)
        handles, labels = ax.get_legend_handles_labels()
        right_handles, right_labels = right.get_legend_handles_labels()
        ax.legend(handles + right_handles, labels + right_labels, fontsize="small")
        return ax


def choose_n_clusters(table, criterion="silhouette"):
    """The ``n_clusters`` a table of :class:`NClustersSelection` chooses by ``criterion``.

    Among the candidates whose fits found all ``K`` clusters (among all when
    none did): the largest ``K`` with the highest ``criterion``; for
    ``"consensus"``, the ``K`` whose ranks by stability and by the silhouette
    add up highest, ties going to the higher silhouette.
    """
    complete = [row for row in table if row["n_found"] == row["n_clusters"]] or table
    if criterion == "consensus":
        ranks = sum(rankdata([row[column] for row in complete]) for column in ("stability", "silhouette"))
        best = max(range(len(complete)),
                   key=lambda i: (ranks[i], complete[i]["silhouette"], complete[i]["n_clusters"]))
        return complete[best]["n_clusters"]
    best = max(row[criterion] for row in complete)
    return max(row["n_clusters"] for row in complete if row[criterion] == best)


def select_n_clusters(estimator, X, candidates, *, criterion="silhouette", subsample=0.8, n_pairs=1, refit=False,
                      random_state=None, n_jobs=None, verbose=0):
    """Fit each candidate number of clusters and choose one, without labels.

    For each ``K`` in ``candidates`` and each of ``n_pairs`` pairs, two clones
    of ``estimator`` with ``n_clusters=K`` (and seeds drawn from
    ``random_state``) are fitted on two random subsamples of ``X`` holding
    ``subsample`` of its rows each. Their *stability* is the adjusted Rand
    index of their ``predict`` on the rows both were trained on: a number of
    clusters that matches the data is found again from other rows and another
    seed, while too many clusters split groups differently each time. The
    internal indices of :func:`internal_index` on all of ``X`` are computed
    for every fit too, in one space for every candidate; by default the
    silhouette chooses ``K``.

    Of the criteria, the silhouette found the true ``K`` most often, over fits
    of every estimator of the package on blobs with 3, 5 and 8 clusters and
    on the ClusterGAN synthetic set over several seeds (``doc/benchmarks.md``,
    "The number of clusters"). The stability missed more often on the synthetic
    set, where two groups of its clusters lie far apart and some estimators
    split them the same way every time with ``K=2``.

    Parameters
    ----------
    estimator : estimator
        A clusterer with ``n_clusters`` and ``random_state`` parameters, e.g.
        ``IMSATClustering()``; it is cloned, never fitted itself.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The data.
    candidates : iterable of int
        The numbers of clusters to try (each >= 2).
    criterion : {"silhouette", "stability", "consensus", "calinski_harabasz", "davies_bouldin"}, \
            default="silhouette"
        The column of the table whose maximum chooses ``K``; ties go to
        the larger ``K`` (a well-separated K is often as stable as every
        smaller one). ``"consensus"`` asks both the stability and the
        silhouette: the ``K`` with the highest sum of its ranks in the two
        columns (ties to the higher silhouette), so that neither a ``K``
        that splits two far groups the same way every time (stable, poorly
        separated) nor one that splits off a sliver (separated as well as
        the truth, unstable) wins alone. A candidate whose fits left clusters empty
        (``n_found`` below ``K``) gave a partition into fewer clusters, so
        it is chosen only if every candidate did. The silhouette can prefer
        ``K + 1`` when a fit splits one cluster in two about as well
        separated, and it judges partitions in the (scaled, projected) input:
        where clusters are not compact there (rings, curved manifolds),
        ``"stability"`` does not share that bias. Read the table, not only
        the choice.
    subsample : float, default=0.8
        Fraction of the rows in each subsample.
    n_pairs : int, default=1
        Subsample pairs per candidate (2 fits each).
    refit : bool, default=False
        Also fit a clone with the chosen ``K`` on all of ``X``.
    random_state : int, RandomState instance or None, default=None
        Draws the subsamples and the fits' seeds.
    n_jobs : int or None, default=None
        Fits run in parallel through joblib (a joblib backend such as Dask
        or Ray spreads them over machines); None is one at a time.
    verbose : int, default=0
        joblib's verbosity.

    Returns
    -------
    selection : NClustersSelection
        The table, the chosen ``n_clusters`` and a ``plot()`` method.

    Examples
    --------
    >>> from sklearn.cluster import KMeans
    >>> from sklearn.datasets import make_blobs
    >>> from skgancluster.model_selection import select_n_clusters
    >>> X, _ = make_blobs(400, n_features=6, centers=4, random_state=3)
    >>> select_n_clusters(KMeans(n_init=3), X, [2, 3, 4, 5, 6], random_state=0).n_clusters
    4
    """
    candidates = [int(k) for k in candidates]
    if not candidates or min(candidates) < 2:
        raise ValueError(f"candidates={candidates}: give at least one number of clusters, each >= 2.")
    if criterion not in N_CLUSTERS_CRITERIA:
        raise ValueError(f"criterion={criterion!r}; expected one of {list(N_CLUSTERS_CRITERIA)}.")
    if not 0 < subsample <= 1:
        raise ValueError(f"subsample={subsample} should be in (0, 1].")
    n_samples = _num_samples(X)
    rng = check_random_state(random_state)
    size = max(2, int(round(subsample * n_samples)))
    jobs = []
    for k in candidates:
        for _ in range(n_pairs):
            pair = [np.sort(rng.choice(n_samples, size, replace=False)) for _ in range(2)]
            jobs.extend((k, rows, int(rng.randint(2**31 - 1))) for rows in pair)
    fitted = Parallel(n_jobs=n_jobs, verbose=verbose)(
        delayed(_fit_on_rows)(estimator, X, rows, k, seed) for k, rows, seed in jobs)
    # One space for every candidate, computed once: the scaling the first fit learned (the fits learn it from
    # their subsamples), on the rows internal_index would draw.
    scored = _sample_rows(n_samples, _SAMPLE_SIZE, 0)
    Z = fixed_space(X if scored is None else _take(X, scored), _final_step(fitted[0]))
    table = []
    for k in candidates:
        runs = [(est, rows) for (kk, rows, _), est in zip(jobs, fitted) if kk == k]
        stability, found, indices = [], [], {name: [] for name in _K_INDICES}
        for (a, rows_a), (b, rows_b) in zip(runs[::2], runs[1::2]):
            common = _take(X, np.intersect1d(rows_a, rows_b))
            stability.append(adjusted_rand_score(a.predict(common), b.predict(common)))
        for est, _ in runs:
            labels = est.predict(X)
            found.append(len(np.unique(labels)))
            labels = labels if scored is None else labels[scored]
            for name in _K_INDICES:
                indices[name].append(_index_in_space(Z, labels, name))
        table.append({"n_clusters": k, "stability": float(np.mean(stability)),
                      "stability_std": float(np.std(stability)), "n_found": int(np.median(found)),
                      **{name: float(np.mean(values)) for name, values in indices.items()},
                      "silhouette_std": float(np.std(indices["silhouette"]))})
    chosen = choose_n_clusters(table, criterion)
    final = clone(estimator).set_params(n_clusters=chosen).fit(X) if refit else None
    return NClustersSelection(table, chosen, criterion, final)
