"""Bend a transformer's hidden features by module path (a tiny GPT-style model, random weights).

Any ``nn.Module`` works: wrap it in ``ModuleModel`` with an example input, list its layers (token
layers are [N, T, D]: D features over T tokens), and bend them with an ordinary plan. Run:

    python examples/bend_transformer.py
"""
import torch
from torch import nn

from netbend.bending import bend, resolve_plan
from netbend.layers import ModuleModel, list_layers
from netbend.plan import Plan


class Block(nn.Module):
    def __init__(self, d: int = 32, heads: int = 4):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x):
        t = x.shape[1]
        mask = torch.triu(torch.ones(t, t, dtype=torch.bool), 1)  # causal
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class TinyGPT(nn.Module):
    def __init__(self, vocab: int = 64, block: int = 16, d: int = 32, layers: int = 2):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(block, d)
        self.h = nn.ModuleList(Block(d) for _ in range(layers))
        self.ln_f, self.lm_head = nn.LayerNorm(d), nn.Linear(d, vocab, bias=False)

    def forward(self, idx):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))  # [N, T, D]
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))  # logits [N, T, vocab]


def main() -> None:
    torch.manual_seed(0)
    gpt = TinyGPT().eval()
    tokens = torch.randint(0, 64, (2, 16))
    model = ModuleModel(gpt, example=lambda: (tokens[:1],), name="tiny-gpt")
    for info in list_layers(model):
        if info.path.startswith("h.1"):
            print(f"{info.path:<12} {info.layout}  {info.shape}  {info.channels} features")
    plan = Plan.from_dict({"transforms": [
        # a quarter of block 1's hidden features, amplified 4x
        {"layer": "h.1", "transform": "scalar-multiply", "params": [4], "features": "random", "feature-param": 0.25},
        # block 0's MLP output shifted 4 tokens later along the sequence (zero fill)
        {"layer": "h.0.mlp", "transform": "translate", "params": [0.25, 0]},
    ]})
    resolved = resolve_plan(plan, model, seed=0)
    with torch.no_grad():
        plain = gpt(tokens)
        with bend(gpt, resolved):
            bent = gpt(tokens)
    print("bent features of h.1:", list(resolved.bends[0].indices))
    print("next-token argmax, plain:", plain[0].argmax(-1).tolist())
    print("next-token argmax, bent: ", bent[0].argmax(-1).tolist())


if __name__ == "__main__":
    main()
