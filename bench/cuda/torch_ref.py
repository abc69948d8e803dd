#!/usr/bin/env python3
"""Independent PyTorch (float64) references for the CUDA parity cases.

device-check.ts writes one folder per case (case.json + raw little-endian .bin arrays:
inputs `in.*` and the GPU's outputs `out.*`); this script recomputes every output from the
inputs with the rules of include/sd_ops.h and prints, as its LAST line, one JSON object
{"results": [{op, label, output, err, tol, ok}, ...]} with err = max |gpu - ref| / max(1, |ref|).

Usage: python3 torch_ref.py CASES_DIR
"""
import json
import math
import os
import sys

import numpy as np
import torch

DEV = "cuda" if torch.cuda.is_available() else "cpu"
F64 = torch.float64


def load(d, meta, key):
    a = meta["arrays"][key]
    dt = np.int32 if a["dtype"] == "int32" else np.float32
    return np.fromfile(os.path.join(d, a["file"]), dtype=dt, count=a["length"])


def t64(x):
    return torch.from_numpy(np.asarray(x, dtype=np.float64)).to(DEV)


def key_visible(p, i, j):
    """Mask rule of sd_ops.h for query row i and key j (vectorised over j)."""
    Tq, Tk, mask = p["Tq"], p["Tk"], p["mask"]
    qoff = p.get("qOffset") or 0
    qi = qoff + i
    if mask == "bidir":
        return torch.ones_like(j, dtype=torch.bool)
    if mask == "causal":
        return j <= qi
    if mask == "block_causal":
        blk, org = p["block"], p.get("origin") or 0
        bq = 0 if qi < org else 1 + (qi - org) // blk
        bj = torch.where(j < org, torch.zeros_like(j), 1 + torch.div(j - org, blk, rounding_mode="floor"))
        return bj <= bq
    if mask == "block_diff":
        L, blk = Tq // 2, p["block"]
        bi = (i % L) // blk
        bj = torch.div(j % L, blk, rounding_mode="floor")
        jn = j < L
        if i < L:  # noisy: own noisy block, clean blocks < b
            return (jn & (bj == bi)) | (~jn & (bj < bi))
        return ~jn & (bj <= bi)
    return j < qoff + Tq  # prefix


def mask_matrix(p):
    j = torch.arange(p["Tk"], device=DEV)
    return torch.stack([key_visible(p, i, j) for i in range(p["Tq"])])  # [Tq, Tk]


