#ifndef MOETOP_CZLIB_SHIM_H
#define MOETOP_CZLIB_SHIM_H
#include <zlib.h>
#endif
