/* CHiredis: Debian's libhiredis-dev 0.14, the Redis client behind LTORedisStorage. */
#include <hiredis/hiredis.h>
