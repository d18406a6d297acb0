"""The ``netbend`` command line: thin wrappers over the library, one module per command."""
from __future__ import annotations

import sys
import warnings

import click

from netbend.cli.common import apply_threads, threads_option
from netbend.errors import NetbendError, NetbendWarning


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    if issubclass(category, NetbendWarning):
        click.echo(f"netbend: warning: {message}", err=True)
    else:
        _default_showwarning(message, category, filename, lineno, file, line)


_default_showwarning = warnings.showwarning


class _Group(click.Group):
    """Turns a :class:`NetbendError` into one line on stderr and exit code 2, and a
    :class:`NetbendWarning` into one line ``netbend: warning: ...``."""

    def invoke(self, ctx: click.Context):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("always", NetbendWarning)
                warnings.showwarning = _show_warning
                return super().invoke(ctx)
        except NetbendError as err:
            click.echo(f"netbend: error: {err}", err=True)
            sys.exit(err.exit_code)
        except KeyboardInterrupt:
            click.echo("netbend: interrupted", err=True)
            sys.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="netbend")
@threads_option
@click.option("--plugin", "plugins", multiple=True, type=click.Path(dir_okay=False),
              help="Python file registering custom transforms (repeatable); installed packages' "
                   "'netbend.transforms' entry points load by themselves.")
def main(threads: int | None, plugins: tuple[str, ...]) -> None:
    """Bend trained generative networks: transform chosen features of chosen layers.

    Every command has --help with examples; bad input exits with one line and code 2.

    \b
    Examples:
      netbend demo --out out/demo
      netbend examples
      netbend generate --config fig3_stochastic --seeds 0-7 --variations 4 --out out/fig3
      netbend --threads 1 generate --seeds 0-63 --out out/plain
      netbend --plugin examples/my_transforms.py transforms clip
    """
    from netbend.plugins import load_entry_points, load_plugin_file

    apply_threads(threads)
    load_entry_points(warn=lambda msg: click.echo(f"netbend: warning: {msg}", err=True))
    for path in plugins:
        load_plugin_file(path)


def _register() -> None:
    from importlib import import_module

    for name in COMMANDS:
        module = import_module(f"netbend.cli.{name}")
        for cmd in getattr(module, "COMMANDS"):
            main.add_command(cmd)


# One entry per command module; each module exposes COMMANDS = [click commands/groups].
COMMANDS: list[str] = ["generate", "layers", "audio", "cluster", "transforms", "faces", "demo", "animate",
                       "studio", "project", "examples", "sweep"]
_register()
