"""The scikit-learn face shared by every GAN clustering estimator.

:class:`BaseGANClustering` implements the estimator contract of
``DESIGN.md`` once: parameter and input validation, the learned input
scaling, device choice, seeding with local generators, the call into the
training driver, batched inference, the label <-> generator-mode mapping,
``sample``, pickling with modules on the CPU and the safe ``save``/``load``.

A method subclasses it and supplies only its own ideas:

``_build_networks(n_features)``
    a :class:`torch.nn.ModuleDict` of its networks (and ``self.prior_``);
``_make_optimizers()``
    a dict of optimizers over ``self.networks_``;
``_train_step(x_real, step)``
    its updates on one real mini-batch, returning 0-d loss tensors;
``_embed(x)`` / ``_mode_proba(x)``
    the latent embedding (``transform``) and, where the method has one, the
    soft assignment to generator modes (``predict_proba``);
and optionally ``_on_epoch_start`` (schedules), ``_fit_labels`` (another
inference rule), ``_training_state`` (attributes a schedule changes),
``_epoch_record`` (schedule values for ``history_``) and ``_n_epochs``.
"""

import contextlib
import copy
import json
import numbers
import os
import pickle
import warnings
from abc import ABCMeta, abstractmethod

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.history import History

from ._augment import augment
from ._training import BatchSource, as_tensor_readonly, run_training
from .losses import information_and_consistency

__all__ = ["BaseGANClustering"]

_FORMAT = "skgancluster-v1"
_INFERENCE_BATCH = 4096  # rows per forward pass at predict/transform time
_DIVERGED_OUTPUTS = ("The networks produced NaN or infinite outputs; the model diverged. "
                     "Refit with a lower learning_rate.")
_CPU = torch.device("cpu")
_STATS_CHUNK = 65536  # rows per chunk when learning the input scaling...
_STATS_CHUNK_ELEMENTS = 2**23  # ...at most this many values (a wide sparse X is densified per chunk)


def _positive_int_sequence(value, name, length=None):
    """Validate a tuple/list of positive ints (``image_shape``, ``hidden_units``)."""
    if not isinstance(value, (tuple, list)) or len(value) == 0:
        raise TypeError(f"{name} must be a non-empty tuple of positive ints, got {value!r}.")
    if any(isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1 for v in value):
        raise ValueError(f"{name} must contain positive ints only, got {value!r}.")
    if length is not None and len(value) != length:
        raise ValueError(f"{name} must have {length} entries, got {value!r}.")
    return tuple(int(v) for v in value)


