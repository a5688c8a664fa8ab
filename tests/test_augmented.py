"""AugmentedGANClustering: the Sobel front-end, the tolerant information term, head selection."""

import math

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits, make_blobs
from sklearn.metrics import adjusted_rand_score

from skgancluster import AugmentedGANClustering
from skgancluster._generative import ModeMeans
from skgancluster.augmented import SobelFrontEnd
from skgancluster.losses import virtual_adversarial_loss
from skgancluster.metrics import cluster_accuracy, sample_agreement
from skgancluster.model_selection import internal_index

SMALL = dict(gan_epochs=5, max_iter=45, feature_units=64, hidden_units=(64,), classifier_batch_size=128,
             classifier_learning_rate=1e-3, n_replicas=2, generator_epochs=0, device="cpu", random_state=0)


def test_sobel_front_end_adds_the_edges_of_the_grey_image():
    image = torch.zeros(1, 3, 6, 6)
    image[..., 3:] = 1.0  # a vertical edge, the same in every channel
    out = SobelFrontEnd((3, 6, 6))(image.flatten(1)).view(1, 5, 6, 6)
    torch.testing.assert_close(out[:, :3], image)
    dx, dy = out[0, 3], out[0, 4]
    # inside the image (its border sees the zero padding)
    assert (dx[1:-1, 2:4] == 4).all() and (dx[1:-1, 1] == 0).all() and (dx[1:-1, 4] == 0).all()
    assert (dy[1:-1, 1:-1] == 0).all()  # no horizontal edge inside the image


def test_information_term_tolerates_imbalance_up_to_delta():
    est = AugmentedGANClustering(4, n_heads=1, delta=0.1, balance_weight=1.0, max_cluster_size=None)
    confident = torch.tensor([[1.0, 0, 0, 0]] * 5 + [[0, 1.0, 0, 0]] * 3 + [[0, 0, 1.0, 0]] * 1 + [[0, 0, 0, 1.0]])
    to_uniform = math.log(4) + (np.array([.5, .3, .1, .1]) * np.log([.5, .3, .1, .1])).sum()
    assert 0.1 * math.log(4) < to_uniform
    assert est._information(confident, 0).item() == pytest.approx(to_uniform - 0.1 * math.log(4), abs=1e-5)
    est.set_params(delta=0.3)  # tolerance above this imbalance: only the confidence term is left
    assert est._information(confident, 0).item() == pytest.approx(0.0, abs=1e-5)
    est.set_params(delta=0.0)
    assert est._information(confident, 0).item() == pytest.approx(to_uniform, abs=1e-5)


def test_per_head_vat_adds_up_to_the_joint_loss():
    head = torch.nn.Linear(4, 7)
    x = torch.randn(16, 4, generator=torch.Generator().manual_seed(0))
    joint = virtual_adversarial_loss(head, x, 1.0, torch.Generator().manual_seed(1), xi=0.5, groups=(3, 4))
    per_head = virtual_adversarial_loss(head, x, 1.0, torch.Generator().manual_seed(1), xi=0.5, groups=(3, 4),
                                        per_group=True)
    assert per_head.shape == (2,)
    torch.testing.assert_close(per_head.sum(), joint)


def test_clusters_blobs_and_selects_the_head_with_the_lowest_loss():
    X, y = make_blobs(n_samples=600, centers=3, n_features=8, cluster_std=1.0, random_state=0)
    est = AugmentedGANClustering(3, **SMALL).fit(X)
    assert est.head_labels_.shape == (600, 5)
    assert est.best_head_ == int(np.argmin(est.head_losses_))
    best = est.head_labels_[:, est.best_head_]
    assert adjusted_rand_score(best, est.labels_) == 1.0
    np.testing.assert_array_equal(est.predict(X), est.labels_)
    assert adjusted_rand_score(y, est.labels_) > 0.9
    assert est.transform(X[:4]).shape == (4, 64)


