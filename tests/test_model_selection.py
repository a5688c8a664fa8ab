"""Choosing without labels: n_init, score, the scorers, the splitter and select_n_clusters."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits, make_blobs
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgancluster import IMSATClustering, config_context
from skgancluster.metrics import cluster_accuracy
from skgancluster.model_selection import (NClustersSelection, WholeDataSplit, calinski_harabasz_scorer,
                                          davies_bouldin_scorer, internal_index, make_internal_scorer,
                                          choose_n_clusters, neighbour_agreement_scorer,
                                          perturbation_agreement_score, select_n_clusters, silhouette_scorer)

from conftest import make_fast


@pytest.fixture(scope="module")
def four_blobs():
    return make_blobs(400, n_features=6, centers=4, cluster_std=1.0, random_state=3)


def test_n_init_keeps_the_best_scoring_run(estimator_class, blobs):
    X, _ = blobs
    est = make_fast(estimator_class, n_init=2, max_iter=2, n_clusters=3).fit(X)
    assert est.init_scores_.shape == (2,) and est.init_seeds_.shape == (2,)
    # the runs' seeds come from random_state alone (benchmarks/n_init_runs.py trains them apart)
    np.testing.assert_array_equal(est.init_seeds_, np.random.RandomState(0).randint(2**31 - 1, size=2))
    complete = [len(np.unique(clone(est).set_params(n_init=1, random_state=int(s)).fit(X).labels_)) == 3
                for s in est.init_seeds_]
    assert est.best_init_ == max(range(2), key=lambda i: (complete[i], est.init_scores_[i]))
    assert est.score(X) == pytest.approx(est.init_scores_[est.best_init_])
    # the kept run is the single fit with its seed: same labels
    single = clone(est).set_params(n_init=1, random_state=int(est.init_seeds_[est.best_init_])).fit(X)
    np.testing.assert_array_equal(single.labels_, est.labels_)
    assert not hasattr(single, "init_scores_")
    assert est.get_params()["n_init"] == 2 and est.get_params()["random_state"] == 0


def test_screen_fraction_compares_the_runs_early_and_trains_the_best_to_the_end(estimator_class, blobs):
    X, _ = blobs
    est = make_fast(estimator_class, n_init=2, screen_fraction=0.5, max_iter=4, n_clusters=3).fit(X)
    best_seed = int(est.init_seeds_[est.best_init_])
    full = make_fast(estimator_class, max_iter=4, n_clusters=3, random_state=best_seed).fit(X)
    # the kept run is the best run's single fit, trained to the end
    np.testing.assert_array_equal(est.labels_, full.labels_)
    assert est.n_iter_ == full.n_iter_ and est.score(X) == pytest.approx(full.score(X))
    # init_scores_ are the runs' scores when they were stopped, after half their epochs
    screened = []
    for seed in est.init_seeds_:
        run = clone(est).set_params(n_init=1, screen_fraction=None, random_state=int(seed))
        run._screen_fraction = 0.5
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            screened.append(run.fit(X))
        # a screened run is only compared: it warns neither of lost clusters nor of unmatched generator modes
        assert not [w for w in caught if "generator mode" in str(w.message) or "Found" in str(w.message)]
    assert [run.n_iter_ for run in screened] == [round(full.n_iter_ / 2)] * 2
    np.testing.assert_allclose(est.init_scores_, [run.score(X) for run in screened])
    assert est.get_params()["screen_fraction"] == 0.5 and not hasattr(est, "_screen_fraction")


def test_interrupt_while_the_best_screened_run_trains_on_keeps_its_last_epoch(monkeypatch, blobs):
    X, _ = blobs
    est = make_fast(IMSATClustering, max_iter=4, batch_size=20, n_init=2, screen_fraction=0.5)  # 3 steps an epoch
    original, calls = IMSATClustering._train_step, []

    def step(self, x_real, ctx):
        calls.append(ctx.step)
        if len(calls) == 2 * 6 + 7:  # in the third epoch of the kept run, after two screened runs of 2 epochs
            raise KeyboardInterrupt
        return original(self, x_real, ctx)

    monkeypatch.setattr(IMSATClustering, "_train_step", step)
    with config_context(on_interrupt="return"), \
            pytest.warns(UserWarning, match="Interrupted while the best of the n_init=2 screened runs trained on"):
        assert est.fit(X) is est
    assert est.n_iter_ == 2 and est.init_scores_.shape == (2,) and est.predict(X).shape == (len(X),)


@pytest.mark.slow
def test_n_init_keeps_a_better_run_on_digits():
    """Short fits on load_digits, whose accuracy varies from seed to seed: the kept run is among the better ones."""
    X, y = load_digits(return_X_y=True)
    gains = []
    for seed in range(3):
        est = IMSATClustering(10, image_shape=(1, 8, 8), max_iter=15, n_init=4, random_state=seed).fit(X)
        accuracies = [cluster_accuracy(y, clone(est).set_params(n_init=1, random_state=int(s)).fit(X).labels_)
                      for s in est.init_seeds_]
        assert len(set(np.round(accuracies, 2))) > 1  # the runs differ
        kept = cluster_accuracy(y, est.labels_)
        assert kept in accuracies and kept >= np.median(accuracies)
        gains.append(kept - np.mean(accuracies))
    assert np.mean(gains) > 0.01


def _imsat(n_clusters=None):
    return IMSATClustering(n_clusters or 8, hidden_units=(32,), batch_size=50, max_iter=20, random_state=0)


def test_score_is_higher_for_a_clustering_that_matches_the_data(four_blobs):
    X, y = four_blobs
    good, untrained = _imsat(4).fit(X), _imsat(4).set_params(learning_rate=1e-7).fit(X)
    assert cluster_accuracy(y, good.labels_) > 0.95 > cluster_accuracy(y, untrained.labels_)
    assert good.score(X) > untrained.score(X)


def test_a_candidate_that_left_clusters_empty_is_not_chosen():
    def row(k, stability, found):
        return {"n_clusters": k, "stability": stability, "n_found": found}

    # K=9 reproduced the K=8 partition (one cluster empty): the tie goes to 8, not to the larger K
    table = [row(7, 0.8, 7), row(8, 1.0, 8), row(9, 1.0, 8), row(10, 0.9, 10)]
    assert choose_n_clusters(table, "stability") == 8
    assert choose_n_clusters([row(8, 1.0, 8), row(9, 1.0, 9)], "stability") == 9  # complete ties: the larger K
    assert choose_n_clusters([row(8, 0.5, 7), row(9, 0.9, 8)], "stability") == 9  # none complete: all candidates


def test_the_consensus_needs_a_k_both_stable_and_separated():
    def row(k, stability, silhouette):
        return {"n_clusters": k, "stability": stability, "silhouette": silhouette, "n_found": k}

    # K=2 splits two far groups the same way every time: the stability alone chooses it
    far_groups = [row(2, 1.00, 0.39), row(3, 0.38, 0.46), row(4, 0.98, 0.60), row(5, 0.83, 0.56), row(6, 0.56, 0.45)]
    # K=5 splits off a sliver that barely moves the silhouette: the silhouette alone chooses it
    sliver = [row(2, 0.97, 0.54), row(3, 0.33, 0.52), row(4, 0.98, 0.675), row(5, 0.81, 0.676), row(6, 0.69, 0.54)]
    assert (choose_n_clusters(far_groups, "stability"), choose_n_clusters(sliver)) == (2, 5)
    assert choose_n_clusters(far_groups, "consensus") == choose_n_clusters(sliver, "consensus") == 4


def test_perturbation_agreement_drops_when_a_cluster_is_cut_through_its_middle(four_blobs):
    X, _ = four_blobs
    est = _imsat(4).fit(X)
    assert perturbation_agreement_score(est, X) > 0.99
    predict = est._predict_checked
    middle = np.median(X[est.labels_ == 0, 0])

    def cut(rows):  # cluster 0 split in two at its median along the first feature
        labels = predict(rows)
        return np.where((labels == 0) & (rows[:, 0] > middle), 4, labels)

    est._predict_checked = cut
    assert perturbation_agreement_score(est, X) < 0.97
    assert perturbation_agreement_score(est, X, random_state=1) != perturbation_agreement_score(est, X)


@pytest.mark.parametrize("scorer", [neighbour_agreement_scorer, silhouette_scorer, calinski_harabasz_scorer,
                                    davies_bouldin_scorer],
                         ids=["neighbour_agreement", "silhouette", "calinski_harabasz", "davies_bouldin"])
def test_each_scorer_ranks_the_true_partition_above_bad_ones(scorer, four_blobs):
    X, y = four_blobs

    class Fixed:  # a "fitted clusterer" whose predict is given; scorers only call predict
        def __init__(self, labels):
            self.labels = labels

        def predict(self, X_):
            assert X_.shape[0] == X.shape[0]
            return self.labels

    rng = np.random.RandomState(0)
    shuffled = rng.permutation(y)
    split = np.where((y == 1) & (rng.rand(len(y)) < 0.5), 4, y)  # one blob cut in two at random
    assert scorer(Fixed(y), X) > scorer(Fixed(split), X) > scorer(Fixed(shuffled), X)
    if scorer is not neighbour_agreement_scorer:  # a local criterion cannot see two separate blobs merged
        assert scorer(Fixed(y), X) > scorer(Fixed(np.where(y == 1, 0, y)), X)


def test_scorers_never_read_labels(four_blobs):
    X, y = four_blobs
    est = KMeans(4, n_init=3, random_state=0).fit(X)
    assert silhouette_scorer(est, X, y) == silhouette_scorer(est, X, None) == silhouette_scorer(est, X, y[::-1])


def test_internal_index_subsamples_and_handles_one_cluster(four_blobs):
    X, y = four_blobs
    assert internal_index(X, np.zeros(len(X), int)) == -np.inf
    small = internal_index(X, y, sample_size=100)
    assert np.isfinite(small) and small != internal_index(X, y, sample_size=None)
    with pytest.raises(ValueError, match="metric"):
        make_internal_scorer("inertia")


def test_indices_on_fewer_rows_than_the_projection_has_components():
    """30 rows of 64 features: the fixed space keeps one component per row instead of failing."""
    X, y = make_blobs(30, n_features=64, centers=3, random_state=0)
    assert internal_index(X, y) > internal_index(X, np.arange(30) % 3)
    est = IMSATClustering(n_clusters=3, max_iter=2, random_state=0).fit(X)
    assert np.isfinite(est.score(X))


def test_grid_search_with_our_scorer_and_splitter_in_parallel(four_blobs):
    X, _ = four_blobs
    search = GridSearchCV(_imsat(), {"n_clusters": [2, 4, 6]}, scoring=silhouette_scorer, cv=WholeDataSplit(), n_jobs=2)
    search.fit(X)
    assert search.best_params_ == {"n_clusters": 4}
    assert search.best_estimator_.labels_.shape == (len(X),)
    assert search.best_estimator_.predict(X[:5]).shape == (5,)


def test_grid_search_without_scoring_uses_score(four_blobs):
    X, _ = four_blobs
    search = GridSearchCV(_imsat(4), {"learning_rate": [1e-7, 2e-3]}, cv=WholeDataSplit()).fit(X)
    assert search.best_params_ == {"learning_rate": 2e-3}
    assert search.best_score_ == pytest.approx(search.best_estimator_.score(X))


def test_scorer_on_a_pipeline(four_blobs):
    X, _ = four_blobs
    pipe = make_pipeline(StandardScaler(), KMeans(4, n_init=3, random_state=0)).fit(X)
    assert np.isfinite(silhouette_scorer(pipe, X))


def test_whole_data_split():
    X = np.zeros((5, 2))
    (train, test), = WholeDataSplit().split(X)
    np.testing.assert_array_equal(train, np.arange(5))
    np.testing.assert_array_equal(test, np.arange(5))
    assert WholeDataSplit().get_n_splits(X) == 1


def test_select_n_clusters_table_and_errors(four_blobs):
    X, _ = four_blobs
    result = select_n_clusters(KMeans(n_init=3), X, [2, 3, 4, 5, 6], n_pairs=2, refit=True, random_state=0,
                               n_jobs=2)
    assert isinstance(result, NClustersSelection)
    assert [row["n_clusters"] for row in result.table] == [2, 3, 4, 5, 6]
    assert result.n_clusters == 4
    assert result.estimator.n_clusters == 4 and result.estimator.labels_.shape == (len(X),)
    assert "n_clusters=4" in repr(result)
    with pytest.raises(ValueError, match="candidates"):
        select_n_clusters(KMeans(), X, [1, 2])
    with pytest.raises(ValueError, match="criterion"):
        select_n_clusters(KMeans(), X, [2, 3], criterion="inertia")


def test_select_n_clusters_finds_four_blobs_with_a_network_by_its_default_criterion(four_blobs):
    X, _ = four_blobs
    result = select_n_clusters(_imsat(), X, [3, 4, 5, 6], random_state=0)
    assert result.criterion == "silhouette" and result.n_clusters == 4
    assert {"stability", "silhouette_std", "n_found"} <= set(result.table[0])


def test_select_n_clusters_plot(four_blobs):
    X, _ = four_blobs
    result = select_n_clusters(KMeans(n_init=2), X, [3, 4, 5], random_state=0)
    try:
        import matplotlib
    except ImportError:
        with pytest.raises(ImportError, match="matplotlib"):
            result.plot()
        return
    matplotlib.use("Agg")
    ax = result.plot()
    assert len(ax.lines) == 2 and sum(len(axes.lines) for axes in ax.figure.axes) == 3  # silhouette on its own axis
    assert len(ax.get_legend().get_texts()) == 3


@pytest.mark.parametrize("on_interrupt", ["raise", "return"])
def test_interrupt_during_n_init_keeps_the_best_completed_run(monkeypatch, blobs, on_interrupt):
    X, _ = blobs
    est = make_fast(IMSATClustering, max_iter=2, batch_size=20, n_init=3)  # 3 steps an epoch, 6 a run
    original, calls = IMSATClustering._train_step, []

    def step(self, x_real, ctx):
        calls.append(ctx.step)
        if len(calls) == 15:  # in the second epoch of the third run
            raise KeyboardInterrupt
        return original(self, x_real, ctx)

    monkeypatch.setattr(IMSATClustering, "_train_step", step)
    with config_context(on_interrupt=on_interrupt), \
            pytest.warns(UserWarning, match="Interrupted during run 3 of n_init=3; keeping the best of the 2"):
        if on_interrupt == "raise":
            with pytest.raises(KeyboardInterrupt):
                est.fit(X)
        else:
            assert est.fit(X) is est
    assert est.init_scores_.shape == (2,) and est.best_init_ in (0, 1)
    assert est.n_iter_ == 2 and est.predict(X).shape == (len(X),)
