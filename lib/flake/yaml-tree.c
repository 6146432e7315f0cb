/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <search.h>
#include <stdarg.h>
#include <strings.h>
#include <yaml.h>

#include "fileio.h"
#include "macro.h"
#include "strv.h"
#include "utf8.h"
#include "yaml-tree.h"

/* Guard for hostile input: nesting depth (recursion). The node count is
 * capped by YAML_NODES_MAX (yaml-tree.h). */
#define YAML_DEPTH_MAX 64

/* Mappings with more keys than this get a key index (below): real flakes
 * have a handful of keys per mapping, where a scan is faster than a tree. */
#define MAPPING_INDEX_MIN 16

typedef struct Anchor {
        char *name;
        const YamlNode *node;   /* in the tree being built: complete, never freed while parsing */
        size_t n_nodes;         /* what an alias to it adds to the node count */
} Anchor;

typedef struct Parser {
        yaml_parser_t parser;
        const char *file;
        void *anchors;          /* tsearch() tree of Anchor, by name */
        size_t n_nodes;
        char *error;
        char ***warnings;       /* the document's */
        size_t n_warnings;
} Parser;

/* The key index of a large mapping: a tsearch() tree (glibc's red-black
 * tree) of IndexEntry, which makes lookups, inserts and the duplicate check
 * O(log n), so loading is O(n log n) whatever the input. A tree rather than
 * a hash table: a registration is input, and a table whose hash is not
 * seeded can be flooded with colliding keys back to quadratic time. glibc's
 * hsearch_r() hashes little more than the first 8 bytes of a key (keys with
 * a long common prefix all collide) and cannot grow; GHashTable and uthash
 * use unseeded hashes and would add a library to every pilot start;
 * systemd's seeded hashmap is not part of libsystemd's API. */
typedef struct IndexEntry {
        const char *key;        /* n->keys[pos], owned by the node */
        size_t pos;
} IndexEntry;

const char *yaml_type_to_string(YamlType t) {
        static const char * const names[] = {
                [YAML_NODE_NULL] = "null", [YAML_NODE_SCALAR] = "scalar",
                [YAML_NODE_SEQUENCE] = "list", [YAML_NODE_MAPPING] = "mapping",
        };
        return names[t];
}

YamlNode *yaml_node_new(YamlType type) {
        YamlNode *n = xmalloc(sizeof(YamlNode));
        n->type = type;
        return n;
}

YamlNode *yaml_node_new_scalar(const char *value, bool quoted) {
        YamlNode *n = yaml_node_new(YAML_NODE_SCALAR);
        n->value = xstrdup(value);
        n->quoted = quoted;
        return n;
}

YamlNode *yaml_node_new_string_list(char * const *l) {
        YamlNode *n;

        if (strv_length(l) == 0)
                return yaml_node_new(YAML_NODE_NULL);
        n = yaml_node_new(YAML_NODE_SEQUENCE);
        STRV_FOREACH(s, l)
                yaml_sequence_append(n, yaml_node_new_scalar(*s, false));
        return n;
}

static int index_compare(const void *a, const void *b) {
        return strcmp(((const IndexEntry *) a)->key, ((const IndexEntry *) b)->key);
}

/* Indexes keys[pos]. Returns the position of an equal key indexed before
 * (the entry for pos is then not added), or -1. */
static ssize_t index_add(YamlNode *n, size_t pos) {
        IndexEntry *e = xmalloc(sizeof(IndexEntry));
        IndexEntry **found;

        e->key = n->keys[pos];
        e->pos = pos;
        found = tsearch(e, &n->index, index_compare);
        if (!found)
                abort();
        if (*found != e) {
                free(e);
                return (ssize_t) (*found)->pos;
        }
        return -1;
}

static void index_build(YamlNode *n) {
        for (size_t i = 0; i < n->n_items; i++)
                (void) index_add(n, i);
}

void yaml_node_free(YamlNode *n) {
        if (!n)
                return;
        if (n->index)
                tdestroy(n->index, free);
        for (size_t i = 0; i < n->n_items; i++) {
                yaml_node_free(n->items[i]);
                if (n->keys)
                        free(n->keys[i]);
        }
        free(n->items);
        free(n->keys);
        free(n->value);
        free(n);
}

