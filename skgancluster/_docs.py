"""Docstring fragments for the parameters every estimator shares, written once.

A class docstring names a fragment as ``{{name}}`` on a line of its own, at
the indentation of its parameter list; :func:`fill_doc` puts the text there.
A parameter whose default differs between estimators is written
``default=<name>`` in its fragment; the marker gives the estimator's value,
``{{real_weight real_weight=4}}``, and passes it on to nested fragments
(``{{common_parameters n_init=5}}``); without one the value of ``_DEFAULTS``
stands.
"""

import re

__all__ = ["fill_doc"]

# Defaults that some estimator overrides in its marker.
_DEFAULTS = {"real_weight": "1", "n_init": "1", "screen_fraction": "None"}

_FRAGMENTS = {
    "image_shape": """
image_shape : tuple of 3 ints or None, default=None
    ``(channels, height, width)`` of images given as flat rows, each row
    holding one channel's pixels after the other (C order of an
    ``(channels, height, width)`` array). Then the networks are
    convolutional; otherwise MLPs. Not needed when ``X`` is an array of
    shape ``(n_samples, height, width)`` or ``(n_samples, channels,
    height, width)``, whose shape gives it. Channels-last images
    (``(n, height, width, channels)``, as many image libraries store
    them) must be transposed first: ``X.transpose(0, 3, 1, 2)``.""",
    "hidden_units": """
hidden_units : tuple of int, default=(256, 256)
    Hidden layers of the MLP networks; for images, only the last entry
    is used, as the width of the fully connected layer.""",
    "conv_padding": """
conv_padding : {1, 0}, default=1
    Padding of the image-reading networks' convolutions (see
    :func:`skgancluster.nn.make_trunk`); 0 builds the public PyTorch
    ClusterGAN's networks (3.4M-parameter critic at the paper's widths).""",
    "common_parameters": """
{{scaling}}
{{device}}
{{random_state}}
{{verbose}}
{{warm_start}}
{{n_jobs}}
{{n_init}}""",
    "X_new": """
X : {array-like, sparse matrix} of shape (n_samples, n_features)
    New data.""",
    "score_neighbour_agreement": """
The criterion ``n_init`` selects by, and what ``GridSearchCV``
without ``scoring`` maximises: how often a row's 10 nearest
neighbours share its cluster, corrected for chance, on at most 2,000
rows, in a space that does not depend on the model (the input as the
model scales it, PCA to 50 components;
:func:`skgancluster.model_selection.neighbour_agreement_score`).""",
    "score_parameters": """
Parameters
----------
X : {array-like, sparse matrix} of shape (n_samples, n_features)
    New data.
y : Ignored
    Not used, present for API consistency.

Returns
-------
score : float
    Higher is better; ``-inf`` when ``X`` falls in a single cluster.""",
    "y_true_pred": """
y_true : array-like of shape (n_samples,)
    Ground-truth classes.
y_pred : array-like of shape (n_samples,)
    Cluster labels to evaluate.""",
    "scaling": """
scaling : {"auto", "standard", "minmax"} or None, default="auto"
    Input scaling learned in ``fit``: "minmax" to [0, 1] with a sigmoid
    generator output ("auto" for images, one range for all pixels),
    "standard" per-feature standardisation with a linear output ("auto"
    for flat data), or None.""",
    "device": """
device : str or torch.device, default="auto"
    "auto" uses CUDA when available, else the CPU.""",
    "random_state": """
random_state : int, RandomState instance or None, default=None
    Seed for the weights, the prior, the batches and the perturbations;
    with an int, fits on the CPU are exactly reproducible.""",
    "verbose": """
verbose : int, default=0
    0 silent, 1 a progress bar with the losses, 2 a line per epoch.""",
    "warm_start": """
warm_start : bool, default=False
    When True, ``fit`` continues training the fitted networks for
    ``max_iter`` more epochs, with their optimizers and schedules where
    they stopped (a schedule planned over the first fit stays at its final
    value). Parameters that shape the networks cannot change between
    warm fits (``ValueError``).""",
    "n_jobs": """
n_jobs : int or None, default=None
    torch threads on the CPU during ``fit``, ``predict``, ``transform``
    and ``sample`` (restored afterwards). None means 1, as in
    scikit-learn; ``-1`` uses every core, which helps large networks on
    an idle machine. On a busy machine extra threads can be several
    times slower. Ignored on a CUDA device, where the GPU does the work.""",
    "n_init": """
n_init : int, default=<n_init>
    Number of trainings from different seeds (drawn from
    ``random_state``); ``fit`` keeps the one with the highest ``score``
    on the training data, a label-free criterion (see ``score``), among
    the runs that found ``n_clusters`` clusters if any did. A fit
    takes about ``n_init`` times as long (see ``screen_fraction``). A
    ``warm_start`` fit continues the kept run only.
screen_fraction : float in (0, 1) or None, default=<screen_fraction>
    With ``n_init > 1``: compare the runs after this fraction of their
    epochs instead of at the end, then train the best of them again from
    its seed to the end (its first epochs are the same on a CPU). A fit
    then takes about ``1 + n_init * screen_fraction`` times as long as
    one run. A run's schedules are planned for the whole fit, so what is
    compared is each run's start. Worth it where the runs' scores early
    in training already rank them, as on MNIST-5k for
    ``ClusterGANClustering`` and ``PreciseFeatureClustering``: there
    ``n_init=5, screen_fraction=0.2`` is the default, and a seed that
    goes wrong in its first epochs (two digits shared between two
    clusters) is passed over, which raises the worst of several seeds
    more than the typical one (``doc/benchmarks.md``). A fraction that
    ends within a first phase (``AugmentedGANClustering``'s GAN epochs)
    compares untrained cluster heads. None trains every run to the
    end.""",
    "real_weight": """
real_weight : float, default=<real_weight>
    Weight of our addition to the paper, the *real-data cluster-head
    terms* (:func:`skgancluster.losses.information_and_consistency`): on
    each step the cluster head also sees the real mini-batch and is asked
    for confident, balanced cluster probabilities (information
    maximisation, ``mean H(p(c|x)) - 2 H(mean p(c|x))``, IMSAT's form with
    ``mu=2``) that agree between ``x`` and a slightly perturbed copy (KL
    consistency; images: a random shift of up to 3 pixels per 28,
    rotation of up to 15 degrees, zoom of up to 10% and, where said, a
    change of slant; flat data: Gaussian noise of 0.1 standard
    deviations). ``real_weight=0`` is the paper's method.""",
    "common_attributes": """
labels_ : ndarray of shape (n_samples,)
    Cluster of each training sample; labels are contiguous from 0.
label_modes_ : ndarray of shape (n_labels,)
    The output unit of the soft assignment (the generator mode, for a
    GAN) behind each label. Units that no training sample fell into get
    no label, so labels stay contiguous: ``n_labels`` can be below
    ``n_clusters``, and then ``fit`` warns (``ConvergenceWarning``) with
    the number of clusters found; ``predict`` returns labels in
    ``[0, n_labels)`` and ``predict_proba`` has ``n_labels`` columns, column
    ``k`` for label ``k``.
n_features_in_ : int
    Number of features seen during fit (pixels, for images).
image_shape_ : tuple of 3 ints or None
    ``(channels, height, width)`` of the images the networks read:
    ``image_shape``, or the shape of an image array given to ``fit``;
    None for flat data.
feature_names_in_ : ndarray of shape (n_features_in_,)
    Column names, when ``X`` was a DataFrame with string column names.
n_iter_ : int
    Epochs trained (summed over ``warm_start`` fits).
n_steps_ : int
    Real mini-batches processed.
history_ : skorch.history.History
    One row per epoch: ``epoch``, ``dur`` (seconds) and the mean of each
    loss, e.g. ``est.history_[:, "critic"]``.
networks_ : torch.nn.ModuleDict
    The trained networks, on ``device_``.
device_ : torch.device
    Where the networks live (``cpu``, or ``cuda:<index>``).
input_offset_, input_scale_ : ndarray of shape (n_features_in_,)
    The learned scaling ``(x - offset) / scale`` applied to the input.
init_seeds_, init_scores_ : ndarray of shape (n_init,)
    With ``n_init > 1``: each run's seed and ``score`` on the training
    data (fewer if ``fit`` was interrupted).
best_init_ : int
    With ``n_init > 1``: the index of the kept run.""",
}

