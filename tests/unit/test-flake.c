/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "flake.h"
#include "strv.h"

#define ORIGINAL FIXTURES "/original"

static Flake *load_ok_warnings(const char *dir, const char *name, size_t n_warnings) {
        Flake *f = NULL;
        FlakeDiagnostics diag = {};
        int r = flake_load(dir, name, &f, &diag);
        if (r < 0)
                fail_msg("loading %s/%s failed: %s", dir, name, diag.errors ? diag.errors[0] : "?");
        assert_int_equal(strv_length(diag.warnings), n_warnings);
        flake_diagnostics_done(&diag);
        return f;
}

static Flake *load_ok(const char *dir, const char *name) {
        return load_ok_warnings(dir, name, 0);
}

/* Interprets text as test.yaml; returns the result, diagnostics in *diag. */
static int from_string(const char *text, Flake **ret, FlakeDiagnostics *diag) {
        YamlDocument *doc = NULL;
        int r = yaml_document_load_string("test.yaml", text, strlen(text), &doc, NULL);
        assert_int_equal(r, 0);
        return flake_from_document(doc, "test", "test.yaml", ret, diag);
}

static void expect_error(const char *text, const char *message) {
        Flake *f = NULL;
        FlakeDiagnostics diag = {};

        assert_int_equal(from_string(text, &f, &diag), -EBADMSG);
        assert_null(f);
        assert_non_null(diag.errors);
        if (!strstr(diag.errors[0], message))
                fail_msg("expected '%s' in '%s'", message, diag.errors[0]);
        flake_diagnostics_done(&diag);
}

static void test_original_container(void **state) {
        _cleanup_(flake_freep) Flake *f = load_ok(ORIGINAL, "aws");

        assert_int_equal(f->engine, FLAKE_ENGINE_PODMAN);
        assert_string_equal(f->image, "registry.example.org/tools/aws-cli");
        assert_string_equal(f->target_app_path, "/usr/bin/aws");
        assert_string_equal(f->host_app_path, "/usr/bin/aws");
        assert_string_equal(f->runas, "root");
        assert_false(f->resume);
        assert_int_equal(strv_length(f->podman_opts), 2);
        assert_string_equal(f->podman_opts[0], "--rm");
        assert_null(f->base_container);
        assert_null(f->include_tar);
}

static void test_original_delta(void **state) {
        _cleanup_(flake_freep) Flake *f = load_ok(ORIGINAL, "joe");

        assert_string_equal(f->base_container, "basesystem");
        assert_true(f->check_host_dependencies);
        assert_true(f->resume);
        assert_int_equal(strv_length(f->layers), 2);
        assert_string_equal(f->layers[1], "editor-layer");
        assert_string_equal(f->include_tar[0], "/var/lib/flakes/joe-config.tar");
        assert_string_equal(f->include_path[0], "/etc/joe/joerc");
        assert_string_equal(f->podman_opts[0], "--volume %HOME:/home/%USER");
}

static void test_original_vm(void **state) {
        _cleanup_(flake_freep) Flake *f = load_ok(ORIGINAL, "mybash");

        assert_int_equal(f->engine, FLAKE_ENGINE_FIRECRACKER);
        assert_string_equal(f->image, "leap");
        assert_true(f->resume);
        assert_false(f->force_vsock);
        assert_int_equal(f->overlay_size, 20ULL << 30);
        assert_int_equal(strv_length(f->boot_args), 8);
        assert_string_equal(f->kernel_image_path, "/var/lib/firecracker/images/leap/kernel");
        assert_string_equal(f->initrd_path, "/var/lib/firecracker/images/leap/initrd");
        assert_int_equal(f->mem_size_mib, 4096);
        assert_int_equal(f->vcpu_count, 2);
        assert_string_equal(f->cache_type, "Writeback");
}

static void test_minimal_vm_and_template(void **state) {
        _cleanup_(flake_freep) Flake *f = load_ok(ORIGINAL, "minimal-vm");
        _cleanup_(flake_freep) Flake *t = load_ok(ORIGINAL, "container-flake");

        assert_int_equal(f->overlay_size, 0);
        assert_null(f->initrd_path);
        assert_string_equal(t->image, "name");
}

static void test_dropins_merge(void **state) {
        _cleanup_(flake_freep) Flake *f = load_ok_warnings(FIXTURES "/dropins", "app", 1);  /* extra_key */

        /* 10-image.yaml replaced the whole container section ... */
        assert_string_equal(f->image, "second-image");
        assert_string_equal(f->target_app_path, "/opt/app");
        assert_null(f->runas);
        /* ... 20-include.yaml the include section; the subdirectory is ignored */
        assert_string_equal(f->include_tar[0], "/tmp/a.tar");
        assert_null(f->include_path);
        assert_non_null(yaml_lookup(f->doc->root, "extra_key"));
}

