"""How a layer's feature embeddings ``[C, D]`` become clusters: the paper's k-means, or a lever.

* ``parts`` (default): ``joint``'s clusters refined feature by feature so that each cluster's
  ablation changes its own parts of the output, parts found without labels by k-means of the
  generator's own middle-layer features; the clusters' alignment is kept in the objective, and k
  is chosen per layer in 3..the table's k against random groups of the same sizes
  (:mod:`.refine`, :mod:`.segments`). The only method measured to reach all of issue 12's targets
  on the face model (docs/clusters.md). Costs about ``C * k`` ablations of 16 latents per sweep
  per layer (4-5 min of the default preset's run on one CPU thread).
* ``joint``: the CNN embedding joined with what each feature does and where it is
  (:func:`.signatures.joint_signatures`: its ablation-effect and activation signatures), clustered
  spectrally as below. Beats random groups and raw-map k-means on alignment and specificity in
  every layer, at 1.5x random groups' specificity. Needs the model (one forward pass per
  feature), so :func:`cluster_features` gets the joined rows from
  :func:`netbend.clustering.pipeline.assign`.
* ``paper``: k-means, Lloyd with Forgy initialisation (:mod:`.kmeans`), the paper's method; bit
  for bit reproducible with one thread.
* ``ward``: agglomerative clustering with Ward linkage (deterministic; scikit-learn).
* ``spectral``: spectral clustering on the symmetrised 10-nearest-neighbour graph of the
  embeddings, labels by QR (``assign_labels='cluster_qr'``, no random restarts; scikit-learn).

Every method returns clusters in canonical order (largest first). ``benchmarks/clustering_levers.py``
measures them side by side; docs/clusters.md has the table.
"""
from __future__ import annotations

import warnings

import numpy as np
import torch

from netbend.clustering.kmeans import best_of, canonical_clusters
from netbend.errors import NetbendError, closest

METHODS = ("parts", "joint", "paper", "ward", "spectral")
DEFAULT_METHOD = "parts"
SIGNATURE_METHODS = ("parts", "joint")  # methods that cluster joined signatures, not the bare embedding
REFINED_METHODS = ("parts",)  # methods whose clusters are then refined (:mod:`.refine`)
Clusters = tuple[tuple[int, ...], ...]


def check_method(method: str) -> None:
    """Refuse an unknown method name in one line, with a did-you-mean."""
    if method not in METHODS:
        raise NetbendError(f"unknown clustering method '{method}'{closest(method, METHODS)} "
                           f"(methods: {', '.join(METHODS)})")


def cluster_features(x: torch.Tensor, k: int, *, method: str = "paper", seed: int = 0,
                     restarts: int = 1) -> Clusters:
    """Clusters of the features whose embeddings are ``x [C, D]`` (``k`` at most ``C``)."""
    check_method(method)
    k = min(k, x.shape[0])
    if method == "paper" or k < 2 or k >= x.shape[0]:  # (k = C: every feature alone, any method)
        return canonical_clusters(best_of(x, k, seed=seed, restarts=restarts).labels, k)
    try:
        from sklearn.cluster import AgglomerativeClustering, SpectralClustering
    except ImportError:
        raise NetbendError(f"--method {method} needs scikit-learn (pip install scikit-learn)") from None
    data = x.double().numpy()
    if method == "ward":
        labels = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(data)
    else:  # spectral; "joint" / "parts" rows are already the joined signatures
        neighbours = max(1, min(10, len(data) - 1))
        with warnings.catch_warnings():  # a graph of well-separated groups is not connected: fine
            warnings.filterwarnings("ignore", message="Graph is not fully connected")
            warnings.filterwarnings("ignore", message="The spectral clustering API has changed")  # square x
            labels = SpectralClustering(n_clusters=k, affinity="nearest_neighbors", n_neighbors=neighbours,
                                        random_state=seed, assign_labels="cluster_qr").fit_predict(data)
    return canonical_clusters(torch.as_tensor(np.asarray(labels), dtype=torch.int64), k)
