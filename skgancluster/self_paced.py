"""Balanced self-paced learning: easy samples first, balanced over the current clusters.

The pure functions of Ghasedi et al. (CVPR 2019) that ``BSPLClusterGAN``
uses to weight its per-sample minimum-entropy losses.
"""

import torch
import torch.nn.functional as F

__all__ = ["balanced_self_paced_weights", "self_paced_threshold", "min_entropy_losses"]

_EPS = 1e-6  # clamp of the adjacency before the logs


def _ranks_in_groups(losses, groups):
    """0-based rank of each loss within its group (ascending, ties by position)."""
    order = torch.argsort(losses, stable=True)
    order = order[torch.argsort(groups[order], stable=True)]
    sorted_groups = groups[order]
    counts = torch.bincount(sorted_groups)
    starts = torch.cumsum(counts, 0) - counts
    ranks = torch.empty_like(order)
    ranks[order] = torch.arange(len(order), device=losses.device) - starts[sorted_groups]
    return ranks


def balanced_self_paced_weights(losses, groups, lam, gamma):
    """Closed-form balanced self-paced weights (Theorem 1 of Ghasedi et al.).

    The exact minimiser over ``nu`` in ``[0, 1]^n`` of
    ``sum_i nu_i (l_i - lam) + gamma * sum_k (sum_{i in group k} nu_i)^2``.
    Within each group, samples sorted by loss ascending get ranks
    ``q = 1..n_k`` and ``nu = clip((lam - l) / (2 gamma) - (q - 1), 0, 1)``,
    that is 1 below ``lam - 2 gamma q``, 0 from ``lam - 2 gamma (q - 1)`` on,
    linear in between. ``gamma = 0`` gives standard self-paced learning,
    ``nu = 1[l < lam]``.

    Parameters
    ----------
    losses : torch.Tensor of shape (n,)
        Per-sample losses ``l_i``.
    groups : torch.LongTensor of shape (n,)
        Group (current cluster) of each sample, non-negative ints.
    lam : float or 0-d tensor
        The pace ``lambda``.
    gamma : float or 0-d tensor, >= 0
        Weight of the exclusive-lasso (balance) term.

    Returns
    -------
    nu : torch.Tensor of shape (n,)
        Weights in ``[0, 1]``.
    """
    losses = losses.detach()
    gamma = torch.as_tensor(gamma, dtype=losses.dtype, device=losses.device)
    lam = torch.as_tensor(lam, dtype=losses.dtype, device=losses.device)
    if losses.numel() == 0:
        return losses.clone()
    ranks = _ranks_in_groups(losses, groups).to(losses.dtype)
    balanced = ((lam - losses) / (2 * gamma.clamp_min(torch.finfo(losses.dtype).tiny)) - ranks).clamp(0, 1)
    standard = (losses < lam).to(losses.dtype)
    return torch.where(gamma > 0, balanced, standard)


def self_paced_threshold(losses, groups, gamma, fraction):
    """The pace ``lam`` that gives a non-zero weight to ``fraction`` of the samples.

    A sample of rank ``q`` (1-based) in its group gets ``nu > 0`` exactly
    when ``lam > l + 2 gamma (q - 1)``; ``lam`` is the ``fraction``-quantile
    (``interpolation="higher"``, so at least one sample) of these shifted
    losses. With ``gamma = 0`` it is the quantile of the losses (standard
    self-paced learning). For ``fraction >= 1``, ``lam`` is large enough
    that every weight is 1.
    """
    losses = losses.detach()
    gamma = torch.as_tensor(gamma, dtype=losses.dtype, device=losses.device)
    shifted = losses + 2 * gamma * _ranks_in_groups(losses, groups).to(losses.dtype)
    if fraction >= 1:
        top = shifted.max()
        return top + 2 * gamma + 1e-6 * (1 + top.abs())
    return torch.quantile(shifted, float(fraction), interpolation="higher")


def min_entropy_losses(codes, eps=_EPS):
    """Per-sample minimum-entropy losses on the cosine adjacency of ``codes``.

    ``a_ij = cos(c_i, c_j)`` clamped to ``[eps, 1 - eps]`` and
    ``l_i = -sum_j [a_ij log a_ij + (1 - a_ij) log(1 - a_ij)]``.
    """
    unit = F.normalize(codes, dim=1, eps=1e-8)
    adjacency = (unit @ unit.T).clamp(eps, 1 - eps)
    return -(adjacency * adjacency.log() + (1 - adjacency) * torch.log1p(-adjacency)).sum(1)
