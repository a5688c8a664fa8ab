"""The scikit-learn face shared by every deep clustering estimator.

:class:`BaseDeepClustering` implements the estimator contract once: parameter
and input validation, the learned input scaling, device choice, seeding with
local generators, threads, the call into the training driver, batched
inference and the map from labels to the method's output units. Nothing in
it assumes a generator: methods with one add :mod:`skgancluster._generative`.
``doc/design.md`` describes the hooks a method implements.
"""

import numbers
import warnings
from abc import ABCMeta, abstractmethod

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import (BaseEstimator, ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin, _fit_context,
                          clone)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted
from skorch.history import History

from ._config import config_context, get_config
from ._docs import fill_doc
from ._persistence import PersistenceMixin
from .model_selection import _perturbation_agreement, _score_rows, internal_index
from ._training import BatchSource, as_tensor_readonly, run_training, torch_threads
from ._validation import (check_channel_order, check_image_shape, learn_scaling, positive_int_sequence, resolve_device,
                          validate_input)

__all__ = ["BaseDeepClustering"]

INFERENCE_BATCH = 4096  # rows per forward pass at predict/transform time
ROW_BLOCK = 64  # inference batches are padded to a multiple of this many rows
_DIVERGED_OUTPUTS = ("The networks produced NaN or infinite outputs; the model diverged. "
                     "Refit with a lower learning_rate.")


def _plain(value):
    """A parameter value in a form that compares by value (tuples, lists and arrays alike)."""
    if isinstance(value, (tuple, list, np.ndarray)):
        return [_plain(v) for v in value]
    return value.item() if isinstance(value, np.generic) else value


def run_seeds(rng, n_init):
    """The seeds of the ``n_init`` runs, drawn from the numpy RandomState ``rng``."""
    return rng.randint(2**31 - 1, size=n_init)


def best_run(complete, scores):
    """The index of the run ``n_init`` keeps: the best score among the runs that found
    every cluster (a run that lost clusters failed by its own measure, and is kept only
    if every run did)."""
    return max(range(len(scores)), key=lambda i: (complete[i], scores[i]))


