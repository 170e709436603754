#include "CDemangle.h"
#include <stddef.h>

// The Itanium C++ ABI's demangler, as libstdc++ (and libsupc++) export it.
extern char *__cxa_demangle(const char *mangled_name, char *output_buffer, size_t *length, int *status);

char *ltod_demangle(const char *name) {
    int status = 0;
    char *demangled = __cxa_demangle(name, NULL, NULL, &status);
    return status == 0 ? demangled : NULL;
}
