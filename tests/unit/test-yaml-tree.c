/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "fileio.h"
#include "strv.h"
#include "yaml-tree.h"

static YamlDocument *parse(const char *text) {
        YamlDocument *d = NULL;
        _cleanup_free_ char *error = NULL;
        int r = yaml_document_load_string("test.yaml", text, strlen(text), &d, &error);
        if (r < 0)
                fail_msg("parse failed: %s", error);
        return d;
}

static void test_types_and_lines(void **state) {
        _cleanup_(yaml_document_freep) YamlDocument *d =
                parse("a: 1\nb:\n  c: [x, y]\n  d: ~\n  e: \"~\"\n  f: true\n  g: 'false'\n");
        const char *s;
        bool b;
        unsigned long long u;
        _cleanup_strv_free_ char **l = NULL;

        assert_int_equal(yaml_node_get_uint(yaml_lookup(d->root, "a"), &u), 0);
        assert_int_equal(u, 1);
        assert_int_equal(yaml_lookup(d->root, "b.c")->line, 3);
        assert_int_equal(yaml_node_get_string_list(yaml_lookup(d->root, "b.c"), &l), 0);
        assert_int_equal(strv_length(l), 2);
        assert_true(yaml_node_is_null(yaml_lookup(d->root, "b.d")));
        assert_int_equal(yaml_node_get_string(yaml_lookup(d->root, "b.d"), &s), -ENOENT);
        /* a quoted "~" is a string, not null */
        assert_int_equal(yaml_node_get_string(yaml_lookup(d->root, "b.e"), &s), 0);
        assert_string_equal(s, "~");
        assert_int_equal(yaml_node_get_bool(yaml_lookup(d->root, "b.f"), &b), 0);
        assert_true(b);
        /* a quoted 'false' is not a boolean */
        assert_int_equal(yaml_node_get_bool(yaml_lookup(d->root, "b.g"), &b), -EINVAL);
        assert_null(yaml_lookup(d->root, "b.nope"));
        assert_null(yaml_lookup(d->root, "a.deeper"));
}

static void test_syntax_error_names_file_and_line(void **state) {
        YamlDocument *d = NULL;
        _cleanup_free_ char *error = NULL;
        const char *text = "a: 1\nb: [1, 2\nc: 3\n";

        assert_int_equal(yaml_document_load_string("broken.yaml", text, strlen(text), &d, &error), -EBADMSG);
        assert_null(d);
        assert_non_null(error);
        assert_true(strncmp(error, "broken.yaml:", 12) == 0);
}

static void test_empty_and_only_first_document(void **state) {
        _cleanup_(yaml_document_freep) YamlDocument *e = parse("");
        _cleanup_(yaml_document_freep) YamlDocument *d = parse("---\na: 1\n---\na: 2\n");
        unsigned long long u;

        assert_null(e->root);
        assert_int_equal(yaml_node_get_uint(yaml_lookup(d->root, "a"), &u), 0);
        assert_int_equal(u, 1);
}

static void test_alias_bomb_is_refused(void **state) {
        YamlDocument *d = NULL;
        _cleanup_free_ char *error = NULL;
        /* Each level multiplies by 9: 9^7 nodes. */
        const char *text =
                "a: &a [x,x,x,x,x,x,x,x,x]\n"
                "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n";

        assert_int_equal(yaml_document_load_string("bomb.yaml", text, strlen(text), &d, &error), -EBADMSG);
        assert_non_null(strstr(error, "too large"));
}

static void test_alias_copy(void **state) {
        _cleanup_(yaml_document_freep) YamlDocument *d = parse("base: &b {x: 1}\nother: *b\n");
        unsigned long long u;
        assert_int_equal(yaml_node_get_uint(yaml_lookup(d->root, "other.x"), &u), 0);
        assert_int_equal(u, 1);
}

