"""Parameter and input checks, the device choice and the learned input scaling.

Plain functions: the estimators call them from ``fit``; nothing here keeps
state.
"""

import numbers

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils.validation import validate_data

__all__ = ["positive_int_sequence", "check_image_shape", "check_channel_order", "validate_input", "resolve_device",
           "learn_scaling"]

STATS_CHUNK = 65536  # rows per chunk when learning the input scaling...
STATS_CHUNK_ELEMENTS = 2**23  # ...at most this many values (a wide sparse X is densified per chunk)


def positive_int_sequence(value, name, length=None):
    """Validate a tuple/list of positive ints (``image_shape``, ``hidden_units``); return a tuple."""
    if not isinstance(value, (tuple, list)) or len(value) == 0:
        raise TypeError(f"{name} must be a non-empty tuple of positive ints, got {value!r}.")
    if any(isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1 for v in value):
        raise ValueError(f"{name} must contain positive ints only, got {value!r}.")
    if length is not None and len(value) != length:
        raise ValueError(f"{name} must have {length} entries, got {value!r}.")
    return tuple(int(v) for v in value)


def check_image_shape(image_shape, n_features, conv_channels, conv_padding):
    """Validate ``image_shape`` against the data and the convolutions; return it as a tuple.

    ``None`` (flat data) is returned as is.
    """
    if image_shape is None:
        return None
    shape = positive_int_sequence(image_shape, "image_shape", length=3)
    if shape[0] > 4 and shape[2] <= 4:
        raise ValueError(
            f"image_shape={shape} looks like (height, width, channels); image_shape is "
            f"(channels, height, width), e.g. {(shape[2], shape[0], shape[1])}, and the rows must hold "
            "each channel's pixels in turn (see README, 'Input')."
        )
    if int(np.prod(shape)) != n_features:
        raise ValueError(
            f"image_shape={shape} holds {int(np.prod(shape))} values but X has "
            f"{n_features} features; give image_shape=(channels, height, width) "
            "matching the flattened rows."
        )
    smallest = 1  # the input size that leaves >= 1 pixel after every 4x4 stride-2 layer
    for _ in conv_channels:
        smallest = 2 * smallest + 2 - 2 * conv_padding
    if min(shape[1:]) < smallest:
        raise ValueError(
            f"image_shape={shape} is too small for {len(conv_channels)} "
            f"stride-2 layers (conv_channels) with conv_padding={conv_padding}; "
            f"height and width must be >= {smallest}."
        )
    return shape


def check_channel_order(X, image_shape, n_rows=256):
    """Refuse colour images whose rows look channels-last when ``image_shape`` says channels first.

    Neighbouring pixels of a photograph or a drawing are alike. Rows read
    in the wrong layout scramble them, so whichever layout makes
    horizontal neighbours more alike on the first ``n_rows`` rows is
    taken to be the real one: when that is ``(height, width, channels)``,
    clearly, an error says how to reorder the rows.
    """
    if image_shape is None or image_shape[0] not in (3, 4) or min(image_shape[1:]) < 2:
        return
    sample = X[:n_rows]
    sample = np.asarray(sample.toarray() if sp.issparse(sample) else sample, dtype=np.float64)
    channels, height, width = image_shape
    first = np.abs(np.diff(sample.reshape(-1, channels, height, width), axis=3)).mean()
    last = np.abs(np.diff(sample.reshape(-1, height, width, channels), axis=2)).mean()
    if last < 0.5 * first:
        raise ValueError(
            f"The rows of X look like channels-last images (height, width, channels) = "
            f"{(height, width, channels)}, but image_shape={tuple(image_shape)} reads them channels first: "
            f"neighbouring pixels differ {first / max(last, 1e-12):.1f} times more in that reading. Reorder "
            f"the rows with X.reshape(-1, {height}, {width}, {channels}).transpose(0, 3, 1, 2).reshape(len(X), -1)."
        )


def _flatten_images(estimator, X, reset):
    """Flat rows from a ``(n, height, width)`` or ``(n, channels, height, width)`` array.

    Returns ``X`` unchanged (2-D input, sparse matrices, DataFrames) or its
    rows flattened in C order. At fit (``reset``) the image shape the array
    implies (None for 2-D input) is kept as ``_input_image_shape``;
    afterwards an image array must have the fitted shape.
    """
    if sp.issparse(X) or hasattr(X, "columns"):
        ndim = None
    else:  # arrays and tensors say; nested lists are measured; other array-likes go on as they are
        ndim = getattr(X, "ndim", None) if not isinstance(X, (list, tuple)) else np.ndim(X)
    if ndim not in (3, 4):
        if reset:
            estimator._input_image_shape = None
        return X
    X = np.asarray(X)
    shape = (1, *X.shape[1:]) if ndim == 3 else tuple(X.shape[1:])
    if ndim == 4 and shape[2] in (1, 3, 4) and shape[0] not in (1, 3, 4):
        raise ValueError(
            f"X has shape {X.shape}, which looks like images with the channels last "
            "(n_samples, height, width, channels). The estimators read images channels first: "
            "pass X.transpose(0, 3, 1, 2)."
        )
    if reset:
        estimator._input_image_shape = shape
    else:
        fitted = getattr(estimator, "_image_shape", None)
        if fitted != shape:
            raise ValueError(f"X holds images of shape {shape} (channels, height, width), but the estimator "
                             f"was fitted on {'flat rows' if fitted is None else f'images of shape {fitted}'}.")
    return X.reshape(X.shape[0], -1)


