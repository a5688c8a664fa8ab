"""Label-preserving perturbations of real samples, drawn on the device.

Rows are scaled and flat; images are perturbed as images and returned flat.
"""

import torch
import torch.nn.functional as F

__all__ = ["augment", "add_noise", "shift_and_flip"]


def add_noise(x, noise_std, generator):
    """``x + N(0, noise_std^2)``: the perturbation of flat (standardised) rows."""
    return x + noise_std * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)


def _warp(x, image_shape, theta, mode="bilinear"):
    """Apply one affine map per row (``theta`` in affine_grid's [-1, 1] coordinates)."""
    images = x.view(x.shape[0], *image_shape)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode=mode, align_corners=False).flatten(1)


def augment(x, image_shape, generator, max_shift=2.0, max_rotation=0.0, max_zoom=0.0, max_shear=0.0,
            noise_std=0.1):
    """Small random affine maps of images; Gaussian noise on flat rows.

    Images get their own random shift (up to ``max_shift`` pixels), rotation
    (up to ``max_rotation`` degrees), zoom (factor within ``1 +- max_zoom``)
    and horizontal shear (``x += s y`` with ``|s| <= max_shear``, a change
    of slant), applied with bilinear sampling. Flat data (``image_shape``
    None) get ``N(0, noise_std^2)``.
    """
    if image_shape is None:
        return add_noise(x, noise_std, generator)
    n, (_, height, width) = x.shape[0], image_shape
    u = torch.rand(n, 5 if max_shear else 4, generator=generator, device=x.device, dtype=x.dtype) * 2 - 1
    angle = u[:, 2] * max_rotation * torch.pi / 180
    zoom = 1 + u[:, 3] * max_zoom
    theta = torch.zeros(n, 2, 3, device=x.device, dtype=x.dtype)
    theta[:, 0, 0], theta[:, 0, 1] = angle.cos() / zoom, -angle.sin() / zoom
    theta[:, 1, 0], theta[:, 1, 1] = angle.sin() / zoom, angle.cos() / zoom
    if max_shear:  # rotation-zoom times the shear [[1, s], [0, 1]]
        theta[:, 0, 1] += theta[:, 0, 0] * u[:, 4] * max_shear
        theta[:, 1, 1] += theta[:, 1, 0] * u[:, 4] * max_shear
    # affine_grid works in [-1, 1] coordinates: one pixel is 2 / size.
    theta[:, 0, 2] = u[:, 0] * max_shift * 2 / width
    theta[:, 1, 2] = u[:, 1] * max_shift * 2 / height
    return _warp(x, image_shape, theta)


def shift_and_flip(x, image_shape, generator, max_shift, flip=False):
    """Whole-pixel random translations of images (up to ``max_shift``), optionally mirrored.

    Each image moves by an integer number of pixels in each direction
    (nearest sampling, zeros come in at the border) and, with ``flip``, is
    mirrored left-right with probability 1/2 (for natural images, not digits).
    """
    n, (_, height, width) = x.shape[0], image_shape
    shifts = torch.randint(-max_shift, max_shift + 1, (n, 2), generator=generator, device=x.device).to(x.dtype)
    theta = torch.zeros(n, 2, 3, device=x.device, dtype=x.dtype)
    theta[:, 0, 0] = theta[:, 1, 1] = 1
    if flip:
        mirrored = torch.rand(n, generator=generator, device=x.device) < 0.5
        theta[:, 0, 0] = torch.where(mirrored, -1.0, 1.0).to(x.dtype)
    theta[:, 0, 2] = 2 * shifts[:, 0] / width
    theta[:, 1, 2] = 2 * shifts[:, 1] / height
    return _warp(x, image_shape, theta, mode="nearest")
