"""Choose the number of clusters without labels: ``select_n_clusters`` on scikit-learn's digits.

For each candidate K, two ``IMSATClustering`` fits on two random 80 % subsamples
of the 1,797 digits are scored by the silhouette of their labels on all rows, in
a space that is the same for every K (the chosen K is the highest), and compared
on the rows both saw (adjusted Rand index, the stability: a K that matches the
data is found again from other rows and another seed). The table is printed and
the curve saved to ``doc/figures/choose_n_clusters_digits.png``.
About 4 minutes on one CPU core; ``--n-jobs 2`` runs two fits at a time.

    python examples/choose_n_clusters.py
"""

import argparse
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from skgancluster import IMSATClustering  # noqa: E402
from skgancluster.model_selection import select_n_clusters  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--n-jobs", type=int, default=None)
parser.add_argument("--out", default="doc/figures/choose_n_clusters_digits.png")
args = parser.parse_args()

X, y = load_digits(return_X_y=True)
warnings.simplefilter("ignore", ConvergenceWarning)
selection = select_n_clusters(IMSATClustering(image_shape=(1, 8, 8)), X, range(6, 15), random_state=0,
                              n_jobs=args.n_jobs)
print(selection)
print(f"chosen: {selection.n_clusters} clusters (the digits have 10 classes)")
ax = selection.plot()
ax.set_title("IMSATClustering on load_digits (10 classes)")
plt.tight_layout()
plt.savefig(args.out, dpi=120)
print(f"figure: {args.out}")