static void test_merge_replaces_whole_sections(void **state) {
        _cleanup_(yaml_document_freep) YamlDocument *a = parse("x: {p: 1, q: 2}\ny: keep\n");
        YamlDocument *b = parse("x: {p: 3}\nz: new\n");
        const char *s;

        assert_int_equal(yaml_document_merge(a, b), 0);
        assert_int_equal(yaml_node_get_string(yaml_lookup(a->root, "x.p"), &s), 0);
        assert_string_equal(s, "3");
        assert_null(yaml_lookup(a->root, "x.q"));         /* no deep merge */
        assert_int_equal(yaml_node_get_string(yaml_lookup(a->root, "y"), &s), 0);
        assert_int_equal(yaml_node_get_string(yaml_lookup(a->root, "z"), &s), 0);
        assert_int_equal(a->root->n_items, 3);
}

static void test_dump_roundtrip_keeps_everything(void **state) {
        const char *text =
                "unknown_top: {nested: [1, two, \"3\"]}\n"
                "container:\n"
                "  name: img\n"
                "  runtime:\n"
                "    podman: [\"--net host\", \"-ti\"]\n"
                "    resume: true\n"
                "  odd: \"true\"\n"
                "  empty: ~\n";
        _cleanup_(yaml_document_freep) YamlDocument *d = parse(text), *d2 = NULL;
        _cleanup_free_ char *out = NULL, *out2 = NULL;
        const char *s;
        bool b;

        assert_int_equal(yaml_document_dump(d, &out), 0);
        d2 = parse(out);
        assert_int_equal(yaml_node_get_string(yaml_lookup(d2->root, "unknown_top.nested")->items[2], &s), 0);
        assert_string_equal(s, "3");
        assert_true(yaml_lookup(d2->root, "unknown_top.nested")->items[2]->quoted);
        assert_int_equal(yaml_node_get_bool(yaml_lookup(d2->root, "container.runtime.resume"), &b), 0);
        assert_int_equal(yaml_node_get_bool(yaml_lookup(d2->root, "container.odd"), &b), -EINVAL);
        assert_true(yaml_node_is_null(yaml_lookup(d2->root, "container.empty")));
        assert_non_null(yaml_mapping_get(yaml_lookup(d2->root, "container"), "empty"));
        /* dumping again is stable */
        assert_int_equal(yaml_document_dump(d2, &out2), 0);
        assert_string_equal(out, out2);
}

static void test_build_and_set(void **state) {
        _cleanup_(yaml_document_freep) YamlDocument *d = yaml_document_new();
        _cleanup_free_ char *out = NULL;
        YamlNode *m;

        d->root = yaml_node_new(YAML_NODE_MAPPING);
        m = yaml_mapping_ensure(d->root, "sec");
        assert_non_null(m);
        yaml_mapping_set(m, "k", yaml_node_new_scalar("v", false));
        yaml_mapping_set(m, "k", yaml_node_new_scalar("w", false));   /* replace in place */
        assert_int_equal(m->n_items, 1);
        yaml_mapping_set(d->root, "scalar", yaml_node_new_scalar("x", false));
        assert_null(yaml_mapping_ensure(d->root, "scalar"));            /* not a mapping */
        assert_int_equal(yaml_document_dump(d, &out), 0);
        assert_string_equal(out, "---\nsec:\n  k: w\nscalar: x\n");
}

/* The emitter never sees text that is not UTF-8 (libyaml loops or crashes
 * on it), in a value or in a key, whoever built the tree. */
static void test_dump_refuses_invalid_utf8(void **state) {
        _cleanup_(yaml_document_freep) YamlDocument *d = yaml_document_new(), *k = yaml_document_new();
        char *out = NULL;

        d->root = yaml_node_new(YAML_NODE_MAPPING);
        yaml_mapping_set(d->root, "name", yaml_node_new_scalar("img\xff", false));
        assert_int_equal(yaml_document_dump(d, &out), -EILSEQ);
        assert_null(out);
        k->root = yaml_node_new(YAML_NODE_MAPPING);
        yaml_mapping_set(k->root, "caf\xc3", yaml_node_new_scalar("ok", false));
        assert_int_equal(yaml_document_dump(k, &out), -EILSEQ);
        assert_null(out);
}