def resolve_device(device):
    """``"auto"`` -> CUDA when available, else CPU; check an explicit choice."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a torch device; use 'auto', 'cpu' or 'cuda'.") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={str(device)!r} was asked for but CUDA is not available; use 'auto' or 'cpu'.")
    return device


def _on_device(obj, device, depth=0):
    """``obj`` with every tensor and module in it on ``device``.

    Walks dicts, lists, tuples and the ``__dict__`` of plain objects (such as
    a prior holding its weights) a few levels deep. Returns ``obj`` itself
    when nothing needs to move, otherwise a copy: ``obj`` is never changed.
    """
    if torch.is_tensor(obj):
        return obj if obj.device == device else obj.detach().to(device)
    if isinstance(obj, torch.nn.Module):
        tensors = [*obj.parameters(), *obj.buffers()]
        return obj if all(t.device == device for t in tensors) else copy.deepcopy(obj).to(device)
    if depth > 3 or isinstance(obj, (str, bytes, numbers.Number, np.ndarray, type)) or obj is None:
        return obj
    if isinstance(obj, dict):
        items = {k: _on_device(v, device, depth + 1) for k, v in obj.items()}
        if all(items[k] is v for k, v in obj.items()):
            return obj
        new = copy.copy(obj)
        new.update(items)
        return new
    if type(obj) in (list, tuple):
        items = [_on_device(v, device, depth + 1) for v in obj]
        return obj if all(a is b for a, b in zip(items, obj)) else type(obj)(items)
    if hasattr(obj, "__dict__") and not callable(obj):
        items = {k: _on_device(v, device, depth + 1) for k, v in vars(obj).items()}
        if all(items[k] is v for k, v in vars(obj).items()):
            return obj
        new = copy.copy(obj)
        vars(new).update(items)
        return new
    return obj


class BaseGANClustering(ClusterMixin, TransformerMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class of the GAN clustering estimators; not to be used directly.

    See the subclasses for the parameters. Fitted attributes common to all:

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample; labels are contiguous from 0.
    label_modes_ : ndarray of shape (n_labels,)
        Generator mode behind each label: ``sample(cluster=k)`` draws from
        mode ``label_modes_[k]``. Modes that no training sample fell into
        get no label, so labels stay contiguous.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` was a DataFrame with string column names.
    n_iter_ : int
        Epochs trained (summed over ``warm_start`` fits).
    n_steps_ : int
        Real mini-batches processed.
    history_ : skorch.history.History
        One row per epoch: ``epoch``, ``dur`` (seconds) and the mean of each
        loss, e.g. ``est.history_[:, "critic"]``.
    networks_ : torch.nn.ModuleDict
        The trained networks, on ``device_``.
    device_ : torch.device
        Where the networks live.
    input_offset_, input_scale_ : ndarray of shape (n_features_in_,)
        The learned scaling ``(x - offset) / scale`` applied to the input.
    """

    _parameter_constraints = {
        "n_clusters": [Interval(numbers.Integral, 2, None, closed="left")],
        "image_shape": [None, tuple, list],
        "hidden_units": [tuple, list],
        "conv_channels": [tuple, list],
        "conv_padding": [Interval(numbers.Integral, 0, 1, closed="both")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left"), StrOptions({"auto"})],
        # >= 2: batch normalisation (and a GAN) cannot train on single rows.
        "batch_size": [Interval(numbers.Integral, 2, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "scaling": [StrOptions({"auto", "standard", "minmax"}), None],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "n_jobs": [numbers.Integral, None],
    }

    # The real-data cluster-head terms that methods may add (``real_weight``):
    # the perturbation of the consistency term (images: shift in pixels for a
    # 28-pixel image, scaled with the image's size; rotation in degrees; zoom
    # fraction) and the weight of the marginal entropy in the information term
    # (IMSAT's mu); measured in doc/benchmarks.md.
    _real_augmentation = dict(max_shift=3.0, max_rotation=15.0, max_zoom=0.1)
    _marginal_weight = 2.0

    # Parameters given as tuples; JSON turns them into lists, load turns them back.
    _tuple_params = ("image_shape", "hidden_units", "conv_channels")

    # ----------------------------------------------------------------- hooks
    @abstractmethod
    def _build_networks(self, n_features):
        """Return a ``torch.nn.ModuleDict`` of fresh networks; set ``self.prior_``."""

    @abstractmethod
    def _make_optimizers(self):
        """Return a dict of optimizers over ``self.networks_``."""

    @abstractmethod
    def _train_step(self, x_real, step):
        """Update on one scaled real mini-batch; return a dict of 0-d loss tensors."""

    @abstractmethod
    def _embed(self, x):
        """The latent embedding returned by ``transform`` (a tensor)."""

    def _mode_proba(self, x):
        """Soft assignment of scaled rows to generator modes, shape (n, n_modes)."""
        raise NotImplementedError

    def _on_epoch_start(self, epoch, n_epochs):
        """Update schedules; ``epoch`` counts from 0 within this ``fit``."""

    _auto_samples = 300_000  # real samples seen with max_iter="auto"

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

        Default: the argmax over generator modes, keeping only modes that
        some training sample fell into.
        """
        modes = self._map_batches(X, lambda x: self._mode_proba(x).argmax(1)).astype(np.int64)
        self.label_modes_ = np.unique(modes)
        return np.searchsorted(self.label_modes_, modes)

    # ------------------------------------------------------------- checking
    def _check_params(self, n_samples, n_features):
        """Checks that need the data; parameter types are checked by sklearn."""
        if n_samples < self.n_clusters:
            raise ValueError(
                f"n_samples={n_samples} should be >= n_clusters={self.n_clusters}: "
                "cannot make more clusters than there are samples."
            )
        if self.n_jobs == 0:
            raise ValueError("n_jobs == 0 has no meaning; use None (1 thread), a positive int, or -1 for every core.")
        self._hidden_units = _positive_int_sequence(self.hidden_units, "hidden_units")
        self._conv_channels = _positive_int_sequence(self.conv_channels, "conv_channels")
        self._image_shape = None
        if self.image_shape is not None:
            shape = _positive_int_sequence(self.image_shape, "image_shape", length=3)
            if int(np.prod(shape)) != n_features:
                raise ValueError(
                    f"image_shape={shape} holds {int(np.prod(shape))} values but X has "
                    f"{n_features} features; give image_shape=(channels, height, width) "
                    "matching the flattened rows."
                )
            smallest = 1  # the input size that leaves >= 1 pixel after every 4x4 stride-2 layer
            for _ in self._conv_channels:
                smallest = 2 * smallest + 2 - 2 * self.conv_padding
            if min(shape[1:]) < smallest:
                raise ValueError(
                    f"image_shape={shape} is too small for {len(self._conv_channels)} "
                    f"stride-2 layers (conv_channels) with conv_padding={self.conv_padding}; "
                    f"height and width must be >= {smallest}."
                )
            self._image_shape = shape

    def _validate_X(self, X, reset):
        try:
            X = validate_data(
                self, X, reset=reset, accept_sparse="csr", dtype=[np.float32, np.float64],
                ensure_min_samples=1,
            )
        except (ValueError, TypeError) as exc:
            if "could not convert" not in str(exc) and "argument must be" not in str(exc):
                raise
            # Keep the kind of error (TypeError for objects such as dicts).
            raise type(exc)(
                f"X must hold numbers only, but it holds strings or other non-numeric "
                f"values ({exc}). Encode them as numbers first, e.g. with "
                "sklearn.preprocessing.OneHotEncoder."
            ) from exc
        # One working precision: float64 input gives the same result as float32.
        # Values beyond float32's range would silently become infinite.
        values = X.data if sp.issparse(X) else X
        if X.dtype == np.float64 and values.size:
            largest = max(values.max(), -values.min())  # no |X| copy of a large X
            if largest > np.finfo(np.float32).max:
                raise ValueError(
                    f"X contains values too large for float32 (largest magnitude "
                    f"{largest:.3g} > {np.finfo(np.float32).max:.3g}); rescale X first."
                )
        return X.astype(np.float32, copy=False)

    # --------------------------------------------------------------- scaling
    @property
    def _scaling(self):
        if self.scaling == "auto":
            return "minmax" if self.image_shape is not None else "standard"
        return self.scaling

    def _generator_shapes(self):
        """Keyword arguments of ``make_generator`` that the parameters set."""
        return dict(image_shape=self._image_shape, hidden_units=self._hidden_units, conv_channels=self._conv_channels)

    def _trunk_shapes(self):
        """Keyword arguments of ``make_trunk`` that the parameters set."""
        return dict(self._generator_shapes(), conv_padding=self.conv_padding)

    def _generator_output(self):
        """Sigmoid when the scaled data live in [0, 1], linear otherwise."""
        return torch.nn.Sigmoid() if self._scaling == "minmax" else None

    def _learn_scaling(self, X):
        """Per-feature standardisation or min-max range, computed in chunks.

        For images, min-max uses one range for all pixels so that their
        relative intensities are kept.
        """
        n, d = X.shape
        total, total_sq = np.zeros(d), np.zeros(d)
        low, high = np.full(d, np.inf), np.full(d, -np.inf)
        rows = max(1, min(_STATS_CHUNK, _STATS_CHUNK_ELEMENTS // max(d, 1)))
        for start in range(0, n, rows):
            chunk = X[start:start + rows]
            chunk = chunk.toarray() if sp.issparse(chunk) else chunk
            total += chunk.sum(0, dtype=np.float64)
            total_sq += np.square(chunk, dtype=np.float64).sum(0)
            low, high = np.minimum(low, chunk.min(0)), np.maximum(high, chunk.max(0))
        scaling = self._scaling
        if scaling is None:
            offset, scale = np.zeros(d), np.ones(d)
        elif scaling == "standard":
            offset = total / n
            scale = np.sqrt(np.maximum(total_sq / n - offset**2, 0.0))
        else:
            if self._image_shape is not None:
                low, high = np.full(d, low.min()), np.full(d, high.max())
            offset, scale = low, high - low
        # Constant features: leave their scale alone instead of dividing by 0.
        scale = np.where(scale > 1e-12 * np.maximum(1.0, np.abs(offset)), scale, 1.0)
        self.input_offset_, self.input_scale_ = offset, scale

    # ------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the GAN on ``X`` and cluster it.

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
        X = self._validate_X(X, reset=not warm)
        n_samples, n_features = X.shape
        self._check_params(n_samples, n_features)
        seed = self._seed()
        if warm:
            seed = (seed + self.n_iter_) % (2**31 - 1)
        else:
            self.device_ = resolve_device(self.device)
        devices = [self.device_] if self.device_.type == "cuda" else []
        # Weight init and dropout use torch's global generator: fork it so the
        # caller's random state is left exactly as it was.
        with self._torch_threads(), torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            generator = torch.Generator(self.device_).manual_seed(seed)
            self._generator = generator
            if not warm:
                self._learn_scaling(X)
                self.networks_ = self._build_networks(n_features).to(self.device_)
                self.optimizers_ = self._make_optimizers()
                self.n_iter_, self.n_steps_, self.history_ = 0, 0, History()
            source = BatchSource(X, self.input_offset_, self.input_scale_, self.device_, self.batch_size)
            self._source = source
            try:
                run_training(self, source, self._n_epochs(n_samples), generator)
                self.labels_ = self._fit_labels(X)
            except BaseException:
                # A fresh fit that failed (diverged or interrupted before its
                # first epoch) leaves the estimator unfitted, not half fitted;
                # a warm fit was rolled back to its previous fitted state.
                if not warm:
                    self._forget_fit()
                raise
            finally:
                del self._source, self._generator
        return self

    def _forget_fit(self):
        """Remove every fitted attribute (public names ending in ``_``)."""
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
            delattr(self, name)

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

    def _real_data_terms(self, cluster_logits, x_real, logits=None):
        """Information and consistency of a cluster head on a real mini-batch.

        ``cluster_logits`` maps scaled rows to cluster logits; the perturbed
        copy is drawn with ``_real_augmentation`` (see
        :func:`~skgancluster.losses.information_and_consistency`, which also
        says what ``logits`` is for).
        """
        perturbation = dict(self._real_augmentation)
        if self._image_shape is not None:  # the same fraction of the image as 3 pixels of 28
            perturbation["max_shift"] *= min(self._image_shape[1:]) / 28
        x_aug = augment(x_real, self._image_shape, self._generator, **perturbation)
        return information_and_consistency(cluster_logits, x_real, x_aug, self._marginal_weight, logits)

    def _scale_learning_rate(self, factor):
        """Set the step size of every optimizer to ``factor * learning_rate``."""
        for optimizer in self.optimizers_.values():
            for group in optimizer.param_groups:
                group["lr"] = self.learning_rate * factor

    def _adam(self, params, betas):
        """Adam at ``learning_rate`` for the methods' optimizers.

        The fused kernel (one kernel for all parameters; +4 % samples per
        CPU-second on the CPU, see ``doc/benchmarks.md``) where this torch
        has it for the device, else the default foreach one.
        """
        params = list(params)
        try:
            return torch.optim.Adam(params, self.learning_rate, betas=betas, fused=True)
        except RuntimeError:  # no fused kernel for this device in this torch
            return torch.optim.Adam(params, self.learning_rate, betas=betas)

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

    @contextlib.contextmanager
    def _torch_threads(self):
        """Run with ``n_jobs`` torch threads on the CPU, then restore the caller's.

        torch's thread count is process-wide, so it is set only for the
        duration of a call. As in scikit-learn, ``None`` means 1 and ``-1``
        every core this process may use (measured in doc/benchmarks.md: on a
        busy machine extra threads are several times slower, and one thread
        per fit is what GridSearchCV(n_jobs=...) needs).
        """
        if getattr(self, "device_", torch.device("cpu")).type != "cpu":
            yield
            return
        n_jobs = 1 if self.n_jobs is None else self.n_jobs
        n_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        n_threads = n_jobs if n_jobs > 0 else max(1, n_cores + 1 + n_jobs)
        previous = torch.get_num_threads()
        torch.set_num_threads(n_threads)
        try:
            yield
        finally:
            torch.set_num_threads(previous)

    # ------------------------------------------------------------- inference
    def _map_batches(self, X, fn):
        """Apply ``fn`` to scaled batches of ``X`` on the device; gather the results on the host."""
        offset = torch.as_tensor(self.input_offset_, dtype=torch.float32, device=self.device_)
        inv_scale = 1.0 / torch.as_tensor(self.input_scale_, dtype=torch.float32, device=self.device_)
        out = None
        self.networks_.eval()
        with self._torch_threads(), torch.inference_mode():
            for start in range(0, X.shape[0], _INFERENCE_BATCH):
                chunk = X[start:start + _INFERENCE_BATCH]
                chunk = chunk.toarray() if sp.issparse(chunk) else chunk
                x = as_tensor_readonly(np.ascontiguousarray(chunk)).to(self.device_)
                batch = fn((x - offset) * inv_scale).cpu().numpy()
                if out is None:  # filled in place: no list of batches beside the result
                    out = np.empty((X.shape[0], *batch.shape[1:]), dtype=batch.dtype)
                out[start:start + len(batch)] = batch
        if out.dtype.kind == "f" and not np.isfinite(out).all():
            raise FloatingPointError(_DIVERGED_OUTPUTS)
        return out

    def _check_fitted_X(self, X):
        check_is_fitted(self, "networks_")
        return self._validate_X(X, reset=False)

    def predict(self, X):
        """Predict the cluster of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            New data.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Cluster labels, consistent with ``labels_``.
        """
        X = self._check_fitted_X(X)
        # Labels batch by batch on the device: no (n_samples, n_clusters) array on the host.
        labels = self._map_batches(X, self._batch_labeler())
        if (labels < 0).any():
            raise FloatingPointError(_DIVERGED_OUTPUTS)
        return labels

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

    def predict_proba(self, X):
        """Soft assignment of each sample to the clusters.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            New data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_labels)
            Rows sum to 1; column ``k`` is cluster ``k`` of ``labels_``
            (``n_labels`` is ``n_clusters`` unless a generator mode received
            no training sample, see ``label_modes_``).
        """
        X = self._check_fitted_X(X)
        proba = self._map_batches(X, self._mode_proba)[:, self.label_modes_].astype(np.float64)
        return proba / np.maximum(proba.sum(1, keepdims=True), np.finfo(np.float64).tiny)

    def transform(self, X):
        """Map ``X`` to the latent space the method clusters in.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            New data.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            The embedding, in the dtype of ``X`` (float32 or float64).
        """
        dtype = getattr(X, "dtype", np.float64)
        X = self._check_fitted_X(X)
        out_dtype = np.float32 if dtype == np.float32 else np.float64
        return self._map_batches(X, self._embed).astype(out_dtype)

    # ------------------------------------------------------------ generation
    def _generate(self, modes, generator):
        """Generated rows (scaled space) for a tensor of generator modes."""
        z = self.prior_.sample(len(modes), generator, self.device_, clusters=modes)[0]
        return self.networks_["generator"](z)

    def _label_weights(self):
        """Prior probability of each label's generator mode, renormalised."""
        weights = getattr(self.prior_, "weights", None)
        if weights is None:
            return np.full(len(self.label_modes_), 1.0 / len(self.label_modes_))
        weights = weights.cpu().numpy()[self.label_modes_].astype(np.float64)
        return weights / weights.sum()

    def _check_cluster(self, cluster, name="cluster"):
        n_labels = len(self.label_modes_)
        if isinstance(cluster, bool) or not isinstance(cluster, numbers.Integral) or not 0 <= cluster < n_labels:
            raise ValueError(f"{name} must be an int in [0, {n_labels}), got {cluster!r}.")
        return int(cluster)

    def _inverse_scale(self, x):
        return x.cpu().numpy().astype(np.float64) * self.input_scale_ + self.input_offset_

    def sample(self, n_samples=1, cluster=None):
        """Generate samples from the trained generator.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to generate.
        cluster : int or None, default=None
            Draw all samples from this cluster (a label of ``labels_``);
            ``None`` draws clusters from the prior.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            Generated samples in the scale of the training data.
        y : ndarray of shape (n_samples,)
            The cluster label each sample was generated from.
        """
        check_is_fitted(self, "networks_")
        if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive int, got {n_samples!r}.")
        rng = self._rng()
        if cluster is None:
            labels = rng.choice(len(self.label_modes_), size=n_samples, p=self._label_weights())
        else:
            labels = np.full(n_samples, self._check_cluster(cluster))
        generator = torch.Generator(self.device_).manual_seed(int(rng.randint(2**31 - 1)))
        modes = torch.as_tensor(self.label_modes_[labels], device=self.device_)
        self.networks_.eval()
        with self._torch_threads(), torch.inference_mode():
            x = torch.cat([self._generate(modes[i:i + _INFERENCE_BATCH], generator)
                           for i in range(0, n_samples, _INFERENCE_BATCH)])
        return self._inverse_scale(x), labels

    # ----------------------------------------------------------- persistence
    def __getstate__(self):
        # A copy: object.__getstate__ returns the live __dict__, which the lines below must not edit.
        state = dict(super().__getstate__())
        if "networks_" in state:
            # Modules, optimizer states and any other tensor (a prior's
            # weights, ...) travel on the CPU, so a model fitted on CUDA
            # unpickles on a machine without it.
            state = {k: _on_device(v, _CPU) if k != "optimizers_" else v for k, v in state.items()}
            state["optimizers_"] = {k: _on_device(o.state_dict(), _CPU) for k, o in self.optimizers_.items()}
            state["device_"] = str(self.device_)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "networks_" in state:
            self._place_on_device(torch.device(state["device_"]), state["optimizers_"])

    def _place_on_device(self, device, optimizer_states):
        """Move the networks to ``device`` (CPU when CUDA is gone) and rebuild optimizers."""
        if device.type == "cuda" and not torch.cuda.is_available():
            device = torch.device("cpu")
        self.device_ = device
        self.networks_.to(device)
        for name, value in list(vars(self).items()):
            if name not in ("networks_", "optimizers_", "device_"):
                setattr(self, name, _on_device(value, device))
        self.optimizers_ = self._make_optimizers()
        for name, opt_state in optimizer_states.items():
            self.optimizers_[name].load_state_dict(opt_state)

    def save(self, path):
        """Save the fitted estimator in a format that is safe to load.

        The file holds the parameters as JSON and the weights, optimizer
        states and fitted arrays as tensors; :meth:`load` reads it with
        ``torch.load(..., weights_only=True)``, which refuses arbitrary
        pickled objects.

        Parameters
        ----------
        path : str or path-like or file object
            Where to write.
        """
        check_is_fitted(self, "networks_")
        params = self.get_params(deep=False)
        if not (params["random_state"] is None or isinstance(params["random_state"], numbers.Integral)):
            params["random_state"] = None  # a RandomState object is not JSON
        params["device"] = str(params["device"])
        fitted = {}
        for name, value in vars(self).items():
            if not name.endswith("_") or name.startswith("_") or name in ("networks_", "optimizers_", "prior_"):
                continue
            if name == "history_":
                value = json.dumps(value.to_list())
            elif isinstance(value, np.ndarray):
                value = value.tolist() if value.dtype == object else torch.from_numpy(np.array(value))
            elif isinstance(value, torch.device):
                value = str(value)
            elif isinstance(value, np.generic):
                value = value.item()
            fitted[name] = value
        payload = {
            "format": _FORMAT,
            "class": type(self).__name__,
            "params": json.dumps(params),
            "fitted": fitted,
            "networks": _on_device(self.networks_.state_dict(), _CPU),
            "optimizers": {k: _on_device(o.state_dict(), _CPU) for k, o in self.optimizers_.items()},
        }
        torch.save(payload, path)

    @classmethod
    def load(cls, path):
        """Load an estimator written by :meth:`save`.

        Parameters
        ----------
        path : str or path-like or file object
            The file to read.

        Returns
        -------
        estimator : instance of this class
            Fitted, on CUDA if it was saved from CUDA and CUDA is available,
            else on the CPU.
        """
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            raise ValueError(
                f"{path!r} cannot be loaded safely: it is not a file written by "
                "skgancluster's save(), or it holds objects other than tensors and "
                f"plain data, which load() refuses to unpickle. ({exc})"
            ) from exc
        if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
            raise ValueError(f"{path!r} is not a file written by skgancluster's save().")
        if payload["class"] != cls.__name__:
            raise TypeError(f"{path!r} holds a {payload['class']}, not a {cls.__name__}.")
        params = json.loads(payload["params"])
        for name in cls._tuple_params:
            if isinstance(params.get(name), list):
                params[name] = tuple(params[name])
        est = cls(**params)
        for name, value in payload["fitted"].items():
            if not (name.isidentifier() and name.endswith("_") and not name.startswith("_")):
                raise ValueError(f"{path!r} holds {name!r}, which is not a fitted attribute.")
            if name == "history_":
                value = History(json.loads(value))
            elif torch.is_tensor(value):
                value = value.numpy()
            elif name == "feature_names_in_":
                value = np.asarray(value, dtype=object)
            setattr(est, name, value)
        est._check_params(est.n_clusters, est.n_features_in_)
        est.networks_ = est._build_networks(est.n_features_in_)
        est.networks_.load_state_dict(payload["networks"])
        est.networks_.eval()
        est._place_on_device(torch.device(payload["fitted"]["device_"]), payload["optimizers"])
        return est

    def _expected_failed_checks(self):
        """Checks of ``sklearn.utils.estimator_checks`` expected to fail, with why.

        scikit-learn >= 1.6 takes these through the ``expected_failed_checks``
        argument of ``parametrize_with_checks`` / ``check_estimator`` (they are
        no longer a tag); ``tests/test_sklearn_compat.py`` passes this dict.

        Returns
        -------
        expected_failed_checks : dict of str to str
            Check name -> reason.
        """
        one_cluster = (
            "sets n_clusters=1, which is rejected by design (a clustering needs at "
            "least 2 clusters, n_clusters >= 2); tests/test_sklearn_compat.py runs "
            "this check again with n_clusters floored at 2"
        )
        sparse_proba = (
            "the check reads tags.classifier_tags.multi_class whenever the estimator "
            "has predict_proba, which is None for a clusterer (AttributeError in the "
            "check itself); sparse input is tested in tests/test_robustness.py"
        )
        expected = {
            "check_dont_overwrite_parameters": one_cluster,
            "check_fit2d_predict1d": one_cluster,
            "check_methods_subset_invariance": one_cluster,
            "check_fit2d_1sample": one_cluster,
            "check_fit2d_1feature": one_cluster,
        }
        if hasattr(self, "predict_proba"):
            expected["check_estimator_sparse_matrix"] = sparse_proba
            expected["check_estimator_sparse_array"] = sparse_proba
        return expected

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
