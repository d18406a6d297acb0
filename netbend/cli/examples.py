"""`netbend examples`: the example plans (and audio clips) shipped with netbend."""
from __future__ import annotations

import click

from netbend.cli.common import overwrite_option


@click.command("examples")
@click.argument("names", nargs=-1)
@click.option("--copy", "copy_dir", type=click.Path(file_okay=False),
              help="Copy every example (plans, the plugin my_transforms.py, audio/ clips, images/) "
                   "to this folder.")
@overwrite_option
def examples_cmd(names: tuple[str, ...], copy_dir: str | None, overwrite: bool) -> None:
    """List the example plans shipped with netbend, print one, or copy them all to a folder.

    Every command that takes a plan also takes a shipped one by name (--config fig3_stochastic),
    installed package or clone alike.

    \b
    Examples:
      netbend examples
      netbend examples fig3_stochastic
      netbend examples --copy my_plans
      netbend generate --config fig3_stochastic --seeds 0-3 --variations 2 --out out/fig3
    """
    from netbend.errors import NetbendError
    from netbend.examples import EXAMPLES_DIR, copy_examples, list_examples, not_found_hint, shipped

    if copy_dir:
        if names:
            raise NetbendError("give plan names or --copy, not both")
        from netbend.outdir import prepare_out_dir

        out = prepare_out_dir(copy_dir, overwrite=overwrite, command="examples")
        written = copy_examples(out)
        click.echo(f"copied {len(written)} files to {out}/")
        return
    for name in names:
        path = shipped(name)
        if path is None or path.parent != EXAMPLES_DIR:
            raise NetbendError(f"{name}: no such example plan" + not_found_hint(name))
        click.echo(f"# {path}\n{path.read_text()}", nl=False)
    if not names:
        examples = list_examples()
        width = max(len(e.name) for e in examples)
        for e in examples:
            click.echo(f"{e.name:<{width}}  {e.description}")
        click.echo(f"(in {EXAMPLES_DIR}; use one with --config NAME, copy them with --copy DIR)")


COMMANDS = [examples_cmd]
