"""Loss terms shared by several methods."""

import torch
import torch.nn.functional as F

__all__ = ["gradient_penalty", "wgan_critic_loss", "entropy", "marginal_entropy", "kl_from_fixed",
           "information_and_consistency", "virtual_adversarial_loss"]


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


def kl_from_fixed(target, logits):
    """``mean_i KL(target_i || softmax(logits_i))`` with ``target`` held fixed (no gradient)."""
    target = target.detach()
    return (target * ((target + 1e-8).log() - logits.log_softmax(1))).sum(1).mean()


def virtual_adversarial_loss(cluster_logits, x, radius, generator, xi=10.0, proba=None):
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
    xi : float, default=10
        Length of the finite-difference step (the IMSAT authors' code: 10).
    proba : torch.Tensor of shape (n, n_clusters) or None
        ``softmax(cluster_logits(x))`` when the caller has it already.

    Returns
    -------
    loss : scalar tensor
    """
    if proba is None:
        with torch.no_grad():
            proba = cluster_logits(x).softmax(1)
    proba = proba.detach()
    direction = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    direction = (xi * F.normalize(direction, dim=1)).requires_grad_(True)
    (grad,) = torch.autograd.grad(kl_from_fixed(proba, cluster_logits(x + direction)), direction)
    radius = torch.as_tensor(radius, dtype=x.dtype, device=x.device)
    r_adv = F.normalize(grad, dim=1) * (radius[:, None] if radius.ndim else radius)
    return kl_from_fixed(proba, cluster_logits(x + r_adv.detach()))


def information_and_consistency(cluster_logits, x, x_perturbed, marginal_weight=1.0, logits=None):
    """Real-data terms for a cluster head: information maximisation and consistency.

    With ``p_i = softmax(cluster_logits(x_i))`` and ``q_i`` the same for
    ``x_perturbed``:

    - information ``mean_i H(p_i) - marginal_weight * H(mean_i p_i)``:
      confident assignments that use every cluster (as in IMSAT, whose
      ``mu`` is ``marginal_weight``);
    - consistency ``mean_i KL(p_i || q_i)``, with ``p_i`` held fixed: a
      label-preserving perturbation must not change the assignment.

    ``logits`` is ``cluster_logits(x)`` when the caller has already computed
    it (with gradients), to save one forward and backward pass.

    Returns
    -------
    information, consistency : scalar tensors
    """
    proba = (cluster_logits(x) if logits is None else logits).softmax(1)
    information = entropy(proba).mean() - marginal_weight * marginal_entropy(proba)
    return information, kl_from_fixed(proba, cluster_logits(x_perturbed))
