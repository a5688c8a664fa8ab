"""Several trainings, the best kept without labels: ``n_init`` on scikit-learn's digits.

A GAN or IMSAT fit depends on its seed. ``n_init=5`` trains five times from seeds
drawn from ``random_state`` and keeps the run with the highest ``score(X)``, a
label-free criterion, among the runs that found all their clusters. This script
fits ``IMSATClustering`` with ``n_init=5`` for three values of ``random_state``,
then refits every run alone to read its accuracy (the labels are used for the
figure only), and saves the criterion against accuracy to
``doc/figures/n_init_digits.png``. About 6 minutes on one CPU core.

    python examples/n_init.py
"""

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from skgancluster import IMSATClustering  # noqa: E402
from skgancluster.metrics import cluster_accuracy  # noqa: E402

X, y = load_digits(return_X_y=True)
warnings.simplefilter("ignore", ConvergenceWarning)
fig, ax = plt.subplots(figsize=(5, 3.5))
for random_state, colour in zip((0, 1, 2), ("C0", "C1", "C2")):
    est = IMSATClustering(10, image_shape=(1, 8, 8), n_init=5, random_state=random_state).fit(X)
    fits = [clone(est).set_params(n_init=1, random_state=int(seed)).fit(X) for seed in est.init_seeds_]
    runs = np.array([cluster_accuracy(y, fit.labels_) for fit in fits])
    complete = np.array([len(np.unique(fit.labels_)) == 10 for fit in fits])
    kept = cluster_accuracy(y, est.labels_)
    print(f"random_state={random_state}: runs ACC " + " ".join(f"{a:.3f}" for a in runs)
          + f"; kept run {est.best_init_} (ACC {kept:.3f})")
    ax.scatter(est.init_scores_[complete], runs[complete], color=colour, label=f"random_state={random_state}")
    ax.scatter(est.init_scores_[~complete], runs[~complete], color=colour, marker="x")
    ax.scatter([est.init_scores_[est.best_init_]], [kept], s=140, facecolors="none", edgecolors=colour)
ax.set_xlabel("score(X) of each run (no labels)")
ax.set_ylabel("accuracy of the run (labels)")
ax.set_title("n_init=5: the circled run is kept (x: a run that lost a cluster)", fontsize=9)
ax.legend(fontsize="small")
plt.tight_layout()
plt.savefig("doc/figures/n_init_digits.png", dpi=120)
print("figure: doc/figures/n_init_digits.png")
