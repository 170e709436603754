// CDemangle: C++ symbol names made readable with the C++ runtime's own demangler
// (__cxa_demangle from libstdc++), for `ltoc explain`.
#ifndef LTOD_CDEMANGLE_H
#define LTOD_CDEMANGLE_H

/// The demangled form of `name` in a buffer the caller frees with free(), or NULL when
/// `name` is not a mangled C++ name (a C function, for instance).
char *ltod_demangle(const char *name);
#endif