static void test_deep_nesting_refused(void **state) {
        char text[400];
        YamlDocument *d = NULL;
        _cleanup_free_ char *error = NULL;
        size_t i;

        for (i = 0; i < 100; i++)
                text[i] = '[';
        text[i] = 0;
        assert_int_equal(yaml_document_load_string("deep.yaml", text, strlen(text), &d, &error), -EBADMSG);
}


/* Loads path and expects it to fail with r and exactly the message. */
static void expect_load_error(const char *path, int r, const char *message) {
        YamlDocument *d = NULL;
        _cleanup_free_ char *error = NULL;

        assert_int_equal(yaml_document_load(path, &d, &error), r);
        assert_null(d);
        assert_non_null(error);
        assert_string_equal(error, message);
}

/* A FIFO would block the loader (and so the generator at boot) forever,
 * /dev/zero would be read until memory runs out: both are refused at once.
 * (meson's timeout fails this test if the FIFO blocks.) */
static void test_not_a_regular_file(void **state) {
        char dir[] = "/tmp/test-yaml-tree-XXXXXX";
        _cleanup_free_ char *fifo = NULL, *link = NULL, *msg = NULL, *msg_link = NULL, *msg_dir = NULL;

        assert_non_null(mkdtemp(dir));
        fifo = path_join(dir, "fifo.yaml");
        link = path_join(dir, "zero.yaml");
        assert_int_equal(mkfifo(fifo, 0600), 0);
        assert_int_equal(symlink("/dev/zero", link), 0);

        msg = xasprintf("%s: not a regular file", fifo);
        expect_load_error(fifo, -EBADFD, msg);
        msg_link = xasprintf("%s: not a regular file", link);
        expect_load_error(link, -EBADFD, msg_link);
        expect_load_error("/dev/zero", -EBADFD, "/dev/zero: not a regular file");
        expect_load_error("/dev/urandom", -EBADFD, "/dev/urandom: not a regular file");
        msg_dir = xasprintf("%s: not a regular file", dir);
        expect_load_error(dir, -EBADFD, msg_dir);
        assert_int_equal(rm_rf(dir), 0);
}

/* Files up to YAML_FILE_SIZE_MAX load; one byte more is refused without
 * being parsed. */
static void test_size_cap(void **state) {
        char dir[] = "/tmp/test-yaml-tree-XXXXXX";
        _cleanup_free_ char *path = NULL, *text = NULL, *msg = NULL;
        _cleanup_(yaml_document_freep) YamlDocument *d = NULL;
        const char *s;

        assert_non_null(mkdtemp(dir));
        path = path_join(dir, "big.yaml");
        text = xmalloc(YAML_FILE_SIZE_MAX + 2);
        memcpy(text, "a: ", 3);
        memset(text + 3, 'x', YAML_FILE_SIZE_MAX - 4);
        text[YAML_FILE_SIZE_MAX - 1] = '\n';

        assert_int_equal(write_file_atomic(path, text, YAML_FILE_SIZE_MAX, 0644), 0);
        assert_int_equal(yaml_document_load(path, &d, NULL), 0);
        assert_int_equal(yaml_node_get_string(yaml_lookup(d->root, "a"), &s), 0);
        assert_int_equal(strlen(s), YAML_FILE_SIZE_MAX - 4);

        text[YAML_FILE_SIZE_MAX - 1] = 'x';
        text[YAML_FILE_SIZE_MAX] = '\n';
        assert_int_equal(write_file_atomic(path, text, YAML_FILE_SIZE_MAX + 1, 0644), 0);
        msg = xasprintf("%s: larger than 1048576 bytes", path);
        expect_load_error(path, -EFBIG, msg);
        assert_int_equal(rm_rf(dir), 0);
}

static void expect_parse_error(const char *text, const char *message) {
        YamlDocument *d = NULL;
        _cleanup_free_ char *error = NULL;

        assert_int_equal(yaml_document_load_string("t.yaml", text, strlen(text), &d, &error), -EBADMSG);
        assert_null(d);
        if (!error || !streq(error, message))
                fail_msg("expected '%s', got '%s'", message, strna(error));
}

