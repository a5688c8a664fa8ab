"""The label-preserving perturbations of real samples."""

import torch

from skgancluster._augment import augment


def _vertical_bar(size=28):
    image = torch.zeros(1, size, size)
    image[:, 4:-4, size // 2] = 1.0
    return image.flatten(1)


def _column_of_mass(rows):
    columns = torch.arange(rows.shape[-1], dtype=rows.dtype)
    return (rows * columns).sum(-1) / rows.sum(-1)


def test_no_perturbation_is_the_identity():
    x = torch.rand(5, 28 * 28, generator=torch.Generator().manual_seed(0))
    out = augment(x, (1, 28, 28), torch.Generator().manual_seed(1), max_shift=0.0)
    torch.testing.assert_close(out, x)


def test_shear_changes_the_slant_only():
    x = _vertical_bar().repeat(64, 1)
    out = augment(x, (1, 28, 28), torch.Generator().manual_seed(0), max_shift=0.0, max_shear=0.3)
    images = out.view(64, 28, 28)
    top, middle, bottom = (_column_of_mass(images[:, r]) for r in (6, 14, 21))
    slant = top - bottom
    assert slant.abs().max() > 2.0  # a shear of up to 0.3 over 15 rows moves up to 4.5 px
    assert (slant > 0).any() and (slant < 0).any()  # both directions are drawn
    torch.testing.assert_close(middle, torch.full_like(middle, 14.0), atol=0.6, rtol=0)
    plain = augment(x, (1, 28, 28), torch.Generator().manual_seed(0), max_shift=0.0).view(64, 28, 28)
    torch.testing.assert_close(_column_of_mass(plain[:, 6]), _column_of_mass(plain[:, 21]))
