/* SPDX-License-Identifier: MIT */
#pragma once

/* The kernel command line of a VM flake, assembled as the original
 * firecracker-pilot does (flake-pilot-features §4.3), so that images and
 * their sci keep working:
 *
 *   [PILOT_DEBUG=1] [overlay_root=/dev/vdb] [sci_term=T]
 *   [sci_lines=R sci_columns=C] <configured boot_args> run=vsock | run="..."
 *
 * In agent mode without PILOT_DEBUG the original replaces every console=
 * item by an empty "console=" (a serial console slows the boot); we keep
 * that choice behind keep_console, because our console goes to the journal
 * of flake-vm@ and is worth its cost for VMMs that do not suffer from it. */

#include <stdbool.h>

typedef struct VmBootArgs {
        char * const *boot_args;      /* from the flake */
        bool pilot_debug;
        bool overlay;
        const char *term;             /* used only if it is a sane TERM value */
        unsigned rows, cols;          /* 0: unknown */
        bool agent;                   /* run=vsock; else run="<run_argv>" */
        bool keep_console;
        char * const *run_argv;       /* serial mode: target and arguments */
        char * const *drop;           /* items to leave out, by "key=" prefix or exact word */
} VmBootArgs;

/* TERM values that may enter a kernel command line: 1..32 characters of
 * [A-Za-z0-9-_.+]. */
bool vm_term_is_safe(const char *term);

/* Quotes one argument for run="...": '-' becomes "\-" as in the original
 * (so "--" cannot end the kernel's own parsing), blanks, '\' and '\''
 * are escaped for sci's shell-style split (the original lost word
 * boundaries), "" becomes ''. NULL if the argument cannot be carried on a
 * kernel command line at all ('"' or a newline). */
char *vm_run_arg_escape(const char *arg);

/* Appends the words that tell sci its mode (SCI_ARG_RESUME=1 for a resume
 * flake, SCI_ARG_FORCE_VSOCK=1 for force_vsock) unless already there.
 * Registration writes them into a flake's boot_args, as the original did;
 * the runner adds them at boot for a hand-written flake with only the keys. */
void vm_boot_args_add_mode(char ***args, bool resume, bool force_vsock);

/* Returns the command line as a new string; NULL if a run argument cannot
 * be carried (see vm_run_arg_escape()). */
char *vm_boot_args_build(const VmBootArgs *a);
