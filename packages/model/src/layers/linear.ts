// The forward Linear, out[M,N] = x[M,K]·Wᵀ (W stored [N,K], Hugging Face layout), over a float32
// weight or, for a model holding a 16-bit copy of its weights for inference (Model.useHalfWeights),
// over that copy: matmul_w16 gives the same bits reading half the bytes.
import type { Backend, HalfType, Tensor } from '@seed-diffusion/native';

export function linearFwd(
  b: Backend,
  x: Tensor,
  w: Tensor,
  out: Tensor,
  M: number,
  N: number,
  K: number,
  half: HalfType | undefined,
): void {
  if (w.dtype === 'u16') {
    if (!half) throw new Error('linearFwd: a 16-bit weight without its format (f16 or bf16)');
    b.matmulW16(x, w, out, M, N, K, false, true, half);
  } else {
    b.matmul(x, w, out, M, N, K, false, true);
  }
}
