"""GAN-based clustering behind the scikit-learn API."""

from ._config import config_context, get_config, set_config
from ._training import TrainingDivergedError
from .augmented import AugmentedGANClustering
from .bspl import BSPLClusterGAN
from .clustergan import ClusterGANClustering
from .imsat import IMSATClustering
from .precise import PreciseFeatureClustering
from .simi import SIMIClusterGAN

__version__ = "0.1.0"

__all__ = [
    "AugmentedGANClustering",
    "BSPLClusterGAN",
    "ClusterGANClustering",
    "IMSATClustering",
    "PreciseFeatureClustering",
    "SIMIClusterGAN",
    "TrainingDivergedError",
    "all_estimators",
    "config_context",
    "get_config",
    "set_config",
]


def all_estimators():
    """The public estimators of the package, for tests and tools.

    Returns
    -------
    estimators : list of (name, class) tuples
        Sorted by name, like :func:`sklearn.utils.all_estimators`.

    Examples
    --------
    >>> from skgancluster import all_estimators
    >>> [name for name, _ in all_estimators()][:2]
    ['AugmentedGANClustering', 'BSPLClusterGAN']
    """
    return sorted([
        ("AugmentedGANClustering", AugmentedGANClustering),
        ("BSPLClusterGAN", BSPLClusterGAN),
        ("ClusterGANClustering", ClusterGANClustering),
        ("IMSATClustering", IMSATClustering),
        ("PreciseFeatureClustering", PreciseFeatureClustering),
        ("SIMIClusterGAN", SIMIClusterGAN),
    ])