_MARKER = re.compile(r"^( *)\{\{(\w+)((?: \w+=\S+)*)\}\}$", re.MULTILINE)
_PLACEHOLDER = re.compile(r"<(\w+)>")


def _filled(text, defaults=_DEFAULTS):
    def fragment(m):
        inner = {**defaults, **dict(item.split("=", 1) for item in m.group(3).split())}
        body = _filled(_FRAGMENTS[m.group(2)].strip("\n"), inner)
        body = _PLACEHOLDER.sub(lambda p: inner.get(p.group(1), p.group(0)), body)
        return "\n".join(m.group(1) + line if line else line for line in body.splitlines())
    return _MARKER.sub(fragment, text)


def fill_doc(obj):
    """Replace each ``{{name}}`` line of the docstrings by its fragment; return ``obj``.

    On a class, the docstrings of the methods it defines are filled too.
    """
    members = vars(obj).values() if isinstance(obj, type) else ()
    # available_if descriptors keep the method as ``fn``, with a copy of its docstring.
    for target in [obj, *members, *(getattr(m, "fn", None) for m in members)]:
        if target is not None and "{{" in (getattr(target, "__doc__", None) or ""):
            try:
                target.__doc__ = _filled(target.__doc__)
            except AttributeError:  # a read-only docstring (some builtins)
                pass
    return obj
