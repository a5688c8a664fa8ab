"""Network builders shared by every method.

Two families: multilayer perceptrons for flat data and DCGAN-style
convolutional networks for images of any size given as
``(channels, height, width)``. Each builder returns a plain
:class:`torch.nn.Module`; methods combine them (a generator, a critic trunk
with one or several heads, ...).
"""

import contextlib
import math

import torch
from torch import nn

__all__ = ["make_mlp", "make_generator", "make_trunk", "Trunk", "batch_stats_kept"]

LEAK = 0.2  # LeakyReLU slope used throughout the papers


@contextlib.contextmanager
def batch_stats_kept(module):
    """Forward passes inside the block leave the running statistics of batch norm unchanged.

    For passes on perturbed copies of a batch (VAT's probes, augmentations):
    in training mode they still normalise with their own batch statistics,
    but the statistics used at predict time come from clean batches only, as
    in the IMSAT authors' code.
    """
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    try:
        for m in norms:
            m.momentum = 0.0
        yield
    finally:
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum


def _activation(kind):
    return nn.ReLU() if kind == "relu" else nn.LeakyReLU(LEAK)


def _norm(kind, n):
    if kind == "batch":
        return nn.BatchNorm1d(n)
    if kind == "layer":
        return nn.LayerNorm(n)
    return nn.Identity()


def make_mlp(n_in, hidden_units, n_out, norm=None, out_activation=None, dropout=0.0, activation="leaky_relu"):
    """Linear layers with LeakyReLU between them.

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths.
    hidden_units : sequence of int
        Widths of the hidden layers.
    norm : {"batch", "layer", None}
        Normalisation after each hidden linear layer. A WGAN-GP critic must
        not use batch norm (its gradient penalty is per sample).
    out_activation : nn.Module or None
        Applied to the output (e.g. ``nn.Sigmoid()`` for data in [0, 1]).
    dropout : float
        Dropout after each hidden activation.
    activation : {"leaky_relu", "relu"}
        Hidden activation: LeakyReLU(0.2) (the GAN papers') or ReLU.
    """
    layers, width = [], n_in
    for units in hidden_units:
        layers += [nn.Linear(width, units), _norm(norm, units), _activation(activation)]
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = units
    layers.append(nn.Linear(width, n_out))
    if out_activation is not None:
        layers.append(out_activation)
    return nn.Sequential(*layers)


class _ConvGenerator(nn.Module):
    """Fully connected layers to a small feature map, then stride-2 upconvolutions.

    The map starts at ``ceil(size / 2**n_up)`` and is cropped to the requested
    size at the end, so any image size works, not only powers of two.
    """

    def __init__(self, n_in, image_shape, conv_channels, fc_units, out_activation):
        super().__init__()
        channels, height, width = image_shape
        n_up = len(conv_channels)
        self.image_shape = tuple(image_shape)
        self.start = (conv_channels[-1], math.ceil(height / 2**n_up), math.ceil(width / 2**n_up))
        n_start = math.prod(self.start)
        self.fc = nn.Sequential(
            nn.Linear(n_in, fc_units), nn.BatchNorm1d(fc_units), nn.LeakyReLU(LEAK),
            nn.Linear(fc_units, n_start), nn.BatchNorm1d(n_start), nn.LeakyReLU(LEAK),
        )
        ups, c_in = [], conv_channels[-1]
        for c_out in list(conv_channels[-2::-1]):
            ups += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), nn.BatchNorm2d(c_out), nn.LeakyReLU(LEAK)]
            c_in = c_out
        ups.append(nn.ConvTranspose2d(c_in, channels, 4, 2, 1))
        if out_activation is not None:
            ups.append(out_activation)
        self.up = nn.Sequential(*ups)

    def forward(self, z):
        img = self.up(self.fc(z).view(-1, *self.start))
        _, height, width = self.image_shape
        return img[:, :, :height, :width].flatten(1)


def make_generator(n_in, n_features, *, image_shape=None, hidden_units=(256, 256),
                   conv_channels=(64, 128), out_activation=None):
    """A generator from ``n_in`` latent inputs to flat samples of ``n_features``.

    With ``image_shape`` the network is convolutional (upconvolutions from
    ``conv_channels[-1]`` down to ``conv_channels[0]``, fully connected width
    ``hidden_units[-1]``) and still returns flat rows, like the input data.
    """
    if image_shape is None:
        return make_mlp(n_in, hidden_units, n_features, norm="batch", out_activation=out_activation)
    return _ConvGenerator(n_in, image_shape, tuple(conv_channels), hidden_units[-1], out_activation)


class Trunk(nn.Module):
    """Feature extractor: flat rows (or images given flat) to ``n_out`` features.

    ``features(x)`` returns the last hidden layer (used by methods that put
    several heads or a classifier on the same trunk); ``forward`` applies the
    output layer on top.
    """

    def __init__(self, body, n_hidden, n_out, image_shape=None):
        super().__init__()
        self.image_shape = None if image_shape is None else tuple(image_shape)
        self.body = body
        self.head = nn.Linear(n_hidden, n_out)

    def features(self, x):
        if self.image_shape is not None:
            x = x.view(-1, *self.image_shape)
        return self.body(x)

    def forward(self, x):
        return self.head(self.features(x))


def make_trunk(n_features, n_out, *, image_shape=None, hidden_units=(256, 256),
               conv_channels=(64, 128), conv_padding=1, norm=None, dropout=0.0, activation="leaky_relu"):
    """A critic, encoder or classifier network ending in ``n_out`` outputs.

    Flat data: an MLP with ``hidden_units``. Images: stride-2 4x4 convolutions
    with ``conv_channels``, zero padding ``conv_padding`` (1 halves the image,
    28 -> 14 -> 7; 0 is the public PyTorch ClusterGAN's, 28 -> 13 -> 5, with
    about half the fully connected inputs and parameters) and LeakyReLU, then
    one fully connected layer of ``hidden_units[-1]`` units, as in the
    ClusterGAN and DCGAN papers. ``norm`` ("batch", "layer" or None) applies
    to every hidden layer; ``activation`` ("leaky_relu" or "relu") is the
    hidden activation of the MLP.
    """
    if image_shape is None:
        body = make_mlp(n_features, hidden_units[:-1], hidden_units[-1], norm=norm, dropout=dropout,
                        activation=activation)
        body.append(_norm(norm, hidden_units[-1]))
        body.append(_activation(activation))
        return Trunk(body, hidden_units[-1], n_out)
    channels, height, width = image_shape
    layers, c_in = [], channels
    for c_out in conv_channels:
        layers += [nn.Conv2d(c_in, c_out, 4, 2, conv_padding)]
        if norm == "batch":
            layers.append(nn.BatchNorm2d(c_out))
        elif norm == "layer":
            layers.append(nn.GroupNorm(1, c_out))
        layers.append(nn.LeakyReLU(LEAK))
        if dropout:
            layers.append(nn.Dropout(dropout))
        c_in = c_out
    layers.append(nn.Flatten())
    conv = nn.Sequential(*layers)
    with torch.no_grad():
        n_flat = conv(torch.zeros(2, channels, height, width)).shape[1]  # 2 rows: batch norm on a 1x1 map
    fc_units = hidden_units[-1]
    body = nn.Sequential(conv, nn.Linear(n_flat, fc_units), _norm(norm, fc_units), nn.LeakyReLU(LEAK))
    if dropout:
        body.append(nn.Dropout(dropout))
    return Trunk(body, fc_units, n_out, image_shape=image_shape)