/* As serde did for the original tool: a key given twice in one mapping is an
 * error naming the file and the line of the second one, wherever it is. */
static void test_duplicate_keys(void **state) {
        expect_parse_error("container:\n  name: a\n  name: b\n", "t.yaml:3:3: duplicate key 'name'");
        expect_parse_error("a: 1\nb: 2\na: 3\n", "t.yaml:3:1: duplicate key 'a'");
        expect_parse_error("x: {p: 1, q: 2, p: 3}\n", "t.yaml:1:17: duplicate key 'p'");
        expect_parse_error("- {a: 1}\n- a: 1\n  a: 1\n", "t.yaml:3:3: duplicate key 'a'");
        /* keys that differ only by quoting are the same key */
        expect_parse_error("a: 1\n'a': 2\n", "t.yaml:2:1: duplicate key 'a'");
        /* control characters in the key are escaped: one line */
        expect_parse_error("\"a\\tb\": 1\n\"a\\tb\": 2\n", "t.yaml:2:1: duplicate key 'a\\x09b'");
        /* the same key in different mappings is fine */
        _cleanup_(yaml_document_freep) YamlDocument *d = parse("a: {k: 1}\nb: {k: 2}\nc: [{k: 1}, {k: 2}]\n");
        assert_non_null(yaml_lookup(d->root, "b.k"));
}

/* Large mappings are indexed: 100,000 keys load (in linear time, which
 * bench/loader.sh measures; no timed assertion here), keep their order, and
 * lookups, replacements, copies and the duplicate check still work. */
static void test_many_keys(void **state) {
        const size_t n = 100000;
        _cleanup_free_ char *text = xmalloc(n * 32 + 64);
        _cleanup_(yaml_document_freep) YamlDocument *d = NULL;
        _cleanup_(yaml_node_freep) YamlNode *copy = NULL;
        char *p = text;
        const char *s;

        p = stpcpy(p, "big:\n");
        for (size_t i = 0; i < n; i++)
                p += sprintf(p, "  key-%zu: value-%zu\n", i, i);
        d = parse(text);
        YamlNode *big = yaml_mapping_get(d->root, "big");
        assert_non_null(big);
        assert_int_equal(big->n_items, n);
        for (size_t i = 0; i < n; i += 997) {
                char k[32], v[32];
                sprintf(k, "key-%zu", i);
                sprintf(v, "value-%zu", i);
                assert_string_equal(big->keys[i], k);
                assert_int_equal(yaml_node_get_string(yaml_mapping_get(big, k), &s), 0);
                assert_string_equal(s, v);
                assert_int_equal(yaml_mapping_get(big, k)->line, i + 2);
        }
        assert_int_equal(yaml_node_get_string(yaml_lookup(d->root, "big.key-99999"), &s), 0);
        assert_string_equal(s, "value-99999");
        assert_null(yaml_lookup(d->root, "big.key-100000"));
        assert_null(yaml_mapping_get(big, "key-"));

        /* replace in place and append through the index */
        yaml_mapping_set(big, "key-5", yaml_node_new_scalar("new", false));
        yaml_mapping_set(big, "added", yaml_node_new_scalar("x", false));
        assert_int_equal(big->n_items, n + 1);
        assert_string_equal(big->keys[5], "key-5");
        assert_string_equal(yaml_mapping_get(big, "key-5")->value, "new");
        assert_string_equal(yaml_mapping_get(big, "added")->value, "x");

        copy = yaml_node_copy(big);
        assert_string_equal(yaml_mapping_get(copy, "key-77777")->value, "value-77777");
        assert_string_equal(yaml_mapping_get(copy, "added")->value, "x");

        /* a duplicate after 100,000 keys is found, with its line */
        strcpy(p, "  key-5: again\n");
        expect_parse_error(text, "t.yaml:100002:3: duplicate key 'key-5'");
}

/* A document may not grow beyond YAML_NODES_MAX nodes, counting keys,
 * values and alias expansions, whatever its size on disk. */
