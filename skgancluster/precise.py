"""The precise-feature GAN (Gan et al.) as a scikit-learn clusterer."""

import numbers

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval
from torch import nn

from ._docs import fill_doc
from ._generative import GenerativeClustering
from ._real_data import REAL_PERTURBATION_WITH_SLANT, real_data_terms
from ._training import frozen
from .nn import make_generator, make_trunk
from .priors import MixedPrior

__all__ = ["PreciseFeatureClustering"]


def eta_schedule(generator_step, eta0, growth, every, max_stairs=29):
    """The staircase trade-off ``eta0 * growth ** min(floor(t / every), max_stairs)``.

    Paper Eq. 8. The paper's schedule has 30 stairs (``tau = 30000`` of
    900000 steps), so ``eta`` ends at ``eta0 * growth ** 29``; it stays
    there if training goes on (``warm_start`` fits), instead of growing
    without bound until the generator loss overflows.

    Parameters
    ----------
    generator_step : int
        Index ``t`` of the generator step, counting from 0.
    eta0 : float
        Value during the first ``every`` generator steps.
    growth : float
        Factor applied every ``every`` generator steps.
    every : int
        Length of one stair, in generator steps.
    max_stairs : int, default=29
        Number of increases after which ``eta`` stays constant.

    Returns
    -------
    eta : float

    Examples
    --------
    >>> from skgancluster.precise import eta_schedule
    >>> [round(eta_schedule(t, 10.0, 1.2, 2), 2) for t in range(5)]
    [10.0, 10.0, 12.0, 12.0, 14.4]
    """
    return float(eta0) * float(growth) ** min(int(generator_step) // int(every), int(max_stairs))


def _check_cluster_weights(weights, n_clusters):
    """Validate user cluster weights; return them normalised to sum to 1."""
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cluster_weights must be a sequence of {n_clusters} numbers, got {weights!r}.") from exc
    if w.ndim != 1 or w.shape[0] != n_clusters:
        raise ValueError(
            f"cluster_weights must have one entry per cluster (n_clusters={n_clusters}), "
            f"got shape {w.shape}."
        )
    if not np.isfinite(w).all():
        raise ValueError(f"cluster_weights must be finite, got {w.tolist()}.")
    if (w < 0).any():
        raise ValueError(f"cluster_weights must be non-negative, got {w.tolist()}.")
    if w.sum() <= 0:
        raise ValueError("cluster_weights must have a positive sum (they are normalised to sum to 1).")
    return w / w.sum()


@fill_doc
class PreciseFeatureClustering(GenerativeClustering):
    """Precise-feature GAN clustering: a generator, a critic and a classifier.

    The generator ``G(y, z)`` maps a one-hot cluster id ``y`` (drawn from a
    uniform or user-given categorical prior) and a few Gaussian noise
    variables ``z ~ N(0, I)`` to data. A WGAN-GP critic ``D`` tells
    generated from real samples. A separate classifier ``C``, with the same
    trunk as the critic and a softmax output, is trained on generated
    samples to recover the cluster id they were generated from (and, with
    ``real_weight > 0``, our addition, to cluster real samples confidently
    and stably). The generator minimises
    ``-D(G(y, z)) + eta * H(y, C(G(y, z)))``, so each cluster id comes to
    generate a part of the data that ``C`` can tell apart; ``eta`` grows
    in a staircase during training. Real samples are clustered by
    ``argmax C(x)``.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters, i.e. of cluster ids in the prior.
    noise_dim : int, default=2
        Number of Gaussian noise variables fed to ``G`` next to the one-hot
        id. The paper recommends few: on its blob set 0, 1, 2 or 4 worked,
        3 and 8 did not.
    cluster_weights : array-like of shape (n_clusters,) or None, default=None
        Prior probabilities of the cluster ids (non-negative, finite, with a
        positive sum; normalised to sum to 1). ``None`` is uniform. The
        paper uses it for its ORL gender experiment (4 of 40 faces female).
    eta0 : float, default=10
        Initial weight of the entropy term in the generator loss.
    eta_growth : float, default=1.2
        Factor applied to ``eta`` at each stair.
    eta_every : int or float, default=1/30
        Stair length. A float in (0, 1) is a fraction of the generator
        steps of the (first, cold) fit: the stair is
        ``max(1, round(eta_every * n_epochs * (n_samples // batch_size) /
        n_critic))`` generator steps. This is the paper's ratio
        (``tau = 30000`` of ``N = 900000`` steps, and ``1000`` of ``30000`` for
        ORL), so ``eta`` ends near ``eta0 * 1.2**29`` whatever the length of
        training; it stops growing there. An int is the stair length in generator steps. The stair
        length is fixed at the first fit (``eta_every_steps_``); a
        ``warm_start`` fit continues the same staircase.
    {{image_shape}}
    {{hidden_units}}
    conv_channels : tuple of int, default=(32, 64)
        Channels of the stride-2 convolutions (images only); the paper's
        are (64, 128).
    {{conv_padding}}
    max_iter : int or "auto", default="auto"
        Number of epochs (passes over the data). "auto" trains on about
        300,000 real samples, ``round(300000 / n_samples)`` epochs clipped to
        [1, 200]: 60 epochs for 5,000 samples, 75 for 4,000.
    batch_size : int, default=64
        Real samples per critic step (and generated samples per step).
    learning_rate : float, default=5e-4
        Adam step size for every network, betas (0.5, 0.9) (the paper:
        1e-4; see Notes).
    n_critic : int, default=1
        Critic steps per generator step (the paper: 5; see Notes).
    n_classifier : int, default=1
        Classifier steps per generator step, each on a fresh batch of
        generated samples (the paper: 4; see Notes).
    gp_weight : float, default=1
        Weight of the WGAN-GP gradient penalty (the paper's ``lambda``,
        100 in the paper; see Notes).
    {{real_weight}}
        Here the head is the classifier ``C``, on each classifier step, and
        the perturbation changes the slant (horizontal shear of up to 0.3).
        The perturbation encodes the prior that clusters survive small
        affine maps: right for digits, wrong for Artifact-MNIST, whose
        clusters live in one corner pixel. The paper trains ``C`` on
        generated samples only.
    {{common_parameters n_init=5 screen_fraction=0.2}}

    Attributes
    ----------
    {{common_attributes}}
    eta_ : float
        The current entropy weight (restored with the networks if training
        rolls back after a divergence).
    eta_every_steps_ : int
        Stair length of the ``eta`` schedule, in generator steps.

    ``networks_`` holds "generator", "critic" and "classifier".
    ``history_`` records the losses "critic", "wasserstein", "classifier",
    "generator" (the ``-D`` term), "entropy" (``H(y, C(G))`` in the
    generator step) and "eta".

    Notes
    -----
    ``predict_proba`` is the classifier's softmax ``C(x)``; ``predict`` its
    argmax. ``transform`` returns the classifier's penultimate features
    (``hidden_units[-1]`` values per row), the representation on which
    ``C`` draws its linear decision; the probabilities are available from
    ``predict_proba``.

    Departures of the defaults from the paper, each measured in
    ``doc/benchmarks.md``. The paper trains for 900000 generator steps; a
    CPU fit affords a few thousand, and trained as in the paper for that
    long, neither the generator's modes nor the classifier that learns
    only from them follow MNIST's digits (``doc/benchmarks.md``). So:
    the real-data classifier terms (``real_weight=1``, the one named
    addition, shared with ``ClusterGANClustering``); one critic and one
    classifier step per generator step (the paper: 5 and 4; the 4:5 ratio
    of classifier to critic steps is about kept), for five times the
    generator steps per epoch; ``gp_weight=1`` and ``learning_rate=5e-4``
    (with ``gp_weight=100`` the critic did not track the generator in so
    few steps); half-width convolutions; ``max_iter="auto"``; the best of
    five runs screened early (``n_init=5, screen_fraction=0.2``). With these,
    the paper's ``eta0=10`` recovers all 8 blobs on every seed tried and
    is the best value tried on MNIST-5k. The losses, the prior, the three
    networks and their roles, the staircase (``eta0``, growth 1.2, 1/30
    ratio) are the paper's.

    The paper's configuration is reachable by parameters. Its blob set:
    ``hidden_units=(512, 512, 512), noise_dim=2`` (0 to 4 work),
    ``learning_rate=1e-4, n_critic=5, n_classifier=4, gp_weight=100,
    real_weight=0, n_init=1, eta0=10, eta_growth=1.2, eta_every=30000`` (or the default ratio
    ``eta_every=1/30``) and enough epochs for
    ``N = 900000`` generator steps. MNIST: ``image_shape=(1, 28, 28)``,
    the DCGAN-like networks of its Fig. 2 (5x5 kernels; ours are 4x4 with
    ``conv_channels=(64, 128)``), same rates and ``eta`` schedule; it trains
    for 900000 generator steps (38 hours on a GPU). The paper uses ReLU
    hidden units; the shared builders use LeakyReLU(0.2). Departures of the
    defaults are measured in ``doc/benchmarks.md``.

    References
    ----------
    Y. Gan, X. Dong, H. Zhou, F. Gao, J. Dong. Learning the Precise Feature
    for Cluster Assignment.

    Examples
    --------
    >>> from skgancluster import PreciseFeatureClustering
    >>> from skgancluster.datasets import make_precise_blobs
    >>> X, y = make_precise_blobs(n_samples=400, random_state=0)
    >>> est = PreciseFeatureClustering(n_clusters=8, max_iter=2, random_state=0)
    >>> est.fit_predict(X).shape
    (400,)
    >>> est.predict_proba(X[:3]).sum(axis=1).round(6).tolist()
    [1.0, 1.0, 1.0]
    >>> X_new, labels = est.sample(4, cluster=0)
    >>> X_new.shape
    (4, 2)
    """

    _parameter_constraints = {
        **GenerativeClustering._parameter_constraints,
        "noise_dim": [Interval(numbers.Integral, 0, None, closed="left")],
        "cluster_weights": [None, "array-like"],
        "eta0": [Interval(numbers.Real, 0, None, closed="left")],
        "eta_growth": [Interval(numbers.Real, 0, None, closed="neither")],
        "eta_every": [Interval(numbers.Integral, 1, None, closed="left"),
                      Interval(numbers.Real, 0, 1, closed="neither")],
        "n_critic": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_classifier": [Interval(numbers.Integral, 0, None, closed="left")],
        "gp_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "real_weight": [Interval(numbers.Real, 0, None, closed="left")],
    }

    _architecture_params = (*GenerativeClustering._architecture_params, "noise_dim", "cluster_weights")

    def __init__(self, n_clusters=8, *, noise_dim=2, cluster_weights=None, eta0=10.0, eta_growth=1.2,
                 eta_every=1 / 30, image_shape=None, hidden_units=(256, 256), conv_channels=(32, 64), conv_padding=1,
                 max_iter="auto", batch_size=64, learning_rate=5e-4, n_critic=1, n_classifier=1,
                 gp_weight=1.0, real_weight=1.0, scaling="auto", device="auto", random_state=None, verbose=0,
                 warm_start=False, n_jobs=None, n_init=5, screen_fraction=0.2):
        self.n_clusters = n_clusters
        self.noise_dim = noise_dim
        self.cluster_weights = cluster_weights
        self.eta0 = eta0
        self.eta_growth = eta_growth
        self.eta_every = eta_every
        self.image_shape = image_shape
        self.hidden_units = hidden_units
        self.conv_channels = conv_channels
        self.conv_padding = conv_padding
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.n_critic = n_critic
        self.n_classifier = n_classifier
        self.gp_weight = gp_weight
        self.real_weight = real_weight
        self.scaling = scaling
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.n_jobs = n_jobs
        self.n_init = n_init
        self.screen_fraction = screen_fraction

    # --------------------------------------------------------------- checking
    def _check_params(self, n_samples, n_features):
        super()._check_params(n_samples, n_features)
        self._cluster_weights = (None if self.cluster_weights is None
                                 else _check_cluster_weights(self.cluster_weights, self.n_clusters))

    # --------------------------------------------------------------- networks
    def _build_networks(self, n_features):
        weights = None if self._cluster_weights is None else torch.as_tensor(self._cluster_weights,
                                                                             dtype=torch.float32)
        self.prior_ = MixedPrior(self.noise_dim, self.n_clusters, 1.0, weights=weights)
        return nn.ModuleDict({
            "generator": make_generator(self.prior_.dim, n_features, out_activation=self._generator_output(),
                                        **self._generator_shapes()),
            "critic": make_trunk(n_features, 1, **self._trunk_shapes()),
            # Same trunk shape as the critic, its own weights (sharing hurt in the paper).
            "classifier": make_trunk(n_features, self.n_clusters, **self._trunk_shapes()),
        })

    def _make_optimizers(self):
        nets, betas = self.networks_, (0.5, 0.9)
        return {name: self._adam(nets[name].parameters(), betas)
                for name in ("critic", "classifier", "generator")}

    # --------------------------------------------------------------- schedule
    def _on_epoch_start(self, ctx):
        if ctx.total_epoch == 0:  # a cold fit: fix the stair length
            if isinstance(self.eta_every, numbers.Integral):
                self.eta_every_steps_ = int(self.eta_every)
            else:
                total = ctx.n_epochs * ctx.source.batches_per_epoch // self.n_critic
                self.eta_every_steps_ = max(1, int(round(self.eta_every * total)))
            self.eta_ = float(self.eta0)

    def _training_state(self):
        return {**super()._training_state(), "eta_": getattr(self, "eta_", float(self.eta0))}

    # --------------------------------------------------------------- training
    def _train_step(self, x_real, ctx):
        nets, gen, device, step = self.networks_, ctx.rng, ctx.device, ctx.step
        generator, critic, classifier = nets["generator"], nets["critic"], nets["classifier"]
        n = x_real.shape[0]
        losses = self._wgan_critic_step(x_real, ctx)
        if (step + 1) % self.n_critic != 0:
            return losses

        # N_class classifier steps on generated samples only, each on its own batch
        # (generated in one forward pass).
        if self.n_classifier:
            z, _, ids = self.prior_.sample(n * self.n_classifier, gen, device)
            with torch.no_grad():
                x_fake = generator(z)
            for x_c, y_c in zip(x_fake.split(n), ids.split(n)):
                class_loss = F.cross_entropy(classifier(x_c), y_c)
                loss = class_loss
                if self.real_weight > 0:
                    information, consistency = real_data_terms(classifier, x_real, self._image_shape, gen,
                                                               REAL_PERTURBATION_WITH_SLANT)
                    loss = loss + self.real_weight * (information + consistency)
                    losses.update(information=information.detach(), consistency=consistency.detach())
                self.optimizers_["classifier"].zero_grad(set_to_none=True)
                loss.backward()
                self.optimizers_["classifier"].step()
            losses["classifier"] = class_loss.detach()

        # One generator step on -D(G(y, z)) + eta * H(y, C(G(y, z))).
        self.eta_ = eta_schedule(step // self.n_critic, self.eta0, self.eta_growth, self.eta_every_steps_)
        z, _, ids = self.prior_.sample(n, gen, device)
        x_fake = generator(z)
        with frozen(critic, classifier):
            adversarial = -critic(x_fake).mean()
            entropy = F.cross_entropy(classifier(x_fake), ids)
        loss = adversarial + self.eta_ * entropy
        self.optimizers_["generator"].zero_grad(set_to_none=True)
        loss.backward()
        self.optimizers_["generator"].step()
        losses.update(generator=adversarial.detach(), entropy=entropy.detach())
        return losses

    def _epoch_record(self):
        return {"eta": self.eta_}

    # -------------------------------------------------------------- inference
    def _embed(self, x):
        return self.networks_["classifier"].features(x)

    def _mode_proba(self, x):
        return self.networks_["classifier"](x).softmax(1)
