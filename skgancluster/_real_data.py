"""The real-data cluster-head terms: our addition shared by the GAN methods.

A method whose cluster head (ClusterGAN's encoder, the precise-feature
classifier, BSPL's clusterer) is otherwise trained on generated samples only
also asks it, on each real mini-batch, for confident, balanced assignments
that survive a label-preserving perturbation. Balanced means of equal size,
or of the sizes the method has learned
(:class:`~skgancluster.priors.RunningProportions`). Its weight is each
method's ``real_weight``; the gain is measured in ``doc/benchmarks.md``.
"""

from ._augment import augment
from .losses import information_and_consistency

__all__ = ["REAL_PERTURBATION", "REAL_PERTURBATION_WITH_SLANT", "MARGINAL_WEIGHT", "perturb_real",
           "real_data_terms"]

# The perturbation of the consistency term for images (shift in pixels for a
# 28-pixel image, scaled with the image's size; rotation in degrees; zoom
# fraction); flat rows get augment()'s Gaussian noise.
REAL_PERTURBATION = dict(max_shift=3.0, max_rotation=15.0, max_zoom=0.1)
# The same and a change of slant: a slanted and an upright digit share a cluster.
REAL_PERTURBATION_WITH_SLANT = dict(REAL_PERTURBATION, max_shear=0.3)
# Weight of the marginal entropy in the information term (IMSAT's mu).
MARGINAL_WEIGHT = 2.0


def perturb_real(x_real, image_shape, rng, perturbation=REAL_PERTURBATION):
    """A label-preserving perturbation of scaled real rows: :func:`~skgancluster._augment.augment`
    with the shift given for a 28-pixel image scaled to the image's size."""
    perturbation = dict(perturbation)
    if image_shape is not None:  # the same fraction of the image as 3 pixels of 28
        perturbation["max_shift"] *= min(image_shape[1:]) / 28
    return augment(x_real, image_shape, rng, **perturbation)


def real_data_terms(cluster_logits, x_real, image_shape, rng, perturbation=REAL_PERTURBATION, logits=None,
                    marginal_target=None):
    """Information and consistency of a cluster head on a real mini-batch.

    Parameters
    ----------
    cluster_logits : callable
        Maps scaled rows to cluster logits.
    x_real : torch.Tensor of shape (n, n_features)
        The scaled real mini-batch.
    image_shape : tuple of 3 ints or None
        The images' shape, or None for flat rows.
    rng : torch.Generator
        Draws the perturbation.
    perturbation : dict
        Arguments of :func:`~skgancluster._augment.augment`; the shift is
        given for a 28-pixel image and scaled to the image's size.
    logits : torch.Tensor or None
        ``cluster_logits(x_real)`` when the caller has already computed it
        (see :func:`~skgancluster.losses.information_and_consistency`).
    marginal_target : torch.Tensor of shape (n_clusters,) or None
        Cluster proportions the assignments should follow; None asks for
        equal ones.

    Returns
    -------
    information, consistency : scalar tensors
    """
    x_aug = perturb_real(x_real, image_shape, rng, perturbation)
    return information_and_consistency(cluster_logits, x_real, x_aug, MARGINAL_WEIGHT, logits, marginal_target)