@fill_doc
class BaseDeepClustering(PersistenceMixin, ClusterMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin,
                         BaseEstimator, metaclass=ABCMeta):
    """Base class of the deep clustering estimators; not to be used directly.

    See the subclasses for the parameters and fitted attributes.
    """

    _parameter_constraints = {
        "n_clusters": [Interval(numbers.Integral, 1, None, closed="left")],
        "image_shape": [None, tuple, list],
        "hidden_units": [tuple, list],
        "conv_channels": [tuple, list],
        "conv_padding": [Interval(numbers.Integral, 0, 1, closed="both")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left"), StrOptions({"auto"})],
        # >= 2: batch normalisation cannot train on single rows.
        "batch_size": [Interval(numbers.Integral, 2, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "scaling": [StrOptions({"auto", "standard", "minmax"}), None],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "n_jobs": [numbers.Integral, None],
        "n_init": [Interval(numbers.Integral, 1, None, closed="left")],
        "screen_fraction": [Interval(numbers.Real, 0, 1, closed="neither"), None],
    }

    _tuple_params = ("image_shape", "hidden_units", "conv_channels")
    # Parameters that shape the networks or the prior: fixed for the life of a fitted model
    # (a warm fit or save() after set_params changed one of them raises).
    _architecture_params = ("n_clusters", "image_shape", "hidden_units", "conv_channels", "conv_padding",
                            "scaling")
    _auto_samples = 300_000  # real samples seen with max_iter="auto"

    # ----------------------------------------------------------------- hooks
    @abstractmethod
    def _build_networks(self, n_features):
        """Return a ``torch.nn.ModuleDict`` of fresh networks (and set any prior)."""

    @abstractmethod
    def _make_optimizers(self):
        """Return a dict of optimizers over ``self.networks_``."""

    @abstractmethod
    def _train_step(self, x_real, ctx):
        """Update on one scaled real mini-batch; return a dict of 0-d loss tensors.

        ``ctx`` is the :class:`~skgancluster._training.TrainingContext`.
        """

    @abstractmethod
    def _embed(self, x):
        """The embedding returned by ``transform`` (a tensor)."""

    def _mode_proba(self, x):
        """Soft assignment of scaled rows to the method's output units, shape (n, n_units)."""
        raise NotImplementedError

    def _has_proba(self):
        """Whether ``predict_proba`` is available (the rows of ``_mode_proba`` are probabilities)."""
        return True

    def _prepare(self, X):
        """Run before the networks are built in a cold ``fit`` (e.g. a first phase); ``X`` is validated."""

    def _on_epoch_start(self, ctx):
        """Update schedules before each epoch (``ctx.epoch``, ``ctx.total_epoch``)."""

    def _epoch_batch_size(self, ctx):
        """Rows per step in the coming epoch; None is ``batch_size`` (a phase may use its own)."""
        return None

    def _n_epochs(self, n_samples):
        """Epochs this ``fit`` trains for: ``max_iter``, or with "auto" about
        ``_auto_samples`` real samples, ``round(_auto_samples / n_samples)``
        epochs clipped to [1, 200]."""
        if self.max_iter == "auto":
            return int(np.clip(round(self._auto_samples / n_samples), 1, 200))
        return self.max_iter

    def _epoch_record(self):
        """Schedule values to keep in ``history_`` each epoch (not losses)."""
        return {}

    def _training_state(self):
        """Attributes restored with the networks when training rolls back."""
        return {"n_iter_": self.n_iter_, "n_steps_": self.n_steps_}

    def _fit_labels(self, X):
        """Set ``label_modes_`` after training; return the training labels.

        Default: the argmax over output units, keeping only units that some
        training sample fell into.
        """
        modes = self._map_batches(X, lambda x: self._mode_proba(x).argmax(1)).astype(np.int64)
        return self._labels_from_modes(modes)

    def _labels_from_modes(self, modes):
        """Keep the output units some training row fell into as ``label_modes_``; return the rows' labels."""
        self.label_modes_ = np.unique(modes)
        return np.searchsorted(self.label_modes_, modes)

    def _batch_labeler(self):
        """A function from a scaled batch to its labels, -1 for rows the networks map to NaN.

        Its constants go to the device once here: a copy from the host per
        batch would wait for the device's queue on CUDA.
        """
        modes = torch.as_tensor(self.label_modes_, device=self.device_)

        def labels(x):
            proba = self._mode_proba(x)[:, modes]
            return torch.where(proba.isfinite().all(1), proba.argmax(1), -1)

        return labels

    # ------------------------------------------------------------- checking
    def _check_params(self, n_samples, n_features):
        """Checks that need the data; parameter types are checked by scikit-learn."""
        if n_samples < 2:
            raise ValueError(f"n_samples={n_samples}: training needs at least 2 samples (batch normalisation "
                             "cannot learn from one row).")
        if n_samples < self.n_clusters:
            raise ValueError(
                f"n_samples={n_samples} should be >= n_clusters={self.n_clusters}: "
                "cannot make more clusters than there are samples."
            )
        if self.n_jobs == 0:
            raise ValueError("n_jobs == 0 has no meaning; use None (1 thread), a positive int, or -1 for every core.")
        # A method whose networks are MLPs only has no convolution parameters.
        self._conv_channels = positive_int_sequence(getattr(self, "conv_channels", (1,)), "conv_channels")
        image_shape = self.image_shape
        from_input = getattr(self, "_input_image_shape", None)  # X given as an image array
        if from_input is not None:
            if image_shape is not None and tuple(image_shape) != from_input:
                raise ValueError(f"image_shape={tuple(image_shape)} but X holds images of shape {from_input} "
                                 "(channels, height, width).")
            image_shape = from_input
        self._image_shape = check_image_shape(image_shape, n_features, self._conv_channels,
                                              getattr(self, "conv_padding", 1))
        # after the image shape: a method may size its networks by it
        self._hidden_units = positive_int_sequence(self._hidden_units_for(n_features), "hidden_units")

    def _hidden_units_for(self, n_features):
        """``hidden_units``, where a method may resolve a value such as "auto"."""
        return self.hidden_units

    def _architecture(self):
        return {name: _plain(getattr(self, name)) for name in self._architecture_params if hasattr(self, name)}

    def _check_architecture_unchanged(self, action):
        """Refuse to continue or save a fitted model whose shaping parameters were changed."""
        fitted = getattr(self, "_fitted_architecture", None)
        if fitted is None:
            return
        now = self._architecture()
        changed = [f"{k}={fitted[k]!r} -> {now[k]!r}" for k in now if now[k] != fitted.get(k)]
        if changed:
            raise ValueError(
                f"{action} needs the networks' fitted architecture, but {', '.join(changed)} changed "
                "since fit. Set the parameters back, or fit with warm_start=False to start over."
            )

    def _check_fitted_X(self, X):
        check_is_fitted(self, "networks_")
        return validate_input(self, X, reset=False)

    @property
    def _scaling(self):
        if self.scaling == "auto":
            return "minmax" if self._image_shape is not None else "standard"
        return self.scaling

    def _trunk_shapes(self):
        """Keyword arguments of :func:`~skgancluster.nn.make_trunk` that the parameters set."""
        return dict(image_shape=self._image_shape, hidden_units=self._hidden_units,
                    conv_channels=self._conv_channels, conv_padding=self.conv_padding)

    # ------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the networks on ``X`` and cluster it.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; images flattened (see ``image_shape``). Any
            scale: the estimator learns its own input scaling.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        warm = self.warm_start and hasattr(self, "networks_")
        if getattr(self, "n_init", 1) > 1 and not warm:  # a method may leave n_init out
            return self._fit_best_of_n_init(X)
        X = validate_input(self, X, reset=not warm)
        n_samples, n_features = X.shape
        if warm:
            self._check_architecture_unchanged("warm_start")
        self._check_params(n_samples, n_features)
        if not warm:
            check_channel_order(X, self._image_shape)
        seed = self._seed()
        if warm:
            seed = (seed + self.n_iter_) % (2**31 - 1)
        else:
            self.device_ = resolve_device(self.device)
        devices = [self.device_] if self.device_.type == "cuda" else []
        # Weight init and dropout use torch's global random state: fork it so the
        # caller's random state is left exactly as it was.
        interrupted_usable = False
        with torch_threads(self.n_jobs, self.device_), torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            rng = torch.Generator(self.device_).manual_seed(seed)
            try:
                if not warm:
                    self.image_shape_ = self._image_shape
                    self.input_offset_, self.input_scale_ = learn_scaling(
                        X, self._scaling, one_range=self._image_shape is not None)
                    self._prepare(X)
                    self.networks_ = self._build_networks(n_features).to(self.device_)
                    self.optimizers_ = self._make_optimizers()
                    self.n_iter_, self.n_steps_, self.history_ = 0, 0, History()
                    self._fitted_architecture = self._architecture()
                source = BatchSource(X, self.input_offset_, self.input_scale_, self.device_, self.batch_size)
                n_epochs = self._n_epochs(n_samples)
                # A screened run of n_init stops early, its schedules planned for the whole fit.
                stop_after = max(1, round(self._screen_fraction * n_epochs)) if self._is_screened_run() else None
                try:
                    run_training(self, source, n_epochs, rng, stop_after)
                except KeyboardInterrupt:
                    if not self.n_iter_:
                        raise
                    # Re-raised after the kept epochs are made usable (set_config's on_interrupt).
                    self.labels_ = self._fit_labels(X)
                    interrupted_usable = True
                    raise
                self.labels_ = self._fit_labels(X)
                if not self._is_screened_run():  # a screened run is only compared, never kept as it is
                    self._warn_if_clusters_lost()
                if not warm:  # a single run: no n_init selection to report
                    for name in ("init_seeds_", "init_scores_", "best_init_"):
                        self.__dict__.pop(name, None)
            except BaseException:
                # A fresh fit that failed (diverged or interrupted before its
                # first epoch) leaves the estimator unfitted, not half fitted;
                # a warm fit was rolled back to its previous fitted state.
                if not warm and not interrupted_usable:
                    self._forget_fit()
                raise
        return self

    def _fit_best_of_n_init(self, X):
        """Train ``n_init`` times from seeds drawn from ``random_state``; keep the run that scores best.

        The runs are fresh single fits of a clone; runs that found all
        ``n_clusters`` clusters come first, and the kept run's fitted
        attributes become this estimator's. With ``screen_fraction`` the
        runs stop after that fraction of their epochs and the best one is
        trained again from its seed to the end (the same first epochs on a
        CPU, where training is deterministic). On ``KeyboardInterrupt`` the
        best completed run is kept (or the interrupted run's last epoch,
        when none completed), then ``on_interrupt`` decides as for a single
        fit.
        """
        seeds = run_seeds(self._rng(), self.n_init)
        runs, scores, final = [], [], None
        try:
            with config_context(on_interrupt="raise"):
                for seed in seeds:
                    run = self._single_run(seed)
                    run._screen_fraction = self.screen_fraction
                    runs.append(run)
                    run.fit(X)
                    scores.append(run.score(X))
                if self.screen_fraction is not None:
                    final = self._single_run(seeds[self._best_of(runs, scores)])
                    final.fit(X)
        except KeyboardInterrupt:
            if final is not None and hasattr(final, "labels_"):
                message = (f"Interrupted while the best of the n_init={self.n_init} screened runs trained on; "
                           "keeping its last completed epoch.")
            elif scores or hasattr(runs[-1], "labels_"):
                final = None
                kept = f"the best of the {len(scores)} completed runs" if scores else "its last completed epoch"
                message = f"Interrupted during run {len(runs)} of n_init={self.n_init}; keeping {kept}."
            else:
                raise
            warnings.warn(message, stacklevel=3)
            self._adopt_run(runs, scores, seeds, final)
            if get_config()["on_interrupt"] == "raise":
                raise
            return self
        self._adopt_run(runs, scores, seeds, final)
        return self

    def _is_screened_run(self):
        """Whether this fit is a run of ``n_init`` that stops early and is only compared (``screen_fraction``)."""
        return getattr(self, "_screen_fraction", None) is not None

    def _single_run(self, seed):
        return clone(self).set_params(n_init=1, screen_fraction=None, random_state=int(seed))

    def _best_of(self, runs, scores):
        complete = [len(np.unique(run.labels_)) == self.n_clusters for run in runs[:len(scores)]]
        return best_run(complete, scores) if scores else len(runs) - 1

    def _adopt_run(self, runs, scores, seeds, final=None):
        """Make the best run (or ``final``, the best screened run trained to the end) this estimator's fit."""
        best = self._best_of(runs, scores)
        kept = runs[best] if final is None else final
        params = self.get_params(deep=False)
        self._forget_fit()
        self.__dict__.update({k: v for k, v in vars(kept).items() if k not in params and k != "_screen_fraction"})
        self.init_seeds_ = seeds[:len(runs)]
        self.init_scores_ = np.asarray(scores, dtype=np.float64)
        self.best_init_ = best

    def _warn_if_clusters_lost(self):
        """Say so when the fit ended with fewer clusters than ``n_clusters`` (as ``KMeans`` does)."""
        found = len(np.unique(self.labels_))
        if found < self.n_clusters:
            warnings.warn(
                f"Found {found} clusters where n_clusters={self.n_clusters} were asked for: the networks put no "
                f"training sample in the other {self.n_clusters - found}. labels_ and predict use the labels "
                f"0..{found - 1}, and predict_proba has one column per found cluster. Train longer (max_iter), "
                "try another random_state, or ask for fewer clusters.",
                ConvergenceWarning, stacklevel=4,  # the caller of fit (through sklearn's _fit_context)
            )

    def _forget_fit(self):
        """Remove every fitted attribute (public names ending in ``_``)."""
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
            delattr(self, name)
        self.__dict__.pop("_fitted_architecture", None)

    def fit_predict(self, X, y=None):
        """Fit on ``X`` and return the cluster of each sample (``labels_``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Cluster labels.
        """
        return self.fit(X).labels_

    def score(self, X, y=None):
        """A label-free quality of the clustering of ``X``: higher is better.

        The criterion ``n_init`` selects by, and what ``GridSearchCV``
        without ``scoring`` maximises (as ``KMeans.score`` lets it): the sum
        of two agreements, each corrected for chance, on at most 2,000 rows:

        - how often a row's 10 nearest neighbours share its cluster, in a
          space that does not depend on the model (the input as the model
          scales it, PCA to 50 components;
          :func:`skgancluster.model_selection.neighbour_agreement_score`):
          does the clustering follow the data's local structure?
        - how often a row keeps its cluster under a small label-preserving
          perturbation (shift, rotation, zoom and slant of images; noise on
          flat rows; :func:`skgancluster.model_selection.perturbation_agreement_score`):
          are the clusters cut along directions that do not matter?

        It compares fits with the same ``n_clusters``; choose the number of
        clusters with :func:`skgancluster.model_selection.select_n_clusters`.

        {{score_parameters}}
        """
        X = _score_rows(self._check_fitted_X(X))
        labels = self._predict_checked(X)
        score = 0.0
        if self._score_neighbours:
            score += internal_index(X, labels, "neighbour_agreement", estimator=self, sample_size=None)
        if self._score_perturbation:
            score += _perturbation_agreement(self, X, labels)
        return score

    # Which agreements score sums; a method leaves out the one that ranked its runs worse.
    _score_neighbours = True
    _score_perturbation = True

    # ------------------------------------------------------- training helpers
    def _adam(self, params, betas):
        """Adam at ``learning_rate`` for the methods' optimizers.

        The fused kernel (one kernel for all parameters; faster on the CPU
        too, see ``doc/benchmarks.md``) where this torch has it for the
        device, else the default foreach one.
        """
        params, lr = list(params), float(self.learning_rate)  # a numpy scalar would reach the saved state
        try:
            return torch.optim.Adam(params, lr, betas=betas, fused=True)
        except RuntimeError:  # no fused kernel for this device in this torch
            return torch.optim.Adam(params, lr, betas=betas)

    def _scale_learning_rate(self, factor):
        """Set the step size of every optimizer to ``factor * learning_rate``."""
        for optimizer in self.optimizers_.values():
            for group in optimizer.param_groups:
                group["lr"] = float(self.learning_rate * factor)

    def _seed(self):
        """An int seed for torch; never draws from numpy's global state."""
        if self.random_state is None:
            return int(np.random.default_rng().integers(2**31 - 1))
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    def _rng(self):
        """A numpy RandomState for ``random_state``; with None, a fresh one
        (not numpy's global state, which the caller owns)."""
        if self.random_state is None:
            return np.random.RandomState(self._seed())
        return check_random_state(self.random_state)

    def _torch_threads(self):
        return torch_threads(self.n_jobs, getattr(self, "device_", torch.device("cpu")))

    # ------------------------------------------------------------- inference
    def _map_batches(self, X, fn):
        """Apply ``fn`` to scaled batches of ``X`` on the device; gather the results on the host."""
        offset = torch.as_tensor(self.input_offset_, dtype=torch.float32, device=self.device_)
        inv_scale = 1.0 / torch.as_tensor(self.input_scale_, dtype=torch.float32, device=self.device_)
        out = None
        self.networks_.eval()
        with self._torch_threads(), torch.inference_mode():
            for start in range(0, X.shape[0], INFERENCE_BATCH):
                chunk = X[start:start + INFERENCE_BATCH]
                chunk = chunk.toarray() if sp.issparse(chunk) else chunk
                x = as_tensor_readonly(np.ascontiguousarray(chunk)).to(self.device_)
                # Zero rows up to a multiple of ROW_BLOCK: matrix kernels then see the same shapes
                # whatever the number of rows asked for, so a row's outputs do not depend on the
                # rows it is computed with (they differed in the last bit on the CPU).
                n_rows = x.shape[0]
                if n_rows % ROW_BLOCK:  # full blocks need no padded copy
                    x = torch.nn.functional.pad(x, (0, 0, 0, -n_rows % ROW_BLOCK))
                batch = fn((x - offset) * inv_scale)[:n_rows].cpu().numpy()
                if out is None:  # filled in place: no list of batches beside the result
                    out = np.empty((X.shape[0], *batch.shape[1:]), dtype=batch.dtype)
                out[start:start + len(batch)] = batch
        if out.dtype.kind == "f" and not np.isfinite(out).all():
            raise FloatingPointError(_DIVERGED_OUTPUTS)
        return out

    def predict(self, X):
        """Predict the cluster of each sample.

        Parameters
        ----------
        {{X_new}}

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Cluster labels, consistent with ``labels_``.
        """
        return self._predict_checked(self._check_fitted_X(X))

    def _predict_checked(self, X):
        """``predict`` of rows already checked by ``_check_fitted_X``."""
        # Labels batch by batch on the device: no (n_samples, n_clusters) array on the host.
        labels = self._map_batches(X, self._batch_labeler())
        if (labels < 0).any():
            raise FloatingPointError(_DIVERGED_OUTPUTS)
        return labels

    @available_if(lambda est: est._has_proba())
    def predict_proba(self, X):
        """Soft assignment of each sample to the clusters.

        Parameters
        ----------
        {{X_new}}

        Returns
        -------
        proba : ndarray of shape (n_samples, n_labels)
            Rows sum to 1; column ``k`` is cluster ``k`` of ``labels_``
            (``n_labels`` is ``n_clusters`` unless an output unit received
            no training sample, see ``label_modes_``).
        """
        X = self._check_fitted_X(X)
        proba = self._map_batches(X, self._mode_proba)[:, self.label_modes_].astype(np.float64)
        return proba / np.maximum(proba.sum(1, keepdims=True), np.finfo(np.float64).tiny)

    def transform(self, X):
        """Map ``X`` to the latent space the method clusters in.

        Parameters
        ----------
        {{X_new}}

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            The embedding, in the dtype of ``X`` (float32 or float64).
        """
        dtype = getattr(X, "dtype", np.float64)
        X = self._check_fitted_X(X)
        out_dtype = np.float32 if dtype == np.float32 else np.float64
        return self._map_batches(X, self._embed).astype(out_dtype)

    @property
    def _n_features_out(self):
        """Width of ``transform``'s output, for ``get_feature_names_out`` (one row through the networks)."""
        check_is_fitted(self, "networks_")
        return self._map_batches(np.zeros((1, self.n_features_in_), np.float32), self._embed).shape[1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