static void test_node_cap(void **state) {
        const size_t n = YAML_NODES_MAX;
        _cleanup_free_ char *text = xmalloc(n * 2 + 16);
        _cleanup_free_ char *msg = NULL;
        YamlDocument *d = NULL;
        char *p = text;

        /* the sequence itself and n - 1 items: exactly at the cap */
        *p++ = '[';
        for (size_t i = 0; i < n - 1; i++) {
                *p++ = 'a';
                *p++ = ',';
        }
        p[-1] = ']';
        *p = 0;
        assert_int_equal(yaml_document_load_string("cap.yaml", text, strlen(text), &d, NULL), 0);
        assert_int_equal(d->root->n_items, n - 1);
        yaml_document_free(d);
        d = NULL;

        /* one more */
        strcpy(p - 1, ",a]");
        msg = xasprintf("more than %u nodes", YAML_NODES_MAX);
        _cleanup_free_ char *error = NULL;
        assert_int_equal(yaml_document_load_string("cap.yaml", text, strlen(text), &d, &error), -EBADMSG);
        assert_non_null(strstr(error, msg));
        assert_true(strncmp(error, "cap.yaml:1:", 11) == 0);
}

/* Aliases count what they expand to, and are resolved by name whatever the
 * number of anchors; a redefined anchor means its latest node. */
static void test_aliases(void **state) {
        _cleanup_(yaml_document_freep) YamlDocument *d =
                parse("a: &x 1\nb: &x {k: 2}\nc: *x\nl: &l [1, 2, 3]\nm: [*l, *l]\n");
        unsigned long long u;
        _cleanup_free_ char *text = xmalloc(50000 * 24 + 16), *error = NULL;
        char *p = text;
        YamlDocument *e = NULL;

        assert_int_equal(yaml_node_get_uint(yaml_lookup(d->root, "c.k"), &u), 0);
        assert_int_equal(u, 2);
        assert_int_equal(yaml_mapping_get(d->root, "m")->items[1]->n_items, 3);

        /* 50,000 anchors, each used once */
        p = stpcpy(p, "- [");
        for (size_t i = 0; i < 50000; i++)
                p += sprintf(p, "&a%zu %zu,", i, i);
        p = stpcpy(p - 1, "]\n- [");
        for (size_t i = 0; i < 50000; i++)
                p += sprintf(p, "*a%zu,", 49999 - i);
        strcpy(p - 1, "]\n");
        assert_int_equal(yaml_document_load_string("many.yaml", text, strlen(text), &e, &error), 0);
        assert_string_equal(e->root->items[1]->items[0]->value, "49999");
        assert_string_equal(e->root->items[1]->items[49999]->value, "0");
        yaml_document_free(e);
}

/* A "\0" escape would cut the text short without a word: an error. */
static void test_nul_in_scalar(void **state) {
        expect_parse_error("container:\n  name: \"img\\0evil\"\n", "t.yaml:2:9: NUL character in a string");
        expect_parse_error("a: [x, \"\\0\"]\n", "t.yaml:1:8: NUL character in a string");
        expect_parse_error("\"k\\0ey\": 1\n", "t.yaml:1:1: NUL character in a string");
        expect_parse_error("a: \"\\x00\"\n", "t.yaml:1:4: NUL character in a string");
        /* other escapes are fine */
        _cleanup_(yaml_document_freep) YamlDocument *d = parse("a: \"x\\ty\\u00e9\"\n");
        assert_string_equal(yaml_lookup(d->root, "a")->value, "x\ty\xc3\xa9");
}

/* !!str makes a string (as quotes do); !!map/!!seq on their own kind are
 * fine; every other tag is a warning with file and line, and the node is
 * read as if untagged. */