YamlNode *yaml_node_copy(const YamlNode *n) {
        YamlNode *c = yaml_node_new(n->type);

        c->value = n->value ? xstrdup(n->value) : NULL;
        c->quoted = n->quoted;
        c->file = n->file;
        c->line = n->line;
        if (n->n_items > 0) {
                c->items = xmalloc(sizeof(YamlNode *) * n->n_items);
                if (n->keys)
                        c->keys = xmalloc(sizeof(char *) * n->n_items);
        }
        for (size_t i = 0; i < n->n_items; i++) {
                c->items[i] = yaml_node_copy(n->items[i]);
                if (n->keys)
                        c->keys[i] = xstrdup(n->keys[i]);
        }
        c->n_items = c->n_allocated = n->n_items;
        if (c->keys && c->n_items > MAPPING_INDEX_MIN)
                index_build(c);
        return c;
}

static bool scalar_is_null(const char *v) {
        return isempty(v) || streq(v, "~") || streq(v, "null") || streq(v, "Null") || streq(v, "NULL");
}

/* Room for one more item; grows geometrically, since loading appends one
 * item at a time. */
static void reserve_one(YamlNode *n, bool with_keys) {
        if (n->n_items < n->n_allocated)
                return;
        n->n_allocated = n->n_allocated ? n->n_allocated * 2 : 4;
        n->items = xrealloc(n->items, sizeof(YamlNode *) * n->n_allocated);
        if (with_keys)
                n->keys = xrealloc(n->keys, sizeof(char *) * n->n_allocated);
}

void yaml_sequence_append(YamlNode *n, YamlNode *item) {
        reserve_one(n, false);
        n->items[n->n_items++] = item;
}

/* key must not be in n yet. */
static void mapping_append(YamlNode *n, char *key, YamlNode *value) {
        reserve_one(n, true);
        n->keys[n->n_items] = key;
        n->items[n->n_items++] = value;
        if (n->index)
                (void) index_add(n, n->n_items - 1);
        else if (n->n_items > MAPPING_INDEX_MIN)
                index_build(n);
}

static ssize_t mapping_index(const YamlNode *n, const char *key) {
        if (!n || n->type != YAML_NODE_MAPPING)
                return -1;
        if (n->index) {
                IndexEntry k = { .key = key };
                IndexEntry **found = tfind(&k, &n->index, index_compare);
                return found ? (ssize_t) (*found)->pos : -1;
        }
        for (size_t i = 0; i < n->n_items; i++)
                if (streq(n->keys[i], key))
                        return (ssize_t) i;
        return -1;
}

YamlNode *yaml_mapping_get(const YamlNode *n, const char *key) {
        ssize_t i = mapping_index(n, key);
        return i < 0 ? NULL : n->items[i];
}

void yaml_mapping_set(YamlNode *n, const char *key, YamlNode *value) {
        ssize_t i = mapping_index(n, key);

        if (i >= 0) {
                yaml_node_free(n->items[i]);
                n->items[i] = value;
        } else
                mapping_append(n, xstrdup(key), value);
}

YamlNode *yaml_mapping_ensure(YamlNode *n, const char *key) {
        YamlNode *v = yaml_mapping_get(n, key);

        if (v && v->type == YAML_NODE_MAPPING)
                return v;
        if (v && !yaml_node_is_null(v))
                return NULL;
        v = yaml_node_new(YAML_NODE_MAPPING);
        yaml_mapping_set(n, key, v);
        return v;
}

static YamlNode *mapping_get_n(const YamlNode *n, const char *key, size_t len) {
        if (!n || n->type != YAML_NODE_MAPPING)
                return NULL;
        if (n->index) {
                _cleanup_free_ char *k = xstrndup(key, len);
                return yaml_mapping_get(n, k);
        }
        for (size_t i = 0; i < n->n_items; i++)
                if (strncmp(n->keys[i], key, len) == 0 && n->keys[i][len] == '\0')
                        return n->items[i];
        return NULL;
}

/* Walks the dotted path without copying it: the generator looks up a few
 * dozen keys per flake, thousands of flakes at boot. */
