/* SPDX-License-Identifier: MIT */
#pragma once

/* Output of the list/show verbs in the three formats of the original tool:
 *  table: a title, a blank line, then a message for "nothing" or a header,
 *         a ruler and rows; columns separated by two spaces, the last one
 *         not padded, missing values shown as "-";
 *  json:  a pretty-printed array of objects, missing values as null;
 *  csv:   no header, RFC 4180 quoting, missing values empty. */

#include <stdio.h>

#include "macro.h"

typedef enum OutputFormat {
        OUTPUT_TABLE,
        OUTPUT_JSON,
        OUTPUT_CSV,
        _OUTPUT_FORMAT_INVALID = -EINVAL,
} OutputFormat;

OutputFormat output_format_from_string(const char *s);
const char *output_format_to_string(OutputFormat f);

typedef struct TableColumn {
        const char *header;     /* table header */
        const char *key;        /* json key */
        size_t table_width;     /* table only: cut values to this many bytes (0: no limit) */
} TableColumn;

typedef struct Table Table;

Table *table_new(const TableColumn *columns, size_t n_columns);
Table *table_free(Table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Table *, table_free);
/* cells has n_columns entries; NULL means "no value". Copied. */
void table_add_row(Table *t, const char * const *cells);
size_t table_rows(const Table *t);
int table_print(const Table *t, OutputFormat format, const char *title, const char *empty_message, FILE *f);
