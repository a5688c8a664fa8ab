"""ClusterGAN (Mukherjee et al., AAAI 2019) as a scikit-learn clusterer."""

import numbers

import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ._docs import fill_doc
from ._generative import GenerativeClustering, GeneratorEpochs, ModeMeans
from ._kmeans import KMeansLabelling
from ._real_data import REAL_PERTURBATION_WITH_SLANT, real_data_terms
from ._training import frozen
from .nn import make_generator, make_trunk
from .priors import MixedPrior

__all__ = ["ClusterGANClustering"]


@fill_doc
class ClusterGANClustering(GeneratorEpochs, KMeansLabelling, GenerativeClustering):
    """ClusterGAN: clustering in the latent space of a GAN with an encoder.

    The generator ``G`` maps ``z = (z_n, z_c)``, Gaussian noise next to a
    one-hot cluster code, to data; a WGAN-GP critic ``D`` tells generated
    from real samples; an encoder ``E`` maps data back to ``(z_n, z_c)``.
    ``G`` and ``E`` are trained jointly on the cycle losses of the paper's
    Algorithm 2, so each one-hot code comes to generate one cluster of the
    data and the encoder recovers the code of a real sample.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters, i.e. of one-hot codes in the prior.
    latent_dim : int, default=30
        Dimension of the continuous part ``z_n`` (the paper: 30 for MNIST,
        6 for its synthetic set).
    sigma : float, default=0.1
        Standard deviation of ``z_n``.
    beta_n, beta_c : float, default=10
        Weights of the cycle losses ``||z_n - E_n(G(z))||^2`` and
        ``H(z_c, softmax E_c(G(z)))``.
    {{image_shape}}
    {{hidden_units}}
    conv_channels : tuple of int, default=(32, 64)
        Channels of the stride-2 convolutions (images only); the paper uses
        (64, 128).
    {{conv_padding}}
    max_iter : int or "auto", default="auto"
        Number of epochs (passes over the data) before the
        ``generator_epochs``. "auto" trains on about 400,000 real samples,
        ``round(400000 / n_samples)`` epochs clipped to [1, 200]: 80 epochs
        (6,240 generator steps) for 5,000 samples, 40 for 10,000.
    batch_size : int, default=64
        Real samples per critic step (at least 2; capped at ``n_samples``).
    learning_rate : float, default=5e-4
        Adam step size for every network (betas 0.5, 0.9); the paper: 1e-4.
    n_critic : int, default=1
        Critic steps per generator step; the paper: 5.
    gp_weight : float, default=10
        Weight of the WGAN-GP gradient penalty.
    {{real_weight}}
        Here the head is the encoder's cluster part, on each generator
        step, and the perturbation changes the slant (horizontal shear of
        up to 0.3). It couples the generator's modes to the real clusters
        through the encoder and learns much faster per second.
    generator_epochs : int, default=10
        Epochs at the end of every fit in which the encoder is frozen and
        ``G`` and ``D`` go on training (our addition): ``G`` keeps the
        adversarial and cycle losses and is also tied to the clusters, by
        the squared distance between the mean of ``G(z)`` over a code and
        the running mean of the real rows the encoder puts in that code's
        cluster. The clusters are those of the ``max_iter`` epochs before;
        ``sample(cluster=k)`` draws rows that lie among cluster ``k``'s real
        rows more often. ``n_iter_`` counts these epochs too; 0 is the
        paper's training (``doc/benchmarks.md``).
    inference : {"encoder", "kmeans", "backprop"}, default="encoder"
        How real samples are assigned: ``argmax softmax(E_c(x))``; K-means
        on the whole embedding ``E(x)`` (fitted in ``fit``); or the paper's
        Algorithm 1, decoding ``z`` by gradient descent through ``G`` from
        each of the ``K`` one-hot codes (batched; slow).
    {{common_parameters}}

    Attributes
    ----------
    {{common_attributes}}
    cluster_centers_ : ndarray of shape (n_labels, latent_dim + n_clusters)
        K-means centres in the embedding (``inference="kmeans"`` only).

    ``networks_`` holds "generator", "critic", "encoder" and "mode_means"
    (the running real means per cluster, no parameters).

    Notes
    -----
    The defaults keep the paper's method (prior, roles of G, D and E, the
    WGAN-GP and cycle losses) but train faster per second on a CPU: half-width
    convolutions and a 256-unit fully connected layer, a critic ratio of 1,
    a learning rate of 5e-4, the real-data encoder terms (``real_weight``),
    and the generator's epochs at the end (``generator_epochs``). Each
    departure is measured in ``doc/benchmarks.md``.
    ``predict_proba`` is not available with ``inference="kmeans"``.
    The paper's configuration is reachable by parameters: for MNIST,
    ``image_shape=(1, 28, 28), hidden_units=(1024,), conv_channels=(64, 128),
    learning_rate=1e-4, n_critic=5, real_weight=0, generator_epochs=0, batch_size=64,
    latent_dim=30`` and ``max_iter=32000`` epochs of 5000 samples to match its
    500k generator steps; for flat data ``hidden_units=(256, 256)`` (the
    default) with the same rates. Add ``conv_padding=0`` for the networks of
    the public PyTorch port, whose unpadded convolutions (28 -> 13 -> 5) give
    a critic of 3.4M and an encoder of 3.5M parameters; padded (the
    default), the paper-size critic and encoder have 6.6M.

    References
    ----------
    S. Mukherjee, H. Asnani, E. Lin, S. Kannan. ClusterGAN: Latent Space
    Clustering in Generative Adversarial Networks. AAAI 2019.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from skgancluster import ClusterGANClustering
    >>> X, y = make_blobs(n_samples=300, centers=3, random_state=0)
    >>> est = ClusterGANClustering(n_clusters=3, max_iter=5, random_state=0)
    >>> est.fit_predict(X).shape
    (300,)
    >>> X_new, labels = est.sample(4, cluster=0)
    >>> X_new.shape
    (4, 2)
    """

    _parameter_constraints = {
        **GenerativeClustering._parameter_constraints,
        "latent_dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "sigma": [Interval(numbers.Real, 0, None, closed="neither")],
        "beta_n": [Interval(numbers.Real, 0, None, closed="left")],
        "beta_c": [Interval(numbers.Real, 0, None, closed="left")],
        "n_critic": [Interval(numbers.Integral, 1, None, closed="left")],
        "gp_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "real_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "generator_epochs": [Interval(numbers.Integral, 0, None, closed="left")],
        "inference": [StrOptions({"encoder", "kmeans", "backprop"})],
    }

    _architecture_params = (*GenerativeClustering._architecture_params, "latent_dim", "sigma")

    # Backprop decoding (Algorithm 1): Adam steps, step size, weight of
    # ||z_n||^2, and rows decoded together (each with K restarts).
    _backprop_steps = 100
    _backprop_lr = 0.05
    _backprop_lambda = 0.1
    _backprop_chunk = 256
    # Weight of the mode-mean tie in the generator's epochs: on MNIST-5k 1 blurred the samples towards their
    # cluster's mean (the critic's Wasserstein estimate rose from about 0.4 to 3.7); 0.1 keeps them sharp.
    _mode_mean_weight = 0.1

    def __init__(self, n_clusters=8, *, latent_dim=30, sigma=0.1, beta_n=10.0, beta_c=10.0,
                 image_shape=None, hidden_units=(256, 256), conv_channels=(32, 64), conv_padding=1,
                 max_iter="auto", batch_size=64, learning_rate=5e-4, n_critic=1, gp_weight=10.0,
                 real_weight=1.0, generator_epochs=10, inference="encoder", scaling="auto", device="auto",
                 random_state=None, verbose=0, warm_start=False, n_jobs=None, n_init=1,
                 screen_fraction=None):
        self.n_clusters = n_clusters
        self.latent_dim = latent_dim
        self.sigma = sigma
        self.beta_n = beta_n
        self.beta_c = beta_c
        self.image_shape = image_shape
        self.hidden_units = hidden_units
        self.conv_channels = conv_channels
        self.conv_padding = conv_padding
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.n_critic = n_critic
        self.gp_weight = gp_weight
        self.real_weight = real_weight
        self.generator_epochs = generator_epochs
        self.inference = inference
        self.scaling = scaling
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.n_jobs = n_jobs
        self.n_init = n_init
        self.screen_fraction = screen_fraction

    # --------------------------------------------------------------- networks
    def _build_networks(self, n_features):
        self.prior_ = MixedPrior(self.latent_dim, self.n_clusters, self.sigma)
        return nn.ModuleDict({
            "generator": make_generator(self.prior_.dim, n_features, out_activation=self._generator_output(),
                                        **self._generator_shapes()),
            "critic": make_trunk(n_features, 1, **self._trunk_shapes()),
            "encoder": make_trunk(n_features, self.prior_.dim, **self._trunk_shapes()),
            "mode_means": ModeMeans(self.n_clusters, n_features),
        })

    def _make_optimizers(self):
        nets, betas = self.networks_, (0.5, 0.9)
        return {
            "critic": self._adam(nets["critic"].parameters(), betas),
            # G and E are updated together on one loss (Algorithm 2).
            "generator": self._adam([*nets["generator"].parameters(), *nets["encoder"].parameters()], betas),
        }

    # --------------------------------------------------------------- training
    _auto_samples = 400_000  # real samples seen with max_iter="auto" (measured in doc/benchmarks.md)

    def _train_step(self, x_real, ctx):
        losses = self._wgan_critic_step(x_real, ctx)
        if self._in_generator_epochs(ctx):
            return self._generator_epoch_step(x_real, ctx, losses)
        if (ctx.step + 1) % self.n_critic == 0:
            loss = self._generator_encoder_loss(x_real, ctx, losses)
            self.optimizers_["generator"].zero_grad(set_to_none=True)
            loss.backward()
            self.optimizers_["generator"].step()
        return losses

    def _generator_encoder_loss(self, x_real, ctx, losses):
        """The loss of the joint G/E update; records its terms in ``losses``."""
        z, z_n, clusters = self.prior_.sample(x_real.shape[0], ctx.rng, ctx.device)
        loss = self._cycle_loss(z, z_n, clusters, losses)[1]
        if self.real_weight > 0:
            information, consistency = real_data_terms(
                lambda x: self.networks_["encoder"](x)[:, self.latent_dim:], x_real, self._image_shape, ctx.rng,
                REAL_PERTURBATION_WITH_SLANT)
            loss = loss + self.real_weight * (information + consistency)
            losses.update(information=information.detach(), consistency=consistency.detach())
        return loss

    def _generator_epoch_step(self, x_real, ctx, losses):
        """A step of the generator's epochs, after the critic's: ``G`` alone trains, ``E`` is frozen.

        ``G``'s loss is the adversarial and cycle losses (through the frozen
        encoder) plus the squared distance of each cluster's generated mean
        to the running mean of the real rows the encoder puts in it.
        """
        nets = self.networks_
        with torch.no_grad():
            clusters_real = nets["encoder"](x_real)[:, self.latent_dim:].argmax(1)
        nets["mode_means"].update(x_real, clusters_real, self._mode_mean_momentum)
        if (ctx.step + 1) % self.n_critic == 0:
            with frozen(nets["encoder"]):
                z, z_n, clusters = self.prior_.sample(x_real.shape[0], ctx.rng, ctx.device)
                x_fake, loss = self._cycle_loss(z, z_n, clusters, losses)
                mode_mean = nets["mode_means"].distance(x_fake, clusters)
            self.optimizers_["generator"].zero_grad(set_to_none=True)
            (loss + self._mode_mean_weight * mode_mean).backward()
            self.optimizers_["generator"].step()
            losses["mode_mean"] = mode_mean.detach()
        return losses

    def _cycle_loss(self, z, z_n, clusters, losses):
        """Adversarial loss plus the two cycle losses of Algorithm 2 on the latent batch ``z``.

        Returns ``(x_fake, loss)``; records the terms in ``losses``.
        """
        x_fake = self.networks_["generator"](z)
        with frozen(self.networks_["critic"]):  # no critic gradients from the G/E loss
            adversarial = -self.networks_["critic"](x_fake).mean()
        code = self.networks_["encoder"](x_fake)
        # Mean over the entries, as in the authors' code (the paper writes a squared norm).
        cycle_n = (code[:, :self.latent_dim] - z_n).square().mean()
        cycle_c = F.cross_entropy(code[:, self.latent_dim:], clusters)
        losses.update(generator=adversarial.detach(), cycle_n=cycle_n.detach(), cycle_c=cycle_c.detach())
        return x_fake, adversarial + self.beta_n * cycle_n + self.beta_c * cycle_c

    # -------------------------------------------------------------- inference
    def _embed(self, x):
        code = self.networks_["encoder"](x)
        return torch.cat([code[:, :self.latent_dim], code[:, self.latent_dim:].softmax(1)], 1)

    def _mode_proba(self, x):
        if self.inference == "backprop":
            return self._backprop_decode(x)
        return self.networks_["encoder"](x)[:, self.latent_dim:].softmax(1)

    def _has_proba(self):
        return self.inference != "kmeans"

    def _backprop_decode(self, x):
        """The paper's Algorithm 1, batched over rows and the K restarts.

        Returns a one-hot assignment to the restart (mode) with the lowest
        final ``L1(G(z), x) + lambda ||z_n||^2``. Restart ``k`` of every row
        starts from the same noise draw, so a row decodes the same way
        wherever it stands in ``X``.
        """
        generator, K, clip = self.networks_["generator"], self.n_clusters, 6 * self.sigma
        starts = self.prior_.sample_noise(K, torch.Generator(x.device).manual_seed(0), x.device)
        codes = torch.eye(K, device=x.device)
        out = []
        with torch.inference_mode(False), torch.enable_grad():
            for chunk in x.split(self._backprop_chunk):
                target = chunk.clone().repeat_interleave(K, 0)
                z_c = codes.repeat(chunk.shape[0], 1)
                z_n = starts.repeat(chunk.shape[0], 1).requires_grad_(True)
                adam = torch.optim.Adam([z_n], lr=self._backprop_lr)
                for _ in range(self._backprop_steps):
                    err = self._decode_loss(generator, z_n, z_c, target)
                    (z_n.grad,) = torch.autograd.grad(err.sum(), z_n)
                    adam.step()
                    with torch.no_grad():
                        z_n.clamp_(-clip, clip)
                with torch.no_grad():
                    best = self._decode_loss(generator, z_n, z_c, target).view(-1, K).argmin(1)
                out.append(F.one_hot(best, K).float())
        return torch.cat(out)

    def _decode_loss(self, generator, z_n, z_c, target):
        x_hat = generator(torch.cat([z_n, z_c], 1))
        return (x_hat - target).abs().mean(1) + self._backprop_lambda * z_n.square().sum(1)

    def _fit_labels(self, X):
        if self.inference != "kmeans":
            return super()._fit_labels(X)
        # Each K-means cluster samples from the generator mode whose samples it takes (KMeansLabelling).
        return self._fit_kmeans_labels(X)

    def _batch_labeler(self):
        return self._kmeans_labeler() if self.inference == "kmeans" else super()._batch_labeler()

    # ------------------------------------------------------------- generation
    def interpolate(self, cluster_a, cluster_b, n_steps=10):
        """Generate along the line between two clusters' codes.

        With one draw of ``z_n``, ``z = (z_n, mu e_a + (1 - mu) e_b)`` for
        ``mu`` going from 1 to 0, as in the paper's interpolation figures.

        Parameters
        ----------
        cluster_a, cluster_b : int
            Labels of the two clusters (as in ``labels_``).
        n_steps : int, default=10
            Number of points, both ends included.

        Returns
        -------
        X : ndarray of shape (n_steps, n_features)
            Generated samples in the scale of the training data.
        """
        check_is_fitted(self, "networks_")
        a = self.label_modes_[self._check_cluster(cluster_a, "cluster_a")]
        b = self.label_modes_[self._check_cluster(cluster_b, "cluster_b")]
        if isinstance(n_steps, bool) or not isinstance(n_steps, numbers.Integral) or n_steps < 2:
            raise ValueError(f"n_steps must be an int >= 2, got {n_steps!r}.")
        device = self.device_
        gen = torch.Generator(device).manual_seed(int(self._rng().randint(2**31 - 1)))
        mu = torch.linspace(1, 0, n_steps, device=device)[:, None]
        eye = torch.eye(self.n_clusters, device=device)
        z_c = mu * eye[a] + (1 - mu) * eye[b]
        z_n = self.prior_.sample_noise(1, gen, device).expand(n_steps, -1)
        self.networks_.eval()
        with torch.inference_mode():
            x = self.networks_["generator"](self.prior_.compose(z_n, z_c))
        return self._inverse_scale(x)