def validate_input(estimator, X, reset):
    """``validate_data`` with the package's rules; returns float32 (dense or CSR).

    Image arrays of 3 or 4 dimensions are flattened (see
    ``_flatten_images``). Non-numeric input gets an error that says how to
    encode it, and float64 values beyond float32's range are refused (they
    would silently become infinite).
    """
    X = _flatten_images(estimator, X, reset)
    try:
        X = validate_data(
            estimator, X, reset=reset, accept_sparse="csr", dtype=[np.float32, np.float64],
            ensure_min_samples=1,
        )
    except (ValueError, TypeError) as exc:
        if "could not convert" not in str(exc) and "argument must be" not in str(exc):
            raise
        # Keep the kind of error (TypeError for objects such as dicts).
        raise type(exc)(
            f"X must hold numbers only, but it holds strings or other non-numeric "
            f"values ({exc}). Encode them as numbers first, e.g. with "
            "sklearn.preprocessing.OneHotEncoder."
        ) from exc
    values = X.data if sp.issparse(X) else X
    if X.dtype == np.float64 and values.size:
        largest = max(values.max(), -values.min())  # no |X| copy of a large X
        if largest > np.finfo(np.float32).max:
            raise ValueError(
                f"X contains values too large for float32 (largest magnitude "
                f"{largest:.3g} > {np.finfo(np.float32).max:.3g}); rescale X first."
            )
    return X.astype(np.float32, copy=False)


def resolve_device(device):
    """``"auto"`` -> CUDA when available, else CPU; check an explicit choice."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a torch device; use 'auto', 'cpu' or 'cuda'.") from exc
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"device={str(device)!r} is not supported: the estimators run on 'cpu' or 'cuda' "
                         "('auto' picks CUDA when available).")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={str(device)!r} was asked for but CUDA is not available; use 'auto' or 'cpu'.")
    if device.type == "cuda" and device.index is None:  # "cuda" == "cuda:0" is False in torch: name the index
        device = torch.device("cuda", torch.cuda.current_device())
    return device


def learn_scaling(X, kind, one_range=False):
    """The input scaling ``(x - offset) / scale`` of ``X``, computed in chunks.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    kind : {"standard", "minmax"} or None
        Per-feature standardisation, min-max to [0, 1], or the identity.
    one_range : bool
        For "minmax": one range for all features (images, so that the
        relative intensities of pixels are kept).

    Returns
    -------
    offset, scale : ndarray of shape (n_features,), float64
        Constant features keep ``scale = 1`` instead of a division by 0.

    Notes
    -----
    Means and variances are merged chunk by chunk (Chan, Golub and LeVeque's
    pairwise update), each chunk centred on its own mean, so a large offset
    does not cancel the variance as ``E[x^2] - E[x]^2`` would.
    """
    n, d = X.shape
    count, mean, m2 = 0, np.zeros(d), np.zeros(d)
    low, high = np.full(d, np.inf), np.full(d, -np.inf)
    rows = max(1, min(STATS_CHUNK, STATS_CHUNK_ELEMENTS // max(d, 1)))
    for start in range(0, n, rows):
        chunk = X[start:start + rows]
        chunk = chunk.toarray() if sp.issparse(chunk) else chunk
        k = chunk.shape[0]
        chunk_mean = chunk.mean(0, dtype=np.float64)
        chunk_m2 = np.square(chunk - chunk_mean, dtype=np.float64).sum(0)
        delta = chunk_mean - mean
        total = count + k
        mean = mean + delta * (k / total)
        m2 = m2 + chunk_m2 + np.square(delta) * (count * k / total)
        count = total
        low, high = np.minimum(low, chunk.min(0)), np.maximum(high, chunk.max(0))
    if kind is None:
        offset, scale = np.zeros(d), np.ones(d)
    elif kind == "standard":
        offset, scale = mean, np.sqrt(m2 / n)
    else:
        if one_range:
            low, high = np.full(d, low.min()), np.full(d, high.max())
        offset, scale = low.astype(np.float64), (high - low).astype(np.float64)
    scale = np.where(scale > 1e-12 * np.maximum(1.0, np.abs(offset)), scale, 1.0)
    return offset, scale
