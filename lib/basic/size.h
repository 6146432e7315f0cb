/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Parses a byte size: a number (decimals allowed) and an optional unit,
 * case-insensitive. "B" or none: bytes; "KB" "MB" "GB" "TB" "PB": powers of
 * 1000; "KiB" "MiB" "GiB" "TiB" "PiB": powers of 1024; "K" "M" "G" "T" "P"
 * alone: powers of 1024, as truncate(1) and qemu-img read them (the original
 * tool rejected "20g" although its own man page suggested it).
 * Returns -EINVAL for anything else, -ERANGE on overflow. */
int parse_size(const char *s, uint64_t *ret);

/* "20.0GiB"-style rendering into buf (at least 16 bytes). */
const char *format_size(char *buf, size_t len, uint64_t bytes);
