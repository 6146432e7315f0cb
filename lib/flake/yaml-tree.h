/* SPDX-License-Identifier: MIT */
#pragma once

/* A YAML document as a tree, read and written with libyaml.
 *
 * The flake files are small, hand-edited and may carry keys we do not know
 * (written by newer versions, or by the original tool). Keeping the whole
 * tree lets us save a registration back without losing any of them, and
 * keeping each node's file and line lets every error point at its source. */

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

typedef enum YamlType {
        YAML_NODE_NULL,
        YAML_NODE_SCALAR,
        YAML_NODE_SEQUENCE,
        YAML_NODE_MAPPING,
} YamlType;

typedef struct YamlNode YamlNode;
struct YamlNode {
        YamlType type;
        char *value;            /* scalar text */
        bool quoted;            /* scalar was quoted: never null/bool/number */
        char **keys;            /* mapping keys, parallel to items */
        YamlNode **items;       /* sequence items or mapping values */
        size_t n_items;
        size_t n_allocated;     /* capacity of keys/items */
        void *index;            /* large mappings: tsearch() tree of the keys */
        const char *file;       /* shared, owned by the document */
        unsigned line;          /* 1-based; 0 for nodes we created */
};

typedef struct YamlDocument {
        YamlNode *root;         /* NULL for an empty document */
        char **files;           /* every source file, for node->file */
        char **warnings;        /* "FILE:LINE: ..." found while loading (tags) */
} YamlDocument;

/* Limits for hostile or broken input, documented in flakes.yaml(5). Real
 * registrations are a few hundred bytes and a few dozen nodes. */
#define YAML_FILE_SIZE_MAX (1024U * 1024U)      /* bytes per file */
/* Keys, values and what aliases expand to, per document: bounds the memory
 * and time of a document that is small on disk (an "alias bomb"). */
#define YAML_NODES_MAX 250000U
/* Warnings kept per document; then one line says the rest are left out. */
#define YAML_WARNINGS_MAX 100U

/* Parses the first document of a file. On a syntax error returns -EBADMSG
 * and, if ret_error is given, "FILE:LINE:COL: problem"; so do a key given
 * twice in one mapping and a NUL ("\0") in a string. Tags other than !!str
 * (!!int, !custom, ...) are ignored with a warning in doc->warnings. A file
 * that is not a regular file (a FIFO, /dev/zero, ...) gives -EBADFD and
 * "FILE: not a regular file", one above YAML_FILE_SIZE_MAX -EFBIG and "FILE:
 * larger than N bytes"; neither blocks nor reads more than the cap. */
int yaml_document_load(const char *path, YamlDocument **ret, char **ret_error);
int yaml_document_load_string(const char *name, const char *data, size_t size,
                              YamlDocument **ret, char **ret_error);
YamlDocument *yaml_document_new(void);
void yaml_document_free(YamlDocument *doc);
DEFINE_TRIVIAL_CLEANUP_FUNC(YamlDocument *, yaml_document_free);

/* Top-level merge as the original tool does for NAME.d/ drop-ins: each
 * top-level key of src replaces the same key of dst wholesale (no deep merge).
 * src is consumed. Both roots must be mappings (or empty). */
int yaml_document_merge(YamlDocument *dst, YamlDocument *src);

/* Serialises with libyaml's emitter (block style, "---" header). */
int yaml_document_dump(const YamlDocument *doc, char **ret);

YamlNode *yaml_node_new(YamlType type);
YamlNode *yaml_node_new_scalar(const char *value, bool quoted);
YamlNode *yaml_node_new_string_list(char * const *l);   /* NULL/empty -> null node */
YamlNode *yaml_node_copy(const YamlNode *n);
void yaml_node_free(YamlNode *n);
DEFINE_TRIVIAL_CLEANUP_FUNC(YamlNode *, yaml_node_free);

/* Plain "~", "null", "" and missing nodes are null. */
static inline bool yaml_node_is_null(const YamlNode *n) {
        return !n || n->type == YAML_NODE_NULL;
}

/* Mapping access. get() returns NULL if absent or n is not a mapping. */
YamlNode *yaml_mapping_get(const YamlNode *n, const char *key);
/* Dotted path lookup through mappings: "vm.runtime.firecracker". */
YamlNode *yaml_lookup(const YamlNode *root, const char *path);
/* Replaces (in place, keeping key order) or appends; takes ownership. */
void yaml_mapping_set(YamlNode *n, const char *key, YamlNode *value);
/* Returns the mapping at key in n, replacing a null or missing value with a
 * new empty mapping (for building documents). NULL if it is something else. */
YamlNode *yaml_mapping_ensure(YamlNode *n, const char *key);
void yaml_sequence_append(YamlNode *n, YamlNode *item);

/* Typed reads. Return 0 and set *ret; -ENOENT if null/missing (ret untouched);
 * -EINVAL if the node is of another type. */
int yaml_node_get_bool(const YamlNode *n, bool *ret);
int yaml_node_get_uint(const YamlNode *n, unsigned long long *ret);
int yaml_node_get_string(const YamlNode *n, const char **ret);
/* A sequence of scalars; a single scalar is accepted as a one-item list. */
int yaml_node_get_string_list(const YamlNode *n, char ***ret);

const char *yaml_type_to_string(YamlType t);
