"""Tune a clusterer with ``GridSearchCV`` and no labels, as one would tune ``KMeans``.

``WholeDataSplit`` gives each candidate the whole data to fit and to be scored on
(the usual idiom of unsupervised model selection) and ``neighbour_agreement_scorer``
scores it in a space that does not depend on the candidate (the estimators' own
``score``, which ``GridSearchCV`` uses when ``scoring`` is not given). Here it
chooses VAT's step ``xi`` for ``IMSATClustering`` on scikit-learn's digits, over
three seeds. The labels are used only at the end, to show how the label-free
ranking compares with accuracy; the figure goes to
``doc/figures/grid_search_digits.png``. About 3 minutes with ``n_jobs=2``.

    python examples/grid_search.py
"""

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from skgancluster import IMSATClustering  # noqa: E402
from skgancluster.metrics import cluster_accuracy  # noqa: E402
from skgancluster.model_selection import WholeDataSplit, neighbour_agreement_scorer  # noqa: E402

X, y = load_digits(return_X_y=True)
warnings.simplefilter("ignore", ConvergenceWarning)
grid = {"xi": [0.1, 1.0, 10.0], "random_state": [0, 1, 2]}
search = GridSearchCV(IMSATClustering(10, image_shape=(1, 8, 8)), grid, scoring=neighbour_agreement_scorer,
                      cv=WholeDataSplit(), n_jobs=2, refit=True).fit(X)
print("best:", search.best_params_, f"neighbour agreement {search.best_score_:.3f}, "
      f"ACC {cluster_accuracy(y, search.best_estimator_.labels_):.3f}")

# For the figure only: refit each candidate to read its accuracy (the search itself never sees y).
scores, accuracies, names = [], [], []
for params, score in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"]):
    est = IMSATClustering(10, image_shape=(1, 8, 8), **params).fit(X)
    scores.append(score)
    accuracies.append(cluster_accuracy(y, est.labels_))
    names.append(f"xi={params['xi']:g}, seed {params['random_state']}")
    print(f"{names[-1]:<18} neighbour agreement {score:.3f}  ACC {accuracies[-1]:.3f}")
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.scatter(scores, accuracies)
for s, a, n in zip(scores, accuracies, names):
    ax.annotate(n, (s, a), fontsize=7)
best = int(np.argmax(scores))
ax.scatter([scores[best]], [accuracies[best]], s=120, facecolors="none", edgecolors="red", label="chosen")
ax.set_xlabel("neighbour_agreement_scorer (no labels)")
ax.set_ylabel("accuracy (labels)")
ax.legend()
plt.tight_layout()
plt.savefig("doc/figures/grid_search_digits.png", dpi=120)
print("figure: doc/figures/grid_search_digits.png")
