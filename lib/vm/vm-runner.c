/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdlib.h>

#include "vm-runner.h"

unsigned vm_agent_timeout_sec(void) {
        const char *e = getenv(VM_AGENT_TIMEOUT_ENV);
        char *end = NULL;
        unsigned long s;

        /* Ignored unless all digits (strtoul() would take blanks, a sign)
         * and at most a day. */
        if (!e || !isdigit((unsigned char) e[0]))
                return VM_AGENT_TIMEOUT_DEFAULT_SEC;
        s = strtoul(e, &end, 10);
        if (*end || s == 0 || s > 24 * 3600)
                return VM_AGENT_TIMEOUT_DEFAULT_SEC;
        return (unsigned) s;
}
