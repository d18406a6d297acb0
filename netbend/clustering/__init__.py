"""Feature clustering (paper §4): activation datasets, per-layer metric CNNs, k-means, scores.

Files: :mod:`.capture` (hooks), :mod:`.dataset` (chunked maps on disk), :mod:`.model` (the
ShuffleNet-v2 CNN), :mod:`.train` (loop, checkpoints, resume), :mod:`.kmeans` (Lloyd/Forgy),
:mod:`.embed` (per-sample / general-purpose embeddings), :mod:`.pipeline` (all steps),
:mod:`.presets`, :mod:`.show` (pictures), :mod:`.evaluate` / :mod:`.baselines` / :mod:`.report`
(are the clusters meaningful?).

The default face model's clusters and CNNs ship with the package: :data:`DEFAULT_CLUSTERS`
(a cluster file for ``--clusters``) and :data:`DEFAULT_CNN` (for per-sample clustering).
"""
from pathlib import Path

DEFAULT_CLUSTERS = Path(__file__).with_name("default_faces_clusters.json")
DEFAULT_CNN = Path(__file__).with_name("default_faces_cnn.safetensors")