def attention(p, q, k, v):
    Tq, Tk, Hq, Hkv, D = p["Tq"], p["Tk"], p["Hq"], p["Hkv"], p["D"]
    scale = p.get("scale") or 1 / math.sqrt(D)
    q = q.view(Tq, Hq, D).permute(1, 0, 2)
    k = k.view(Tk, Hkv, D).permute(1, 0, 2).repeat_interleave(Hq // Hkv, 0)
    v = v.view(Tk, Hkv, D).permute(1, 0, 2).repeat_interleave(Hq // Hkv, 0)
    s = q @ k.transpose(1, 2) * scale
    m = mask_matrix(p)
    s = s.masked_fill(~m, -math.inf)
    lse = torch.logsumexp(s, -1)  # [Hq, Tq]; -inf for rows that see nothing
    pr = torch.where(m.any(-1)[None, :, None], torch.softmax(s, -1), torch.zeros_like(s))
    pr = torch.nan_to_num(pr)
    out = (pr @ v).permute(1, 0, 2).reshape(-1)
    return out, lse.reshape(-1)


def decode_rows(p, logits, uniforms):
    N, V = p["N"], p["V"]
    x = logits.reshape(N, V).astype(np.float64)
    T = p.get("temperature") or 0
    invT = 1 / T if T > 0 else 1.0
    tok, prob, ent, mar = [], [], [], []
    for r in range(N):
        z = x[r] * invT
        for key in ("maskId", "banId"):
            if p.get(key) is not None and p[key] >= 0:
                z[p[key]] = -np.inf
        best = int(np.argmax(z))
        m = z[best]
        finite = int(np.isfinite(z).sum())
        k = p.get("topK") or 0
        if 0 < k < finite:
            kth = np.sort(z)[::-1][k - 1]
            z = np.where(z < kth, -np.inf, z)
        e = np.exp(z - m)
        total = e.sum()
        tp = p.get("topP") or 1
        if tp < 1:
            idx = sorted(np.nonzero(e > 0)[0], key=lambda a: (-e[a], a))
            cum, keep = 0.0, len(idx)
            for n_, a in enumerate(idx):
                cum += e[a]
                if cum >= tp * total:
                    keep = n_ + 1
                    break
            mask = np.zeros_like(e, dtype=bool)
            mask[idx[:keep]] = True
            e = np.where(mask, e, 0.0)
            total = e.sum()
        t = best
        if uniforms is not None:
            c = np.cumsum(e)
            hit = np.nonzero((c > uniforms[r] * total) & (e > 0))[0]
            t = int(hit[0]) if len(hit) else int(np.nonzero(e > 0)[0][-1])
        sec = np.max(np.where(np.arange(V) == best, 0, e))
        kept = e > 0
        tok.append(t)
        prob.append(e[t] / total)
        ent.append(math.log(total) - (e[kept] * (z[kept] - m)).sum() / total)
        mar.append((e[best] - sec) / total)
    return {"tok": np.array(tok), "prob": np.array(prob), "entropy": np.array(ent), "margin": np.array(mar)}


def reference(op, p, I):
    """Expected outputs (float64 tensors or numpy arrays) of one case from its inputs I."""
    if op == "matmul":
        M, N, K = p["M"], p["N"], p["K"]
        A = I["A"].view(K, M).T if p["transA"] else I["A"].view(M, K)
        B = I["B"].view(N, K).T if p["transB"] else I["B"].view(K, N)
        return {"C": (p["alpha"] * (A @ B) + p["beta"] * I["C"].view(M, N)).reshape(-1)}
    if op == "add":
        return {"out": I["a"] + I["b"]}
    if op == "scale":
        return {"x": I["x"] * p["s"]}
    if op == "axpy":
        return {"y": I["y"] + p["a"] * I["x"]}
    if op == "sumsq":
        return {"value": (I["x"] ** 2).sum().reshape(1)}
    if op == "add_bias":
        c = I["b"].numel()
        return {"y": (I["y"].view(-1, c) + I["b"]).reshape(-1)}
    if op == "bias_grad":
        c = I["db"].numel()
        return {"db": I["db"] + I["dy"].view(-1, c).sum(0)}
    if op == "embedding_fwd":
        n = I["ids"].numel()
        d = I["out"].numel() // n
        return {"out": I["table"].view(-1, d)[I["ids"].long()].reshape(-1)}
    if op == "embedding_bwd":
        n = I["ids"].numel()
        d = I["dout"].numel() // n
        dt = I["dtable"].view(-1, d).clone()
        dt.index_add_(0, I["ids"].long(), I["dout"].view(n, d))
        return {"dtable": dt.reshape(-1)}
    if op == "rmsnorm_fwd":
        rows = I["rstd"].numel()
        x = I["x"].view(rows, -1)
        rstd = 1 / torch.sqrt((x * x).mean(1) + p["eps"])
        return {"y": (x * rstd[:, None] * I["w"]).reshape(-1), "rstd": rstd}
    if op == "rmsnorm_bwd":
        rows = I["rstd"].numel()
        x, dy, s = I["x"].view(rows, -1), I["dy"].view(rows, -1), I["rstd"][:, None]
        g = dy * I["w"]
        dim = x.shape[1]
        dx = I["dx"].view(rows, -1) + s * g - s**3 / dim * x * (g * x).sum(1, keepdim=True)
        dw = I["dw"] + (dy * x * s).sum(0)
        return {"dx": dx.reshape(-1), "dw": dw}
    if op == "rope":
        n, H, hd, rot = p["n"], p["heads"], p["headDim"], p["rotDim"]
        x = I["x"].view(n, H, hd).clone()
        half = rot // 2
        freq = p["theta"] ** (-2.0 * torch.arange(half, device=DEV, dtype=F64) / rot)
        ang = I["pos"][:, None] * freq[None]
        c, s = torch.cos(ang)[:, None], torch.sin(ang)[:, None] * (-1 if p["inverse"] else 1)
        ia = torch.arange(half, device=DEV) * 2 if p["interleaved"] else torch.arange(half, device=DEV)
        ib = ia + 1 if p["interleaved"] else ia + half
        a, b = x[:, :, ia].clone(), x[:, :, ib].clone()
        x[:, :, ia] = a * c - b * s
        x[:, :, ib] = a * s + b * c
        return {"x": x.reshape(-1)}
    if op == "attention_fwd":
        out, lse = attention(p, I["q"], I["k"], I["v"])
        return {"out": out, "lse": lse}
    if op == "attention_bwd":
        q, k, v = (I[n].clone().requires_grad_(True) for n in ("q", "k", "v"))
        out, _ = attention(p, q, k, v)
        (out * I["dout"]).sum().backward()
        return {"dq": I["dq"] + q.grad, "dk": I["dk"] + k.grad, "dv": I["dv"] + v.grad}
    if op == "swiglu_fwd":
        g = I["gate"]
        return {"out": g * torch.sigmoid(g) * I["up"]}
    if op == "swiglu_bwd":
        g, u, d = I["gate"], I["up"], I["dout"]
        s = torch.sigmoid(g)
        return {"dgate": I["dgate"] + d * u * (s + g * s * (1 - s)), "dup": I["dup"] + d * g * s}
    if op == "xent":
        N = I["targets"].numel()
        x = I["logits"].view(N, -1).clone()
        mid = p["maskId"]
        if mid is not None and mid >= 0:
            x[:, mid] = -math.inf
        lse = torch.logsumexp(x, 1)
        t = I["targets"].long()
        res = {"loss": lse - x[torch.arange(N), t]}
        if "dlogits" in I:
            g = (I["weights"] * p["gradScale"])[:, None]
            d = g * torch.exp(x - lse[:, None])
            d[torch.arange(N), t] -= g[:, 0]
            d = torch.nan_to_num(d)
            res["dlogits"] = d.reshape(-1)
        return res
    if op == "adamw":
        g = I["grad"] * p["gradScale"]
        m = p["beta1"] * I["m"] + (1 - p["beta1"]) * g
        v = p["beta2"] * I["v"] + (1 - p["beta2"]) * g * g
        c1, c2 = 1 / (1 - p["beta1"] ** p["step"]), 1 / (1 - p["beta2"] ** p["step"])
        par = I["param"] - p["lr"] * p["weightDecay"] * I["param"] - p["lr"] * (m * c1) / (torch.sqrt(v * c2) + p["eps"])
        return {"param": par, "m": m, "v": v}
    if op == "kv_append":
        c = I["cache"].view(p["maxLen"], p["row"]).clone()
        c[p["len"] : p["len"] + p["T"]] = I["src"].view(p["T"], p["row"])
        return {"cache": c.reshape(-1)}
    if op == "decode_rows":
        u = I["uniforms"].cpu().numpy() if "uniforms" in I else None
        return decode_rows(p, I["logits"].cpu().numpy(), u)
    if op == "gemm_bf16":
        M, N, K = p["M"], p["N"], p["K"]
        return {"C": (I["A"].view(M, K) @ I["W"].view(N, K).T + p["beta"] * I["C"].view(M, N)).reshape(-1)}
    raise KeyError(op)


TOL = {"gemm_bf16": 1e-4, "decode_rows.tok": 0.0}


def err(got, want):
    got = np.asarray(got, dtype=np.float64).reshape(-1)
    want = np.asarray(want, dtype=np.float64).reshape(-1)
    if got.shape != want.shape:
        return math.inf
    both_inf = np.isinf(got) & np.isinf(want) & (np.sign(got) == np.sign(want))
    d = np.where(both_inf, 0.0, np.abs(got - want) / np.maximum(1.0, np.abs(want)))
    d = np.where(np.isnan(d), np.inf, d)
    return float(d.max()) if d.size else 0.0


def main():
    root = sys.argv[1]
    results = []
    for name in sorted(os.listdir(root)):
        d = os.path.join(root, name)
        meta = json.load(open(os.path.join(d, "case.json")))
        op, p = meta["op"], meta["params"]
        I = {k[3:]: t64(load(d, meta, k)) for k in meta["arrays"] if k.startswith("in.")}
        O = {k[4:]: load(d, meta, k) for k in meta["arrays"] if k.startswith("out.")}
        try:
            want = reference(op, p, I)
        except Exception as e:  # a reference that cannot run is a failure, never a pass
            results.append({"op": op, "label": meta["label"], "output": "*", "err": math.inf, "tol": 0, "ok": False, "error": repr(e)})
            continue
        for k, g in O.items():
            w = want[k]
            w = w.detach().cpu().numpy() if torch.is_tensor(w) else w
            tol = TOL.get(f"{op}.{k}", TOL.get(op, 1e-4))
            if op == "gemm_bf16" and p.get("cDtype") == 1:
                tol = 8e-3
            if op == "decode_rows" and k != "tok":
                tol = 1e-4
            e = err(g, w)
            results.append({"op": op, "label": meta["label"], "output": k, "err": e, "tol": tol, "ok": e <= tol})
    bad = [r for r in results if not r["ok"]]
    for r in results:
        print(f"{'ok  ' if r['ok'] else 'BAD '} torch {r['op']} [{r['label']}] {r['output']} err {r['err']:.2e} tol {r['tol']}")
    print(f"torch parity: {len(results) - len(bad)}/{len(results)} outputs within tolerance", file=sys.stderr)
    print(json.dumps({"results": results}))


if __name__ == "__main__":
    main()
