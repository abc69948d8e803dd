"""numpy (bundled OpenBLAS) anchor for bench/kernels.mjs.

A line-oriented server, so the benchmark can alternate ours and numpy shape by shape (on a
shared machine both then see the same load): it prints one JSON line describing the BLAS
(library, version, the kernel OpenBLAS picked, threads), then for every JSON line read on
stdin ({name, M, N, K, ta, tb, reps, budget}) times C = op(A) @ op(B) in float32 (warm-up,
then best of at least `reps` runs and `budget` seconds, by the wall clock or, with "clock": "cpu",
by this process's CPU time) and prints {"name", "seconds"}.
Transposed operands are passed as transposed views, so OpenBLAS gets the trans flags
(no copy), exactly like our kernel. The parent sets OPENBLAS_NUM_THREADS and removes
OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE so OpenBLAS detects the CPU by itself.
"""

import ctypes
import glob
import json
import os
import sys
import time

import numpy as np


def blas_info():
    """Which BLAS numpy uses, and which kernel (core) OpenBLAS picked at load time."""
    info = {"numpy": np.__version__, "threads_env": os.environ.get("OPENBLAS_NUM_THREADS")}
    try:
        cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["name"] = cfg.get("name")
        info["version"] = cfg.get("version")
    except Exception as e:  # older numpy: no dict mode
        info["show_config_error"] = str(e)
    try:  # threadpoolctl is the standard way; use it where installed
        import threadpoolctl

        for lib in threadpoolctl.threadpool_info():
            if lib.get("internal_api") == "openblas":
                info.update(core=lib.get("architecture"), threads=lib.get("num_threads"), via="threadpoolctl")
                return info
    except ImportError:
        pass
    # Otherwise ask the bundled library directly (the symbols threadpoolctl itself calls).
    libdir = os.path.join(os.path.dirname(np.__file__), "..", "numpy.libs")
    for path in glob.glob(os.path.join(libdir, "*openblas*")):
        lib = ctypes.CDLL(path)
        for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""), ("openblas", "")):
            try:
                core = getattr(lib, f"{prefix}_get_corename{suffix}")
                conf = getattr(lib, f"{prefix}_get_config{suffix}")
                nthr = getattr(lib, f"{prefix}_get_num_threads{suffix}")
            except AttributeError:
                continue
            core.restype = conf.restype = ctypes.c_char_p
            nthr.restype = ctypes.c_int
            info.update(core=core().decode(), config=conf().decode(), threads=nthr(), via="ctypes")
            return info
    info["core"] = "unknown"
    return info


def time_shape(s, min_reps, budget_s, clock="wall"):
    """Best time of op(A) @ op(B); clock "cpu" reads this process's CPU time (one BLAS thread)."""
    now = time.process_time if clock == "cpu" else time.perf_counter
    rng = np.random.default_rng(s["M"] * 7919 + s["N"] * 31 + s["K"])
    M, N, K = s["M"], s["N"], s["K"]
    a = rng.uniform(-1, 1, (K, M) if s["ta"] else (M, K)).astype(np.float32)
    b = rng.uniform(-1, 1, (N, K) if s["tb"] else (K, N)).astype(np.float32)
    opa = a.T if s["ta"] else a
    opb = b.T if s["tb"] else b
    c = np.empty((M, N), dtype=np.float32)
    for _ in range(2):
        np.matmul(opa, opb, out=c)
    best, spent, reps = float("inf"), 0.0, 0
    while reps < min_reps or spent < budget_s:
        t0 = now()
        np.matmul(opa, opb, out=c)
        dt = now() - t0
        best, spent, reps = min(best, dt), spent + dt, reps + 1
    return best


def main():
    print(json.dumps(blas_info()), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        s = json.loads(line)
        t = time_shape(s, int(s.get("reps", 5)), float(s.get("budget", 0.3)), s.get("clock", "wall"))
        print(json.dumps({"name": s["name"], "seconds": t}), flush=True)


if __name__ == "__main__":
    main()
