"""Balanced self-paced ClusterGAN (Ghasedi et al., CVPR 2019) as a scikit-learn clusterer."""

import numbers

import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from ._augment import add_noise, shift_and_flip
from ._docs import fill_doc
from ._generative import GenerativeClustering, GeneratorEpochs, ModeMeans
from ._kmeans import KMeansLabelling
from ._real_data import REAL_PERTURBATION_WITH_SLANT, real_data_terms
from ._training import frozen
from .nn import batch_stats_kept, make_generator, make_mlp, make_trunk
from .priors import BlockBinaryPrior
from .self_paced import balanced_self_paced_weights, min_entropy_losses, self_paced_threshold

__all__ = ["BSPLClusterGAN", "balanced_self_paced_weights", "self_paced_threshold",
           "min_entropy_losses"]

def _block_sums(codes, n_clusters):
    """Sum of each block of each code; also the cluster logits of the real-data terms."""
    return codes.view(codes.shape[0], n_clusters, -1).sum(2)


def _block_argmax(codes, n_clusters):
    """Cluster of each code: the block with the largest sum."""
    return _block_sums(codes, n_clusters).argmax(1)


def _block_shares(codes, n_clusters):
    """Cluster probabilities of each code: each block's share of the code's sum."""
    blocks = _block_sums(codes, n_clusters)
    return blocks / blocks.sum(1, keepdim=True).clamp_min(1e-12)


def _log_block_shares(codes, n_clusters):
    """Cluster log-probabilities of each code (the log of ``_block_shares``), for the cycle terms."""
    return _block_shares(codes, n_clusters).clamp_min(1e-12).log()


class _JointDiscriminator(nn.Module):
    """``D(z, x)``: a trunk for ``x``, a small MLP for ``z``, merged by an MLP to one logit."""

    def __init__(self, x_trunk, z_dim, width, dropout):
        super().__init__()
        self.x_trunk = x_trunk
        self.z_net = make_mlp(z_dim, (width,), width, dropout=dropout)
        self.joint = make_mlp(x_trunk.head.in_features + width, (width,), 1, dropout=dropout)

    def forward(self, z, x):
        features = torch.cat([self.x_trunk.features(x), F.leaky_relu(self.z_net(z), 0.2)], 1)
        return self.joint(features).squeeze(1)


