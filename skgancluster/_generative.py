"""What a method with a generator adds to the base: shapes, sampling, the WGAN critic step, the generator's epochs.

A generative method keeps its generator in ``networks_["generator"]`` and its
latent prior in ``prior_`` (see :mod:`skgancluster.priors`); the output units
of its soft assignment are the prior's clusters (its *modes*), so
``label_modes_`` says which mode ``sample(cluster=k)`` draws from.
"""

import numbers

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ._base import INFERENCE_BATCH, BaseDeepClustering
from .losses import wgan_critic_loss

__all__ = ["GenerativeClustering", "GeneratorEpochs", "ModeMeans"]


class ModeMeans(nn.Module):
    """Running mean of the real rows that the clustering network puts in each generator mode.

    Two buffers, no parameters; kept in ``networks_["mode_means"]`` so that it
    is saved, copied and moved with the networks.
    """

    def __init__(self, n_modes, n_features):
        super().__init__()
        self.register_buffer("means", torch.zeros(n_modes, n_features))
        self.register_buffer("seen", torch.zeros(n_modes, dtype=torch.bool))

    def _batch_means(self, x, modes, weights=None):
        """Mean row of each mode in the batch (0 where the batch has none), and which modes are present.

        ``weights`` (0 or 1 per row) leaves rows out. Masks instead of boolean
        indexing, so that no step waits on the device.
        """
        x = x.flatten(1)
        if weights is not None:
            x = x * weights[:, None]
        sums = x.new_zeros(self.means.shape).index_add(0, modes, x)
        counts = torch.bincount(modes, weights=weights, minlength=len(self.means))
        return sums / counts.clamp_min(1)[:, None].to(x.dtype), counts > 0

    @torch.no_grad()
    def update(self, x, modes, momentum, weights=None):
        """Move each present mode's running mean towards the batch's (set it on its first batch).

        ``weights`` (0 or 1 per row) leaves rows out of the batch's means.
        """
        means, present = self._batch_means(x, modes, weights)
        moved = torch.where(self.seen[:, None], self.means + momentum * (means - self.means), means)
        self.means.copy_(torch.where(present[:, None], moved, self.means))
        self.seen |= present

    def distance(self, x, modes):
        """Squared distance of each mode's batch mean to its running mean, averaged over the modes.

        Modes absent from the batch, or that no real row has reached yet, do not count (0 if none is left).
        """
        means, present = self._batch_means(x, modes)
        used = (present & self.seen).to(x.dtype)
        return ((means - self.means).square().sum(1) * used).sum() / used.sum().clamp_min(1)


class GeneratorEpochs:
    """Mixin for a ``generator_epochs`` parameter: every fit ends with that many generator epochs.

    In them the clustering network is frozen, so the clusters are those of the
    epochs before, and the generator (with its critic or discriminator) goes on
    training, tied to the clusters: the mean of its rows for a mode should be
    the running mean of the real rows put in that mode (:class:`ModeMeans` in
    ``networks_["mode_means"]``). A method's ``_train_step`` asks
    ``_in_generator_epochs(ctx)``.
    """

    _mode_mean_momentum = 0.05  # the running means follow about the last 20 batches

    def _n_epochs(self, n_samples):
        return super()._n_epochs(n_samples) + self.generator_epochs

    def _in_generator_epochs(self, ctx):
        return ctx.epoch >= ctx.n_epochs - self.generator_epochs


class GenerativeClustering(BaseDeepClustering):
    """Base of the estimators with a generator; not to be used directly."""

    def _generator_shapes(self):
        """Keyword arguments of :func:`~skgancluster.nn.make_generator` that the parameters set."""
        return dict(image_shape=self._image_shape, hidden_units=self._hidden_units, conv_channels=self._conv_channels)

    def _generator_output(self):
        """Sigmoid when the scaled data live in [0, 1], linear otherwise."""
        return torch.nn.Sigmoid() if self._scaling == "minmax" else None

    # --------------------------------------------------------------- training
    def _wgan_critic_step(self, x_real, ctx):
        """One WGAN-GP critic update against a fresh generated batch.

        Uses ``networks_["critic"]``, ``networks_["generator"]``, ``prior_``,
        ``optimizers_["critic"]`` and ``gp_weight``; returns the critic loss
        and the Wasserstein estimate.
        """
        critic = self.networks_["critic"]
        z = self.prior_.sample(x_real.shape[0], ctx.rng, ctx.device)[0]
        with torch.no_grad():
            x_fake = self.networks_["generator"](z)
        critic_loss, wasserstein = wgan_critic_loss(critic, x_real, x_fake, self.gp_weight, ctx.rng)
        self.optimizers_["critic"].zero_grad(set_to_none=True)
        critic_loss.backward()
        self.optimizers_["critic"].step()
        return {"critic": critic_loss.detach(), "wasserstein": wasserstein}

    # ------------------------------------------------------------- generation
    def _generate(self, modes, generator):
        """Generated rows (scaled space) for a tensor of generator modes."""
        z = self.prior_.sample(len(modes), generator, self.device_, clusters=modes)[0]
        return self.networks_["generator"](z)

    def _generated_batches(self, modes, generator):
        """Generated rows (scaled space) for a tensor of modes, ``INFERENCE_BATCH`` rows at a time."""
        for start in range(0, len(modes), INFERENCE_BATCH):
            yield self._generate(modes[start:start + INFERENCE_BATCH], generator)

    def _prior_weights(self):
        """The prior's probability of each generator mode (a tensor), or None for uniform."""
        return getattr(self.prior_, "weights", None)

    def _label_weights(self):
        """Prior probability of each label's generator mode, renormalised."""
        weights = self._prior_weights()
        if weights is None:
            return np.full(len(self.label_modes_), 1.0 / len(self.label_modes_))
        weights = weights.cpu().numpy()[self.label_modes_].astype(np.float64)
        if weights.sum() <= 0:  # the found clusters are modes the prior never draws: treat them alike
            return np.full(len(self.label_modes_), 1.0 / len(self.label_modes_))
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
            x = torch.cat(list(self._generated_batches(modes, generator)))
        return self._inverse_scale(x), labels
