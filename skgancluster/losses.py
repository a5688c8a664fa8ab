"""Loss terms shared by several methods."""

import math

import torch
import torch.nn.functional as F

__all__ = ["gradient_penalty", "wgan_critic_loss", "entropy", "marginal_entropy", "marginal_divergence",
           "imbalance_beyond", "oversize", "imbalance",
           "softmax_groups", "kl_from_fixed", "information_and_consistency", "virtual_adversarial_loss"]


def gradient_penalty(critic, real, fake, generator):
    """WGAN-GP term ``mean((||grad critic(x_hat)||_2 - 1)^2)``.

    ``x_hat`` is uniform on the segment between each real and generated
    sample (rows are paired in order).
    """
    eps = torch.rand(real.shape[0], 1, device=real.device, dtype=real.dtype, generator=generator)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return (grad.norm(2, dim=1) - 1).square().mean()


def wgan_critic_loss(critic, real, fake, gp_weight, generator):
    """WGAN-GP critic loss and the Wasserstein estimate ``E D(x) - E D(G(z))``."""
    wasserstein = critic(real).mean() - critic(fake).mean()
    loss = -wasserstein + gp_weight * gradient_penalty(critic, real, fake, generator)
    return loss, wasserstein.detach()


def entropy(probs, dim=-1, eps=1e-8):
    """Shannon entropy of each distribution along ``dim``."""
    return -(probs * (probs + eps).log()).sum(dim)


def marginal_entropy(probs, eps=1e-8):
    """Entropy of the batch-average distribution ``H(mean_i p_i)``."""
    return entropy(probs.mean(0), eps=eps)


def marginal_divergence(probs, target, eps=1e-8):
    """``KL(mean_i p_i || target)``: how far the cluster sizes are from the proportions ``target``.

    For a uniform ``target`` this is ``log K - H(mean_i p_i)``, so minimising
    it maximises the marginal entropy, as :func:`marginal_entropy` does.
    """
    mean = probs.mean(0)
    return (mean * ((mean + eps).log() - target.log())).sum()


def imbalance_beyond(probs, tolerance=0.0, eps=1e-8):
    """``max(KL(mean_i p_i || uniform) - tolerance, 0)``: how far the cluster sizes are from equal.

    ``KL(p(y) || uniform) = log K - H(Y)``, so with ``tolerance=0`` minimising
    this is maximising the marginal entropy; a positive tolerance (in nats)
    leaves cluster sizes free as long as they are that close to equal, which
    lets a clustering follow imbalanced classes.
    """
    k = probs.shape[1]
    return (math.log(k) - marginal_entropy(probs, eps) - tolerance).clamp_min(0)


def oversize(probs, max_size, eps=1e-8):
    """``sum_k p_k * max(log(p_k * K / max_size), 0)`` with ``p = mean_i p_i``: how far clusters exceed a size.

    The terms of ``KL(p(y) || uniform)`` of the clusters larger than
    ``max_size`` times the equal share ``1 / K``, measured from that size
    instead of from ``1 / K``. Zero while every cluster is smaller, so small
    clusters cost nothing; a cluster that absorbs two classes (or takes the
    rows of an emptied one) does.
    """
    p = probs.mean(0)
    return (p * (p * probs.shape[1] / max_size + eps).log().clamp_min(0)).sum()


def imbalance(probs, tolerance=0.0, max_size=None):
    """The balance term of the information-maximising methods: :func:`imbalance_beyond`, plus
    :func:`oversize` when ``max_size`` is given (IMSAT's bound on cluster sizes)."""
    term = imbalance_beyond(probs, tolerance)
    return term if max_size is None else term + oversize(probs, max_size)


def softmax_groups(logits, groups=None, log=False):
    """(Log-)softmax over each group of consecutive columns: one distribution per head.

    ``groups`` lists the widths of the heads whose logits are concatenated in
    ``logits``; ``None`` is one head over all columns.
    """
    fn = torch.log_softmax if log else torch.softmax
    if groups is None:
        return fn(logits, 1)
    return torch.cat([fn(part, 1) for part in logits.split(list(groups), 1)], 1)


