"""`netbend project`: find the latents with which a model draws your images (W or W+)."""
from __future__ import annotations

import click
from tqdm import tqdm

from netbend.cli.common import device_option, model_option, overwrite_option, pick_device
from netbend.cli.model_options import model_setup_options, setup_model
from netbend.errors import NetbendError


@click.command("project")
@click.argument("images", nargs=-1, required=True, type=click.Path(dir_okay=False))
@model_option
@click.option("--space", type=click.Choice(["w", "w+"]), default="w+", show_default=True,
              help="One w per image, or w+ (one w per synthesis input).")
@click.option("--steps", default=300, show_default=True, type=click.IntRange(1), help="Optimisation steps.")
@click.option("--loss", "loss_text", default=None,
              help="Weighted image distances (default l1=1,msssim=0.5): l1, l2, msssim (1 - MS-SSIM), "
                   "disc (the checkpoint's discriminator), lpips (needs --perceptual).")
@click.option("--perceptual", "vgg_path", type=click.Path(dir_okay=False),
              help="VGG16 weights (.safetensors, see docs/projection.md); adds lpips=1 unless --loss names it.")
@click.option("--lr", default=0.1, show_default=True, type=click.FloatRange(0, min_open=True),
              help="Peak Adam learning rate.")
@click.option("--noise-regularize", default=1e5, show_default=True, type=click.FloatRange(0),
              help="Weight of the noise maps' autocorrelation penalty.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the initial noise maps and latent noise.")
@click.option("--no-crop", is_flag=True,
              help="Resize the whole image (squashing it) instead of centre-cropping a square.")
@click.option("--batch-size", default=8, show_default=True, type=click.IntRange(1), help="Images optimised together.")
@device_option
@click.option("--video", is_flag=True, help="Also write NAME_optimisation.mp4: target | projection as it is optimised "
              "(needs imageio-ffmpeg: pip install 'netbend[video]').")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="out/project", show_default=True)
@overwrite_option
@click.option("--dry-run", is_flag=True, help="Read and check every input, print what would be written, write nothing.")
@model_setup_options
def project_cmd(images, model_path, space, steps, loss_text, vgg_path, lr, noise_regularize, seed, no_crop,
                batch_size, device, video, out_dir, overwrite, dry_run, class_index, translate, rotate) -> None:
    """Project images into a StyleGAN2's W or W+ space.

    Each PNG/JPEG (any size; grey, 16-bit, alpha or palette images are converted) is
    centre-cropped to a square and resized to the model's resolution, then w (or w+) and the noise
    maps are optimised until the model draws it. Faces should be aligned the way the model's
    training faces were; netbend does not align them. Per image NAME, --out gets NAME_w.npy,
    NAME_noise.safetensors, NAME_projected.png and NAME_compare.png (target | projection |
    difference x4), plus project.json (settings, loss, PSNR, MS-SSIM, time); --video adds
    NAME_optimisation.mp4. A folder holding an earlier run's outputs is replaced only with
    --overwrite; one holding other files is refused. Re-render or bend a
    projection with: netbend generate --w NAME_w.npy --noise-file NAME_noise.safetensors
    [--config plan.yaml].

    \b
    Examples:
      netbend project examples/images/face.png --steps 100 --out out/project
      netbend project examples/images/face.png --space w --loss l2=1,msssim=0.1 --out out/project_w
    """
    from netbend.models import load_model
    from netbend.outdir import prepare_out_dir
    from netbend.projection import DEFAULT_LOSS, ProjectionConfig, check_projectable, parse_loss, read_target
    from netbend.projection.run import project_files

    loss = parse_loss(loss_text) if loss_text else dict(DEFAULT_LOSS)
    if vgg_path and "lpips" not in loss:
        loss["lpips"] = 1.0
    config = ProjectionConfig(space=space, steps=steps, lr=lr, noise_regularize=noise_regularize, loss=loss,
                              seed=seed)
    model = load_model(model_path, device=pick_device(device))
    check_projectable(model)
    model_settings = setup_model(model, class_index, translate, rotate)
    networks = _networks(model_path, config, vgg_path, model.device)
    targets = [read_target(p, model.resolution, crop=not no_crop) for p in images]
    for t in targets:
        if t.notes:
            click.echo(f"netbend: note: {t.path}: {'; '.join(t.notes)}", err=True)
    if video:
        from netbend.video import require_ffmpeg

        require_ffmpeg()
    out = prepare_out_dir(out_dir, overwrite=overwrite, command="project", dry_run=dry_run)
    if dry_run:
        click.echo(f"would project {len(targets)} image(s) into {model.name} ({space}, {steps} steps, "
                   f"loss {config.loss}) and write to {out}/: "
                   + ", ".join(f"{t.name}_*" for t in targets) + ", project.json")
        return
    settings = {"model": str(model_path or "default"), "crop": not no_crop, "batch_size": batch_size,
                **model_settings}
    bar = tqdm(total=steps * len(targets), unit="step", desc="project", disable=None)

    def progress(report) -> None:
        bar.update(len(report.loss))
        bar.set_postfix(loss=f"{float(report.loss.mean()):.4f}", psnr=f"{float(report.psnr.mean()):.2f}dB")

    summary = project_files(model, targets, out, config, batch_size=batch_size, networks=networks,
                            settings=settings, callback=progress, video=video)
    bar.close()
    stopped = {e["stopped"] for e in summary["images"] if e["stopped"]}
    for message in stopped:
        click.echo(f"netbend: warning: {message}", err=True)
    mean_psnr = sum(e["psnr_db"] for e in summary["images"]) / len(summary["images"])
    click.echo(f"projected {len(targets)} image(s), mean PSNR {mean_psnr:.2f} dB; wrote {out}/project.json")


def _networks(model_path, config, vgg_path, device) -> dict:
    """The feature networks the loss names: the checkpoint's discriminator, a VGG16 file."""
    networks = {}
    if "disc" in config.loss:
        if model_path is None:
            raise NetbendError("--loss disc: the built-in model has no discriminator (use a training checkpoint)")
        from netbend.projection.discriminator import load_discriminator

        networks["disc"] = load_discriminator(model_path).to(device)
    if "lpips" in config.loss:
        if not vgg_path:
            raise NetbendError("--loss lpips needs --perceptual vgg16.safetensors")
        from netbend.projection.vgg import load_vgg16

        networks["lpips"] = load_vgg16(vgg_path).to(device)
    return networks


COMMANDS = [project_cmd]
