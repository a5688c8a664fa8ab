"""Latent priors: what the generator is fed."""

import torch
import torch.nn.functional as F

__all__ = ["MixedPrior"]


class MixedPrior:
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

    def sample_clusters(self, n, generator, device):
        if self.weights is None:
            return torch.randint(self.n_clusters, (n,), generator=generator, device=device)
        return torch.multinomial(self.weights.to(device), n, replacement=True, generator=generator)

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
