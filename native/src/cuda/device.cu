#include <cuda_runtime.h>

#include "sd_cuda.h"

int sd_cuda_device_count(std::string* why, std::string* name) {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    if (why) *why = std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
    return 0;
  }
  if (n > 0 && name) {
    cudaDeviceProp p;
    if (cudaGetDeviceProperties(&p, 0) == cudaSuccess) *name = p.name;
  }
  return n;
}
