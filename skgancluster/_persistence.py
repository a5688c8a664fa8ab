"""Pickling with the modules on the CPU, and the safe ``save``/``load`` format.

:class:`PersistenceMixin` gives an estimator ``__getstate__``/``__setstate__``
(so a model fitted on CUDA unpickles on a CPU-only machine) and ``save``/
``load``: a file of JSON parameters, tensors and plain data that
``torch.load(..., weights_only=True)`` reads without unpickling arbitrary
objects. A fitted attribute that is itself one of the package's estimators
(the fitted first phase of a two-phase method) is saved inside the file and
loaded back with it; a parameter that is one (an unfitted first phase) is
saved by its class name and parameters.
"""

import copy
import io
import json
import numbers
import pickle

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from skorch.history import History

__all__ = ["PersistenceMixin", "on_device"]

FORMAT = "skgancluster-v1"
_CPU = torch.device("cpu")


def on_device(obj, device, depth=0):
    """``obj`` with every tensor and module in it on ``device``.

    Walks dicts, lists, tuples and the ``__dict__`` of plain objects (such as
    a prior holding its weights) a few levels deep. Returns ``obj`` itself
    when nothing needs to move, otherwise a copy: ``obj`` is never changed.
    Nested estimators are left alone: they move themselves when pickled.
    """
    if torch.is_tensor(obj):
        return obj if obj.device == device else obj.detach().to(device)
    if isinstance(obj, torch.nn.Module):
        tensors = [*obj.parameters(), *obj.buffers()]
        return obj if all(t.device == device for t in tensors) else copy.deepcopy(obj).to(device)
    if (depth > 3 or obj is None or isinstance(obj, (str, bytes, numbers.Number, np.ndarray, type, PersistenceMixin))):
        return obj
    if isinstance(obj, dict):
        items = {k: on_device(v, device, depth + 1) for k, v in obj.items()}
        if all(items[k] is v for k, v in obj.items()):
            return obj
        new = copy.copy(obj)
        new.update(items)
        return new
    if type(obj) in (list, tuple):
        items = [on_device(v, device, depth + 1) for v in obj]
        return obj if all(a is b for a, b in zip(items, obj)) else type(obj)(items)
    if hasattr(obj, "__dict__") and not callable(obj):
        items = {k: on_device(v, device, depth + 1) for k, v in vars(obj).items()}
        if all(items[k] is v for k, v in vars(obj).items()):
            return obj
        new = copy.copy(obj)
        vars(new).update(items)
        return new
    return obj


def _param_to_json(name, value):
    """A parameter value as JSON-able data; arrays are tagged so that ``load`` rebuilds them."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, torch.device):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_param_to_json(name, v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, PersistenceMixin):  # one of the package's estimators, by its parameters
        return {"__estimator__": type(value).__name__,
                "params": {k: _param_to_json(f"{name}__{k}", v) for k, v in value.get_params(deep=False).items()}}
    raise TypeError(
        f"save() cannot store the parameter {name}={value!r} (a {type(value).__name__}): the safe "
        "format holds numbers, strings, None, lists, numeric arrays and the package's estimators "
        "only. Set it to such a value, or use pickle or joblib, which store any object."
    )


def _param_from_json(value):
    if isinstance(value, dict) and "__ndarray__" in value:
        return np.asarray(value["__ndarray__"], dtype=np.dtype(value["dtype"]))
    if isinstance(value, dict) and "__estimator__" in value:
        cls = _package_estimator(value["__estimator__"], "a parameter")
        params = {k: _param_from_json(v) for k, v in value["params"].items()}
        return cls(**_with_tuples(cls, params))
    return value


def _package_estimator(class_name, where):
    from . import all_estimators  # here: the package imports this module

    cls = dict(all_estimators()).get(class_name)
    if cls is None:
        raise ValueError(f"{where} holds an unknown estimator class {class_name!r}.")
    return cls


def _with_tuples(cls, params):
    """``params`` with the lists JSON made of ``cls``'s tuple parameters turned back into tuples."""
    for name in cls._tuple_params:
        if isinstance(params.get(name), list):
            params[name] = tuple(params[name])
    return params


def _fitted_to_payload(name, value):
    """A fitted attribute as something ``torch.load(weights_only=True)`` accepts."""
    if isinstance(value, PersistenceMixin):
        return {"__estimator__": value._payload()}
    if isinstance(value, History):
        return {"__history__": json.dumps(value.to_list())}
    if isinstance(value, np.ndarray):
        return value.tolist() if value.dtype == object else torch.from_numpy(np.array(value))
    if isinstance(value, torch.device):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, tuple) and all(isinstance(v, (bool, int, float, str)) for v in value):
        return {"__tuple__": list(value)}
    if torch.is_tensor(value):
        return value.detach().to(_CPU)
    raise TypeError(f"save() cannot store the fitted attribute {name} (a {type(value).__name__}).")


def _fitted_from_payload(name, value):
    if isinstance(value, dict) and "__estimator__" in value:
        return PersistenceMixin._from_payload(value["__estimator__"], "a nested estimator")
    if isinstance(value, dict) and "__history__" in value:
        return History(json.loads(value["__history__"]))
    if isinstance(value, dict) and "__tuple__" in value:
        return tuple(value["__tuple__"])
    if name == "history_" and isinstance(value, str):  # files written before histories were tagged
        return History(json.loads(value))
    if torch.is_tensor(value):
        return value.numpy()
    if name == "feature_names_in_":
        return np.asarray(value, dtype=object)
    return value


