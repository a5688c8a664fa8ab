"""The label-preserving perturbations of real samples."""

import torch

import pytest

from skgancluster._augment import add_noise, augment, shift_and_flip


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


def test_shift_moves_images_by_at_most_max_shift():
    x = _vertical_bar().repeat(200, 1)
    out = augment(x, (1, 28, 28), torch.Generator().manual_seed(0), max_shift=3.0)
    moved = _column_of_mass(out.view(200, 28, 28)[:, 14]) - 14.0
    assert moved.abs().max() <= 3.0 + 1e-4
    assert moved.abs().max() > 2.0 and (moved > 0).any() and (moved < 0).any()
    torch.testing.assert_close(out.sum(1), x.sum(1), rtol=0.05, atol=0)  # moved, not erased


def test_flat_rows_get_gaussian_noise_of_the_given_size():
    x = torch.zeros(20000, 3)
    out = augment(x, None, torch.Generator().manual_seed(0), noise_std=0.1)
    assert out.std().item() == pytest.approx(0.1, rel=0.02) and out.mean().abs().item() < 0.005
    torch.testing.assert_close(add_noise(x, 0.1, torch.Generator().manual_seed(0)), out)


def test_shift_and_flip_gives_whole_pixel_translations_and_mirrors():
    gen = torch.Generator().manual_seed(0)
    image = torch.rand(1, 1, 8, 8, generator=gen)
    x = image.flatten(1).repeat(300, 1)
    candidates = []
    for mirror in (False, True):
        base = image.flip(-1) if mirror else image
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                shifted = torch.zeros_like(base)
                src = base[..., max(0, -dy):8 - max(0, dy), max(0, -dx):8 - max(0, dx)]
                shifted[..., max(0, dy):8 - max(0, -dy), max(0, dx):8 - max(0, -dx)] = src
                candidates.append(shifted.flatten())
    candidates = torch.stack(candidates)
    for flip, n_kinds in ((False, 9), (True, 18)):
        out = shift_and_flip(x, (1, 8, 8), torch.Generator().manual_seed(1), max_shift=1, flip=flip)
        distance = (out[:, None, :] - candidates[None, :n_kinds]).abs().amax(2)
        assert (distance.amin(1) < 1e-6).all(), "every output is one of the whole-pixel shifts"
        assert len(distance.argmin(1).unique()) == n_kinds, "and all of them are drawn"
