"""Labels by K-means on the embedding, for methods that cluster that way."""

import numpy as np
import torch
from sklearn.cluster import KMeans

__all__ = ["KMeansLabelling"]


class KMeansLabelling:
    """Mixin: ``labels_`` and ``predict`` by K-means on ``transform``'s embedding.

    ``cluster_centers_`` holds one centre per label; a cluster that K-means
    leaves empty is dropped, so labels stay contiguous. ``predict`` returns
    the nearest centre, computed batch by batch on the device.
    """

    def _fit_kmeans_labels(self, X, modes_of):
        """Fit K-means on the embedding of ``X``; set ``cluster_centers_`` and ``label_modes_``.

        ``modes_of`` maps the embedding (an array) to the output unit of each
        row; each label takes the unit most of its members fall into.
        """
        codes = self._map_batches(X, self._embed)
        modes = modes_of(codes)
        # float32 and centred in place (copy_x=False): at 1M rows, float64 codes and
        # K-means' own copy would take 0.6 GB (doc/benchmarks.md).
        kmeans = KMeans(self.n_clusters, n_init=10, copy_x=False, random_state=self._seed()).fit(codes)
        used = np.unique(kmeans.labels_)
        self.cluster_centers_ = kmeans.cluster_centers_[used]
        labels = np.searchsorted(used, kmeans.labels_).astype(np.int64)
        self.label_modes_ = np.array([np.bincount(modes[labels == k], minlength=self.n_clusters).argmax()
                                      for k in range(len(used))], dtype=np.int64)
        return labels

    def _kmeans_labeler(self):
        """Labels by the nearest K-means centre; -1 for non-finite embeddings."""
        centres = torch.as_tensor(self.cluster_centers_, dtype=torch.float32, device=self.device_)

        def labels(x):
            codes = self._embed(x)
            nearest = (codes[:, None, :] - centres[None]).square().sum(2).argmin(1)
            return torch.where(codes.isfinite().all(1), nearest, -1)

        return labels
