"""Options that set up a loaded generator: ``--class`` (conditional models) and, for StyleGAN3,
``--translate`` / ``--rotate`` (the input layer's transform, as in NVlabs' ``gen_images.py``)."""
from __future__ import annotations

import click

from netbend.errors import NetbendError


def _vec2(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        return float(parts[0]), float(parts[1])
    except ValueError:
        raise NetbendError(f"--translate {text!r}: expected two numbers 'DX,DY', e.g. 0.3,-0.1") from None


def model_setup_options(fn):
    """Add ``--class``, ``--translate`` and ``--rotate`` to a command (parameters class_index,
    translate, rotate)."""
    fn = click.option("--rotate", type=float, default=None, metavar="DEG",
                      help="StyleGAN3 only: rotate the image by DEG degrees (counter-clockwise), "
                           "like NVlabs gen_images.py.")(fn)
    fn = click.option("--translate", default=None, metavar="DX,DY",
                      help="StyleGAN3 only: translate the image by DX,DY in NVlabs gen_images.py units "
                           "(input-grid coordinates; the image spans about 1 unit).")(fn)
    fn = click.option("--class", "class_index", type=int, default=None, metavar="K",
                      help="Class of a conditional model (one-hot label K, 0-based).")(fn)
    return fn


def setup_model(model, class_index: int | None, translate: str | None, rotate: float | None) -> dict:
    """Apply the options to ``model``; returns the settings to record (only those given)."""
    settings = {}
    if class_index is not None or getattr(model, "c_dim", 0):
        if not hasattr(model, "set_class"):
            raise NetbendError(f"--class {class_index}: model '{model.name}' is unconditional (it has no classes)")
        model.set_class(class_index)
        if class_index is None:
            raise NetbendError(f"model '{model.name}' is conditional ({model.c_dim} classes): "
                               f"give --class K (0-{model.c_dim - 1})")
        settings["class"] = class_index
    shift = _vec2(translate)
    if shift is not None or rotate is not None:
        if not hasattr(model, "set_view"):
            flag = "--translate" if shift is not None else "--rotate"
            raise NetbendError(f"{flag}: model '{model.name}' is not a StyleGAN3 (only its Fourier input "
                               "layer can be translated and rotated)")
        model.set_view(shift or (0.0, 0.0), rotate or 0.0)
        settings.update(translate=list(shift or (0.0, 0.0)), rotate=rotate or 0.0)
    return settings