class PersistenceMixin:
    """Pickling with modules on the CPU and the safe ``save``/``load``.

    The estimator keeps its trained modules in ``networks_`` (a
    ``torch.nn.ModuleDict``) and its optimizers in ``optimizers_``; it
    rebuilds them with ``_build_networks`` and ``_make_optimizers``, and
    ``_tuple_params`` names the parameters given as tuples (JSON turns them
    into lists, ``load`` turns them back).
    """

    _tuple_params = ()
    # Fitted attributes that save() leaves out because load() rebuilds them.
    _rebuilt_attributes = ("networks_", "optimizers_", "prior_")

    def __getstate__(self):
        # A copy: object.__getstate__ returns the live __dict__, which the lines below must not edit.
        state = dict(super().__getstate__())
        if "networks_" in state:
            # Modules, optimizer states and any other tensor (a prior's weights, ...)
            # travel on the CPU, so a model fitted on CUDA unpickles on a machine without it.
            state = {k: on_device(v, _CPU) if k != "optimizers_" else v for k, v in state.items()}
            state["optimizers_"] = {k: on_device(o.state_dict(), _CPU) for k, o in self.optimizers_.items()}
            state["device_"] = str(self.device_)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "networks_" in state:
            self._place_on_device(torch.device(state["device_"]), state["optimizers_"])

    def _place_on_device(self, device, optimizer_states):
        """Move the networks to ``device`` (CPU when CUDA is gone) and rebuild the optimizers."""
        if device.type == "cuda" and not torch.cuda.is_available():
            device = _CPU
        self.device_ = device
        self.networks_.to(device)
        for name, value in list(vars(self).items()):
            if name not in ("networks_", "optimizers_", "device_"):
                setattr(self, name, on_device(value, device))
        self.optimizers_ = self._make_optimizers()
        for name, opt_state in optimizer_states.items():
            self.optimizers_[name].load_state_dict(opt_state)

    # ------------------------------------------------------------ save / load
    def _payload(self):
        """Everything ``save`` writes, as tensors and plain data."""
        check_is_fitted(self, "networks_")
        self._check_architecture_unchanged("save")
        params = self.get_params(deep=False)
        if not (params.get("random_state") is None or isinstance(params["random_state"], numbers.Integral)):
            params["random_state"] = None  # a RandomState object has no safe form; documented in save()
        params = {name: _param_to_json(name, value) for name, value in params.items()}
        fitted = {name: _fitted_to_payload(name, value) for name, value in vars(self).items()
                  if name.endswith("_") and not name.startswith("_") and name not in self._rebuilt_attributes}
        return {
            "format": FORMAT,
            "class": type(self).__name__,
            "params": json.dumps(params),
            "fitted": fitted,
            "networks": on_device(self.networks_.state_dict(), _CPU),
            "optimizers": {k: on_device(o.state_dict(), _CPU) for k, o in self.optimizers_.items()},
        }

    def save(self, path):
        """Save the fitted estimator in a format that is safe to load.

        The file holds the parameters as JSON and the weights, optimizer
        states and fitted arrays as tensors; :meth:`load` reads it with
        ``torch.load(..., weights_only=True)``, which refuses arbitrary
        pickled objects. A ``random_state`` given as a ``RandomState``
        object is saved as None. Nothing is written when a parameter or
        fitted attribute has no safe form (``TypeError``), or when the
        architecture parameters were changed since ``fit`` (``ValueError``).

        Parameters
        ----------
        path : str or path-like or file object
            Where to write.
        """
        buffer = io.BytesIO()
        torch.save(self._payload(), buffer)
        buffer.seek(0)
        try:  # what load() will do: fail here, before anything is written
            torch.load(buffer, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            raise TypeError(f"save() would write a file that load() refuses: {exc}") from exc
        data = buffer.getvalue()
        if hasattr(path, "write"):
            path.write(data)
        else:
            with open(path, "wb") as fh:
                fh.write(data)

    @classmethod
    def load(cls, path):
        """Load an estimator written by :meth:`save`.

        Parameters
        ----------
        path : str or path-like or file object
            The file to read.

        Returns
        -------
        estimator : instance of this class
            Fitted, on CUDA if it was saved from CUDA and CUDA is available,
            else on the CPU.
        """
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            raise ValueError(
                f"{path!r} cannot be loaded safely: it is not a file written by "
                "skgancluster's save(), or it holds objects other than tensors and "
                f"plain data, which load() refuses to unpickle. ({exc})"
            ) from exc
        except (RuntimeError, EOFError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path!r} is not a file written by skgancluster's save() ({exc}).") from exc
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ValueError(f"{path!r} is not a file written by skgancluster's save().")
        if payload["class"] != cls.__name__:
            raise TypeError(f"{path!r} holds a {payload['class']}, not a {cls.__name__}.")
        return cls._from_payload(payload, repr(path), cls)

    @staticmethod
    def _from_payload(payload, where, cls=None):
        """The estimator a payload describes; nested ones are found among the package's estimators."""
        if cls is None:
            cls = _package_estimator(payload.get("class"), where)
        params = {name: _param_from_json(value) for name, value in json.loads(payload["params"]).items()}
        est = cls(**_with_tuples(cls, params))
        for name, value in payload["fitted"].items():
            if not (name.isidentifier() and name.endswith("_") and not name.startswith("_")):
                raise ValueError(f"{where} holds {name!r}, which is not a fitted attribute.")
            setattr(est, name, _fitted_from_payload(name, value))
        est._input_image_shape = getattr(est, "image_shape_", None)
        est._check_params(est.n_clusters, est.n_features_in_)
        est._fitted_architecture = est._architecture()
        est.networks_ = est._build_networks(est.n_features_in_)
        est.networks_.load_state_dict(payload["networks"])
        est.networks_.eval()
        est._place_on_device(torch.device(payload["fitted"]["device_"]), payload["optimizers"])
        return est