static void test_missing(void **state) {
        Flake *f = NULL;
        assert_int_equal(flake_load(ORIGINAL, "does-not-exist", &f, NULL), -ENOENT);
}

static void test_errors(void **state) {
        expect_error("- a\n- b\n", "test.yaml:1: expected a mapping");
        expect_error("include: ~\n", "neither a 'container' nor a 'vm' section");
        expect_error("container: {name: a}\nvm: {name: b}\n", "not both");
        expect_error("container:\n  host_app_path: /usr/bin/x\n", "required key 'container.name' is missing");
        expect_error("container:\n  name: [a, b]\n", "test.yaml:2: 'container.name' must be a string, not a list");
        expect_error("container:\n  name: a\n  runtime:\n    resume: maybe\n",
                     "test.yaml:4: 'container.runtime.resume' must be true or false");
        expect_error("container:\n  name: a\n  runtime: yes\n", "test.yaml:3: 'container.runtime' must be a mapping");
        expect_error("container:\n  name: a\n  host_app_path: relative/x\n", "must be an absolute path");
        expect_error("container:\n  name: a\n  runtime: {resume: true, attach: true}\n", "cannot both be true");
        expect_error("vm:\n  name: a\n  runtime:\n    firecracker:\n      rootfs_image_path: /r\n      kernel_image_path: /k\n"
                     "      overlay_size: 20x\n", "test.yaml:7: 'vm.runtime.firecracker.overlay_size' is not a valid size");
        expect_error("vm:\n  name: a\n  runtime:\n    firecracker:\n      rootfs_image_path: /r\n      kernel_image_path: /k\n"
                     "      vcpu_count: -2\n", "must be an integer of at least 1");
        expect_error("vm:\n  name: a\n  runtime:\n    firecracker:\n      rootfs_image_path: /r\n",
                     "required key 'vm.runtime.firecracker.kernel_image_path' is missing");
        expect_error("vm:\n  name: a\n  runtime:\n    firecracker:\n      rootfs_image_path: /r\n      kernel_image_path: /k\n"
                     "      cache_type: writeback\n", "must be Writeback or Unsafe");
}

static void test_all_errors_reported(void **state) {
        Flake *f = NULL;
        FlakeDiagnostics diag = {};

        assert_int_equal(from_string("container:\n  name: [x]\n  layers: {a: b}\n  runtime: {resume: 3}\n", &f, &diag), -EBADMSG);
        assert_int_equal(strv_length(diag.errors), 3);
        flake_diagnostics_done(&diag);
}

static void test_unknown_keys_warn(void **state) {
        _cleanup_(flake_freep) Flake *f = NULL;
        FlakeDiagnostics diag = {};

        assert_int_equal(from_string("container:\n  name: a\n  colour: blue\n  runtime: {speed: 3}\nmystery: 1\n", &f, &diag), 0);
        assert_non_null(f);
        assert_int_equal(strv_length(diag.warnings), 3);
        assert_string_equal(diag.warnings[0], "test.yaml:3: unknown key 'container.colour', ignoring");
        assert_string_equal(diag.warnings[1], "test.yaml:4: unknown key 'container.runtime.speed', ignoring");
        assert_string_equal(diag.warnings[2], "test.yaml:5: unknown key 'mystery', ignoring");
        flake_diagnostics_done(&diag);
}

/* 100,000 unknown keys are 100 warnings and one line saying the rest were
 * left out (collecting them all made loading quadratic). */
static void test_problems_capped(void **state) {
        _cleanup_free_ char *text = xmalloc(100000 * 16 + 64);
        _cleanup_(flake_freep) Flake *f = NULL;
        FlakeDiagnostics diag = {};
        char *p = text;

        p = stpcpy(p, "container:\n  name: a\n");
        for (size_t i = 0; i < 100000; i++)
                p += sprintf(p, "k%zu: %zu\n", i, i);
        assert_int_equal(from_string(text, &f, &diag), 0);
        assert_int_equal(strv_length(diag.warnings), FLAKE_PROBLEMS_MAX + 1);
        assert_string_equal(diag.warnings[0], "test.yaml:3: unknown key 'k0', ignoring");
        assert_string_equal(diag.warnings[FLAKE_PROBLEMS_MAX - 1], "test.yaml:102: unknown key 'k99', ignoring");
        assert_string_equal(diag.warnings[FLAKE_PROBLEMS_MAX],
                            "test.yaml: more than 100 problems of this kind, the rest are not shown");
        flake_diagnostics_done(&diag);
}

/* The loader's warnings (tags) reach the diagnostics, first and with their
 * line; the flake still loads. */
