"""Augmented GAN with information maximisation (Ntelemis et al.) as a scikit-learn clusterer."""

import contextlib
import math
import numbers

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ._base import INFERENCE_BATCH, best_run
from ._docs import fill_doc
from ._generative import GenerativeClustering, GeneratorEpochs, ModeMeans
from ._real_data import perturb_real
from ._training import frozen
from .imsat import AFFINE_PERTURBATION, SMALL_INPUT
from .losses import entropy, imbalance, kl_from_fixed, softmax_groups, virtual_adversarial_loss
from .nn import batch_stats_kept, make_generator, make_mlp, make_trunk

__all__ = ["AugmentedGANClustering"]


class SobelFrontEnd(nn.Module):
    """Fixed edge maps next to the image: grey level, then Sobel ``dx`` and ``dy``.

    Maps flat rows of ``(C, H, W)`` images to flat rows of ``(C + 2, H, W)``
    images: the input channels followed by the two Sobel responses of their
    grey level (luminance weights for RGB, the mean otherwise). Nothing in it
    is trained.
    """

    def __init__(self, image_shape):
        super().__init__()
        channels = image_shape[0]
        self.image_shape = tuple(image_shape)
        grey = torch.tensor([0.299, 0.587, 0.114]) if channels == 3 else torch.full((channels,), 1.0 / channels)
        sobel = torch.tensor([[[-1., 0., 1.], [-2., 0., 2.], [-1., 0., 1.]],
                              [[-1., -2., -1.], [0., 0., 0.], [1., 2., 1.]]])
        self.register_buffer("grey", grey.view(1, channels, 1, 1))
        self.register_buffer("sobel", sobel.unsqueeze(1))

    @property
    def out_shape(self):
        channels, height, width = self.image_shape
        return channels + 2, height, width

    def forward(self, x):
        image = x.view(-1, *self.image_shape)
        edges = F.conv2d(F.conv2d(image, self.grey), self.sobel, padding=1)
        return torch.cat([image, edges], 1).flatten(1)


class Discriminator(nn.Module):
    """A front-end, a trunk whose last hidden layer is the feature layer ``M``, and a logit."""

    def __init__(self, front, trunk):
        super().__init__()
        self.front = front
        self.trunk = trunk

    def features(self, x):
        return self.trunk.features(self.front(x))

    def convolutions(self, x):
        """The last convolution's output, flattened: the input of the feature layer (images only)."""
        return self.trunk.body[0](self.front(x).view(-1, *self.front.out_shape))

    def forward(self, x):
        return self.trunk.head(self.features(x))


class ClusterCritic(nn.Module):
    """A discriminator that also reads a row's cluster: ``head(f(x)) + <embed(k), f(x)>``.

    The projection form (Miyato and Koyama, cGANs with projection
    discriminator, 2018): the cluster enters as an inner product with the
    features ``f(x)``, so the critic judges whether ``x`` looks like a real
    row *of cluster k*.
    """

    def __init__(self, discriminator, n_modes, feature_units):
        super().__init__()
        self.discriminator = discriminator
        self.embed = nn.Embedding(n_modes, feature_units)
        nn.init.normal_(self.embed.weight, 0.0, 0.02)

    def forward(self, x, modes):
        features = self.discriminator.features(x)
        return self.discriminator.trunk.head(features) + (self.embed(modes) * features).sum(1, keepdim=True)


class MultiHeadClassifier(nn.Module):
    """An MLP trunk (ReLU) with several softmax heads; ``forward`` returns their logits side by side."""

    def __init__(self, n_in, hidden_units, head_sizes, norm=None):
        super().__init__()
        self.head_sizes = tuple(head_sizes)
        self.trunk = make_mlp(n_in, hidden_units[:-1], hidden_units[-1], norm=norm, activation="relu")
        if norm == "batch":
            self.trunk.append(nn.BatchNorm1d(hidden_units[-1]))
        self.trunk.append(nn.ReLU())
        self.heads = nn.Linear(hidden_units[-1], sum(head_sizes))  # every head in one product

    def forward(self, m):
        return self.heads(self.trunk(m))

    def head_slice(self, head):
        start = sum(self.head_sizes[:head])
        return slice(start, start + self.head_sizes[head])


def _dcgan_init(module, std):
    """N(0, std) weights and zero biases (DCGAN); batch-norm scales N(1, std)."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, std)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)


def _batches_per_epoch(n_samples, batch_size):
    """Full batches of ``batch_size`` (capped at ``n_samples``) in an epoch, at least 1."""
    return max(1, n_samples // min(batch_size, n_samples))


@contextlib.contextmanager
def _dropout_at(module, rate):
    """Inside the block, ``module``'s dropout layers drop at ``rate`` whatever its mode; then as before."""
    layers = [m for m in module.modules() if isinstance(m, nn.Dropout)]
    saved = [(m.p, m.training) for m in layers]
    try:
        for m in layers:
            m.p = rate
            m.train()
        yield
    finally:
        for m, (p, training) in zip(layers, saved):
            m.p = p
            m.train(training)


