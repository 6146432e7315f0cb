/* SPDX-License-Identifier: MIT */
#pragma once

/* Compiler pragmas as macros, for code that links nothing but libc too
 * (sci, the agent protocol). As in systemd, a warning is switched off only
 * around the code it is wrong about, with the reason next to it. */

#define _PRAGMA_(x) _Pragma(#x)

#if defined(__clang__)
/* clang has no -fanalyzer and would warn about the unknown option. */
#  define DISABLE_WARNING_ANALYZER_MALLOC_LEAK _PRAGMA_(GCC diagnostic push)
#else
#  define DISABLE_WARNING_ANALYZER_MALLOC_LEAK                          \
        _PRAGMA_(GCC diagnostic push)                                   \
        _PRAGMA_(GCC diagnostic ignored "-Wanalyzer-malloc-leak")
#endif

#define REENABLE_WARNING _PRAGMA_(GCC diagnostic pop)

/* glibc declares write(), symlink(), fchownat() and others
 * warn_unused_result (with _FORTIFY_SOURCE, as distributions build), and a
 * (void) cast does not silence that in gcc. For calls whose failure changes
 * nothing; each use says why. */
#define IGNORE_RESULT(expr) do { if (expr) {} } while (0)
