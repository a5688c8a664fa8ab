"""Label-preserving perturbations of real samples, drawn on the device."""

import torch
import torch.nn.functional as F

__all__ = ["augment"]


def augment(x, image_shape, generator, max_shift=2.0, noise_std=0.1):
    """Shift images by up to ``max_shift`` pixels; add Gaussian noise to flat rows.

    ``x`` holds scaled flat rows; images are shifted with bilinear sampling
    (each row its own random translation) and returned flat. Flat data
    (standardised) get ``N(0, noise_std^2)`` noise.
    """
    if image_shape is None:
        return x + noise_std * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    n, (channels, height, width) = x.shape[0], image_shape
    theta = torch.zeros(n, 2, 3, device=x.device, dtype=x.dtype)
    theta[:, 0, 0] = theta[:, 1, 1] = 1
    shift = torch.rand(n, 2, generator=generator, device=x.device, dtype=x.dtype) * 2 - 1
    # affine_grid works in [-1, 1] coordinates: one pixel is 2 / size.
    theta[:, 0, 2] = shift[:, 0] * max_shift * 2 / width
    theta[:, 1, 2] = shift[:, 1] * max_shift * 2 / height
    images = x.view(n, channels, height, width)
    grid = F.affine_grid(theta, images.shape, align_corners=False)
    return F.grid_sample(images, grid, align_corners=False).flatten(1)
