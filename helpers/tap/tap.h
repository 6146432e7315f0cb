/* SPDX-License-Identifier: MIT */
#pragma once

/* flake-tap: the host side of a VM flake's network, one TAP per instance.
 *
 * Everything start creates is recorded in a state file before it is created
 * (RUNTIME_DIR/tap/<tap>.state), so stop removes exactly that, even if the
 * registration was edited or removed in between. The nftables table
 * "ip flake_pilot" is a pure function of all state files: every change
 * replaces it in one atomic transaction. */

#include <stdbool.h>
#include <sys/types.h>

#include "network-config.h"

#define TAP_NFT_TABLE "flake_pilot"

typedef struct TapState {
        char *instance;
        char *tap;
        NetworkConfig config;           /* what was applied */
        uid_t owner;                    /* (uid_t) -1: none (CAP_NET_ADMIN only) */
} TapState;

void tap_state_done(TapState *s);

/* ---- tap-state.c ---- */
char *tap_state_dir(void);
int tap_state_read(const char *tap, TapState *ret);     /* -ENOENT: not started */
int tap_state_write(const TapState *s);
int tap_state_remove(const char *tap);
/* Every recorded instance, for the nft ruleset. */
int tap_state_read_all(TapState **ret, size_t *ret_n);
bool tap_state_equal(const TapState *a, const TapState *b);

/* ---- tap-link.c (TUN ioctls and libnl-route-3) ---- */
/* 1 if the link exists (*ret_kind: its rtnetlink kind, "" for none), 0 if not. */
int link_lookup(const char *name, char **ret_kind);
int tap_create(const char *name, uid_t owner);
int link_delete(const char *name);
int link_set_up(const char *name, const char *master);
int link_add_address(const char *name, const InAddrPrefix *a);

/* ---- tap-nft.c (libnftables) ---- */
/* The ruleset for the given instances; replaces the table atomically. */
char *nft_ruleset(const TapState *states, size_t n);
int nft_apply(const char *ruleset);
/* Can libnftables talk to the kernel at all? */
int nft_check(void);
