"""Label-preserving perturbations of real samples, drawn on the device."""

import torch
import torch.nn.functional as F

__all__ = ["augment"]


def augment(x, image_shape, generator, max_shift=2.0, max_rotation=0.0, max_zoom=0.0, max_shear=0.0,
            noise_std=0.1):
    """Small random affine maps of images; Gaussian noise on flat rows.

    ``x`` holds scaled flat rows. Images get their own random shift (up to
    ``max_shift`` pixels), rotation (up to ``max_rotation`` degrees), zoom
    (factor within ``1 +- max_zoom``) and horizontal shear (``x += s y``
    with ``|s| <= max_shear``, a change of slant), applied with bilinear
    sampling, and are returned flat. Flat data (standardised) get
    ``N(0, noise_std^2)``.
    """
    if image_shape is None:
        return x + noise_std * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    n, (channels, height, width) = x.shape[0], image_shape
    u = torch.rand(n, 5 if max_shear else 4, generator=generator, device=x.device, dtype=x.dtype) * 2 - 1
    angle = u[:, 2] * max_rotation * torch.pi / 180
    zoom = 1 + u[:, 3] * max_zoom
    theta = torch.zeros(n, 2, 3, device=x.device, dtype=x.dtype)
    theta[:, 0, 0], theta[:, 0, 1] = angle.cos() / zoom, -angle.sin() / zoom
    theta[:, 1, 0], theta[:, 1, 1] = angle.sin() / zoom, angle.cos() / zoom
    if max_shear:  # rotation-zoom times the shear [[1, s], [0, 1]]
        theta[:, 0, 1] += theta[:, 0, 0] * u[:, 4] * max_shear
        theta[:, 1, 1] += theta[:, 1, 0] * u[:, 4] * max_shear
    shift = u[:, :2]
    # affine_grid works in [-1, 1] coordinates: one pixel is 2 / size.
    theta[:, 0, 2] = shift[:, 0] * max_shift * 2 / width
    theta[:, 1, 2] = shift[:, 1] * max_shift * 2 / height
    images = x.view(n, channels, height, width)
    grid = F.affine_grid(theta, images.shape, align_corners=False)
    return F.grid_sample(images, grid, align_corners=False).flatten(1)
