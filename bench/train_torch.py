"""PyTorch anchor for bench/train.mjs: the same LLaMA-style model (RMSNorm, NeoX RoPE, GQA,
SwiGLU, tied head) and the same BD3-LM block-diffusion training step ([x_t ; x_0] with
duplicated positions, block-diffusion attention mask, weighted CE on the noisy half with the
[MASK] logit at -inf, AdamW, global-norm clipping), in the best formulation torch 1.13 allows:
fused QKV and gate/up projections (one GEMM each, as our engine does), grouped-query attention
without materialising repeated K/V (the query heads of a group are stacked against their one K/V
head), and the attention bias, RoPE tables and [MASK] row built once.

Protocol (so bench/train.mjs can interleave it with its own steps): prints one JSON line when ready
(version, threads, BLAS and its core, 512^3 matmul rate), then for each line "step" on stdin runs
one timed training step and prints {"step_s": ...}; exits on "quit" or end of input.

Run with Debian's /usr/bin/python3 and python3-torch; the caller sets OPENBLAS_CORETYPE."""
import ctypes
import json
import math
import os
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
G = H // Hkv
B, L, blk = cfg["batch"], cfg["seq"], cfg["block"]
T = 2 * L
mask_id = V - 1


def blas():
    """Which BLAS torch's libblas.so.3 is, and for OpenBLAS the core it runs."""
    try:
        lib = ctypes.CDLL("libblas.so.3")
    except OSError as e:
        return {"blas": f"unknown ({e})", "core": None}
    try:
        name, conf = lib.openblas_get_corename, lib.openblas_get_config
        name.restype = conf.restype = ctypes.c_char_p
        return {"blas": conf().decode(), "core": name().decode()}
    except AttributeError:
        path = os.path.realpath("/etc/alternatives/libblas.so.3-x86_64-linux-gnu")
        return {"blas": f"not OpenBLAS: {path}", "core": None}


def rms(x, w, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, cos, sin):
    x1, x2 = x[..., : D // 2], x[..., D // 2 :]
    return x * cos + torch.cat([-x2, x1], dim=-1) * sin


class Layer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        lin = lambda o, i: torch.nn.Linear(i, o, bias=False)
        self.qkv = lin((H + 2 * Hkv) * D, d)
        self.o = lin(d, H * D)
        self.gu = lin(2 * I, d)
        self.dn = lin(d, I)
        self.n1 = torch.nn.Parameter(torch.ones(d))
        self.n2 = torch.nn.Parameter(torch.ones(d))

    def forward(self, x, cos, sin, bias):
        h = rms(x, self.n1)
        q, k, v = self.qkv(h).split([H * D, Hkv * D, Hkv * D], dim=-1)
        q = rope(q.view(B, T, H, D).transpose(1, 2), cos, sin)  # B, H, T, D
        k = rope(k.view(B, T, Hkv, D).transpose(1, 2), cos, sin)  # B, Hkv, T, D
        v = v.view(B, T, Hkv, D).transpose(1, 2)
        # The G query heads of a group share one K/V head: stack them along rows, no repeat of K/V.
        q = q.reshape(B, Hkv, G * T, D)
        s = torch.matmul(q, k.transpose(-1, -2)).view(B, Hkv, G, T, T) * (1 / math.sqrt(D)) + bias
        att = torch.matmul(torch.softmax(s, dim=-1).view(B, Hkv, G * T, T), v)  # B, Hkv, G*T, D
        x = x + self.o(att.view(B, H, T, D).transpose(1, 2).reshape(B, T, H * D))
        g, u = self.gu(rms(x, self.n2)).chunk(2, dim=-1)
        return x + self.dn(F.silu(g) * u)


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


# Built once: RoPE tables for the duplicated positions, the block-diffusion bias, the [MASK] row.
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
gen = torch.Generator().manual_seed(1)
full_mask = torch.full((B, L), mask_id, dtype=torch.long)


def step():
    x0 = torch.randint(1, V - 1, (B, L), generator=gen)
    t = 0.3 + 0.5 * torch.rand(B, L // blk, generator=gen)
    p = t.repeat_interleave(blk, dim=1)
    m = torch.rand(B, L, generator=gen) < p
    xt = torch.where(m, full_mask, x0)
    w = torch.where(m, 1 / p, torch.zeros_like(p)) / (B * L)
    ids = torch.cat([xt, x0], dim=1)
    logits = model(ids, cos, sin, bias, neg)
    ce = F.cross_entropy(logits.reshape(-1, V), x0.reshape(-1), reduction="none")
    loss = (ce * w.reshape(-1)).sum()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return loss.item()


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

step()  # warm-up
print(
    json.dumps(
        {
            "ready": True,
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "matmul_gflops": gflops,
            "coretype_env": os.environ.get("OPENBLAS_CORETYPE"),
            **blas(),
        }
    ),
    flush=True,
)
for line in sys.stdin:
    if line.strip() != "step":
        break
    t0 = time.perf_counter()
    loss = step()
    print(json.dumps({"step_s": time.perf_counter() - t0, "loss": loss}), flush=True)
