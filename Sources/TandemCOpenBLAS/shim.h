#ifndef TANDEM_COPENBLAS_SHIM_H
#define TANDEM_COPENBLAS_SHIM_H
#include <cblas.h>

/// Sets the number of threads OpenBLAS uses for the calls that follow.
static inline void tandem_openblas_set_threads(int n) { openblas_set_num_threads(n); }

/// The library's build configuration, as OpenBLAS prints it ("OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen …").
static inline const char *tandem_openblas_config(void) { return openblas_get_config(); }

/// The name of the core whose kernels OpenBLAS runs on this CPU ("Haswell", "Zen", "SkylakeX", …).
static inline const char *tandem_openblas_corename(void) { return openblas_get_corename(); }

/// The number of threads OpenBLAS is set to use.
static inline int tandem_openblas_threads(void) { return openblas_get_num_threads(); }
#endif
