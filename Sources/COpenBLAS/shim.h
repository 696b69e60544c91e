#ifndef MOETOP_COPENBLAS_SHIM_H
#define MOETOP_COPENBLAS_SHIM_H
#include <cblas.h>
#endif
