/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the flake loader: YAML parsing (aliases, nesting,
 * odd scalars), schema checks and the dump round trip. Whatever the input,
 * no crash, no leak, no undefined behaviour, and a document that loaded
 * dumps to text that loads again. Verdict: accepted when the document is a
 * valid flake. */
#include <stddef.h>
#include <stdint.h>

#include "flake.h"
#include "fuzz-verdict.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

FuzzVerdict fuzz_verdict;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *error = NULL, *text = NULL;
        YamlDocument *doc = NULL, *again = NULL;
        Flake *f = NULL;
        FlakeDiagnostics diag = {};

        log_set_max_level(LOG_EMERG);
        fuzz_verdict = FUZZ_REJECTED;
        if (yaml_document_load_string("fuzz.yaml", (const char *) data, size, &doc, &error) < 0)
                return 0;

        if (yaml_document_dump(doc, &text) >= 0) {
                if (yaml_document_load_string("dump.yaml", text, strlen(text), &again, NULL) < 0)
                        abort();    /* what we write must load */
                yaml_document_free(again);
        }

        if (flake_from_document(doc, "fuzz", "fuzz.yaml", &f, &diag) >= 0) {   /* takes doc */
                if (!f)
                        abort();        /* success hands out a flake */
                fuzz_verdict = FUZZ_ACCEPTED;
        }
        flake_free(f);
        flake_diagnostics_done(&diag);
        return 0;
}
