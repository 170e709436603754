// CZstd: libzstd, to inflate the compressed function-body sections WPA copies into partitions.
#include <zstd.h>
