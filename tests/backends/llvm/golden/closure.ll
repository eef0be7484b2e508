; no native kernels