YamlNode *yaml_lookup(const YamlNode *root, const char *path) {
        const YamlNode *n = root;

        for (const char *p = path; n; ) {
                size_t len = strcspn(p, ".");
                n = mapping_get_n(n, p, len);
                if (p[len] == '\0')
                        break;
                p += len + 1;
        }
        return (YamlNode *) n;
}

int yaml_node_get_string(const YamlNode *n, const char **ret) {
        if (yaml_node_is_null(n))
                return -ENOENT;
        if (n->type != YAML_NODE_SCALAR)
                return -EINVAL;
        *ret = n->value;
        return 0;
}

int yaml_node_get_bool(const YamlNode *n, bool *ret) {
        static const char * const yes[] = { "true", "yes", "on", "y" };
        static const char * const no[] = { "false", "no", "off", "n" };

        if (yaml_node_is_null(n))
                return -ENOENT;
        if (n->type != YAML_NODE_SCALAR || n->quoted)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(n->value, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
                if (strcasecmp(n->value, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}

int yaml_node_get_uint(const YamlNode *n, unsigned long long *ret) {
        char *end;
        unsigned long long v;

        if (yaml_node_is_null(n))
                return -ENOENT;
        if (n->type != YAML_NODE_SCALAR || n->quoted || !(n->value[0] >= '0' && n->value[0] <= '9'))
                return -EINVAL;
        errno = 0;
        v = strtoull(n->value, &end, 10);
        if (errno || *end)
                return -EINVAL;
        *ret = v;
        return 0;
}

int yaml_node_get_string_list(const YamlNode *n, char ***ret) {
        _cleanup_strv_free_ char **l = xmalloc(sizeof(char *));

        if (yaml_node_is_null(n))
                return -ENOENT;
        if (n->type == YAML_NODE_SCALAR)
                strv_extend(&l, n->value);
        else if (n->type == YAML_NODE_SEQUENCE) {
                for (size_t i = 0; i < n->n_items; i++) {
                        if (yaml_node_is_null(n->items[i]))
                                continue;
                        if (n->items[i]->type != YAML_NODE_SCALAR)
                                return -EINVAL;
                        strv_extend(&l, n->items[i]->value);
                }
        } else
                return -EINVAL;
        *ret = TAKE_PTR(l);
        return 0;
}

/* ---- parsing ---- */

static int parser_fail(Parser *p, unsigned line, unsigned col, const char *fmt, ...) _printf_(4, 5);
static int parser_fail(Parser *p, unsigned line, unsigned col, const char *fmt, ...) {
        _cleanup_free_ char *what = NULL;
        va_list ap;

        if (p->error)
                return -EBADMSG;
        va_start(ap, fmt);
        if (vasprintf(&what, fmt, ap) < 0)
                abort();
        va_end(ap);
        p->error = xasprintf("%s:%u:%u: %s", p->file, line, col, what);
        return -EBADMSG;
}

/* Input text for a one-line message: control characters as \xNN. */
static char *escape_for_message(const char *s) {
        char *e = xmalloc(strlen(s) * 4 + 1), *q = e;

        for (const unsigned char *c = (const unsigned char *) s; *c; c++)
                if (*c < 0x20 || *c == 0x7f)
                        q += sprintf(q, "\\x%02x", *c);
                else
                        *q++ = (char) *c;
        *q = 0;
        return e;
}

static void parser_warn(Parser *p, unsigned line, const char *fmt, ...) _printf_(3, 4);
static void parser_warn(Parser *p, unsigned line, const char *fmt, ...) {
        _cleanup_free_ char *what = NULL;
        va_list ap;

        /* Capped like flake_problem(): one line says the rest is left out. */
        if (p->n_warnings > YAML_WARNINGS_MAX)
                return;
        if (p->n_warnings++ == YAML_WARNINGS_MAX) {
                strv_consume(p->warnings, xasprintf("%s: more than %u warnings, the rest are not shown",
                                                    p->file, YAML_WARNINGS_MAX));
                return;
        }
        va_start(ap, fmt);
        if (vasprintf(&what, fmt, ap) < 0)
                abort();
        va_end(ap);
        strv_consume(p->warnings, xasprintf("%s:%u: %s", p->file, line, what));
}

/* Tags: "!!str" (and YAML's non-specific "!") make a scalar a string, as
 * quotes do: never null, a boolean or a number. "!!map" on a mapping and
 * "!!seq" on a sequence say what the node is anyway. Any other tag (!!int,
 * !!binary, !custom, or one that does not fit the node) is not understood:
 * a warning, and the node is read as if it had no tag. Returns whether the
 * node is a string by its tag. */
static bool check_tag(Parser *p, const yaml_char_t *tag, yaml_event_type_t type, unsigned line) {
        static const char yaml_prefix[] = "tag:yaml.org,2002:";
        _cleanup_free_ char *shown = NULL, *escaped = NULL;
        const char *t = (const char *) tag;

        if (!t)
                return false;
        if (type == YAML_SCALAR_EVENT && (streq(t, "!") || streq(t, "tag:yaml.org,2002:str")))
                return true;
        if ((type == YAML_MAPPING_START_EVENT && (streq(t, "!") || streq(t, "tag:yaml.org,2002:map"))) ||
            (type == YAML_SEQUENCE_START_EVENT && (streq(t, "!") || streq(t, "tag:yaml.org,2002:seq"))))
                return false;

        shown = startswith(t, yaml_prefix) ? xasprintf("!!%s", t + strlen(yaml_prefix)) : xstrdup(t);
        escaped = escape_for_message(shown);
        parser_warn(p, line, "unsupported tag '%s', ignoring", escaped);
        return false;
}

/* libyaml turns a "\0" escape into a NUL byte inside the text: everything
 * after it would be lost silently (an image name cut short). */
static int check_scalar_text(Parser *p, const yaml_event_t *e, unsigned line, unsigned col) {
        if (strlen((const char *) e->data.scalar.value) != e->data.scalar.length)
                return parser_fail(p, line, col, "NUL character in a string");
        return 0;
}

static int next_event(Parser *p, yaml_event_t *e) {
        if (!yaml_parser_parse(&p->parser, e)) {
                const char *what = p->parser.problem ? p->parser.problem : "invalid YAML";
                return parser_fail(p, (unsigned) p->parser.problem_mark.line + 1,
                                   (unsigned) p->parser.problem_mark.column + 1, "%s", what);
        }
        return 0;
}

/* Counts n more nodes against YAML_NODES_MAX, before they are made. */
static int count_nodes(Parser *p, size_t n, unsigned line, unsigned col) {
        if (n > YAML_NODES_MAX - p->n_nodes)
                return parser_fail(p, line, col, "document too large: more than %u nodes (keys, values and alias expansions)",
                                   YAML_NODES_MAX);
        p->n_nodes += n;
        return 0;
}

static int parse_node(Parser *p, yaml_event_t *e, unsigned depth, YamlNode **ret);

static int anchor_compare(const void *a, const void *b) {
        return strcmp(((const Anchor *) a)->name, ((const Anchor *) b)->name);
}

static void anchor_free(void *a) {
        free(((Anchor *) a)->name);
        free(a);
}

/* Anchors point into the tree being built instead of holding copies: a
 * finished node is neither changed nor freed while the document loads (a
 * duplicate key is an error, not a replacement). A name defined again
 * refers to its latest node, as YAML says. */
static void remember_anchor(Parser *p, const yaml_char_t *name, const YamlNode *n, size_t n_nodes) {
        Anchor *a, **found;

        if (!name)
                return;
        a = xmalloc(sizeof(Anchor));
        a->name = xstrdup((const char *) name);
        found = tsearch(a, &p->anchors, anchor_compare);
        if (!found)
                abort();
        if (*found != a) {
                anchor_free(a);
                a = *found;
        }
        a->node = n;
        a->n_nodes = n_nodes;
}

static int parse_children(Parser *p, YamlNode *n, yaml_event_type_t end, unsigned depth) {
        for (;;) {
                yaml_event_t e;
                YamlNode *child = NULL;
                unsigned line, col;
                ssize_t dup;
                int r;

                r = next_event(p, &e);
                if (r < 0)
                        return r;
                if (e.type == end) {
                        yaml_event_delete(&e);
                        return 0;
                }

                if (n->type == YAML_NODE_SEQUENCE) {
                        r = parse_node(p, &e, depth + 1, &child);
                        if (r < 0)
                                return r;
                        yaml_sequence_append(n, child);
                        continue;
                }

                /* A mapping key: we only accept scalar keys. */
                line = (unsigned) e.start_mark.line + 1;
                col = (unsigned) e.start_mark.column + 1;
                if (e.type != YAML_SCALAR_EVENT) {
                        yaml_event_delete(&e);
                        return parser_fail(p, line, col, "mapping keys must be plain strings");
                }
                r = check_scalar_text(p, &e, line, col);
                if (r < 0) {
                        yaml_event_delete(&e);
                        return r;
                }
                (void) check_tag(p, e.data.scalar.tag, e.type, line);
                /* libyaml allocated the text with malloc(): take it over
                 * instead of copying (this is the hot path of loading). */
                _cleanup_free_ char *key = (char *) TAKE_PTR(e.data.scalar.value);
                yaml_event_delete(&e);
                r = count_nodes(p, 1, line, col);
                if (r < 0)
                        return r;

                /* As serde did for the original tool, a key given twice is
                 * an error, not "the last one wins": a second 'name:' would
                 * silently run another image. (Drop-ins replace whole
                 * sections on purpose: that is yaml_document_merge().) */
                dup = mapping_index(n, key);
                if (dup >= 0) {
                        _cleanup_free_ char *k = escape_for_message(key);
                        return parser_fail(p, line, col, "duplicate key '%s'", k);
                }

                r = next_event(p, &e);
                if (r < 0)
                        return r;
                r = parse_node(p, &e, depth + 1, &child);
                if (r < 0)
                        return r;
                mapping_append(n, TAKE_PTR(key), child);
        }
}

/* Consumes *e. */
static int parse_node(Parser *p, yaml_event_t *e, unsigned depth, YamlNode **ret) {
        _cleanup_(yaml_node_freep) YamlNode *n = NULL;
        const yaml_char_t *anchor = NULL;
        unsigned line = (unsigned) e->start_mark.line + 1, col = (unsigned) e->start_mark.column + 1;
        size_t first_node = p->n_nodes;
        int r = 0;

        if (depth > YAML_DEPTH_MAX) {
                yaml_event_delete(e);
                return parser_fail(p, line, col, "nesting too deep");
        }
        if (e->type != YAML_ALIAS_EVENT) {
                r = count_nodes(p, 1, line, col);
                if (r < 0) {
                        yaml_event_delete(e);
                        return r;
                }
        }

        switch (e->type) {
        case YAML_SCALAR_EVENT: {
                const char *v = (const char *) e->data.scalar.value;
                bool quoted = e->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                              e->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE ||
                              e->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
                              e->data.scalar.style == YAML_FOLDED_SCALAR_STYLE;

                r = check_scalar_text(p, e, line, col);
                if (r < 0) {
                        yaml_event_delete(e);
                        return r;
                }
                if (check_tag(p, e->data.scalar.tag, e->type, line))
                        quoted = true;
                anchor = e->data.scalar.anchor;
                if (!quoted && scalar_is_null(v))
                        n = yaml_node_new(YAML_NODE_NULL);
                else {
                        n = yaml_node_new(YAML_NODE_SCALAR);
                        n->value = (char *) TAKE_PTR(e->data.scalar.value);
                        n->quoted = quoted;
                }
                break;
        }
        case YAML_SEQUENCE_START_EVENT:
                (void) check_tag(p, e->data.sequence_start.tag, e->type, line);
                anchor = e->data.sequence_start.anchor;
                n = yaml_node_new(YAML_NODE_SEQUENCE);
                break;
        case YAML_MAPPING_START_EVENT:
                (void) check_tag(p, e->data.mapping_start.tag, e->type, line);
                anchor = e->data.mapping_start.anchor;
                n = yaml_node_new(YAML_NODE_MAPPING);
                break;
        case YAML_ALIAS_EVENT: {
                Anchor k = { .name = (char *) e->data.alias.anchor }, **found;

                found = tfind(&k, &p->anchors, anchor_compare);
                yaml_event_delete(e);
                if (!found)
                        return parser_fail(p, line, col, "unknown alias");
                /* Counted before copying: an alias bomb stops here, not
                 * after the memory is gone. */
                r = count_nodes(p, (*found)->n_nodes, line, col);
                if (r < 0)
                        return r;
                *ret = yaml_node_copy((*found)->node);
                return 0;
        }
        default:
                yaml_event_delete(e);
                return parser_fail(p, line, col, "unexpected YAML event");
        }

        n->file = p->file;
        n->line = line;

        if (n->type == YAML_NODE_SEQUENCE || n->type == YAML_NODE_MAPPING) {
                _cleanup_free_ char *a = anchor ? xstrdup((const char *) anchor) : NULL;
                yaml_event_delete(e);
                r = parse_children(p, n, n->type == YAML_NODE_SEQUENCE ? YAML_SEQUENCE_END_EVENT
                                                                          : YAML_MAPPING_END_EVENT, depth);
                if (r < 0)
                        return r;
                remember_anchor(p, (const yaml_char_t *) a, n, p->n_nodes - first_node);
        } else {
                remember_anchor(p, anchor, n, p->n_nodes - first_node);
                yaml_event_delete(e);
        }
        *ret = TAKE_PTR(n);
        return 0;
}

static int parse_document(Parser *p, YamlNode **ret) {
        yaml_event_t e;
        int r;

        /* STREAM-START, then DOCUMENT-START or STREAM-END (empty file). */
        for (;;) {
                r = next_event(p, &e);
                if (r < 0)
                        return r;
                if (e.type == YAML_STREAM_END_EVENT) {
                        yaml_event_delete(&e);
                        *ret = NULL;
                        return 0;
                }
                if (e.type == YAML_DOCUMENT_START_EVENT) {
                        yaml_event_delete(&e);
                        break;
                }
                yaml_event_delete(&e);
        }

        r = next_event(p, &e);
        if (r < 0)
                return r;
        /* Only the first document counts; the rest is not even parsed. */
        return parse_node(p, &e, 0, ret);
}

void yaml_document_free(YamlDocument *doc) {
        if (!doc)
                return;
        yaml_node_free(doc->root);
        strv_free(doc->files);
        strv_free(doc->warnings);
        free(doc);
}

YamlDocument *yaml_document_new(void) {
        YamlDocument *d = xmalloc(sizeof(YamlDocument));
        d->files = xmalloc(sizeof(char *));
        d->warnings = xmalloc(sizeof(char *));
        return d;
}

int yaml_document_load_string(const char *name, const char *data, size_t size,
                              YamlDocument **ret, char **ret_error) {
        YamlDocument *doc = yaml_document_new();
        Parser p = {};
        int r;

        strv_extend(&doc->files, name);
        p.file = doc->files[0];
        p.warnings = &doc->warnings;
        if (!yaml_parser_initialize(&p.parser))
                abort();
        yaml_parser_set_input_string(&p.parser, (const unsigned char *) data, size);

        r = parse_document(&p, &doc->root);

        yaml_parser_delete(&p.parser);
        if (p.anchors)
                tdestroy(p.anchors, anchor_free);

        if (r < 0) {
                yaml_document_free(doc);
                if (ret_error)
                        *ret_error = TAKE_PTR(p.error);
                free(p.error);
                return r;
        }
        free(p.error);
        *ret = doc;
        return 0;
}

int yaml_document_load(const char *path, YamlDocument **ret, char **ret_error) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = read_regular_file(path, YAML_FILE_SIZE_MAX, &data, &size);
        if (r < 0) {
                if (ret_error) {
                        if (r == -EBADFD)
                                *ret_error = xasprintf("%s: not a regular file", path);
                        else if (r == -EFBIG)
                                *ret_error = xasprintf("%s: larger than %u bytes", path, YAML_FILE_SIZE_MAX);
                        else
                                *ret_error = xasprintf("%s: %s", path, strerror(-r));
                }
                return r;
        }
        return yaml_document_load_string(path, data, size, ret, ret_error);
}

int yaml_document_merge(YamlDocument *dst, YamlDocument *src) {
        if (!src->root) {
                yaml_document_free(src);
                return 0;
        }
        if (src->root->type != YAML_NODE_MAPPING ||
            (dst->root && dst->root->type != YAML_NODE_MAPPING))
                return -EINVAL;

        if (!dst->root)
                dst->root = yaml_node_new(YAML_NODE_MAPPING);
        for (size_t i = 0; i < src->root->n_items; i++) {
                yaml_mapping_set(dst->root, src->root->keys[i], src->root->items[i]);
                src->root->items[i] = NULL;
        }
        /* The moved nodes point at src's file names: hand them over. */
        STRV_FOREACH(f, src->files)
                strv_consume(&dst->files, *f);
        free(src->files);
        src->files = NULL;
        STRV_FOREACH(w, src->warnings)
                strv_consume(&dst->warnings, *w);
        free(src->warnings);
        src->warnings = NULL;
        yaml_document_free(src);
        return 0;
}

/* ---- emitting ---- */

typedef struct Buffer {
        char *data;
        size_t size;
} Buffer;

static int buffer_write(void *userdata, unsigned char *data, size_t size) {
        Buffer *b = userdata;
        b->data = xrealloc(b->data, b->size + size + 1);
        memcpy(b->data + b->size, data, size);
        b->size += size;
        b->data[b->size] = 0;
        return 1;
}

static int emit(yaml_emitter_t *em, yaml_event_t *e) {
        return yaml_emitter_emit(em, e) ? 0 : -EIO;
}

static int emit_scalar(yaml_emitter_t *em, const char *v, bool quoted) {
        yaml_event_t e;

        /* libyaml's emitter loops forever or crashes on text that is not
         * UTF-8: whatever path a value came by, it never gets that far. */
        if (!utf8_is_valid(v))
                return -EILSEQ;
        yaml_scalar_event_initialize(&e, NULL, NULL, (yaml_char_t *) v, -1, !quoted, 1,
                                     quoted ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
        return emit(em, &e);
}

static int emit_node(yaml_emitter_t *em, const YamlNode *n) {
        yaml_event_t e;
        int r;

        switch (n ? n->type : YAML_NODE_NULL) {
        case YAML_NODE_NULL:
                return emit_scalar(em, "~", false);
        case YAML_NODE_SCALAR:
                return emit_scalar(em, n->value, n->quoted);
        case YAML_NODE_SEQUENCE:
                yaml_sequence_start_event_initialize(&e, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
                r = emit(em, &e);
                for (size_t i = 0; r >= 0 && i < n->n_items; i++)
                        r = emit_node(em, n->items[i]);
                if (r < 0)
                        return r;
                yaml_sequence_end_event_initialize(&e);
                return emit(em, &e);
        case YAML_NODE_MAPPING:
                yaml_mapping_start_event_initialize(&e, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
                r = emit(em, &e);
                for (size_t i = 0; r >= 0 && i < n->n_items; i++) {
                        r = emit_scalar(em, n->keys[i], false);
                        if (r >= 0)
                                r = emit_node(em, n->items[i]);
                }
                if (r < 0)
                        return r;
                yaml_mapping_end_event_initialize(&e);
                return emit(em, &e);
        }
        return -EINVAL;
}

int yaml_document_dump(const YamlDocument *doc, char **ret) {
        yaml_emitter_t em;
        yaml_event_t e;
        Buffer b = {};
        int r;

        if (!yaml_emitter_initialize(&em))
                abort();
        yaml_emitter_set_output(&em, buffer_write, &b);
        yaml_emitter_set_unicode(&em, 1);
        yaml_emitter_set_width(&em, -1);

        yaml_stream_start_event_initialize(&e, YAML_UTF8_ENCODING);
        r = emit(&em, &e);
        if (r >= 0) {
                yaml_document_start_event_initialize(&e, NULL, NULL, NULL, 0);
                r = emit(&em, &e);
        }
        if (r >= 0)
                r = emit_node(&em, doc->root);
        if (r >= 0) {
                yaml_document_end_event_initialize(&e, 1);
                r = emit(&em, &e);
        }
        if (r >= 0) {
                yaml_stream_end_event_initialize(&e);
                r = emit(&em, &e);
        }
        yaml_emitter_delete(&em);
        if (r < 0) {
                free(b.data);
                return r;
        }
        *ret = b.data ? b.data : xstrdup("");
        return 0;
}
