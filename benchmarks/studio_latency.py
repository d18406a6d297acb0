"""The studio's latency, measured in a real browser (headless Debian Chromium via Selenium).

Starts ``netbend studio`` as its own process (as a user would), opens the page, adds a bend and
then, all timed inside the page with ``performance.now()``:

* **change -> painted**: N separate changes (each waits for its image before the next); the time
  from the input event to the animation frame in which the new image is drawn on the canvas.
  Two kinds: a bend parameter (one forward pass: the unbent image is cached) and the latent walk
  (two forward passes: bent and unbent).
* **drag**: a continuous slider drag, one input event per display frame for D seconds; how many
  new images per second the page paints (stale states are dropped by the server).

    .venv/bin/python benchmarks/studio_latency.py --changes 60 --drag-seconds 5 --threads 2
    .venv/bin/python benchmarks/studio_latency.py --random-model 256 --changes 10 --drag-seconds 10
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

CHANGES_JS = """
const [path, n, lo, hi, done] = arguments;
const slider = document.querySelector(`[data-path='${path}'][type=range]`);
const until = (f) => new Promise((ok) => { const t = () => (f() ? ok() : setTimeout(t, 0)); t(); });
(async () => {
  const out = [];
  for (let i = 0; i < n; i++) {
    const k = netbend.latencies.length;
    slider.value = lo + (hi - lo) * ((i * 0.37) % 1);
    slider.dispatchEvent(new Event('input', {bubbles: true}));
    await until(() => netbend.latencies.length > k);
    out.push(netbend.latencies[netbend.latencies.length - 1]);
    await new Promise((ok) => setTimeout(ok, 20));
  }
  done(out);
})();
"""

DRAG_JS = """
const [path, seconds, lo, hi, done] = arguments;
const slider = document.querySelector(`[data-path='${path}'][type=range]`);
const f0 = netbend.frames, r0 = netbend.rid, t0 = performance.now();
let events = 0;
function step(now) {
  const t = (now - t0) / 1000;
  if (t < seconds) {
    slider.value = lo + (hi - lo) * (0.5 + 0.5 * Math.sin(t * 2));
    slider.dispatchEvent(new Event('input', {bubbles: true}));
    events += 1;
    requestAnimationFrame(step);
  } else {
    const f1 = netbend.frames;
    done({frames: f1 - f0, events, seconds: (now - t0) / 1000, dropped: netbend.dropped});
  }
}
requestAnimationFrame(step);
"""


def start_server(args) -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, "-c", "from netbend.cli import main; main()", "--threads", str(args.threads),
           "studio", "--port", "0", "--no-browser"]
    if args.model:
        cmd += ["--model", args.model]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        m = re.search(r"(http://\S+)", line or "")
        if m:
            return proc, m.group(1)
        if proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit("netbend studio did not start")


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"),
                              options=opts)
    driver.set_script_timeout(600)
    return driver


def wait(driver, script: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if driver.execute_script(f"return ({script});"):
            return
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {script}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--changes", type=int, default=60)
    ap.add_argument("--drag-seconds", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=2, help="torch threads of the server")
    ap.add_argument("--model", default=None, help="checkpoint (default: the built-in 64 px model)")
    ap.add_argument("--random-model", type=int, default=None, metavar="SIZE",
                    help="instead: a random-weight StyleGAN2 of this size with FFHQ config-f channels")
    args = ap.parse_args()
    if args.random_model:
        import tempfile

        import torch

        from netbend.models import Generator, StyleGAN2Model, save_native

        torch.manual_seed(0)
        tmp = tempfile.mkdtemp(prefix="studio-bench-")
        args.model = os.path.join(tmp, f"random-{args.random_model}.safetensors")
        save_native(StyleGAN2Model(Generator(args.random_model, channel_multiplier=2),
                                   name=f"random-{args.random_model}"), args.model)
    proc, url = start_server(args)
    driver = browser()
    try:
        driver.get(url)
        wait(driver, "window.netbend && netbend.frames > 0")
        driver.find_element("id", "add-bend").click()
        wait(driver, "document.querySelectorAll('.entry').length === 1 && netbend.sent.size === 0")
        model = driver.execute_script("return netbend.info.model")
        rows = []
        for label, path, lo, hi in (("bend parameter (rotate angle)", "transforms.0.params.angle", -90, 90),
                                    ("latent walk (bent + unbent)", "latent.walk", 0.0, 1.0)):
            lat = driver.execute_async_script(CHANGES_JS, path, args.changes, lo, hi)
            t = driver.execute_script(f"return netbend.timings.slice(-{len(lat)})")
            q = statistics.quantiles(lat, n=10)
            parts = [statistics.median(x["server_ms"] for x in t),
                     statistics.median(x["arrived"] - x["sent"] for x in t)]
            rows.append((label, len(lat), statistics.median(lat), q[-1], max(lat), *parts))
        drag = driver.execute_async_script(DRAG_JS, "transforms.0.params.angle", args.drag_seconds, -90, 90)
    finally:
        driver.quit()
        proc.terminate()
        proc.wait(timeout=30)
    print(f"model {model['name']} ({model['resolution']} px), server torch threads {args.threads}")
    print("| change | n | change -> painted: median ms | p90 ms | max ms | server render ms (median) "
          "| change -> frame arrived ms (median) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, n, med, p90, mx, server, arrived in rows:
        print(f"| {label} | {n} | {med:.1f} | {p90:.1f} | {mx:.1f} | {server:.1f} | {arrived:.1f} |")
    fps = drag["frames"] / drag["seconds"]
    print(f"\ndrag: {drag['events']} input events in {drag['seconds']:.1f} s -> {drag['frames']} images painted "
          f"= {fps:.1f} frames/s (server dropped {drag['dropped']} stale states in the whole run)")


if __name__ == "__main__":
    from netbend.errors import run_script

    run_script(main)
