"""The shared loss terms."""

import math

import pytest
import torch
import torch.nn.functional as F

from skgancluster.losses import (gradient_penalty, information_and_consistency, marginal_divergence, marginal_entropy,
                                 wgan_critic_loss)
from skgancluster.priors import RunningProportions

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


def test_precomputed_logits_give_the_same_terms_and_gradients():
    head = torch.nn.Linear(3, K)
    x = torch.randn(16, 3, generator=torch.Generator().manual_seed(0))
    x_moved = x + 0.1

    def terms_and_grad(**kwargs):
        head.zero_grad()
        terms = information_and_consistency(head, x, x_moved, 2.0, **kwargs)
        sum(terms).backward()
        return [t.item() for t in terms], head.weight.grad.clone()

    recomputed, grad_recomputed = terms_and_grad()
    given, grad_given = terms_and_grad(logits=head(x))
    assert given == pytest.approx(recomputed, abs=1e-6)
    torch.testing.assert_close(grad_given, grad_recomputed)
    # ... and they are the ones used: uniform logits carry no information.
    uniform = information_and_consistency(head, x, x_moved, 2.0, logits=torch.zeros(16, K))[0]
    assert uniform.item() == pytest.approx(math.log(K) - 2.0 * math.log(K), abs=1e-5)


def test_gradient_penalty_of_a_linear_critic_is_exact():
    # A linear critic has gradient w everywhere: the penalty is (||w|| - 1)^2 whatever the points.
    critic = torch.nn.Linear(5, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 0.0, 4.0, 0.0, 0.0]]))  # ||w|| = 5
    gen = torch.Generator().manual_seed(0)
    real, fake = torch.randn(32, 5, generator=gen), torch.randn(32, 5, generator=gen)
    assert gradient_penalty(critic, real, fake, gen).item() == pytest.approx(16.0)
    with torch.no_grad():
        critic.weight.div_(5.0)  # ||w|| = 1: no penalty
    assert gradient_penalty(critic, real, fake, gen).item() == pytest.approx(0.0, abs=1e-10)


def test_wgan_critic_loss_is_the_negative_wasserstein_estimate_plus_the_penalty():
    critic = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[2.0, 0.0]]))
    real, fake = torch.tensor([[1.0, 0.0], [3.0, 1.0]]), torch.zeros(2, 2)
    loss, wasserstein = wgan_critic_loss(critic, real, fake, 10.0, torch.Generator().manual_seed(0))
    assert wasserstein.item() == pytest.approx(4.0)  # mean 2 x_0 over real, 0 over fake
    assert loss.item() == pytest.approx(-4.0 + 10.0 * (2.0 - 1.0) ** 2)


def test_imbalance_beyond_is_the_kl_to_uniform_above_the_tolerance():
    from skgancluster.losses import imbalance_beyond, marginal_entropy

    sizes = torch.tensor([0.7, 0.2, 0.1])
    probs = sizes.repeat(10, 1)  # every row the same soft assignment: p(y) = sizes
    kl = (sizes * (sizes * 3).log()).sum().item()
    assert imbalance_beyond(probs).item() == pytest.approx(kl, abs=1e-5)
    assert imbalance_beyond(probs).item() == pytest.approx(math.log(3) - marginal_entropy(probs).item(), abs=1e-6)
    assert imbalance_beyond(probs, tolerance=kl - 0.05).item() == pytest.approx(0.05, abs=1e-5)
    # Within the tolerance the sizes are free: no value, no gradient.
    logits = sizes.log().repeat(10, 1).requires_grad_(True)
    value = imbalance_beyond(logits.softmax(1), tolerance=kl + 0.01)
    value.backward()
    assert value.item() == 0 and logits.grad.abs().max().item() == 0


def test_oversize_charges_only_the_clusters_above_the_size():
    from skgancluster.losses import oversize

    # One cluster holds two classes' rows (0.2 of 10 clusters), one is small, the rest equal.
    sizes = torch.tensor([0.2, 0.02] + [0.78 / 8] * 8)
    probs = sizes.repeat(4, 1)
    assert oversize(probs, 1.5).item() == pytest.approx(0.2 * math.log(0.2 * 10 / 1.5), abs=1e-5)
    assert oversize(probs, 2.5).item() == 0  # no cluster above 2.5 / K
    # A small cluster (a cut class) is free: the gradient reaches only the over-full one.
    logits = sizes.log().repeat(4, 1).requires_grad_(True)
    oversize(logits.softmax(1), 1.5).backward()
    pushed = logits.grad.sum(0)
    assert pushed[0] > 0 and pushed[1] < 0  # rows leave cluster 0 for the others, the small one included
    assert oversize(torch.full((4, 10), 0.1), 1.0).item() == pytest.approx(0, abs=1e-6)


def test_marginal_divergence_from_uniform_is_log_k_minus_the_marginal_entropy():
    probs = torch.softmax(torch.randn(16, K, generator=torch.Generator().manual_seed(0)), 1)
    uniform = torch.full((K,), 1 / K)
    assert float(marginal_divergence(probs, uniform)) == pytest.approx(math.log(K) - float(marginal_entropy(probs)),
                                                                       abs=1e-6)
    assert float(marginal_divergence(probs, probs.mean(0))) == pytest.approx(0, abs=1e-6)


def test_information_asks_for_the_target_sizes_instead_of_equal_ones():
    x = torch.arange(8.0)[:, None]

    def six_of_eight_in_cluster_0(rows):  # sizes 3/4, 1/4, 0, 0
        return 50 * F.one_hot((rows[:, 0].long() >= 6).long(), K).float()

    sizes = torch.tensor([0.75, 0.25, 1e-3, 1e-3])
    balanced = information_and_consistency(by_row_index, x, x, 2.0, marginal_target=sizes)[0]
    unequal = information_and_consistency(six_of_eight_in_cluster_0, x, x, 2.0, marginal_target=sizes)[0]
    assert unequal < balanced  # with the learned sizes as target, the unequal clustering costs less
    equal_target = information_and_consistency(six_of_eight_in_cluster_0, x, x, 2.0)[0]
    assert information_and_consistency(by_row_index, x, x, 2.0)[0] < equal_target


def test_running_proportions_follow_the_assignments_above_a_floor():
    sizes = RunningProportions(4, min_fraction=0.2)
    torch.testing.assert_close(sizes.weights(), torch.full((4,), 0.25))
    assigned = F.one_hot(torch.tensor([0] * 7 + [1] * 3), 4).float()  # 70 % / 30 % / 0 / 0
    for _ in range(200):
        sizes.update(assigned, momentum=0.05)
    torch.testing.assert_close(sizes.proportions, torch.tensor([0.7, 0.3, 0.0, 0.0]), atol=1e-4, rtol=0)
    weights = sizes.weights()  # the empty clusters keep 0.2 / 4 before renormalising
    assert float(weights.sum()) == pytest.approx(1.0)
    assert float(weights[2]) == pytest.approx(0.05 / 1.1, rel=1e-3) and weights[0] > weights[1] > weights[2]