def test_sample_of_a_cluster_keeps_only_its_rows():
    X, _ = make_blobs(n_samples=300, centers=3, n_features=4, random_state=0)
    est = AugmentedGANClustering(3, **{**SMALL, "max_iter": 10}).fit(X)
    _, drawn = est.sample(50)
    common = int(np.bincount(drawn).argmax())
    X_new, labels = est.sample(10, cluster=common)
    assert X_new.shape == (10, 4) and (labels == common).all()
    np.testing.assert_array_equal(est.predict(X_new), labels)
    est._max_draws = 1  # one round of 256 cannot hold 10,000 rows of one cluster
    with pytest.raises(RuntimeError, match="rarely puts generated samples in this cluster"):
        est.sample(10_000, cluster=common)


def test_generator_epochs_draw_each_cluster_and_leave_the_clusters():
    X, _ = make_blobs(n_samples=[500, 250, 100], n_features=10, random_state=0)
    paper = AugmentedGANClustering(3, **SMALL).fit(X)
    est = AugmentedGANClustering(3, **{**SMALL, "generator_epochs": "auto"}).fit(X)
    np.testing.assert_array_equal(est.labels_, paper.labels_)
    for name in ("discriminator", "classifier"):
        torch.testing.assert_close(est.networks_[name].state_dict(), paper.networks_[name].state_dict())
    assert est.n_iter_ - paper.n_iter_ == -(-2000 // (len(X) // 64))  # "auto": about 2,000 steps of 64 rows
    assert "cluster_critic" in est.history_[-1]
    assert min(sample_agreement(est, X)) >= 0.9
    _, drawn = est.sample(2000)  # clusters in proportion to their training rows
    np.testing.assert_allclose(np.bincount(drawn) / 2000, np.bincount(est.labels_) / len(X), atol=0.05)


def test_cluster_gan_learns_each_cluster_from_its_confident_core():
    """The critic's real rows of a cluster are those the classifier is surest of: a quarter, at least 100 rows."""
    X, _ = make_blobs(n_samples=[1000, 300, 60], n_features=6, cluster_std=3.0, random_state=0)
    est = AugmentedGANClustering(3, **SMALL).fit(X)
    features = est._classifier_input(torch.as_tensor((X - est.input_offset_) / est.input_scale_, dtype=torch.float32))
    core = est._core_rows(features, torch.as_tensor(est.labels_)).numpy()
    confidence = est.predict_proba(X)[np.arange(len(X)), est.labels_]
    for k in range(3):
        members = est.labels_ == k
        kept, left = confidence[members & core], confidence[members & ~core]
        assert abs(len(kept) - max(members.sum() / 4, min(members.sum(), 100))) <= 2
        assert not len(left) or kept.min() >= left.max() - 1e-6


def test_cluster_critic_rejects_real_rows_shown_with_another_clusters_code():
    """The critic learns where each cluster's rows end: a real row paired with another cluster is a fake of it."""
    X, _ = make_blobs(n_samples=[600, 300, 150], n_features=6, cluster_std=1.5, random_state=0)
    est = AugmentedGANClustering(3, **{**SMALL, "generator_epochs": 30}).fit(X)
    x = torch.as_tensor((X - est.input_offset_) / est.input_scale_, dtype=torch.float32)
    own = torch.as_tensor(est.head_labels_[:, est.best_head_])
    with torch.no_grad():
        right = torch.sigmoid(est.networks_["cluster_critic"](x, own))
        wrong = torch.sigmoid(est.networks_["cluster_critic"](x, (own + 1) % 3))
    assert (wrong < 0.5).float().mean() > 0.9  # about half without the mismatched pairs
    assert (right > wrong).float().mean() > 0.9


def test_cluster_gan_of_a_single_cluster():
    X, _ = make_blobs(n_samples=200, centers=1, n_features=4, random_state=0)
    est = AugmentedGANClustering(1, **{**SMALL, "max_iter": 8, "generator_epochs": 2}).fit(X)
    assert "cluster_critic" in est.history_[-1] and est.sample(5, cluster=0)[0].shape == (5, 4)


def test_mode_means_leave_out_rows_of_weight_zero():
    means = ModeMeans(2, 1)
    x, modes = torch.tensor([[1.0], [3.0], [10.0], [5.0]]), torch.tensor([0, 0, 0, 1])
    means.update(x, modes, momentum=0.5, weights=torch.tensor([1.0, 1.0, 0.0, 0.0]))
    torch.testing.assert_close(means.means, torch.tensor([[2.0], [0.0]]))  # mode 1 had no kept row: not seen
    assert means.seen.tolist() == [True, False]


def test_generator_epochs_need_the_classifier_phase():
    """A fit that ends inside the GAN phase has no clusters to draw: it skips them, and a warm fit runs them."""
    X, _ = make_blobs(n_samples=200, centers=3, n_features=4, random_state=0)
    est = AugmentedGANClustering(3, **{**SMALL, "gan_epochs": 3, "max_iter": 2, "generator_epochs": 2}).fit(X)
    assert est.n_iter_ == 2 and "cluster_critic" not in est.history_[-1]
    est.set_params(warm_start=True, max_iter=3).fit(X)
    assert est.n_iter_ == 7 and "cluster_critic" in est.history_[-1] and "head_0" in est.history_[-3]
    assert est.best_head_ == int(np.argmin(est.head_losses_))
    est.set_params(generator_epochs=1).fit(X)  # their number may change, the cluster GAN may not go
    with pytest.raises(ValueError, match="cluster GAN"):
        est.set_params(generator_epochs=0).fit(X)


@pytest.mark.parametrize("image_shape", [None, (1, 8, 8)], ids=["flat", "images"])
def test_cluster_gan_starts_as_the_trained_gan(image_shape):
    X = np.random.RandomState(0).rand(96, 64)
    est = AugmentedGANClustering(3, image_shape=image_shape, gan_epochs=1, max_iter=2, feature_units=16,
                                 hidden_units=(16,), classifier_batch_size=32, n_replicas=1, n_heads=2,
                                 generator_epochs=1, device="cpu", random_state=0).fit(X)
    est._start_cluster_gan_from_gan()
    nets = est.networks_.eval()
    torch.testing.assert_close(nets["cluster_critic"].discriminator.state_dict(), nets["discriminator"].state_dict())
    z = torch.rand(5, est.latent_dim, generator=torch.Generator().manual_seed(0)) * 2 - 1
    one_hot = torch.nn.functional.one_hot(torch.tensor([0, 1, 2, 0, 1]), 3).float()
    with torch.no_grad():  # the one-hot inputs start at zero weight: the same rows as the trained generator's
        torch.testing.assert_close(nets["cluster_generator"](torch.cat([z, one_hot], 1)), nets["generator"](z))
    assert est.sample(4, cluster=0)[0].shape == (4, 64)


def test_warm_start_after_the_gan_phase_trains_the_classifier_only():
    """Epochs continue the schedule: past gan_epochs_ only the classifier changes."""
    X, _ = make_blobs(n_samples=200, centers=3, n_features=4, random_state=0)
    est = AugmentedGANClustering(3, **{**SMALL, "gan_epochs": 2, "max_iter": 4}).fit(X)
    generator = {k: v.clone() for k, v in est.networks_["generator"].state_dict().items()}
    classifier = {k: v.clone() for k, v in est.networks_["classifier"].state_dict().items()}
    est.set_params(warm_start=True, max_iter=3).fit(X)
    assert est.n_iter_ == 7 and est.gan_epochs_ == 2
    for k, v in est.networks_["generator"].state_dict().items():
        torch.testing.assert_close(v, generator[k])
    assert any(not torch.equal(v, classifier[k]) for k, v in est.networks_["classifier"].state_dict().items())


def test_images_whose_last_feature_map_is_one_pixel():
    """8x8 digits through the paper's three stride-2 convolutions end in a 1x1 map."""
    X = np.random.RandomState(0).rand(96, 64)
    est = AugmentedGANClustering(3, image_shape=(1, 8, 8), gan_epochs=1, max_iter=2, feature_units=16,
                                 hidden_units=(16,), classifier_batch_size=32, n_replicas=1, n_heads=2,
                                 generator_epochs=0, device="cpu", random_state=0).fit(X)
    assert est.conv_channels == (32, 64, 128) and est.predict(X[:5]).shape == (5,)


def test_affine_augmentation_reads_the_convolutions_of_images():
    X = np.random.RandomState(0).rand(96, 64)
    shapes = dict(image_shape=(1, 8, 8), gan_epochs=1, max_iter=2, feature_units=16, hidden_units=(16,),
                  classifier_batch_size=32, n_replicas=2, n_heads=2, generator_epochs=0, device="cpu", random_state=0)
    affine = AugmentedGANClustering(3, **shapes).fit(X)  # "auto": images get the affine views
    assert affine.transform(X[:3]).shape == (3, 128)  # 128 channels of a 1x1 map
    assert "affine" in affine.history_[-1] and "vat" not in affine.history_[-1]
    paper = AugmentedGANClustering(3, augmentation=None, **shapes).fit(X)
    assert paper.transform(X[:3]).shape == (3, 16)  # the feature layer M
    assert "vat" in paper.history_[-1] and "affine" not in paper.history_[-1]


def test_affine_augmentation_refuses_flat_rows():
    X, _ = make_blobs(n_samples=60, centers=3, n_features=4, random_state=0)
    with pytest.raises(ValueError, match="perturbs images"):
        AugmentedGANClustering(3, augmentation="affine", **{**SMALL, "max_iter": 1}).fit(X)


@pytest.mark.slow
def test_load_digits_quality_with_the_affine_views():
    """A short GAN phase, then the classifier on the convolutions with the affine self-augmentation."""
    X, y = load_digits(return_X_y=True)
    est = AugmentedGANClustering(10, image_shape=(1, 8, 8), gan_epochs=2, max_iter=40, random_state=0,
                                 device="cpu").fit(X)
    assert cluster_accuracy(y, est.labels_) >= 0.85


def test_auto_widths_follow_the_input():
    """The paper's widths for images and wide rows, narrower ones for small flat rows."""
    rng = np.random.RandomState(0)
    short = dict(gan_epochs=1, max_iter=1, n_heads=1, overcluster_factor=0, device="cpu", random_state=0)
    for X, image_shape, width in [(rng.rand(40, 10), None, 256), (rng.rand(40, 200), None, 1024),
                                  (rng.rand(40, 64), (1, 8, 8), 1024)]:
        est = AugmentedGANClustering(2, image_shape=image_shape, **short).fit(X)
        assert est.networks_["classifier"].heads.in_features == width
        assert est.networks_["generator"](torch.zeros(2, est.latent_dim)).shape == (2, X.shape[1])
        discriminator_widths = {m.out_features for m in est.networks_["discriminator"].modules()
                                if isinstance(m, torch.nn.Linear)}
        assert width in discriminator_widths


def test_a_head_that_left_clusters_empty_is_not_selected(monkeypatch):
    X, _ = make_blobs(n_samples=120, centers=3, n_features=4, random_state=0)
    est = AugmentedGANClustering(3, n_heads=3, **{**SMALL, "max_iter": 6}).fit(X)
    merged = np.tile(np.arange(len(X))[:, None] % 3, (1, 3))
    merged[:, 0] = np.minimum(merged[:, 0], 1)  # head 0 uses two outputs of three
    monkeypatch.setattr(est, "_map_batches", lambda X, fn: merged)
    est.history_[-1].update(head_0=0.1, head_1=0.3, head_2=0.2)
    est._fit_labels(X)
    assert est.best_head_ == 2  # the lowest loss among the heads that use every output
    merged[:, 1:] = 0  # no head uses every output: the lowest loss of all
    est._fit_labels(X)
    assert est.best_head_ == 0


def test_score_is_the_neighbour_agreement_and_ranks_a_trained_fit_first():
    X, y = make_blobs(n_samples=600, centers=3, n_features=8, cluster_std=1.0, random_state=0)
    trained = AugmentedGANClustering(3, **SMALL).fit(X)
    untrained = AugmentedGANClustering(3, **{**SMALL, "max_iter": 5}).fit(X)  # the GAN phase only
    assert adjusted_rand_score(y, trained.labels_) > 0.9 > adjusted_rand_score(y, untrained.labels_)
    assert trained.score(X) > untrained.score(X)
    assert trained.score(X) == internal_index(X, trained.labels_, "neighbour_agreement", estimator=trained)
