"""Procedural cartoon faces with part labels, and the default model trained on them.

``render_faces(params or seeds, size) -> (images uint8 [N, H, W, 3], labels uint8 [N, H, W])``;
``params_from_latent(z)`` gives the renderer parameters of the face the default model draws for z.
Label values are indices into :data:`LABELS` (0 background, 1 hair, 2 skin, 3 eyes, 4 eyebrows,
5 nose, 6 mouth, 7 glasses, 8 ears).
"""
from netbend.faces.params import (N_PARAMS, PARAM_NAMES, latents_for_seeds, params_for_seeds,
                                  params_from_latent)
from netbend.faces.render import LABEL_COLOURS, LABELS, colourise, render_face, render_faces

__all__ = [
    "LABEL_COLOURS", "LABELS", "N_PARAMS", "PARAM_NAMES", "colourise", "faces_for_latents",
    "latents_for_seeds", "params_for_seeds", "params_from_latent", "render_face", "render_faces",
]


def faces_for_latents(z, size: int = 64):
    """Renderer (images, labels) of the faces the default model was trained to draw for z."""
    return render_faces(params_from_latent(z), size=size)
