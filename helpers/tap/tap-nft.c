/* SPDX-License-Identifier: MIT */
#include <nftables/libnftables.h>
#include <stdarg.h>

#include "log.h"
#include "tap.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nft_ctx *, nft_ctx_free);

/* Interface names are validated by network_ifname_is_valid() ([A-Za-z0-9_.@-]),
 * so they can be quoted into the ruleset as they are. */
static void append(char **buf, const char *fmt, ...) _printf_(2, 3);
static void append(char **buf, const char *fmt, ...) {
        _cleanup_free_ char *s = NULL, *old = *buf;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                abort();
        va_end(ap);
        *buf = xasprintf("%s%s", strempty(old), s);
}

char *nft_ruleset(const TapState *states, size_t n) {
        _cleanup_free_ char *masq = NULL, *fwd = NULL;
        char *buf = NULL;
        size_t n_nat = 0;

        /* "add; delete; add {...}" in one transaction: replaces whatever the
         * table held (or creates it), and either all of it applies or none. */
        append(&buf, "table ip " TAP_NFT_TABLE "\ndelete table ip " TAP_NFT_TABLE "\n");

        for (size_t i = 0; i < n; i++) {
                const TapState *s = states + i;
                InAddrPrefix net;
                _cleanup_free_ char *guest = NULL;

                if (s->config.mode != NETWORK_MODE_NAT)
                        continue;
                net = (InAddrPrefix) { in_addr_prefix_network(&s->config.guest_address), s->config.guest_address.prefixlen };
                guest = in_addr_prefix_to_string(&net);
                append(&masq, "\t\tip saddr %s oifname \"%s\" masquerade comment \"%s\"\n",
                       guest, s->config.uplink, s->tap);
                append(&fwd, "\t\tiifname \"%s\" oifname \"%s\" accept comment \"%s\"\n",
                       s->tap, s->config.uplink, s->tap);
                append(&fwd, "\t\tiifname \"%s\" oifname \"%s\" ct state established,related accept comment \"%s\"\n",
                       s->config.uplink, s->tap, s->tap);
                n_nat++;
        }
        if (n_nat == 0)
                return buf;

        append(&buf,
               "table ip " TAP_NFT_TABLE " {\n"
               "\tchain postrouting {\n"
               "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
               "%s"
               "\t}\n"
               "\tchain forward {\n"
               "\t\ttype filter hook forward priority filter; policy accept;\n"
               "%s"
               "\t}\n"
               "}\n", masq, fwd);
        return buf;
}

static int nft_run(const char *cmds, const char *what) {
        _cleanup_(nft_ctx_freep) struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
        _cleanup_free_ char *err = NULL;
        char *nl;

        if (!ctx)
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "nftables is unavailable: cannot create a libnftables context");
        if (nft_ctx_buffer_output(ctx) < 0 || nft_ctx_buffer_error(ctx) < 0)
                abort();
        if (nft_run_cmd_from_buffer(ctx, cmds) == 0)
                return 0;

        /* One line for the user: libnftables' first one names the cause. */
        err = xstrdup(strempty(nft_ctx_get_error_buffer(ctx)));
        nl = strchr(err, '\n');
        if (nl)
                *nl = '\0';
        return log_error_errno(SYNTHETIC_ERRNO(EIO), "%s: %s", what, isempty(err) ? "unknown error" : err);
}

int nft_apply(const char *ruleset) {
        log_debug("Applying nftables ruleset:\n%s", ruleset);
        return nft_run(ruleset, "nftables refused the ruleset of table ip " TAP_NFT_TABLE);
}

int nft_check(void) {
        /* Listing needs the same netlink access as changing. */
        return nft_run("list tables", "nftables is unavailable");
}