def kl_from_fixed(target, logits, groups=None, per_group=False):
    """``mean_i KL(target_i || softmax(logits_i))`` with ``target`` held fixed (no gradient).

    With ``groups`` (see :func:`softmax_groups`), the sum of the heads' KLs,
    or with ``per_group`` a tensor of one KL per head.
    """
    target = target.detach()
    terms = target * ((target + 1e-8).log() - softmax_groups(logits, groups, log=True))
    if not per_group:
        return terms.sum(1).mean()
    return torch.stack([part.sum(1).mean() for part in terms.split(list(groups or [terms.shape[1]]), 1)])


def _per_row(value, x):
    value = torch.as_tensor(value, dtype=x.dtype, device=x.device)
    return value[:, None] if value.ndim else value


def virtual_adversarial_loss(cluster_logits, x, radius, generator, xi=10.0, proba=None, groups=None,
                             per_group=False):
    """Virtual adversarial training: ``mean_i KL(p(x_i) || p(x_i + r_i))`` (Miyato et al.).

    ``r_i`` is the direction that changes ``p(x_i)`` most, found by one power
    iteration from a random direction of length ``xi`` (finite differences),
    scaled to ``radius_i``. ``p(x)`` is held fixed, as in IMSAT.

    Parameters
    ----------
    cluster_logits : callable
        Maps rows to logits.
    x : torch.Tensor of shape (n, n_features)
    radius : torch.Tensor of shape (n,) or float
        Length of each row's perturbation.
    generator : torch.Generator
        Draws the starting direction.
    xi : torch.Tensor of shape (n,) or float, default=10
        Length of the finite-difference step (the IMSAT authors' code: 10).
    proba : torch.Tensor of shape (n, n_outputs) or None
        ``softmax_groups(cluster_logits(x), groups)`` when the caller has it already.
    groups : sequence of int or None
        Widths of several heads whose logits ``cluster_logits`` concatenates
        (see :func:`softmax_groups`): the loss is the sum of their KLs, and
        one perturbation serves them all.
    per_group : bool, default=False
        Return one loss per head of ``groups`` instead of their sum.

    Returns
    -------
    loss : scalar tensor, or tensor of shape (len(groups),) with ``per_group``
    """
    if proba is None:
        with torch.no_grad():
            proba = softmax_groups(cluster_logits(x), groups)
    proba = proba.detach()
    direction = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    direction = (_per_row(xi, x) * F.normalize(direction, dim=1)).requires_grad_(True)
    (grad,) = torch.autograd.grad(kl_from_fixed(proba, cluster_logits(x + direction), groups), direction)
    r_adv = F.normalize(grad, dim=1) * _per_row(radius, x)
    return kl_from_fixed(proba, cluster_logits(x + r_adv.detach()), groups, per_group)


def information_and_consistency(cluster_logits, x, x_perturbed, marginal_weight=1.0, logits=None,
                                marginal_target=None):
    """Real-data terms for a cluster head: information maximisation and consistency.

    With ``p_i = softmax(cluster_logits(x_i))`` and ``q_i`` the same for
    ``x_perturbed``:

    - information ``mean_i H(p_i) - marginal_weight * H(mean_i p_i)``:
      confident assignments that use every cluster (as in IMSAT, whose
      ``mu`` is ``marginal_weight``); with ``marginal_target`` (cluster
      proportions), ``mean_i H(p_i) + marginal_weight * KL(mean_i p_i ||
      marginal_target)``, which asks for those proportions instead of equal
      ones;
    - consistency ``mean_i KL(p_i || q_i)``, with ``p_i`` held fixed: a
      label-preserving perturbation must not change the assignment.

    ``logits`` is ``cluster_logits(x)`` when the caller has already computed
    it (with gradients), to save one forward and backward pass.

    Returns
    -------
    information, consistency : scalar tensors
    """
    proba = (cluster_logits(x) if logits is None else logits).softmax(1)
    if marginal_target is None:
        information = entropy(proba).mean() - marginal_weight * marginal_entropy(proba)
    else:
        information = entropy(proba).mean() + marginal_weight * marginal_divergence(proba, marginal_target)
    return information, kl_from_fixed(proba, cluster_logits(x_perturbed))
