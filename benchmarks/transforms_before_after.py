"""Time flip-h, fractional translate, erode and dilate three ways, interleaved: the
versions at a git revision ("before"), the working tree ("after") and OpenCV per map.

    .venv/bin/python benchmarks/transforms_before_after.py [REV] [REPS] [THREADS]

REV defaults to 5a6b2b3^ (before the NumPy/shift kernels). The old modules are read with
``git show`` and run with registration switched off. The machine is shared: compare
columns of one run, not runs.
"""
import subprocess, sys, time, statistics, types, numpy as np, torch, cv2
rev = sys.argv[1] if len(sys.argv) > 1 else "5a6b2b3^"
reps = int(sys.argv[2]) if len(sys.argv) > 2 else 9
th = int(sys.argv[3]) if len(sys.argv) > 3 else 1
torch.set_num_threads(th); cv2.setNumThreads(th)
import netbend.transforms.registry as R
from netbend.transforms import get_transform
from netbend.transforms.morphology import footprint
def load(path):
    """The module at ``rev:path``, its transforms not registered (the names are taken)."""
    text = subprocess.run(["git", "show", f"{rev}:{path}"], capture_output=True, text=True, check=True).stdout
    orig = R.register_transform
    R.register_transform = lambda *a, **k: (lambda f: f)
    try:
        mod = types.ModuleType(path)
        exec(compile(text, f"{rev}:{path}", "exec"), mod.__dict__)
    finally:
        R.register_transform = orig
    return mod


old_aff = load("netbend/transforms/affine.py")
old_mor = load("netbend/transforms/morphology.py")
x = torch.randn(8,512,64,64, generator=torch.Generator().manual_seed(0))
a = x.numpy().reshape(-1,64,64)
def per_map(op):
    def f():
        out=np.empty_like(a)
        for i in range(a.shape[0]): op(a[i], out[i])
        return out
    return f
W = dict(flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
mt = np.float64([[1,0,6.4],[0,1,3.2]])
cases = [
  ("flip-h", "", old_aff.flip_h, lambda: get_transform("flip-h")(x), per_map(lambda m,d: cv2.flip(m,1,dst=d))),
  ("translate", "0.1 0.05", lambda t: old_aff.translate(t, px=0.1, py=0.05), lambda: get_transform("translate")(x, px=0.1, py=0.05), per_map(lambda m,d: cv2.warpAffine(m, mt, (64,64), dst=d, **W))),
]
for name, r in (("erode",2),("dilate",2),("dilate",5)):
    k = footprint(r).numpy().astype(np.uint8); cvop = getattr(cv2, name)
    cases.append((name, str(r), (lambda t, name=name, r=r: getattr(old_mor, name)(t, r=r)), (lambda name=name, r=r: get_transform(name)(x, r=r)), per_map(lambda m,d,k=k,cvop=cvop: cvop(m,k,dst=d))))
print(f"shape (8,512,64,64) float32, {th} thread(s), median of {reps} interleaved runs (ms); before = {rev}")
print(f"{'transform':<10} {'params':<9} {'before':>7} {'after':>7} {'opencv':>7} {'before/cv':>9} {'after/cv':>9}")
for name, p, old, new, cv in cases:
    fs = {"old": lambda old=old: old(x), "new": new, "cv": cv}
    ref = torch.as_tensor(np.asarray(fs["cv"]())).view(-1)
    for kk in ("old", "new"): assert (torch.as_tensor(np.asarray(fs[kk]())).reshape(-1) - ref).abs().max() < 1e-4
    ts = {kk: [] for kk in fs}
    for rep in range(reps):
        order = list(fs.items()); order = order if rep % 2 == 0 else order[::-1]
        for kk, f in order:
            t0 = time.perf_counter(); f(); ts[kk].append(time.perf_counter() - t0)
    md = {kk: statistics.median(v) * 1e3 for kk, v in ts.items()}
    print(f"{name:<10} {p:<9} {md['old']:>7.1f} {md['new']:>7.1f} {md['cv']:>7.1f} {md['old']/md['cv']:>9.2f} {md['new']/md['cv']:>9.2f}")
