"""Write ``tests/data/reference_labels.json``: labels of fixed-seed CPU fits.

The file stores what each estimator returned for a fixed ``random_state``;
``tests/test_reference_labels.py`` refits and compares, so that a refactoring
that changes results by accident is caught. Rerun this script only when a
change of results is intended, and say why in the changelog.

    PYTHONPATH=. python tests/make_reference_labels.py
"""

import json
import pathlib

import numpy as np
from sklearn.datasets import make_blobs

from skgancluster import all_estimators

OUT = pathlib.Path(__file__).parent / "data" / "reference_labels.json"

FAST = dict(hidden_units=(16,), conv_channels=(4,), latent_dim=3, max_iter=10, batch_size=16,
            learning_rate=3e-3, n_critic=1, device="cpu", random_state=0,
            n_init=1)  # single runs (two estimators screen five by default; tested in test_model_selection.py)


def cases():
    """(case id, estimator class, parameters, X) for every reference fit."""
    flat, _ = make_blobs(n_samples=60, n_features=4, centers=3, cluster_std=0.5, random_state=0)
    images = np.random.RandomState(0).randint(0, 256, (48, 64)).astype(np.float32)
    images[:24, :32] += 200  # two groups: bright top half or not
    for name, cls in all_estimators():
        names = cls().get_params(deep=False)
        params = {k: v for k, v in FAST.items() if k in names}
        yield f"{name}/blobs", cls, dict(params, n_clusters=3), flat.astype(np.float32)
        yield f"{name}/images", cls, dict(params, n_clusters=2, image_shape=(1, 8, 8)), images
        if "inference" in names:
            yield f"{name}/blobs/kmeans", cls, dict(params, n_clusters=3, inference="kmeans"), flat.astype(np.float32)


def compute():
    out = {}
    for case, cls, params, X in cases():
        est = cls(**params).fit(X)
        out[case] = {"labels": est.labels_.tolist(), "predict": est.predict(X).tolist()}
    return out


if __name__ == "__main__":
    OUT.write_text(json.dumps(compute(), indent=None) + "\n")
    print(f"wrote {OUT}")
