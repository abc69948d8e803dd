#!/usr/bin/env python3
"""PyTorch side of the CUDA device check: the same block-decoding forward as
device-check.ts (embedding, per layer RMSNorm -> fused qkv -> RoPE -> KV-cache write ->
SDPA over cache + block -> o-proj + residual -> RMSNorm -> fused gate|up -> SwiGLU -> down +
residual, final norm, LM head, greedy ids) in bf16 eager PyTorch on the same card.

  * 8B: LLaDA-8B shapes with random bf16 weights (timing only: values do not change it).
  * small: the weights, caches and token ids device-check.ts dumped (--small DIR), timed,
    and its logits compared with the CUDA backend's: against a float32-activation forward
    over the same bf16 weights (the accurate reference), and against the plain bf16 one.

Prints one JSON object as its LAST line:
  {"step_ms_8b", "step_ms_small", "max_rel_err_small", "rel_l2_err_small",
   "argmax_agreement_small", "torch_bf16_vs_f32_rel_l2_small", "torch", "card"}
"""
import argparse
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

DEV = "cuda"
LLADA_8B = dict(layers=32, d=4096, heads=32, kvHeads=32, ffn=12288, vocab=126464, block=32, cache=1024, theta=500000.0, eps=1e-5)


def bf16_from_bits(path, shape):
    bits = np.fromfile(path, dtype=np.uint16).astype(np.int32) << 16
    return torch.from_numpy(bits.view(np.float32).reshape(shape)).to(DEV).to(torch.bfloat16)


class Step:
    """Weights and caches of one model; forward(act_dtype) returns logits [T, V] (float32)."""

    def __init__(self, s, weights=None):
        self.s = s
        d, H, Hkv, F_, V = s["d"], s["heads"], s["kvHeads"], s["ffn"], s["vocab"]
        self.hd = d // H
        self.T = s["block"]
        self.maxLen = s["cache"] + self.T
        qkvN = (H + 2 * Hkv) * self.hd
        g = torch.Generator(device=DEV).manual_seed(0)

        def rnd(*shape, scale):
            return ((torch.rand(*shape, device=DEV, generator=g, dtype=torch.float32) * 2 - 1) * scale).to(torch.bfloat16)

        self.layers = []
        for l in range(s["layers"]):
            if weights:
                w = lambda n, shape: bf16_from_bits(os.path.join(weights, f"l{l}.{n}.bf16"), shape)  # noqa: E731
                f = lambda n: torch.from_numpy(np.fromfile(os.path.join(weights, f"l{l}.{n}.f32"), dtype=np.float32)).to(DEV)  # noqa: E731
                L = dict(wqkv=w("wqkv", (qkvN, d)), wo=w("wo", (d, d)), wgu=w("wgu", (2 * F_, d)), wd=w("wd", (d, F_)),
                         n1=f("n1"), n2=f("n2"), kc=w("kc", (self.maxLen, Hkv, self.hd)), vc=w("vc", (self.maxLen, Hkv, self.hd)))
            else:
                u = lambda fan: math.sqrt(3 / fan)  # noqa: E731
                L = dict(wqkv=rnd(qkvN, d, scale=u(d)), wo=rnd(d, d, scale=u(d)), wgu=rnd(2 * F_, d, scale=u(d)), wd=rnd(d, F_, scale=u(F_)),
                         n1=torch.ones(d, device=DEV), n2=torch.ones(d, device=DEV),
                         kc=rnd(self.maxLen, Hkv, self.hd, scale=1), vc=rnd(self.maxLen, Hkv, self.hd, scale=1))
            self.layers.append(L)
        if weights:
            self.emb = bf16_from_bits(os.path.join(weights, "emb.bf16"), (V, d))
            self.head = bf16_from_bits(os.path.join(weights, "head.bf16"), (V, d))
            self.normf = torch.from_numpy(np.fromfile(os.path.join(weights, "normf.f32"), dtype=np.float32)).to(DEV)
            self.ids = torch.from_numpy(np.fromfile(os.path.join(weights, "ids.i32"), dtype=np.int32)).to(DEV).long()
        else:
            self.emb, self.head = rnd(V, d, scale=1), rnd(V, d, scale=math.sqrt(3 / d))
            self.normf = torch.ones(d, device=DEV)
            self.ids = (torch.arange(self.T, device=DEV) * 7919 + 13) % V
        pos = torch.arange(s["cache"], self.maxLen, device=DEV, dtype=torch.float64)
        freq = s["theta"] ** (-2.0 * torch.arange(self.hd // 2, device=DEV, dtype=torch.float64) / self.hd)
        ang = pos[:, None] * freq[None]
        self.cos, self.sin = torch.cos(ang).float()[:, None, :], torch.sin(ang).float()[:, None, :]

    def rope(self, x):  # x [T, heads, hd], NeoX half layout
        h = self.hd // 2
        a, b = x[..., :h], x[..., h:]
        c, s = self.cos.to(x.dtype), self.sin.to(x.dtype)
        return torch.cat([a * c - b * s, a * s + b * c], -1)

    @torch.no_grad()
    def forward(self, act=torch.bfloat16):
        s, T, hd = self.s, self.T, self.hd
        H, Hkv, eps, cache = s["heads"], s["kvHeads"], s["eps"], s["cache"]
        lin = lambda x, w: F.linear(x.to(act), w.to(act))  # noqa: E731

        def norm(x, w):
            xf = x.float()
            return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps) * w).to(act)

        x = self.emb[self.ids].float()  # the residual stream stays float32, as on the CUDA side
        for L in self.layers:
            qkv = lin(norm(x, L["n1"]), L["wqkv"])
            q = self.rope(qkv[:, : H * hd].view(T, H, hd))
            k = self.rope(qkv[:, H * hd : (H + Hkv) * hd].view(T, Hkv, hd))
            v = qkv[:, (H + Hkv) * hd :].view(T, Hkv, hd)
            L["kc"][cache:] = k.to(torch.bfloat16)
            L["vc"][cache:] = v.to(torch.bfloat16)
            kk, vv = L["kc"].to(act).transpose(0, 1), L["vc"].to(act).transpose(0, 1)
            o = F.scaled_dot_product_attention(q.transpose(0, 1), kk, vv, enable_gqa=H != Hkv)
            x = x + lin(o.transpose(0, 1).reshape(T, H * hd), L["wo"]).float()
            gu = lin(norm(x, L["n2"]), L["wgu"])
            g, u = gu.chunk(2, -1)
            x = x + lin(F.silu(g) * u, L["wd"]).float()
        return lin(norm(x, self.normf), self.head).float()