static void test_tag_warnings(void **state) {
        _cleanup_(flake_freep) Flake *f = NULL;
        FlakeDiagnostics diag = {};

        assert_int_equal(from_string("container:\n  name: !!binary aw1n\n  runtime:\n    resume: !!str true\n", &f, &diag), -EBADMSG);
        assert_int_equal(strv_length(diag.warnings), 1);
        assert_string_equal(diag.warnings[0], "test.yaml:2: unsupported tag '!!binary', ignoring");
        /* !!str true is a string, not a boolean */
        assert_string_equal(diag.errors[0], "test.yaml:4: 'container.runtime.resume' must be true or false");
        flake_diagnostics_done(&diag);

        assert_int_equal(from_string("container:\n  name: !img x\n", &f, &diag), 0);
        assert_string_equal(f->image, "x");
        assert_string_equal(diag.warnings[0], "test.yaml:2: unsupported tag '!img', ignoring");
        flake_diagnostics_done(&diag);
}

static void test_engine_names(void **state) {
        assert_string_equal(flake_engine_to_string(FLAKE_ENGINE_PODMAN), "podman");
        assert_int_equal(flake_engine_from_string("firecracker"), FLAKE_ENGINE_FIRECRACKER);
        assert_int_equal(flake_engine_from_string("docker"), _FLAKE_ENGINE_INVALID);
        assert_string_equal(flake_engine_pilot(FLAKE_ENGINE_FIRECRACKER), "firecracker-pilot");
}

static void test_list_names(void **state) {
        _cleanup_strv_free_ char **names = NULL;

        assert_int_equal(flake_list_names(ORIGINAL, &names), 0);
        assert_int_equal(strv_length(names), 5);
        assert_string_equal(names[0], "aws");
        names = strv_free(names);
        assert_int_equal(flake_list_names("/nonexistent", &names), 0);
        assert_int_equal(strv_length(names), 0);
}

static void test_list_dropins(void **state) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ bool *has = NULL;
        Flake *f = NULL;

        /* One read of the dir says which flakes have a NAME.d/. */
        assert_int_equal(flake_list(FIXTURES "/dropins", &names, &has), 0);
        assert_int_equal(strv_length(names), 1);
        assert_string_equal(names[0], "app");
        assert_true(has[0]);
        names = strv_free(names);
        free(has);
        has = NULL;

        /* Names in the order of their files; a NAME.d without NAME.yaml,
         * and one name the prefix of another, change nothing. */
        char dir[] = "/tmp/test-flake-list.XXXXXX";
        assert_non_null(mkdtemp(dir));
        const char *entries[] = { "a.yaml", "a-b.yaml", "c.yaml", "a.d", "b.d" };
        for (size_t i = 0; i < ELEMENTSOF(entries); i++) {
                _cleanup_free_ char *p = path_join(dir, entries[i]);
                if (endswith(p, ".d"))
                        assert_int_equal(mkdir(p, 0755), 0);
                else
                        assert_int_equal(write_file_atomic(p, "", 0, 0644), 0);
        }
        assert_int_equal(flake_list(dir, &names, &has), 0);
        assert_int_equal(strv_length(names), 3);
        assert_string_equal(names[0], "a-b");
        assert_false(has[0]);
        assert_string_equal(names[1], "a");
        assert_true(has[1]);
        assert_string_equal(names[2], "c");
        assert_false(has[2]);
        for (size_t i = 0; i < ELEMENTSOF(entries); i++) {
                _cleanup_free_ char *p = path_join(dir, entries[i]);
                assert_int_equal(endswith(p, ".d") ? rmdir(p) : unlink(p), 0);
        }
        assert_int_equal(rmdir(dir), 0);

        /* Told there are none, the loader does not look: the drop-in that
         * replaces the container section is not merged. */
        assert_int_equal(flake_load_listed(FIXTURES "/dropins", "app", false, &f, NULL), 0);
        assert_string_not_equal(f->image, "second-image");
        flake_free(f);
}

static void test_builtin_templates_parse(void **state) {
        const char *templates[] = { flake_template_container, flake_template_firecracker };

        for (size_t i = 0; i < 2; i++) {
                YamlDocument *doc = NULL;
                assert_int_equal(yaml_document_load_string("t", templates[i], strlen(templates[i]), &doc, NULL), 0);
                assert_non_null(doc->root);
                yaml_document_free(doc);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_original_container),
                cmocka_unit_test(test_original_delta),
                cmocka_unit_test(test_original_vm),
                cmocka_unit_test(test_minimal_vm_and_template),
                cmocka_unit_test(test_dropins_merge),
                cmocka_unit_test(test_missing),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_all_errors_reported),
                cmocka_unit_test(test_problems_capped),
                cmocka_unit_test(test_tag_warnings),
                cmocka_unit_test(test_unknown_keys_warn),
                cmocka_unit_test(test_engine_names),
                cmocka_unit_test(test_list_names),
                cmocka_unit_test(test_list_dropins),
                cmocka_unit_test(test_builtin_templates_parse),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
