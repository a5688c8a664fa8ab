"""The shared loss terms."""

import math

import pytest
import torch
import torch.nn.functional as F

from skgancluster.losses import information_and_consistency

K = 4


def by_row_index(rows):
    """Confident logits, cluster = row value mod K: balanced over 8 rows."""
    return 50 * F.one_hot(rows[:, 0].long() % K, K).float()


def all_in_cluster_0(rows):
    return 50 * F.one_hot(torch.zeros(len(rows), dtype=torch.long), K).float()


def test_information_rewards_confident_balanced_assignments():
    x = torch.arange(8.0)[:, None]
    information, consistency = information_and_consistency(by_row_index, x, x, marginal_weight=2.0)
    assert information.item() == pytest.approx(-2.0 * math.log(K), abs=1e-4)
    assert consistency.item() == pytest.approx(0.0, abs=1e-6)
    # Confident but collapsed into one cluster: no marginal reward.
    assert information_and_consistency(all_in_cluster_0, x, x, 2.0)[0].item() == pytest.approx(0.0, abs=1e-4)


def test_consistency_penalises_changed_assignments():
    x, x_moved = torch.zeros(5, 1), torch.ones(5, 1)
    _, consistency = information_and_consistency(by_row_index, x, x_moved)
    assert consistency.item() > 1.0
