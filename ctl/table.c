/* SPDX-License-Identifier: MIT */
#include <json-c/json.h>

#include "macro.h"
#include "table.h"
#include "utf8.h"

/* Cells hold names and paths from the flakes dir, which may be anything a
 * file name or YAML string can be: table and CSV show them escaped (one row
 * per line, no escape sequences on the terminal), JSON keeps them exact
 * unless they are not UTF-8, which JSON cannot carry. */
struct Table {
        const TableColumn *columns;
        size_t n_columns;
        char **cells;           /* n_rows * n_columns, NULL = missing */
        char **shown;           /* the same escaped, NULL where no escaping is needed */
        size_t n_rows;
};

static const char * const format_names[] = {
        [OUTPUT_TABLE] = "table",
        [OUTPUT_JSON] = "json",
        [OUTPUT_CSV] = "csv",
};

DEFINE_STRING_TABLE_LOOKUP(output_format, OutputFormat, format_names, _OUTPUT_FORMAT_INVALID);

Table *table_new(const TableColumn *columns, size_t n_columns) {
        Table *t = xmalloc(sizeof(Table));
        t->columns = columns;
        t->n_columns = n_columns;
        return t;
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_rows * t->n_columns; i++) {
                free(t->cells[i]);
                free(t->shown[i]);
        }
        free(t->cells);
        free(t->shown);
        free(t);
        return NULL;
}

void table_add_row(Table *t, const char * const *cells) {
        t->cells = xrealloc(t->cells, sizeof(char *) * (t->n_rows + 1) * t->n_columns);
        t->shown = xrealloc(t->shown, sizeof(char *) * (t->n_rows + 1) * t->n_columns);
        for (size_t c = 0; c < t->n_columns; c++) {
                t->cells[t->n_rows * t->n_columns + c] = cells[c] ? xstrdup(cells[c]) : NULL;
                t->shown[t->n_rows * t->n_columns + c] = text_escape_if_needed(cells[c]);
        }
        t->n_rows++;
}

size_t table_rows(const Table *t) {
        return t->n_rows;
}

static const char *cell(const Table *t, size_t row, size_t col) {
        return t->cells[row * t->n_columns + col];
}

/* For table and CSV. */
static const char *shown(const Table *t, size_t row, size_t col) {
        return t->shown[row * t->n_columns + col] ?: cell(t, row, col);
}

static size_t table_cell_width(const Table *t, size_t row, size_t col) {
        const char *v = shown(t, row, col);
        size_t l = v ? strlen(v) : 1;
        size_t max = t->columns[col].table_width;
        return max > 0 && l > max ? max : l;
}

static void print_table(const Table *t, const char *title, const char *empty_message, FILE *f) {
        _cleanup_free_ size_t *width = xmalloc(sizeof(size_t) * t->n_columns);

        fprintf(f, "%s\n\n", title);
        if (t->n_rows == 0) {
                fprintf(f, "%s\n", empty_message);
                return;
        }
        for (size_t c = 0; c < t->n_columns; c++) {
                width[c] = strlen(t->columns[c].header);
                for (size_t r = 0; r < t->n_rows; r++)
                        if (table_cell_width(t, r, c) > width[c])
                                width[c] = table_cell_width(t, r, c);
        }

        for (size_t c = 0; c < t->n_columns; c++) {
                if (c == t->n_columns - 1)
                        fprintf(f, "%s\n", t->columns[c].header);
                else
                        fprintf(f, "%-*s  ", (int) width[c], t->columns[c].header);
        }
        for (size_t c = 0; c < t->n_columns; c++) {
                for (size_t i = 0; i < width[c]; i++)
                        fputc('-', f);
                fputs(c == t->n_columns - 1 ? "\n" : "  ", f);
        }
        for (size_t r = 0; r < t->n_rows; r++)
                for (size_t c = 0; c < t->n_columns; c++) {
                        const char *v = shown(t, r, c) ?: "-";
                        int n = (int) table_cell_width(t, r, c);
                        if (c == t->n_columns - 1)
                                fprintf(f, "%.*s\n", n, v);
                        else
                                fprintf(f, "%.*s%*s  ", n, v, (int) (width[c] - (size_t) n), "");
                }
}

static void print_csv_field(const char *v, FILE *f) {
        if (!v)
                return;
        if (!strpbrk(v, ",\"\r\n")) {
                fputs(v, f);
                return;
        }
        fputc('"', f);
        for (const char *p = v; *p; p++) {
                if (*p == '"')
                        fputc('"', f);
                fputc(*p, f);
        }
        fputc('"', f);
}

static void print_csv(const Table *t, FILE *f) {
        for (size_t r = 0; r < t->n_rows; r++)
                for (size_t c = 0; c < t->n_columns; c++) {
                        print_csv_field(shown(t, r, c), f);
                        fputc(c == t->n_columns - 1 ? '\n' : ',', f);
                }
}

static void print_json(const Table *t, FILE *f) {
        json_object *array;

        if (t->n_rows == 0) {
                fputs("[]\n", f);
                return;
        }
        array = json_object_new_array();

        for (size_t r = 0; r < t->n_rows; r++) {
                json_object *o = json_object_new_object();
                for (size_t c = 0; c < t->n_columns; c++) {
                        const char *v = cell(t, r, c);
                        if (v && !utf8_is_valid(v))
                                v = shown(t, r, c);
                        json_object_object_add(o, t->columns[c].key, v ? json_object_new_string(v) : NULL);
                }
                json_object_array_add(array, o);
        }
        fprintf(f, "%s\n", json_object_to_json_string_ext(array, JSON_C_TO_STRING_PRETTY |
                                                                 JSON_C_TO_STRING_SPACED |
                                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(array);
}

int table_print(const Table *t, OutputFormat format, const char *title, const char *empty_message, FILE *f) {
        switch (format) {
        case OUTPUT_TABLE:
                print_table(t, title, empty_message, f);
                break;
        case OUTPUT_JSON:
                print_json(t, f);
                break;
        case OUTPUT_CSV:
                print_csv(t, f);
                break;
        default:
                return -EINVAL;
        }
        return fflush(f) == 0 ? 0 : -EIO;
}