def time_ms(fn, warm=3, reps=10):
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        ts.append(a.elapsed_time(b))
    return float(np.median(ts))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", required=True, help="folder device-check.ts dumped the small model into")
    a = ap.parse_args()
    out = {"torch": torch.__version__, "card": torch.cuda.get_device_name()}

    shape = json.load(open(os.path.join(a.small, "shape.json")))
    small = Step(shape, weights=a.small)
    ours = torch.from_numpy(np.fromfile(os.path.join(a.small, "logits.f32"), dtype=np.float32)).to(DEV).view(small.T, -1)
    ref32 = small.forward(torch.float32)
    ref16 = small.forward(torch.bfloat16)
    out["max_rel_err_small"] = float((ours - ref32).abs().max() / ref32.abs().max())
    out["rel_l2_err_small"] = float((ours - ref32).norm() / ref32.norm())
    out["argmax_agreement_small"] = float((ours.argmax(-1) == ref32.argmax(-1)).float().mean())
    out["torch_bf16_vs_f32_rel_l2_small"] = float((ref16 - ref32).norm() / ref32.norm())
    out["step_ms_small"] = time_ms(lambda: small.forward().argmax(-1), reps=20)
    print(f"small: rel_l2 {out['rel_l2_err_small']:.2e} max_rel {out['max_rel_err_small']:.2e} torch {out['step_ms_small']:.3f} ms", flush=True)
    del small, ref32, ref16
    torch.cuda.empty_cache()

    big = Step(LLADA_8B)
    out["step_ms_8b"] = time_ms(lambda: torch.softmax(big.forward(), -1).max(-1))
    print(f"8b: torch eager bf16 {out['step_ms_8b']:.3f} ms", flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
