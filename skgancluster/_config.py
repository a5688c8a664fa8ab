"""Package-wide settings, in the manner of :func:`sklearn.set_config`."""

import contextlib

__all__ = ["get_config", "set_config", "config_context"]

_INTERRUPT_CHOICES = ("raise", "return")
_config = {"on_interrupt": "raise"}


def get_config():
    """The current settings, as a dict (a copy).

    Returns
    -------
    config : dict
        ``on_interrupt``: see :func:`set_config`.
    """
    return dict(_config)


def set_config(on_interrupt=None):
    """Set package-wide behaviour.

    Parameters
    ----------
    on_interrupt : {"raise", "return"} or None
        What ``fit`` does on ``KeyboardInterrupt`` (Ctrl-C) once at least one
        epoch of the fit has completed. Either way the networks are set back
        to the end of the last completed epoch, ``labels_`` is computed from
        them, and a ``ConvergenceWarning`` says so: the estimator is fitted
        and usable. "raise" (default) then re-raises the interrupt, so that
        a loop, a grid search or a script around ``fit`` stops as a user at
        a terminal expects; "return" returns from ``fit`` as if training had
        ended (for "train until I press Ctrl-C"). An interrupt before the
        first epoch completes always propagates and leaves the estimator
        unfitted. None leaves the setting unchanged.

    Examples
    --------
    >>> import skgancluster
    >>> skgancluster.set_config(on_interrupt="return")
    >>> skgancluster.get_config()["on_interrupt"]
    'return'
    >>> skgancluster.set_config(on_interrupt="raise")
    """
    if on_interrupt is not None:
        if on_interrupt not in _INTERRUPT_CHOICES:
            raise ValueError(f"on_interrupt must be one of {_INTERRUPT_CHOICES}, got {on_interrupt!r}.")
        _config["on_interrupt"] = on_interrupt


@contextlib.contextmanager
def config_context(**settings):
    """Change settings (see :func:`set_config`) within a ``with`` block only.

    Examples
    --------
    >>> import skgancluster
    >>> with skgancluster.config_context(on_interrupt="return"):
    ...     skgancluster.get_config()["on_interrupt"]
    'return'
    >>> skgancluster.get_config()["on_interrupt"]
    'raise'
    """
    previous = get_config()
    set_config(**settings)
    try:
        yield
    finally:
        set_config(**previous)
