#ifndef TANDEM_COPENBLAS_SHIM_H
#define TANDEM_COPENBLAS_SHIM_H
#include <cblas.h>

/// Sets the number of threads OpenBLAS uses for the calls that follow.
static inline void tandem_openblas_set_threads(int n) { openblas_set_num_threads(n); }
#endif
