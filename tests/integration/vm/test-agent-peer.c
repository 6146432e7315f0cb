/* SPDX-License-Identifier: MIT */
/* sci's agent accepts vsock sessions from the host only (issue 12.10): a
 * process in the guest (loopback CID 1, or its own CID) or another VM must
 * not get a session, which runs programs as root; in a container,
 * flake-agent's Unix socket is for root and its own user only. Compiled from
 * sci's own sources. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/un.h>
#include <linux/vm_sockets.h>

#include "agent-server.h"

static bool allowed_cid(unsigned cid) {
        struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = 1024 };
        return agent_peer_allowed((struct sockaddr *) &a, sizeof(a));
}

static void test_host_only(void **state) {
        assert_true(allowed_cid(VMADDR_CID_HOST));
        assert_false(allowed_cid(VMADDR_CID_LOCAL));
        assert_false(allowed_cid(VMADDR_CID_HYPERVISOR));
        assert_false(allowed_cid(3));           /* the guest's own CID */
        assert_false(allowed_cid(4));           /* another VM */
        assert_false(allowed_cid(VMADDR_CID_ANY));
}

static void test_malformed_peer(void **state) {
        struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST };
        struct sockaddr_un u = { .sun_family = AF_UNIX };

        /* A truncated address is no proof of anything. */
        assert_false(agent_peer_allowed((struct sockaddr *) &a, sizeof(a) - 1));
        assert_false(agent_peer_allowed((struct sockaddr *) &a, 0));
        assert_false(agent_peer_allowed(NULL, sizeof(a)));
        /* The family must be AF_VSOCK, whatever the bytes say. */
        memcpy(&u, &a, sizeof(a) < sizeof(u) ? sizeof(a) : sizeof(u));
        u.sun_family = AF_UNIX;
        assert_false(agent_peer_allowed((struct sockaddr *) &u, sizeof(u)));
}

/* flake-agent in a container (check_peer): root, that is the pilot on the
 * host, and the agent's own user; never anybody else, so that no process
 * in the container gets a program run as another user than its own. */
static void test_unix_peer(void **state) {
        assert_true(agent_unix_peer_allowed(0, 0));
        assert_true(agent_unix_peer_allowed(0, 1000));
        assert_true(agent_unix_peer_allowed(1000, 1000));
        assert_false(agent_unix_peer_allowed(1000, 0));
        assert_false(agent_unix_peer_allowed(1001, 1000));
        assert_false(agent_unix_peer_allowed(65534, 1000));
        /* An unmapped uid (overflowuid) is nobody's. */
        assert_false(agent_unix_peer_allowed(65534, 0));
        assert_false(agent_unix_peer_allowed((uid_t) -1, 1000));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_host_only),
                cmocka_unit_test(test_malformed_peer),
                cmocka_unit_test(test_unix_peer),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
