"""Latent priors: what the generator is fed."""

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MixedPrior", "BlockBinaryPrior", "RunningProportions"]


class _ClusterPrior:
    """What every prior shares: the cluster of each code, ``k ~ Categorical(weights)``.

    Subclasses set ``n_clusters`` and ``weights`` (a tensor of probabilities,
    or ``None`` for uniform).
    """

    def sample_clusters(self, n, generator, device):
        if self.weights is None:
            return torch.randint(self.n_clusters, (n,), generator=generator, device=device)
        return torch.multinomial(self.weights.to(device), n, replacement=True, generator=generator)


class MixedPrior(_ClusterPrior):
    """ClusterGAN's prior: Gaussian noise next to a one-hot cluster code.

    ``z = (z_n, z_c)`` with ``z_n ~ N(0, sigma^2 I)`` of ``noise_dim`` entries
    and ``z_c`` the one-hot vector of ``k ~ Categorical(weights)`` (uniform by
    default). Also the prior of the precise-feature GAN (``sigma=1``).

    Parameters
    ----------
    noise_dim : int
        Number of continuous entries.
    n_clusters : int
        Number of one-hot entries.
    sigma : float
        Standard deviation of the continuous part.
    weights : torch.Tensor or None
        Probabilities of the clusters; ``None`` for uniform.
    """

    def __init__(self, noise_dim, n_clusters, sigma, weights=None):
        self.noise_dim = noise_dim
        self.n_clusters = n_clusters
        self.sigma = sigma
        self.weights = weights

    @property
    def dim(self):
        return self.noise_dim + self.n_clusters

    def sample_noise(self, n, generator, device):
        return self.sigma * torch.randn(n, self.noise_dim, generator=generator, device=device)

    def compose(self, z_n, cluster_code):
        """Concatenate noise with a one-hot (or soft) cluster code."""
        return torch.cat([z_n, cluster_code], dim=1)

    def sample(self, n, generator, device, clusters=None):
        """Return ``(z, z_n, clusters)``; ``clusters`` may be given to fix the modes."""
        if clusters is None:
            clusters = self.sample_clusters(n, generator, device)
        z_n = self.sample_noise(n, generator, device)
        z = self.compose(z_n, F.one_hot(clusters, self.n_clusters).to(z_n.dtype))
        return z, z_n, clusters


class BlockBinaryPrior(_ClusterPrior):
    """The balanced self-paced ClusterGAN prior: block-binary codes plus uniform noise.

    ``z`` has ``m = block_size * n_clusters`` entries: the ``block_size``
    entries of the block of cluster ``k`` are 1, the rest 0, and uniform
    noise ``U[0, noise]`` is added to every entry. Codes of one cluster are
    (nearly) parallel and codes of different clusters (nearly) orthogonal,
    which makes the cosine adjacency of the codes block diagonal.

    Parameters
    ----------
    n_clusters : int
        Number of blocks (clusters) ``K``.
    block_size : int
        Entries per block, ``m / K``.
    noise : float
        Upper end ``a`` of the uniform noise ``U[0, a]`` (the estimator
        shrinks it over training).
    weights : torch.Tensor or None
        Probabilities of the clusters; ``None`` for uniform.
    mode : {"reflect", "add"}
        "add": ``z = b + u`` with ``u ~ U[0, noise]`` on every entry, as
        written in the paper, so the block entries lie in ``[1, 1 + noise]``.
        "reflect": the noise points into ``[0, 1]``, ``z = b + (1 - 2 b) u``
        (block entries ``1 - u``, the others ``u``), so that a sigmoid
        clusterer can produce every ``z`` of the prior.
    """

    def __init__(self, n_clusters, block_size, noise, weights=None, mode="add"):
        self.n_clusters = n_clusters
        self.block_size = block_size
        self.noise = noise
        self.weights = weights
        self.mode = mode

    @property
    def dim(self):
        return self.n_clusters * self.block_size

    def sample_noise(self, n, generator, device):
        return self.noise * torch.rand(n, self.dim, generator=generator, device=device)

    def codes(self, clusters, dtype=torch.float32):
        """The noise-free block-binary codes of ``clusters``."""
        one_hot = F.one_hot(clusters, self.n_clusters).to(dtype)
        return one_hot.repeat_interleave(self.block_size, dim=1)

    def sample(self, n, generator, device, clusters=None):
        """Return ``(z, noise, clusters)``; ``clusters`` may be given to fix the modes."""
        if clusters is None:
            clusters = self.sample_clusters(n, generator, device)
        noise = self.sample_noise(n, generator, device)
        codes = self.codes(clusters, noise.dtype)
        if self.mode == "reflect":
            return codes + (1 - 2 * codes) * noise, noise, clusters
        return codes + noise, noise, clusters


class RunningProportions(nn.Module):
    """Cluster proportions learned from the data: the share of the real rows each cluster takes.

    A running mean of the cluster head's soft assignment of the real
    mini-batches. Given to a prior as its ``weights``, the generator draws
    each cluster's code as often as the clustering puts real rows in it, so
    that a large cluster is generated by one code instead of being split
    between two codes of the equal share. One buffer, no parameters: kept in
    ``networks_`` so that it is saved, copied and moved with the networks.

    Parameters
    ----------
    n_clusters : int
        Number of clusters; the proportions start equal.
    min_fraction : float
        No cluster's weight falls below ``min_fraction / n_clusters``, so
        that a cluster the clustering empties can be drawn and found again.
    """

    def __init__(self, n_clusters, min_fraction):
        super().__init__()
        self.min_fraction = min_fraction
        self.register_buffer("proportions", torch.full((n_clusters,), 1.0 / n_clusters))

    @torch.no_grad()
    def update(self, proba, momentum):
        """Move the proportions towards the mean of the soft assignments ``proba`` (rows x clusters)."""
        self.proportions.mul_(1 - momentum).add_(momentum * proba.mean(0))

    def weights(self):
        """The proportions with the floor, renormalised: the prior's ``weights``."""
        weights = self.proportions.clamp_min(self.min_fraction / len(self.proportions))
        return weights / weights.sum()