static void test_tags(void **state) {
        _cleanup_(yaml_document_freep) YamlDocument *d = parse(
                "a: !!str true\n"
                "b: !!str ~\n"
                "c: ! 12\n"
                "m: !!map {k: v}\n"
                "s: !!seq [1]\n"
                "i: !!int 12\n"
                "n: !!int abc\n"
                "x: !!map scalar\n"
                "y: !custom {k: v}\n"
                "z: !<tag:example.org,2024:odd> [1]\n"
                "!!int 5: five\n");
        bool b;
        unsigned long long u;

        assert_int_equal(yaml_node_get_bool(yaml_lookup(d->root, "a"), &b), -EINVAL);
        assert_string_equal(yaml_lookup(d->root, "a")->value, "true");
        assert_int_equal(yaml_lookup(d->root, "b")->type, YAML_NODE_SCALAR);
        assert_string_equal(yaml_lookup(d->root, "b")->value, "~");
        assert_int_equal(yaml_node_get_uint(yaml_lookup(d->root, "c"), &u), -EINVAL);
        assert_string_equal(yaml_lookup(d->root, "m.k")->value, "v");
        assert_int_equal(yaml_node_get_uint(yaml_lookup(d->root, "i"), &u), 0);
        assert_int_equal(u, 12);
        assert_string_equal(yaml_lookup(d->root, "n")->value, "abc");
        assert_string_equal(yaml_lookup(d->root, "x")->value, "scalar");
        assert_string_equal(yaml_lookup(d->root, "y.k")->value, "v");
        assert_string_equal(yaml_lookup(d->root, "5")->value, "five");

        assert_int_equal(strv_length(d->warnings), 6);
        assert_string_equal(d->warnings[0], "test.yaml:6: unsupported tag '!!int', ignoring");
        assert_string_equal(d->warnings[1], "test.yaml:7: unsupported tag '!!int', ignoring");
        assert_string_equal(d->warnings[2], "test.yaml:8: unsupported tag '!!map', ignoring");
        assert_string_equal(d->warnings[3], "test.yaml:9: unsupported tag '!custom', ignoring");
        assert_string_equal(d->warnings[4], "test.yaml:10: unsupported tag 'tag:example.org,2024:odd', ignoring");
        assert_string_equal(d->warnings[5], "test.yaml:11: unsupported tag '!!int', ignoring");
}

/* Warnings are capped, and a drop-in's travel with it into the merge. */
static void test_tag_warnings_capped_and_merged(void **state) {
        _cleanup_free_ char *text = xmalloc(1000 * 16 + 16);
        _cleanup_(yaml_document_freep) YamlDocument *d = NULL;
        YamlDocument *dropin = parse("x: !odd 1\n");
        char *p = text;

        for (size_t i = 0; i < 1000; i++)
                p += sprintf(p, "k%zu: !t 1\n", i);
        d = parse(text);
        assert_int_equal(strv_length(d->warnings), YAML_WARNINGS_MAX + 1);
        assert_string_equal(d->warnings[YAML_WARNINGS_MAX], "test.yaml: more than 100 warnings, the rest are not shown");
        assert_int_equal(yaml_document_merge(d, dropin), 0);
        assert_int_equal(strv_length(d->warnings), YAML_WARNINGS_MAX + 2);
        assert_string_equal(d->warnings[YAML_WARNINGS_MAX + 1], "test.yaml:1: unsupported tag '!odd', ignoring");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_types_and_lines),
                cmocka_unit_test(test_dump_refuses_invalid_utf8),
                cmocka_unit_test(test_syntax_error_names_file_and_line),
                cmocka_unit_test(test_empty_and_only_first_document),
                cmocka_unit_test(test_alias_bomb_is_refused),
                cmocka_unit_test(test_alias_copy),
                cmocka_unit_test(test_merge_replaces_whole_sections),
                cmocka_unit_test(test_dump_roundtrip_keeps_everything),
                cmocka_unit_test(test_build_and_set),
                cmocka_unit_test(test_deep_nesting_refused),
                cmocka_unit_test(test_not_a_regular_file),
                cmocka_unit_test(test_size_cap),
                cmocka_unit_test(test_duplicate_keys),
                cmocka_unit_test(test_many_keys),
                cmocka_unit_test(test_node_cap),
                cmocka_unit_test(test_aliases),
                cmocka_unit_test(test_nul_in_scalar),
                cmocka_unit_test(test_tags),
                cmocka_unit_test(test_tag_warnings_capped_and_merged),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
