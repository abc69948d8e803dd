"""PyTorch anchor for bench/train.mjs: the same LLaMA-style model (RMSNorm, NeoX RoPE, GQA,
SwiGLU, tied head) and the same BD3-LM block-diffusion training step ([x_t ; x_0] with
duplicated positions, block-diffusion attention mask, weighted CE on the noisy half with the
[MASK] logit at -inf, AdamW, global-norm clipping). Prints one JSON line.

Run with Debian's /usr/bin/python3 and python3-torch; the caller sets OPENBLAS_CORETYPE."""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F

cfg = json.loads(sys.argv[1])
torch.set_num_threads(cfg.get("threads", 2))
torch.manual_seed(0)
V, d, nl = cfg["vocab"], cfg["d"], cfg["layers"]
H, Hkv, I = cfg["heads"], cfg["kv_heads"], cfg["inter"]
D = d // H
B, L, blk = cfg["batch"], cfg["seq"], cfg["block"]
T = 2 * L
mask_id = V - 1


def rms(x, w, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


class Layer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        lin = lambda o, i: torch.nn.Linear(i, o, bias=False)
        self.q, self.k, self.v, self.o = lin(H * D, d), lin(Hkv * D, d), lin(Hkv * D, d), lin(d, H * D)
        self.g, self.u, self.dn = lin(I, d), lin(I, d), lin(d, I)
        self.n1 = torch.nn.Parameter(torch.ones(d))
        self.n2 = torch.nn.Parameter(torch.ones(d))

    def forward(self, x, cos, sin, bias):
        h = rms(x, self.n1)
        q = self.q(h).view(B, T, H, D).transpose(1, 2)
        k = self.k(h).view(B, T, Hkv, D).transpose(1, 2)
        v = self.v(h).view(B, T, Hkv, D).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        k = k.repeat_interleave(H // Hkv, dim=1)
        v = v.repeat_interleave(H // Hkv, dim=1)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D) + bias, dim=-1) @ v
        x = x + self.o(att.transpose(1, 2).reshape(B, T, H * D))
        h = rms(x, self.n2)
        return x + self.dn(F.silu(self.g(h)) * self.u(h))


def rope(x, cos, sin):
    x1, x2 = x[..., : D // 2], x[..., D // 2 :]
    return x * cos + torch.cat([-x2, x1], dim=-1) * sin


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Parameter(torch.randn(V, d) * 0.02)
        self.layers = torch.nn.ModuleList([Layer() for _ in range(nl)])
        self.norm = torch.nn.Parameter(torch.ones(d))

    def forward(self, ids, cos, sin, bias, neg):
        x = self.emb[ids]
        for l in self.layers:
            x = l(x, cos, sin, bias)
        h = rms(x, self.norm)[:, :L]
        return h @ self.emb.t() + neg


pos = torch.cat([torch.arange(L), torch.arange(L)]).float()
inv = 10000.0 ** (-torch.arange(0, D // 2).float() * 2 / D)
ang = pos[:, None] * inv[None, :]
cos = torch.cat([ang.cos(), ang.cos()], -1)
sin = torch.cat([ang.sin(), ang.sin()], -1)
idx = torch.arange(T)
clean = idx >= L
blk_id = (idx % L) // blk
qc, kc = clean[:, None], clean[None, :]
qb, kb = blk_id[:, None], blk_id[None, :]
allowed = ((qb == kb) & (qc == kc)) | ((qb > kb) & kc & ~qc) | ((qb >= kb) & kc & qc)
bias = torch.zeros(T, T).masked_fill(~allowed, float("-inf"))
neg = torch.zeros(V)
neg[mask_id] = float("-inf")

model = Model()
opt = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.95), weight_decay=0.1)
g = torch.Generator().manual_seed(1)


def step():
    x0 = torch.randint(1, V - 1, (B, L), generator=g)
    t = 0.3 + 0.5 * torch.rand(B, L // blk, generator=g)
    p = t.repeat_interleave(blk, dim=1)
    m = torch.rand(B, L, generator=g) < p
    xt = torch.where(m, torch.full_like(x0, mask_id), x0)
    w = torch.where(m, 1 / p, torch.zeros_like(p)) / (B * L)
    ids = torch.cat([xt, x0], dim=1)
    logits = model(ids, cos, sin, bias, neg)
    ce = F.cross_entropy(logits.reshape(-1, V), x0.reshape(-1), reduction="none")
    loss = (ce * w.reshape(-1)).sum()
    opt.zero_grad(set_to_none=False)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return loss.item()


step()  # warm-up
t0 = time.perf_counter()
for _ in range(cfg["steps"]):
    step()
sec = (time.perf_counter() - t0) / cfg["steps"]

# Anchor matmul rate: 512x512x512 float32, best of 5.
a, b = torch.randn(512, 512), torch.randn(512, 512)
a @ b
times = []
for _ in range(5):
    t1 = time.perf_counter()
    for _ in range(10):
        a @ b
    times.append((time.perf_counter() - t1) / 10)
gflops = 2 * 512**3 / min(times) / 1e9
print(json.dumps({"tokens_per_s": B * L / sec, "step_s": sec, "matmul_gflops": gflops, "torch": torch.__version__,
                  "threads": torch.get_num_threads()}))