# ---------------------------------------------------------------- estimator
@fill_doc
class BSPLClusterGAN(GeneratorEpochs, KMeansLabelling, GenerativeClustering):
    """Balanced self-paced ClusterGAN: a generator, a clusterer and a joint discriminator.

    The generator ``G`` maps block-binary codes ``z`` (the ``m / K`` entries
    of one cluster's block set to 1, plus uniform noise) to data; the
    clusterer ``C`` maps data to codes of length ``m`` through a sigmoid;
    the discriminator ``D(z, x)`` tells clusterer pairs ``(C(x), x)`` from
    generator pairs ``(z, G(z))`` (as in ALI/BiGAN), and ``G`` and ``C`` both
    try to fool it, so that ``C`` learns to invert ``G`` on real data. ``C``
    also minimises the entropy of the mini-batch cosine adjacency of its
    codes, pushing it to block-diagonal, with per-sample weights from
    balanced self-paced learning (easy samples first, balanced over the
    current clusters), and a consistency loss between ``C(x)`` and
    ``C(x_aug)``. Clusters are K-means on ``C(x)``.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters ``K``, i.e. of blocks of the prior.
    block_size : int, default=4
        Entries per block; the code length is ``m = block_size * n_clusters``.
    noise_start, noise_end : float, default=0.5, 0.1
        The uniform noise ``U[0, a]`` of the prior: ``a`` shrinks linearly
        from ``noise_start`` to ``noise_end`` over the epochs of a fit.
    prior_noise : {"reflect", "add"}, default="reflect"
        How the uniform noise enters the prior: "add" is ``z = b + u`` as
        written in the paper (block entries in ``[1, 1 + a]``, which the
        sigmoid clusterer cannot output, so the joint discriminator wins at
        once: measured in ``doc/benchmarks.md``); "reflect" is
        ``z = b + (1 - 2 b) u``, the same noise pointed into ``[0, 1]``.
    self_paced : {"balanced", "standard"} or None, default="balanced"
        Weights of the per-sample entropy losses: balanced self-paced
        learning (Theorem 1 of the paper), standard self-paced learning
        ``nu = 1[l < lam]``, or None (all weights 1), for the paper's ablation.
    gamma : float, default=1.0
        Relative strength of the balance term. Per mini-batch of ``n`` rows,
        the ``gamma`` of the objective is ``gamma * std(l) * K / (2 n)``
        (population std of the batch losses): in a perfectly balanced batch
        (``n / K`` samples per cluster) the last sample of a cluster must
        have a loss ``gamma`` standard deviations lower than the first one
        to be selected at the same pace. ``lam`` is then the quantile of
        the rank-shifted losses ``l + 2 gamma (q - 1)`` (groups: block argmax
        of ``C(x)``) at the scheduled fraction, which selects that fraction.
    start_fraction : float, default=0.01
        Fraction of the samples selected (``nu > 0``) in the first epoch;
        it grows linearly to all samples at ``full_fraction_at`` of training.
    full_fraction_at : float, default=0.75
        Fraction of the epochs after which every sample is used.
    entropy_weight : float, default=1.0
        Weight of the weighted entropy loss in the clusterer loss, taken as
        a mean over the pairs of the batch, ``mean_i nu_i l_i / batch_size``
        (``l_i`` sums over the batch). The paper sums over samples and
        pairs with weight 1, which is ``entropy_weight=batch_size`` here; on
        ``load_digits`` that weight drives the clusterer into one block
        (``doc/benchmarks.md``).
    consistency_weight : float, default=1.0
        Weight of the consistency loss ``mean_i ||C(x_i) - C(x~_i)||^2``.
    augmentation : {"auto", "noise", "shift", "shift_flip"}, default="auto"
        How ``x~`` is made: Gaussian noise of standard deviation
        ``noise_std`` in the scaled space, random translations of up to
        ``max(1, min(height, width) // 10)`` pixels, or translations and
        horizontal flips (natural images). "auto": "shift" for images,
        "noise" for flat data.
    noise_std : float, default=0.1
        Standard deviation of the Gaussian augmentation.
    cycle_weight : float, default=0.0
        Weight of an optional code cycle loss (our addition): the
        cross-entropy between the block of a code ``z`` and the clusterer's
        blocks of ``G(z)``, minimised by both ``G`` and ``C`` (ClusterGAN's
        ``H(z_c, E_c(G(z)))`` for block codes). It ties each block of the
        prior to one cluster of the clusterer, which the joint
        discriminator does only loosely. 1 raised the ACC on load_digits and
        lowered it on MNIST-5k (``doc/benchmarks.md``), so the default is
        the paper's 0.
    generator_epochs : int, default=25
        Epochs at the end of every fit in which only ``G`` and ``D`` train
        (our addition): the clusterer is frozen, so the clusters are those
        of the ``max_iter`` epochs before. They train a GAN conditioned on
        the clusterer's blocks: ``D`` reads the noise-free code of a row's
        block (the block of ``C(x)`` for real rows, of ``z`` for generated
        ones), so the prior's noise, drawn at ``noise_start`` in these
        epochs and by ``sample`` after them, is the generator's source of
        variety within a cluster; they run at the full ``learning_rate``
        (the clustering epochs end at a tenth of it, too slow for ``G`` to
        learn that variety). ``G`` is also tied to the clusterer's
        blocks by the code cycle loss above (through the frozen clusterer)
        and by the squared distance between the mean of ``G(z)`` over a
        block's codes and the running mean of the real rows that ``C`` puts
        in that block. During the clustering epochs the joint discriminator
        ties blocks to clusters only loosely (two blocks may generate the
        same cluster while another has none), and it reads codes whose
        noise ends at ``noise_end``, so without these epochs a block draws
        near copies of one row. ``n_iter_`` counts these epochs too. 0 is
        the paper's training (``doc/benchmarks.md``).
    {{real_weight real_weight=4}}
        Here the head is the softmax of the clusterer's block sums, not
        each block's share of the code's sum: shares of sigmoid codes are
        never near one-hot, so a block that no row fills would still get a
        share of every row, unseen by the balance term
        (``doc/benchmarks.md``). The perturbation changes the slant
        (horizontal shear of up to 0.3), as ClusterGAN's does.
    {{image_shape}}
    {{hidden_units}}
    conv_channels : tuple of int, default=(32, 64)
        Channels of the stride-2 convolutions (images only). Half the
        widths of the paper's networks, ``(64, 128)``: on MNIST-5k a fit
        takes about a third of the CPU time for a similar accuracy
        (``doc/benchmarks.md``).
    {{conv_padding}}
    max_iter : int or "auto", default=50
        Number of clustering epochs (passes over the data), before the
        ``generator_epochs``. "auto" trains on about 300,000 real samples
        (``round(300000 / n_samples)`` epochs clipped to [1, 200]).
    batch_size : int, default=64
        Real samples per step (also the size of the adjacency matrix).
    learning_rate : float, default=5e-4
        Initial Adam step size of every network; it decays linearly to a
        tenth of it over the clustering epochs of a fit (the paper: 1e-4 to
        1e-5), and is back at ``learning_rate`` in the generator's epochs.
    {{common_parameters}}

    Attributes
    ----------
    {{common_attributes}}
    cluster_centers_ : ndarray of shape (n_labels, block_size * n_clusters)
        K-means centres in the code space ``C(x)``; ``predict`` returns the
        nearest one. ``label_modes_[k]`` is the prior block matched to
        cluster ``k`` by what the blocks generate (each label its own
        block, chosen so that as many generated rows as possible have
        their 5 nearest real rows in their block's cluster);
        ``sample(cluster=k)`` draws from it, and ``fit`` warns when a
        cluster's block generates mostly other clusters.
    noise_level_ : float
        Current noise level ``a`` of the prior, at which ``sample`` draws:
        ``noise_start`` after a fit with ``generator_epochs``, ``noise_end``
        without.
    select_fraction_ : float
        Current target fraction of self-paced samples.
    schedule_epochs_ : int
        Length of the schedules (prior noise, learning rate, self-paced
        fraction), in epochs: those of the first fit. A ``warm_start`` fit
        continues them, at their final values once they are over.

    ``networks_`` holds "generator", "clusterer", "discriminator" and
    "mode_means" (the running real means per block, no parameters).
    ``history_`` records the losses "discriminator", "generator",
    "clusterer_adv", "entropy", "consistency", "cycle" (with a
    ``cycle_weight``), and "lam" and
    "selected" (fraction of samples with ``nu > 0``) of the self-paced
    schedule; the generator's epochs record "discriminator", "generator",
    "generator_cycle" and "block_mean".

    Notes
    -----
    The defaults keep the paper's method: block-binary prior with noise
    shrinking from 0.5 to 0.1, sigmoid clusterer, joint discriminator on
    ``(z, x)`` pairs with the standard GAN loss (non-saturating form for
    ``G`` and ``C``), minimum-entropy loss with balanced self-paced weights
    (1% of the samples at the start, all at 3/4 of training), consistency
    loss, Adam(0.5, 0.999) with a learning rate decaying linearly to a
    tenth, K-means on ``C(x)``. Six departures, measured on
    ``load_digits`` and MNIST-5k (``doc/benchmarks.md``) and all
    switchable: the prior
    noise is reflected into ``[0, 1]`` (``prior_noise="add"`` is the
    paper's literal ``b + U[0, a]``, out of reach of a sigmoid); the
    entropy term is a mean over pairs (``entropy_weight=batch_size`` gives
    the paper's sums); the real-data clusterer terms (``real_weight``); the
    generator's epochs, a GAN conditioned on the clusterer's blocks
    (``generator_epochs``);
    a learning rate of 5e-4 (the paper: 1e-4); and convolutions of half the
    paper's widths. The paper does not give ``m``; ``block_size=4`` is
    ours. Its configuration is ``prior_noise="add",
    entropy_weight=batch_size, real_weight=0, generator_epochs=0,
    learning_rate=1e-4,
    conv_channels=(64, 128)`` (Triple-GAN-like networks, with
    ``hidden_units=(1024,)``-sized dense layers) and a far longer
    ``max_iter`` than 50.

    ``hash(X)`` returns the binary codes ``C(x) > 0.5`` used for retrieval.

    References
    ----------
    K. Ghasedi Dizaji, X. Wang, C. Deng, H. Huang. Balanced Self-Paced
    Learning for Generative Adversarial Clustering Network. CVPR 2019.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from skgancluster import BSPLClusterGAN
    >>> X, y = make_blobs(n_samples=300, centers=3, random_state=0)
    >>> est = BSPLClusterGAN(n_clusters=3, max_iter=3, random_state=0)
    >>> est.fit_predict(X).shape
    (300,)
    >>> est.transform(X).shape
    (300, 12)
    >>> est.hash(X[:2]).dtype
    dtype('bool')
    >>> X_new, labels = est.sample(4, cluster=0)
    >>> X_new.shape
    (4, 2)
    """

    _parameter_constraints = {
        **GenerativeClustering._parameter_constraints,
        "block_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "noise_start": [Interval(numbers.Real, 0, None, closed="left")],
        "noise_end": [Interval(numbers.Real, 0, None, closed="left")],
        "prior_noise": [StrOptions({"reflect", "add"})],
        "self_paced": [StrOptions({"balanced", "standard"}), None],
        "gamma": [Interval(numbers.Real, 0, None, closed="left")],
        "start_fraction": [Interval(numbers.Real, 0, 1, closed="right")],
        "full_fraction_at": [Interval(numbers.Real, 0, 1, closed="right")],
        "entropy_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "consistency_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "augmentation": [StrOptions({"auto", "noise", "shift", "shift_flip"})],
        "noise_std": [Interval(numbers.Real, 0, None, closed="left")],
        "cycle_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "generator_epochs": [Interval(numbers.Integral, 0, None, closed="left")],
        "real_weight": [Interval(numbers.Real, 0, None, closed="left")],
    }

    _architecture_params = (*GenerativeClustering._architecture_params, "block_size")
    _final_lr_ratio = 0.1  # learning rate decays linearly to this fraction of learning_rate
    _d_dropout = 0.2  # dropout in the discriminator (as in Triple-GAN / ALI)

    def __init__(self, n_clusters=8, *, block_size=4, noise_start=0.5, noise_end=0.1,
                 prior_noise="reflect", self_paced="balanced", gamma=1.0, start_fraction=0.01,
                 full_fraction_at=0.75,
                 entropy_weight=1.0, consistency_weight=1.0, augmentation="auto", noise_std=0.1,
                 cycle_weight=0.0, generator_epochs=25, real_weight=4.0, image_shape=None,
                 hidden_units=(256, 256), conv_channels=(32, 64), conv_padding=1,
                 max_iter=50, batch_size=64, learning_rate=5e-4, scaling="auto", device="auto",
                 random_state=None, verbose=0, warm_start=False, n_jobs=None, n_init=1,
                 screen_fraction=None):
        self.n_clusters = n_clusters
        self.block_size = block_size
        self.noise_start = noise_start
        self.noise_end = noise_end
        self.prior_noise = prior_noise
        self.self_paced = self_paced
        self.gamma = gamma
        self.start_fraction = start_fraction
        self.full_fraction_at = full_fraction_at
        self.entropy_weight = entropy_weight
        self.consistency_weight = consistency_weight
        self.augmentation = augmentation
        self.noise_std = noise_std
        self.cycle_weight = cycle_weight
        self.generator_epochs = generator_epochs
        self.real_weight = real_weight
        self.image_shape = image_shape
        self.hidden_units = hidden_units
        self.conv_channels = conv_channels
        self.conv_padding = conv_padding
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.scaling = scaling
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.n_jobs = n_jobs
        self.n_init = n_init
        self.screen_fraction = screen_fraction

    # --------------------------------------------------------------- networks
    @property
    def prior_(self):
        """The block-binary prior at the current noise level ``noise_level_``."""
        return BlockBinaryPrior(self.n_clusters, self.block_size, self.noise_level_, mode=self.prior_noise)

    def _build_networks(self, n_features):
        if not hasattr(self, "noise_level_"):  # kept by load(); reset by _on_epoch_start
            self.noise_level_ = float(self.noise_start)
            self.select_fraction_ = float(self.start_fraction)
        m = self.n_clusters * self.block_size
        clusterer = make_trunk(n_features, m, norm="batch", **self._trunk_shapes())
        x_trunk = make_trunk(n_features, 1, dropout=self._d_dropout, **self._trunk_shapes())
        return nn.ModuleDict({
            "generator": make_generator(m, n_features, out_activation=self._generator_output(),
                                        **self._generator_shapes()),
            "clusterer": nn.Sequential(clusterer, nn.Sigmoid()),
            "discriminator": _JointDiscriminator(x_trunk, m, self._hidden_units[-1], self._d_dropout),
            "mode_means": ModeMeans(self.n_clusters, n_features),
        })

    def _make_optimizers(self):
        betas = (0.5, 0.999)
        return {name: self._adam(self.networks_[name].parameters(), betas)
                for name in ("discriminator", "generator", "clusterer")}

    # -------------------------------------------------------------- schedules
    def _on_epoch_start(self, ctx):
        if ctx.total_epoch == 0:  # a cold fit plans the schedules; warm fits continue them
            self.schedule_epochs_ = ctx.n_epochs - self.generator_epochs
        if self._in_generator_epochs(ctx):  # a GAN to train anew: the latent at its widest, the full step size
            self.noise_level_ = float(self.noise_start)
            self._scale_learning_rate(1.0)
            return
        epoch, n_epochs = ctx.total_epoch, self.schedule_epochs_
        progress = min(1.0, epoch / max(n_epochs - 1, 1))
        self.noise_level_ = float(self.noise_start + (self.noise_end - self.noise_start) * progress)
        self._scale_learning_rate(1 - (1 - self._final_lr_ratio) * progress)
        ramp = min(1.0, epoch / max(self.full_fraction_at * n_epochs, 1e-12))
        self.select_fraction_ = float(self.start_fraction + (1 - self.start_fraction) * ramp)

    def _training_state(self):
        return {**super()._training_state(), "noise_level_": self.noise_level_,
                "select_fraction_": self.select_fraction_}

    # --------------------------------------------------------------- training
    def _augment(self, x, rng):
        """The consistency loss's ``x~`` (see ``augmentation``)."""
        image_shape = self._image_shape
        if self.augmentation == "noise" or image_shape is None:
            return add_noise(x, self.noise_std, rng)
        max_shift = max(1, min(image_shape[1:]) // 10)
        return shift_and_flip(x, image_shape, rng, max_shift, flip=self.augmentation == "shift_flip")

    def _self_paced_weights(self, losses, groups):
        """``(nu, lam)`` for one mini-batch under the current schedule."""
        if self.self_paced is None:
            return torch.ones_like(losses), losses.new_zeros(())
        gamma = losses.new_zeros(())
        if self.self_paced == "balanced":
            gamma = self.gamma * losses.std(correction=0) * self.n_clusters / (2 * losses.numel())
        lam = self_paced_threshold(losses, groups, gamma, self.select_fraction_)
        return balanced_self_paced_weights(losses, groups, lam, gamma), lam

    def _discriminator_step(self, x_real, gen):
        """One update of ``D``: clusterer pairs ``(C(x), x)`` are "real", generator pairs ``(z, G(z))`` "fake"."""
        z = self.prior_.sample(x_real.shape[0], gen, x_real.device)[0]
        with torch.no_grad():
            x_fake = self.networks_["generator"](z)
            code_real = self.networks_["clusterer"](x_real)
        return self._discriminator_update(code_real, x_real, z, x_fake)

    def _discriminator_update(self, code_real, x_real, code_fake, x_fake):
        """One step of ``D`` on the pairs ``(code_real, x_real)`` ("real") and ``(code_fake, x_fake)`` ("fake")."""
        disc, bce = self.networks_["discriminator"], F.binary_cross_entropy_with_logits
        real, fake = disc(code_real, x_real), disc(code_fake, x_fake)
        d_loss = bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake))
        self.optimizers_["discriminator"].zero_grad(set_to_none=True)
        d_loss.backward()
        self.optimizers_["discriminator"].step()
        return d_loss.detach()

    def _train_step(self, x_real, ctx):
        if self._in_generator_epochs(ctx):
            return self._generator_epoch_step(x_real, ctx)
        nets, gen, opt = self.networks_, ctx.rng, self.optimizers_
        generator, clusterer, disc = nets["generator"], nets["clusterer"], nets["discriminator"]
        n, device = x_real.shape[0], x_real.device
        ones, zeros = torch.ones(n, device=device), torch.zeros(n, device=device)
        bce = F.binary_cross_entropy_with_logits
        d_loss = self._discriminator_step(x_real, gen)

        # The code cycle loss trains G and C together: C's gradient from it is kept for C's step below.
        opt["clusterer"].zero_grad(set_to_none=True)
        with frozen(disc):  # no discriminator gradients from the G / C losses
            # Generator: make (z, G(z)) look like a clusterer pair.
            z, _, blocks = self.prior_.sample(n, gen, device)
            x_fake = generator(z)
            g_adv = bce(disc(z, x_fake), ones)
            g_loss, record = g_adv, {}
            if self.cycle_weight > 0:
                with batch_stats_kept(clusterer):  # predict-time statistics from real rows only
                    cycle = F.nll_loss(self._block_logits(x_fake), blocks)
                g_loss = g_loss + self.cycle_weight * cycle
                record["cycle"] = cycle.detach()
            opt["generator"].zero_grad(set_to_none=True)
            g_loss.backward()
            opt["generator"].step()

            # Clusterer: fool D, weighted minimum entropy, consistency.
            code = clusterer(x_real)
            c_adv = bce(disc(code, x_real), zeros)
        losses = min_entropy_losses(code)
        block_sums = _block_sums(code, self.n_clusters)  # the self-paced groups and the real-data logits
        nu, lam = self._self_paced_weights(losses.detach(), block_sums.detach().argmax(1))
        entropy = (nu * losses).mean() / n
        consistency = (code - clusterer(self._augment(x_real, gen))).square().sum(1).mean()
        c_loss = c_adv + self.entropy_weight * entropy + self.consistency_weight * consistency
        if self.real_weight > 0:
            information, real_consistency = real_data_terms(
                self._block_sum_logits, x_real, self._image_shape, gen, REAL_PERTURBATION_WITH_SLANT,
                logits=block_sums)
            c_loss = c_loss + self.real_weight * (information + real_consistency)
            record.update(information=information.detach(), real_consistency=real_consistency.detach())
        c_loss.backward()
        opt["clusterer"].step()
        return {"discriminator": d_loss, "generator": g_adv.detach(), "clusterer_adv": c_adv.detach(),
                "entropy": losses.detach().mean(), "consistency": consistency.detach(), "lam": lam,
                "selected": (nu > 0).float().mean(), **record}

    def _generator_epoch_step(self, x_real, ctx):
        """A step of the generator's epochs: a GAN conditioned on the clusterer's blocks; ``C`` is frozen.

        ``D`` sees noise-free block codes, so it cannot tell generated rows by
        their codes' noise and asks instead for rows as varied as the block's
        real ones. ``G`` is also tied to the blocks: the clusterer's block of
        ``G(z)`` should be that of ``z`` (a cycle through the frozen clusterer),
        and the mean of ``G(z)`` over a block's codes the running mean of the
        real rows that ``C`` puts in that block.
        """
        nets, gen, n, device = self.networks_, ctx.rng, x_real.shape[0], x_real.device
        generator, clusterer, disc = nets["generator"], nets["clusterer"], nets["discriminator"]
        prior = self.prior_
        with batch_stats_kept(clusterer):  # C stays as the clustering epochs left it, statistics included
            z, _, blocks = prior.sample(n, gen, device)
            with torch.no_grad():
                x_fake = generator(z)
                real_blocks = _block_argmax(clusterer(x_real), self.n_clusters)
            d_loss = self._discriminator_update(prior.codes(real_blocks), x_real, prior.codes(blocks), x_fake)
            nets["mode_means"].update(x_real, real_blocks, self._mode_mean_momentum)
            with frozen(disc, clusterer):
                z, _, blocks = prior.sample(n, gen, device)
                x_fake = generator(z)
                g_adv = F.binary_cross_entropy_with_logits(disc(prior.codes(blocks), x_fake),
                                                           torch.ones(n, device=device))
                cycle = F.nll_loss(self._block_logits(x_fake), blocks)
                block_mean = nets["mode_means"].distance(x_fake, blocks)
                g_loss = g_adv + cycle + block_mean
        self.optimizers_["generator"].zero_grad(set_to_none=True)
        g_loss.backward()
        self.optimizers_["generator"].step()
        return {"discriminator": d_loss, "generator": g_adv.detach(), "generator_cycle": cycle.detach(),
                "block_mean": block_mean.detach()}

    def _block_logits(self, x):
        return _log_block_shares(self._embed(x), self.n_clusters)

    def _block_sum_logits(self, x):
        return _block_sums(self._embed(x), self.n_clusters)

    # -------------------------------------------------------------- inference
    def _embed(self, x):
        return self.networks_["clusterer"](x)

    def _mode_proba(self, x):
        return _block_shares(self._embed(x), self.n_clusters)

    def _has_proba(self):
        return False  # clusters come from K-means on C(x)

    def _fit_labels(self, X):
        return self._fit_kmeans_labels(X)

    def _batch_labeler(self):
        return self._kmeans_labeler()

    _score_perturbation = False

    def score(self, X, y=None):
        """A label-free quality of the clustering of ``X``: higher is better.

        {{score_neighbour_agreement}}

        As in :class:`~skgancluster.AugmentedGANClustering` and
        :class:`~skgancluster.SIMIClusterGAN`, it leaves out the agreement
        under the package's perturbation: over this estimator's runs on
        load_digits, ``n_init`` with that agreement added kept runs whose
        median was below one run's, and with the neighbour agreement alone
        it lowered neither the median nor the minimum
        (``doc/benchmarks.md``, "Choosing without labels"). It compares
        fits with the same ``n_clusters``.

        {{score_parameters}}
        """
        return super().score(X)

    def hash(self, X):
        """Binary codes ``C(x) > 0.5`` of the clusterer, for retrieval.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.

        Returns
        -------
        codes : ndarray of bool, shape (n_samples, block_size * n_clusters)
            The hash bits.
        """
        X = self._check_fitted_X(X)
        return self._map_batches(X, lambda x: self._embed(x) > 0.5)
