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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_types_and_lines),
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
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
