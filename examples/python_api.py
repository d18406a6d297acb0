# Bend the built-in face model with the Figure 3 plan, 4 random draws, and save the images.
# Usage: python examples/python_api.py [OUT_DIR]
import sys
from pathlib import Path

from netbend import bend, load_model, load_plan, resolve_plan
from netbend.media import save_png, to_uint8

out = Path(sys.argv[1] if len(sys.argv) > 1 else "out/python_api")
model = load_model()                     # the built-in model; or load_model("stylegan2-ffhq-config-f.pt")
plan = load_plan("fig3_stochastic")      # a shipped example plan by name, or the path of your own
z = model.latents_from_seeds([0, 1, 2, 3])              # seed s -> RandomState(s).randn(z_dim)
for variation in range(4):                              # stochastic chaining
    resolved = resolve_plan(plan, model, seed=0, variation=variation)
    with bend(model.module, resolved):                  # hooks installed ...
        images = model.synthesize(z=z, truncation=0.7)  # [4, 3, H, W], floats in about [-1, 1]
                                                        # ... and removed here
    for seed, image in zip([0, 1, 2, 3], to_uint8(images)):  # [H, W, 3] uint8 each
        save_png(out / f"seed{seed:04d}_var{variation:02d}.png", image)
print(f"wrote {4 * 4} images to {out}/")
