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


def model_setup_options(fn=None, *, curves: bool = False):
    """Add ``--class``, ``--translate`` and ``--rotate`` to a command (parameters class_index,
    translate, rotate); with ``curves`` the two view options may be curves (``animate``)."""
    if fn is None:
        return lambda f: model_setup_options(f, curves=curves)
    either = " (each a number or a curve, e.g. '{lfo: 0.25, range: [-10, 10]}')" if curves else ""
    fn = click.option("--rotate", type=str if curves else float, default=None, metavar="DEG",
                      help="StyleGAN3 only: rotate the image by DEG degrees (counter-clockwise), "
                           f"like NVlabs gen_images.py{either}.")(fn)
    fn = click.option("--translate", default=None, metavar="DX,DY",
                      help="StyleGAN3 only: translate the image by DX,DY in NVlabs gen_images.py units "
                           f"(input-grid coordinates; the image spans about 1 unit){either}.")(fn)
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


def parse_view(model, translate: str | None, rotate: str | None):
    """``--translate`` / ``--rotate`` whose values may be curves: None, or (dx, dy, degrees), each a
    number or a :mod:`netbend.curves` curve (for ``animate``; see :func:`view_at`)."""
    import yaml

    from netbend.curves import parse_curve, parse_value

    if translate is None and rotate is None:
        return None
    if not hasattr(model, "set_view"):
        flag = "--translate" if translate is not None else "--rotate"
        raise NetbendError(f"{flag}: model '{model.name}' is not a StyleGAN3 (only its Fourier input "
                           "layer can be translated and rotated)")
    shift: list = [0.0, 0.0]
    if translate is not None:
        try:
            items = yaml.safe_load(f"[{translate}]")
        except yaml.YAMLError:
            items = None
        if not isinstance(items, list) or len(items) != 2:
            raise NetbendError(f"--translate {translate!r}: expected 'DX,DY', each a number or a curve")
        shift = [parse_curve(v, f"--translate[{i}]") if isinstance(v, dict) else parse_value(str(v), f"--translate[{i}]")
                 for i, v in enumerate(items)]
    angle = 0.0 if rotate is None else parse_value(rotate, "--rotate")
    return (shift[0], shift[1], angle)