@fill_doc
class AugmentedGANClustering(GenerativeClustering):
    """Clustering on the features of a GAN discriminator with multi-head IMSAT.

    Two phases in one ``fit``. First a DCGAN is trained (standard GAN loss);
    its discriminator reads images through a fixed Sobel front-end (the
    image and its edge maps) and ends in a feature layer ``M``, kept bounded
    by the penalty ``sum max(|M| - penalty_threshold, 0)``. Then the
    discriminator is frozen and an MLP with several softmax heads is trained
    on ``M``: per head ``1/2 R_SAT + 1/2 L_d + lam * I``, where ``R_SAT`` is
    virtual adversarial training on ``M``, ``L_d`` the KL between the
    predictions on ``M`` and on features computed with dropout, and
    ``I = max(KL(p(y) || uniform) - delta, 0) + H(Y|M)`` an information term
    that tolerates a small imbalance. Each mini-batch is replicated with
    different perturbations and dropout masks. For images, by default, the
    classifier reads the discriminator's convolutions and learns to give an
    image and its affine perturbation the same cluster instead of ``R_SAT``
    (``augmentation``): our departure, which the paper's method needs on a
    few thousand images.

    The paper picks its head by accuracy, which needs labels. Here the head
    of ``n_clusters`` outputs with the lowest unsupervised loss in the last
    epoch is used (``best_head_``), among the heads that put training rows
    in every output (any head when none does); the labels of every head are
    kept (``head_labels_``). An extra over-clustering head (``overcluster_factor
    * n_clusters`` outputs) shapes the shared trunk and is never selected.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters (outputs of each selectable head).
    n_heads : int, default=5
        Heads of ``n_clusters`` outputs.
    overcluster_factor : int, default=5
        The over-clustering head has ``overcluster_factor * n_clusters``
        outputs; 0 leaves it out.
    lam : float or "auto", default="auto"
        Weight of the information term ``I``. "auto" is the paper's 0.2, or
        IMSAT's 0.1 with ``augmentation="affine"``.
    delta : float, default=1e-4
        Imbalance tolerance of the heads of ``n_clusters`` outputs, as a
        fraction of ``log(n_clusters)``: ``I`` only penalises
        ``KL(p(y) || uniform)`` above ``delta * log(n_clusters)``. 0 asks
        for balanced clusters.
    balance_weight : float, default=4.0
        Weight of the imbalance part of ``I`` against its confidence part
        ``H(Y|M)``: IMSAT's ``mu``, our departure from the paper's 1, with
        which heads merge clusters (digits with the affine term, blobs on
        flat rows).
    max_cluster_size : float or None, default=1.5
        IMSAT's soft upper bound on cluster sizes, as a multiple of the equal
        size (see :class:`~skgancluster.IMSATClustering`), added to the
        imbalance part of ``I`` of the heads of ``n_clusters`` outputs.
        None is the paper's information term, with which some fits merge two
        clusters and leave others almost empty.
    overcluster_delta : float, default=1e-2
        The same for the over-clustering head (times ``log`` of its width).
    radius : float, default=0.2
        VAT radius of a feature row ``m``: ``radius * ||m||`` (the paper's
        ``alpha_adv`` for MNIST).
    xi : float, default=1.0
        Finite-difference step of VAT's power iteration, ``xi * ||m||``
        (the paper's ``alpha_r`` for MNIST).
    feature_dropout : float, default=0.1
        Dropout rate of the discriminator for the features ``m'`` of ``L_d``.
    n_replicas : int or "auto", default="auto"
        Copies of each classifier mini-batch, each with its own perturbation
        and dropout masks. "auto" is the paper's 5, or 1 with
        ``augmentation="affine"``, whose views each cost a pass through the
        convolutions.
    augmentation : {"auto", "affine"} or None, default="auto"
        Our departure from the paper for images. With "affine" the
        classifier reads the discriminator's last convolution output instead
        of ``M``, and ``R_SAT`` is replaced by an affine self-augmentation:
        ``affine_weight * KL(p(y|x) || p(y|T(x)))`` with ``T`` a random
        shift, rotation, zoom and change of slant of the image (those of
        :class:`~skgancluster.IMSATClustering`), its features computed by the
        frozen discriminator. None is the paper's method (with
        ``balance_weight=1, max_cluster_size=None``); "auto" is "affine"
        for images and None for flat rows. On MNIST-5k the paper's method
        does not find the digits: the feature layer ``M`` of a GAN trained
        on a few thousand images separates them no better than the pixels,
        and virtual adversarial training on it merges clusters
        (``doc/benchmarks.md``).
    affine_weight : float, default=3.0
        Weight of the affine self-augmentation term (``augmentation="affine"``).
    latent_dim : int, default=100
        Dimension of the generator's uniform noise ``z ~ U[-1, 1]``.
    {{image_shape}}
    conv_channels : tuple of int, default=(32, 64, 128)
        Channels of the discriminator's stride-2 convolutions (and of the
        generator's upconvolutions), as in the paper for MNIST.
    {{conv_padding}}
    feature_units : int or "auto", default="auto"
        Width of the feature layer ``M`` (and of the generator's fully
        connected layer). For flat data the discriminator is an MLP with
        two layers of this width. "auto" is the paper's 1024 for images and
        for rows of 200 features or more, and 256 for flat rows of fewer
        (see ``hidden_units``).
    dropout : float, default=0.2
        Dropout of the discriminator while the GAN trains.
    penalty_threshold : float, default=20
        Feature values beyond this magnitude are penalised.
    hidden_units : tuple of int or "auto", default="auto"
        Hidden layers of the classifier. "auto" is the paper's (1024, 1024)
        for images and for rows of 200 features or more, and (256, 256) for
        flat rows of fewer: there the paper's widths, chosen for MNIST,
        cost several times the time without clustering better
        (``doc/benchmarks.md``).
    gan_epochs : int or "auto", default="auto"
        The first ``gan_epochs`` epochs of the model train the GAN, the
        following ones the classifier. "auto": about 150,000 real samples
        (the paper's length on MNIST), ``round(150000 / n_samples)`` clipped
        to [1, 200]; with ``augmentation="affine"`` about 10,000 (two epochs
        of 5,000 images): for that classifier the convolutions' output after
        a long adversarial training clusters worse than after a short one
        (``doc/benchmarks.md``).
    generator_epochs : int or "auto", default="auto"
        Epochs at the end of every ``fit`` that reaches the classifier phase,
        in which a second, conditional GAN learns to draw each cluster (our
        departure: the paper's generator is not conditioned on clusters).
        It starts as a copy of the trained GAN. Its generator reads the
        noise and the one-hot cluster; its critic (the discriminator with a
        projection of the cluster) learns the core of each cluster, the
        quarter of its real rows that the frozen classifier is surest of
        and at least 100 (so that samples keep off a cluster's border with
        the next); the generator also learns to make rows the classifier
        puts in their cluster, whose mean is the running mean of that core.
        The discriminator and the classifier are frozen, so the clusters
        are those of the epochs before. "auto": about 2,000 steps of
        ``batch_size`` (``ceil(2000 / (n_samples // batch_size))`` epochs), fewer of which
        drew some clusters poorly (``doc/benchmarks.md``); on the CPU they
        can cost more than the clustering itself, so for clustering alone
        (no ``sample``) set 0. 0 is the paper's training: no cluster GAN,
        and ``sample`` uses the paper's generator.
    max_iter : int or "auto", default="auto"
        Epochs this ``fit`` trains before the ``generator_epochs``, both
        phases together (a ``max_iter`` within ``gan_epochs`` trains no
        classifier). "auto": the rest of the
        GAN phase, then at least 50 classifier epochs and 1,000 classifier
        steps.
    batch_size : int, default=64
        Real samples per GAN step.
    classifier_batch_size : int or "auto", default="auto"
        Rows per classifier step, before replication. "auto" is the paper's
        500, or IMSAT's 250 with ``augmentation="affine"``.
    learning_rate : float, default=1e-4
        Adam step size of the GAN (betas 0.5, 0.999), as in the paper.
    classifier_learning_rate : float or "auto", default="auto"
        Adam step size of the classifier. "auto" is the paper's 1e-4, or
        IMSAT's 2e-3 with ``augmentation="affine"`` (whose classifier has
        batch norm; the paper's has none).
    {{common_parameters}}

    Attributes
    ----------
    {{common_attributes}}
    best_head_ : int
        The head whose labels are ``labels_`` and ``predict``'s.
    head_losses_ : ndarray of shape (n_heads,)
        Mean loss of each head of ``n_clusters`` outputs in the last epoch.
    head_labels_ : ndarray of shape (n_samples, n_heads)
        The training labels of every head (the argmax of each head).

    ``networks_`` holds "generator", "discriminator" and "classifier", and
    with ``generator_epochs`` "cluster_generator", "cluster_critic" and
    "mode_means" (the running real means per cluster, no parameters).

    Notes
    -----
    ``transform`` returns what the classifier reads: the discriminator's
    features ``M``, or its last convolution's output with
    ``augmentation="affine"``;
    ``predict_proba`` the selected head's probabilities. ``sample`` draws
    from the cluster generator; with ``generator_epochs=0`` from the
    paper's generator, which is not conditioned on clusters:
    ``sample(n, cluster=k)`` then keeps only generated rows the classifier
    puts in cluster ``k`` (rejection), which fails with an error when the
    generator rarely produces them. A warm start continues the schedule:
    the GAN phase if it was cut short, then the classifier, then the
    generator's epochs.

    The paper writes the VAT radius as ``alpha * ||m||^2``; with a
    1024-wide feature layer of unit-scale values that is many times the
    norm of ``m`` itself, so the radius here is ``alpha * ||m||``.

    References
    ----------
    F. Ntelemis, Y. Jin, S. A. Thomas. Image Clustering Using an Augmented
    Generative Adversarial Network and Information Maximization. IEEE
    Transactions on Neural Networks and Learning Systems, 2021.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from skgancluster import AugmentedGANClustering
    >>> X, y = make_blobs(n_samples=300, centers=3, random_state=0)
    >>> est = AugmentedGANClustering(n_clusters=3, gan_epochs=2, max_iter=7, feature_units=32,
    ...                              hidden_units=(32,), random_state=0)
    >>> est.fit_predict(X).shape
    (300,)
    >>> est.head_labels_.shape
    (300, 5)
    >>> est.sample(4, cluster=0)[0].shape  # rows of cluster 0 from the cluster generator
    (4, 2)
    """

    _parameter_constraints = {
        **GenerativeClustering._parameter_constraints,
        "n_heads": [Interval(numbers.Integral, 1, None, closed="left")],
        "overcluster_factor": [Interval(numbers.Integral, 0, None, closed="left")],
        "lam": [Interval(numbers.Real, 0, None, closed="left"), StrOptions({"auto"})],
        "delta": [Interval(numbers.Real, 0, None, closed="left")],
        "balance_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "max_cluster_size": [Interval(numbers.Real, 1, None, closed="left"), None],
        "overcluster_delta": [Interval(numbers.Real, 0, None, closed="left")],
        "radius": [Interval(numbers.Real, 0, None, closed="left")],
        "xi": [Interval(numbers.Real, 0, None, closed="neither")],
        "feature_dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "n_replicas": [Interval(numbers.Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "augmentation": [StrOptions({"auto", "affine"}), None],
        "affine_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "latent_dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "feature_units": [Interval(numbers.Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "hidden_units": [tuple, list, StrOptions({"auto"})],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "penalty_threshold": [Interval(numbers.Real, 0, None, closed="left")],
        "gan_epochs": [Interval(numbers.Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "generator_epochs": [Interval(numbers.Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "classifier_batch_size": [Interval(numbers.Integral, 2, None, closed="left"), StrOptions({"auto"})],
        "classifier_learning_rate": [Interval(numbers.Real, 0, None, closed="neither"), StrOptions({"auto"})],
    }
    _architecture_params = (*GenerativeClustering._architecture_params, "n_heads", "overcluster_factor",
                            "latent_dim", "feature_units", "augmentation")

    def __init__(self, n_clusters=8, *, n_heads=5, overcluster_factor=5, lam="auto", delta=1e-4,
                 balance_weight=4.0, max_cluster_size=1.5, overcluster_delta=1e-2, radius=0.2, xi=1.0,
                 feature_dropout=0.1, n_replicas="auto", augmentation="auto", affine_weight=3.0, latent_dim=100,
                 image_shape=None, conv_channels=(32, 64, 128), conv_padding=1, feature_units="auto", dropout=0.2,
                 penalty_threshold=20.0, hidden_units="auto", gan_epochs="auto", generator_epochs="auto",
                 max_iter="auto", batch_size=64, classifier_batch_size="auto", learning_rate=1e-4,
                 classifier_learning_rate="auto", scaling="auto", device="auto", random_state=None, verbose=0,
                 warm_start=False, n_jobs=None, n_init=1, screen_fraction=None):
        self.n_clusters = n_clusters
        self.n_heads = n_heads
        self.overcluster_factor = overcluster_factor
        self.lam = lam
        self.delta = delta
        self.balance_weight = balance_weight
        self.max_cluster_size = max_cluster_size
        self.overcluster_delta = overcluster_delta
        self.radius = radius
        self.xi = xi
        self.feature_dropout = feature_dropout
        self.n_replicas = n_replicas
        self.augmentation = augmentation
        self.affine_weight = affine_weight
        self.latent_dim = latent_dim
        self.image_shape = image_shape
        self.conv_channels = conv_channels
        self.conv_padding = conv_padding
        self.feature_units = feature_units
        self.dropout = dropout
        self.penalty_threshold = penalty_threshold
        self.hidden_units = hidden_units
        self.gan_epochs = gan_epochs
        self.generator_epochs = generator_epochs
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.classifier_batch_size = classifier_batch_size
        self.learning_rate = learning_rate
        self.classifier_learning_rate = classifier_learning_rate
        self.scaling = scaling
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.n_jobs = n_jobs
        self.n_init = n_init
        self.screen_fraction = screen_fraction

    # "auto" values: the paper's, and with the affine self-augmentation (IMSAT's where it has one).
    _AUTO = {"lam": (0.2, 0.1), "classifier_learning_rate": (1e-4, 2e-3), "classifier_batch_size": (500, 250),
             "n_replicas": (5, 1), "gan_samples": (150_000, 10_000)}

    @property
    def _augmentation(self):
        if self.augmentation == "auto":
            return "affine" if self._image_shape is not None else None
        return self.augmentation

    def _resolved(self, name):
        """Parameter ``name``, its "auto" replaced by the value for this fit's ``augmentation``."""
        value = getattr(self, name, "auto")
        if value != "auto":
            return value
        paper, affine = self._AUTO[name]
        return affine if self._augmentation == "affine" else paper

    def _width(self, value, n_features, small, paper):
        """``value``, or for "auto" the paper's width (chosen for MNIST) for images and wide rows and
        IMSAT's small-input width for flat rows under ``SMALL_INPUT`` features."""
        if value != "auto":
            return value
        return paper if self._image_shape is not None or n_features >= SMALL_INPUT else small

    def _hidden_units_for(self, n_features):
        return self._width(self.hidden_units, n_features, (256, 256), (1024, 1024))

    # ------------------------------------------------------------- schedule
    _min_epochs, _min_steps = 50, 1000

    def _gan_epoch_count(self, n_samples):
        if self.gan_epochs == "auto":
            return int(np.clip(round(self._resolved("gan_samples") / n_samples), 1, 200))
        return self.gan_epochs

    def _n_epochs(self, n_samples):
        # The GAN phase is the first gan_epochs_ epochs of the model's life; a warm fit continues it
        # if it was cut short.
        self._gan_end = self.gan_epochs_ if hasattr(self, "gan_epochs_") else self._gan_epoch_count(n_samples)
        if self.max_iter != "auto":
            n_epochs = self.max_iter
        else:
            batches = _batches_per_epoch(n_samples, self._resolved("classifier_batch_size"))
            n_epochs = max(0, self._gan_end - self.n_iter_) + max(self._min_epochs, -(-self._min_steps // batches))
        # The generator's epochs draw the classifier's clusters: none when this fit ends inside the GAN phase.
        reaches_classifier = self.n_iter_ + n_epochs > self._gan_end
        self._generator_epochs_now = self._generator_epoch_count(n_samples) if reaches_classifier else 0
        return n_epochs + self._generator_epochs_now

    _generator_steps = 2000  # generator_epochs="auto"

    def _generator_epoch_count(self, n_samples):
        if self.generator_epochs != "auto":
            return self.generator_epochs
        return -(-self._generator_steps // _batches_per_epoch(n_samples, self.batch_size))

    def _in_generator_epochs(self, ctx):
        return ctx.epoch >= ctx.n_epochs - self._generator_epochs_now

    def _training_state(self):
        return {**super()._training_state(), "gan_epochs_": getattr(self, "gan_epochs_", None)}

    @property
    def _head_sizes(self):
        extra = (self.overcluster_factor * self.n_clusters,) if self.overcluster_factor else ()
        return (self.n_clusters,) * self.n_heads + extra

    # ------------------------------------------------------------- networks
    def _make_gan(self, n_features, feature_units, n_latent):
        """A DCGAN-initialised generator from ``n_latent`` inputs and a discriminator, shaped by the parameters."""
        if self._image_shape is not None:
            front = SobelFrontEnd(self._image_shape)
            trunk_shapes = dict(image_shape=front.out_shape, hidden_units=(feature_units,),
                                conv_channels=self._conv_channels, conv_padding=self.conv_padding)
            n_in = math.prod(front.out_shape)
        else:
            front, n_in = nn.Identity(), n_features
            trunk_shapes = dict(hidden_units=(feature_units, feature_units))
        discriminator = Discriminator(front, make_trunk(n_in, 1, norm="batch", dropout=self.dropout, **trunk_shapes))
        generator = make_generator(n_latent, n_features, out_activation=self._generator_output(),
                                   image_shape=self._image_shape, hidden_units=(feature_units,),
                                   conv_channels=self._conv_channels)
        _dcgan_init(discriminator, 0.02)
        _dcgan_init(generator, 0.02)
        return generator, discriminator

    def _build_networks(self, n_features):
        feature_units = self._width(self.feature_units, n_features, 256, 1024)
        generator, discriminator = self._make_gan(n_features, feature_units, self.latent_dim)
        if self._augmentation == "affine":
            if self._image_shape is None:
                raise ValueError("augmentation='affine' perturbs images: give image_shape (or images), "
                                 "or use augmentation=None for flat rows.")
            with torch.no_grad():  # two rows: batch norm in training mode
                n_in = discriminator.convolutions(torch.zeros(2, n_features)).shape[1]
        else:
            n_in = feature_units
        classifier = MultiHeadClassifier(n_in, self._hidden_units, self._head_sizes,
                                         norm=None if self._augmentation is None else "batch")
        if self._augmentation is None:
            # The paper's initialisation for MNIST, on M. On the convolutions' smaller values its outputs
            # start so close to uniform that training stays at that saddle: PyTorch's default there.
            _dcgan_init(classifier, 0.01)
        networks = {"generator": generator, "discriminator": discriminator, "classifier": classifier}
        if self.generator_epochs:
            # Drawn from a forked random state: the other networks' dropout masks stay those of a fit without them.
            with torch.random.fork_rng(devices=[]):
                cluster_generator, cluster_discriminator = self._make_gan(n_features, feature_units,
                                                                          self.latent_dim + self.n_clusters)
                networks["cluster_generator"] = cluster_generator
                networks["cluster_critic"] = ClusterCritic(cluster_discriminator, self.n_clusters, feature_units)
            networks["mode_means"] = ModeMeans(self.n_clusters, n_features)
        return nn.ModuleDict(networks)

    def _architecture(self):
        # The number of generator epochs may change between warm fits; whether the cluster GAN exists may not.
        return {**super()._architecture(), "cluster GAN (generator_epochs > 0)": bool(self.generator_epochs)}

    def _make_optimizers(self):
        nets = self.networks_
        learning_rate = float(self._resolved("classifier_learning_rate"))
        classifier = torch.optim.Adam(nets["classifier"].parameters(), learning_rate)
        gan_parts = ["discriminator", "generator"] + (["cluster_critic", "cluster_generator"]
                                                      if self.generator_epochs else [])
        return {**{name: self._adam(nets[name].parameters(), (0.5, 0.999)) for name in gan_parts},
                "classifier": classifier}

    def _latent(self, n, generator, device):
        return torch.rand(n, self.latent_dim, generator=generator, device=device) * 2 - 1

    # ------------------------------------------------------------- training
    def _on_epoch_start(self, ctx):
        if ctx.epoch == 0:
            self.gan_epochs_ = self._gan_end
        if ctx.total_epoch < self.gan_epochs_:
            return
        discriminator = self.networks_["discriminator"]
        discriminator.eval()  # frozen from here: running batch-norm statistics, no dropout
        if not hasattr(ctx, "features"):  # once per fit, when the classifier phase starts
            width = self.networks_["classifier"].trunk[0].in_features
            features = torch.empty(ctx.source.n_samples, width, device=ctx.device)
            with torch.no_grad():
                batches = ctx.source.in_order(self._resolved("classifier_batch_size"))
                for start, rows in batches:  # sparse: densified per batch
                    features[start:start + rows.shape[0]] = self._classifier_input(rows)
            ctx.features = features
        if self._in_generator_epochs(ctx) and not hasattr(ctx, "row_modes"):  # the classifier's clusters, once
            classifier = self.networks_["classifier"].eval()  # frozen from here
            with torch.no_grad():
                head_labels = torch.cat([self._head_argmax(classifier(m))
                                         for m in ctx.features.split(INFERENCE_BATCH)])
            self._select_head(head_labels.cpu().numpy())
            ctx.row_modes = head_labels[:, self.best_head_]
            # each real row's weight in the critic's loss, 1 in its cluster's core: set once, read each step
            ctx.core_weights = self._core_rows(ctx.features, ctx.row_modes).to(ctx.features.dtype)
            if not self._has_cluster_generator():  # its first epoch
                self._start_cluster_gan_from_gan()

    def _epoch_batch_size(self, ctx):
        if ctx.total_epoch < self.gan_epochs_ or self._in_generator_epochs(ctx):
            return self.batch_size
        return self._resolved("classifier_batch_size")

    def _train_step(self, x_real, ctx):
        if self._in_generator_epochs(ctx):
            return self._generator_epoch_step(x_real, ctx)
        if ctx.total_epoch < self.gan_epochs_:
            return self._gan_step(x_real, ctx)
        return self._classifier_step(x_real, ctx)

    def _gan_step(self, x_real, ctx):
        generator, discriminator = self.networks_["generator"], self.networks_["discriminator"]
        n = x_real.shape[0]
        ones, zeros = torch.ones(n, 1, device=ctx.device), torch.zeros(n, 1, device=ctx.device)
        with torch.no_grad():
            x_fake = generator(self._latent(n, ctx.rng, ctx.device))
        features = discriminator.features(x_real)
        penalty = (features.abs() - self.penalty_threshold).clamp_min(0).sum(1).mean()
        d_loss = (F.binary_cross_entropy_with_logits(discriminator.trunk.head(features), ones)
                  + F.binary_cross_entropy_with_logits(discriminator(x_fake), zeros) + penalty)
        self.optimizers_["discriminator"].zero_grad(set_to_none=True)
        d_loss.backward()
        self.optimizers_["discriminator"].step()

        with frozen(discriminator):  # the non-saturating generator loss, on a fresh draw
            g_loss = F.binary_cross_entropy_with_logits(
                discriminator(generator(self._latent(n, ctx.rng, ctx.device))), ones)
        self.optimizers_["generator"].zero_grad(set_to_none=True)
        g_loss.backward()
        self.optimizers_["generator"].step()
        return {"discriminator": d_loss.detach(), "generator": g_loss.detach(), "feature_penalty": penalty.detach()}

    # Weights of the generator's terms beside the critic's loss: the frozen classifier's cross-entropy of the
    # generated rows, and their mean's squared distance to the running mean of the cluster's real rows (as in
    # ClusterGANClustering's generator epochs; it lifted the clusters drawn least often, doc/benchmarks.md).
    _cluster_weight = 1.0
    _mode_mean_weight = 0.1
    # The critic and the mean tie learn each cluster from its core: the fraction of its rows that the classifier
    # is surest of, and no fewer than _core_min_rows (all of a smaller cluster). Learnt from all its rows, a
    # cluster's samples also fall on its border with the next cluster, where the real rows mix; learnt from a
    # few dozen, the generator copies them (doc/benchmarks.md).
    _core_fraction = 1.0
    _core_min_rows = 100

    @torch.no_grad()
    def _start_cluster_gan_from_gan(self):
        """Copy the trained GAN into the cluster GAN; the one-hot inputs start at zero weight."""
        nets = self.networks_
        nets["cluster_critic"].discriminator.load_state_dict(nets["discriminator"].state_dict())
        target = nets["cluster_generator"].state_dict()
        for name, value in nets["generator"].state_dict().items():
            if target[name].shape == value.shape:
                target[name].copy_(value)
            else:  # the first layer: latent columns, then the one-hot's
                target[name].zero_()
                target[name][:, :value.shape[1]].copy_(value)

    def _core_rows(self, features, modes):
        """Whether each row is in its cluster's core: among the ``max(_core_fraction * size, _core_min_rows)``
        rows of its cluster that the classifier is surest of."""
        classifier = self.networks_["classifier"]
        with torch.no_grad():
            logits = torch.cat([classifier(m)[:, classifier.head_slice(self.best_head_)]
                                for m in features.split(INFERENCE_BATCH)])
        confidence = logits.softmax(1).gather(1, modes[:, None])[:, 0]
        core = torch.zeros_like(modes, dtype=torch.bool)
        for k in modes.unique():
            members = modes == k
            kept = max(self._core_fraction, min(1.0, self._core_min_rows / int(members.sum())))
            core |= members & (confidence >= confidence[members].quantile(1 - kept))
        return core

    def _cluster_latent(self, modes, generator):
        """The cluster generator's input: uniform noise and the one-hot cluster."""
        noise = self._latent(len(modes), generator, modes.device)
        return torch.cat([noise, F.one_hot(modes, self.n_clusters).to(noise.dtype)], 1)

    def _generator_epoch_step(self, x_real, ctx):
        """A conditional GAN step on (row, cluster) pairs; the discriminator and the classifier stay frozen.

        The critic learns the core rows of cluster k (``_core_rows``) from
        generated rows for k; the generator learns to pass it and to make rows
        the classifier puts in k.
        """
        nets = self.networks_
        generator, critic = nets["cluster_generator"], nets["cluster_critic"]
        modes = ctx.row_modes[ctx.batch_positions]
        core = ctx.core_weights[ctx.batch_positions]
        ones, zeros = torch.ones(len(modes), 1, device=ctx.device), torch.zeros(len(modes), 1, device=ctx.device)
        with torch.no_grad():
            x_fake = generator(self._cluster_latent(modes, ctx.rng))
        real_loss = F.binary_cross_entropy_with_logits(critic(x_real, modes), ones, reduction="none")[:, 0]
        # a real row shown with another cluster's code is no sample of that cluster (a matching-aware critic)
        other = (modes + torch.randint(1, self.n_clusters, modes.shape, generator=ctx.rng, device=ctx.device)) % self.n_clusters
        mismatched = F.binary_cross_entropy_with_logits(critic(x_real, other), zeros)
        critic_loss = ((real_loss * core).sum() / core.sum().clamp_min(1)
                       + 0.5 * (F.binary_cross_entropy_with_logits(critic(x_fake, modes), zeros) + mismatched))
        self.optimizers_["cluster_critic"].zero_grad(set_to_none=True)
        critic_loss.backward()
        self.optimizers_["cluster_critic"].step()

        with frozen(critic, nets["discriminator"], nets["classifier"]):
            x_fake = generator(self._cluster_latent(modes, ctx.rng))
            adversarial = F.binary_cross_entropy_with_logits(critic(x_fake, modes), ones)
            cluster = F.cross_entropy(self._head_logits(x_fake, self.best_head_), modes)
            nets["mode_means"].update(x_real, modes, GeneratorEpochs._mode_mean_momentum, weights=core)
            mode_mean = nets["mode_means"].distance(x_fake, modes)
            generator_loss = adversarial + self._cluster_weight * cluster + self._mode_mean_weight * mode_mean
        self.optimizers_["cluster_generator"].zero_grad(set_to_none=True)
        generator_loss.backward()
        self.optimizers_["cluster_generator"].step()
        return {"cluster_critic": critic_loss.detach(), "cluster_generator": adversarial.detach(),
                "generated_cluster_ce": cluster.detach(), "mode_mean": mode_mean.detach()}

    def _classifier_step(self, x_real, ctx):
        classifier, discriminator = self.networks_["classifier"], self.networks_["discriminator"]
        replicas, groups = self._resolved("n_replicas"), classifier.head_sizes
        x_copies = x_real.repeat(replicas, 1) if replicas > 1 else x_real  # no copy for one replica
        with torch.no_grad(), _dropout_at(discriminator, self.feature_dropout):
            m_dropped = self._classifier_input(x_copies)  # m': a dropout mask per replica
        m = ctx.features[ctx.batch_positions]
        proba = softmax_groups(classifier(m), groups)
        if replicas > 1:  # the copies of m are equal: one pass, repeated
            proba = proba.repeat(replicas, 1)
        with batch_stats_kept(classifier):  # perturbed views: predict-time statistics from clean rows only
            if self._augmentation == "affine":
                with torch.no_grad():  # the discriminator is in eval mode: no dropout in this view
                    m_affine = self._classifier_input(perturb_real(x_copies, self._image_shape, ctx.rng,
                                                                   AFFINE_PERTURBATION))
                smoothness = kl_from_fixed(proba, classifier(m_affine), groups, per_group=True)
                weighted_smoothness, name = self.affine_weight * smoothness, "affine"
            else:
                m = m.repeat(replicas, 1)
                norm = m.norm(dim=1)
                smoothness = virtual_adversarial_loss(classifier, m, self.radius * norm, ctx.rng, self.xi * norm,
                                                      proba=proba, groups=groups, per_group=True)
                weighted_smoothness, name = 0.5 * smoothness, "vat"
            dropout_kl = kl_from_fixed(proba, classifier(m_dropped), groups, per_group=True)
        information = torch.stack([self._information(proba[:, classifier.head_slice(h)], h)
                                   for h in range(len(groups))])
        per_head = weighted_smoothness + 0.5 * dropout_kl + self._resolved("lam") * information
        loss = per_head.mean()
        self.optimizers_["classifier"].zero_grad(set_to_none=True)
        loss.backward()
        self.optimizers_["classifier"].step()
        losses = {"classifier": loss.detach(), name: smoothness.detach().mean(),
                  "dropout_kl": dropout_kl.detach().mean(), "information": information.detach().mean()}
        losses.update({f"head_{h}": per_head[h].detach() for h in range(self.n_heads)})
        return losses

    def _information(self, proba, head):
        """``balance_weight * (max(KL(p(y) || uniform) - delta, 0) [+ oversize]) + H(Y|M)`` of one head."""
        tolerance = (self.delta if head < self.n_heads else self.overcluster_delta) * math.log(proba.shape[1])
        max_size = self.max_cluster_size if head < self.n_heads else None
        return self.balance_weight * imbalance(proba, tolerance, max_size) + entropy(proba).mean()

    def _classifier_input(self, x):
        """What the classifier reads: the feature layer ``M``, or the convolutions' output with the affine views."""
        discriminator = self.networks_["discriminator"]
        return discriminator.convolutions(x) if self._augmentation == "affine" else discriminator.features(x)

    # ------------------------------------------------------------- inference
    def _embed(self, x):
        return self._classifier_input(x)

    def _head_logits(self, x, head):
        classifier = self.networks_["classifier"]
        return classifier(self._embed(x))[:, classifier.head_slice(head)]

    def _mode_proba(self, x):
        return self._head_logits(x, self.best_head_).softmax(1)

    def _head_argmax(self, logits):
        """The argmax of each head of ``n_clusters`` outputs, side by side: shape (n_rows, n_heads)."""
        classifier = self.networks_["classifier"]
        return torch.stack([logits[:, classifier.head_slice(h)].argmax(1) for h in range(self.n_heads)], 1)

    def _select_head(self, head_labels):
        """Set ``best_head_``: the lowest loss in the last classifier epoch among heads that use every output."""
        last = next((record for record in reversed(self.history_) if "head_0" in record), None)
        if last is None:  # training stopped inside the GAN phase: no head has trained
            self.head_losses_ = np.full(self.n_heads, np.nan)
            self.best_head_ = 0
            return
        self.head_losses_ = np.array([last[f"head_{h}"] for h in range(self.n_heads)])
        # A head that merged clusters can have the lowest loss (its rows are the most confident); it is
        # chosen only if every head left some output empty: the rule n_init applies to runs.
        complete = [len(np.unique(labels)) == self.n_clusters for labels in head_labels.T]
        self.best_head_ = best_run(complete, -self.head_losses_)

    def _fit_labels(self, X):
        classifier = self.networks_["classifier"]
        self.head_labels_ = self._map_batches(X, lambda x: self._head_argmax(classifier(self._embed(x))))
        self.head_labels_ = self.head_labels_.astype(np.int64)
        self._select_head(self.head_labels_)
        return self._labels_from_modes(self.head_labels_[:, self.best_head_])

    _score_perturbation = False

    def score(self, X, y=None):
        """A label-free quality of the clustering of ``X``: higher is better.

        {{score_neighbour_agreement}}

        Unlike the ``score`` of ClusterGANClustering, PreciseFeatureClustering
        and IMSATClustering, it leaves out the agreement under the package's
        perturbation: over this estimator's runs on load_digits, with that
        agreement added ``n_init`` kept worse runs than with the neighbour
        agreement alone (``doc/benchmarks.md``, "Choosing without labels").
        It compares fits with the same ``n_clusters``.

        {{score_parameters}}
        """
        return super().score(X)

    # ------------------------------------------------------------- generation
    _max_draws = 100  # rejection rounds of sample(cluster=k)

    def _has_cluster_generator(self):
        """Whether the cluster GAN exists and has trained (some epoch recorded its loss)."""
        return "cluster_generator" in self.networks_ and any("cluster_generator" in r for r in self.history_)

    def _generate(self, modes, generator):
        return self.networks_["cluster_generator"](self._cluster_latent(modes, generator))

    def _label_weights(self):
        """Each cluster's share of the training rows."""
        counts = np.bincount(self.labels_, minlength=len(self.label_modes_))
        return counts / counts.sum()

    def sample(self, n_samples=1, cluster=None):
        """Generate samples and their clusters.

        After the generator's epochs (``generator_epochs``) the cluster
        generator draws them: ``cluster=k`` gives rows of cluster ``k``, and
        ``cluster=None`` draws clusters in proportion to their training rows.
        Without them the paper's generator, which is not conditioned on
        clusters, draws rows and the classifier labels them; with
        ``cluster=k`` rows are drawn in rounds and only those the classifier
        puts in cluster ``k`` are kept.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to generate.
        cluster : int or None, default=None
            Keep only samples of this cluster (a label of ``labels_``).

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            Generated samples in the scale of the training data.
        y : ndarray of shape (n_samples,)
            The cluster of each sample.

        Raises
        ------
        RuntimeError
            Without the cluster generator, when ``cluster`` is given and the
            generator produced fewer than ``n_samples`` rows of it in 100
            rounds of ``max(n_samples, 256)``.
        """
        check_is_fitted(self, "networks_")
        if self._has_cluster_generator():
            return super().sample(n_samples, cluster)
        if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive int, got {n_samples!r}.")
        wanted = None if cluster is None else self._check_cluster(cluster)
        rng = self._rng()
        generator = torch.Generator(self.device_).manual_seed(int(rng.randint(2**31 - 1)))
        labeler, round_size = self._batch_labeler(), max(n_samples, 256)
        kept, labels, found = [], [], 0
        self.networks_.eval()
        with self._torch_threads(), torch.inference_mode():
            for _ in range(self._max_draws):
                x = torch.cat([self.networks_["generator"](self._latent(min(INFERENCE_BATCH, round_size - i),
                                                                        generator, self.device_))
                               for i in range(0, round_size, INFERENCE_BATCH)])
                y = labeler(x)
                if wanted is not None:
                    x, y = x[y == wanted], y[y == wanted]
                kept.append(x)
                labels.append(y)
                found += len(y)
                if found >= n_samples:
                    break
        if found < n_samples:
            raise RuntimeError(
                f"The generator produced {found} samples of cluster {cluster} in {self._max_draws} rounds of "
                f"{round_size}; the classifier rarely puts generated samples in this cluster.")
        x, y = torch.cat(kept)[:n_samples], torch.cat(labels)[:n_samples]
        return self._inverse_scale(x), y.cpu().numpy().astype(np.int64)
