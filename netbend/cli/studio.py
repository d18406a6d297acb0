"""`netbend studio`: a live local web interface for bending, with OSC control."""
from __future__ import annotations

import secrets

import click

from netbend.cli.common import device_option, model_option, pick_device, plugin_settings
from netbend.errors import NetbendError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@click.command("studio")
@model_option
@click.option("--clusters", "clusters_path", type=click.Path(), default=None,
              help="Cluster file (default: the model's own, if it has one).")
@click.option("--preset", "preset_path", type=click.Path(dir_okay=False), default=None,
              help="Start from this state or plan file (YAML/JSON).")
@click.option("--presets", "presets_dir", type=click.Path(file_okay=False), default=None,
              help="Folder of the preset slots (default ~/.local/share/netbend/studio-presets).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to serve on; any other than 127.0.0.1 requires an access token.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535),
              help="HTTP port (0: any free port).")
@click.option("--osc-port", type=click.IntRange(0, 65535), default=None,
              help="Also listen for OSC messages on this UDP port (on --host).")
@click.option("--osc-map", "osc_map_path", type=click.Path(dir_okay=False), default=None,
              help="YAML/JSON mapping of OSC addresses to scale, offset, min, max.")
@click.option("--audio", is_flag=True, help="Bend the built-in spectrogram VAE (or give --model an audio "
              "model): clips instead of latents, spectrograms and sound instead of images.")
@click.option("--no-browser", is_flag=True, help="Do not open a browser.")
@device_option
@click.option("--dry-run", is_flag=True, help="Check the options, load the model, print the URL and stop.")
def studio_cmd(model_path, clusters_path, preset_path, presets_dir, host, port, osc_port, osc_map_path,
               audio, no_browser, device, dry_run) -> None:
    """Open the studio: bend a model live in the browser.

    Serves one page on http://HOST:PORT/ with the model's layers, the latent (seed, walk,
    truncation, noise), the bend stack, a live bent/unbent preview, presets and plan export
    (and opens it in a browser where there is a display). The exported plan renders the same
    image with `netbend generate`. Press Ctrl+C to stop.

    \b
    Examples:
      netbend studio
      netbend studio --port 8800 --osc-port 9000 --osc-map examples/studio_osc_map.yaml --no-browser
      netbend studio --preset examples/fig3_stochastic.yaml --no-browser
      netbend studio --audio --no-browser
    """
    from netbend.examples import resolve
    from netbend.studio import require

    require()
    from netbend.studio.engine import open_engine
    from netbend.studio.hub import Hub
    from netbend.studio.osc import OscMap
    from netbend.studio.presets import Presets
    from netbend.studio.state import load_state_text

    token = None
    if host not in LOCAL_HOSTS:
        token = secrets.token_urlsafe(18)
        click.echo(f"netbend: warning: serving on {host}: anyone who can reach it and has the token "
                   "can use this machine's model and CPU", err=True)
    osc_map = OscMap.load(resolve(osc_map_path)) if osc_map_path else OscMap({})
    engine = open_engine(model_path, clusters_path, device=str(pick_device(device)), audio=audio)
    engine.plugins = plugin_settings()  # recorded in saved PNGs, as generate records them
    initial = None
    if preset_path:
        path = resolve(preset_path)  # or a shipped example plan by name
        if not path.is_file():
            raise NetbendError(f"{path}: preset file not found")
        initial = load_state_text(path.read_text(), str(path))
        engine.check(initial)
    shown = "localhost" if host in LOCAL_HOSTS else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    if dry_run:
        click.echo(f"would serve {engine.model.name} on {url}"
                   + (f" with OSC on udp {host}:{osc_port}" if osc_port is not None else ""))
        return
    _serve(Hub(engine, initial), host, port, token, Presets(presets_dir), osc_map, osc_port,
           url, not no_browser)


def _serve(hub, host, port, token, presets, osc_map, osc_port, url, browser) -> None:
    from netbend.studio.osc import OscServer
    from netbend.studio.run import bind, server
    from netbend.studio.server import create_app, osc_handler

    app = create_app(hub, token=token, presets=presets, osc_map=osc_map)
    sock = bind(host, port)
    if port == 0:
        url = url.replace(":0/", f":{sock.getsockname()[1]}/")
    osc = OscServer(host, osc_port, osc_handler(hub, presets, osc_map)) if osc_port is not None else None
    click.echo(f"netbend studio: {url}" + (f" (OSC on udp {host}:{osc.port})" if osc else ""))
    if browser and _has_display():
        import webbrowser

        webbrowser.open(url)
    try:
        server(app).run(sockets=[sock])
    finally:
        if osc is not None:
            osc.close()


def _has_display() -> bool:
    """A graphical browser can open here (without one, webbrowser would start a text browser)."""
    import os
    import sys

    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


COMMANDS = [studio_cmd]
