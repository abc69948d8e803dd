// CUDA side of the addon (compiled only when nvcc is present). The op kernels arrive
// with the CUDA issue; the foundation provides device discovery so the loader can
// choose a backend without crashing on machines with no GPU or driver.
#pragma once
#include <string>

// Number of usable CUDA devices (0 on any error, with the reason in *why); the first
// device's name in *name. Never throws; links against the static cudart only.
int sd_cuda_device_count(std::string* why, std::string* name);
