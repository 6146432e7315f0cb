/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/route.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sci-modules.h"
#include "sci-net.h"
#include "sci-util.h"

#define IP_FIELDS_MAX 10
/* How long a NIC may take to show up after its driver was loaded. */
#define DEVICE_WAIT_MS 3000

/* ---- parsing (pure) ---- */

static int parse_addr(const char *s, struct in_addr *ret) {
        struct in_addr a;

        if (!s || inet_pton(AF_INET, s, &a) != 1)
                return -EINVAL;
        *ret = a;
        return 0;
}

static struct in_addr prefix_to_mask(unsigned prefixlen) {
        return (struct in_addr) { htonl(prefixlen == 0 ? 0 : 0xffffffffu << (32 - prefixlen)) };
}

static int parse_prefixlen(const char *s, unsigned *ret) {
        char *end;
        unsigned long n;

        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        n = strtoul(s, &end, 10);
        if (errno != 0 || *end || n > 32)
                return -EINVAL;
        *ret = (unsigned) n;
        return 0;
}

/* A dotted quad with contiguous ones, or a prefix length (dracut allows
 * both). */
static int parse_netmask(const char *s, struct in_addr *ret) {
        struct in_addr m;
        unsigned p;
        uint32_t h;

        if (parse_prefixlen(s, &p) == 0) {
                *ret = prefix_to_mask(p);
                return 0;
        }
        if (parse_addr(s, &m) < 0)
                return -EINVAL;
        h = ntohl(m.s_addr);
        if (h & (~h >> 1))      /* a one after a zero */
                return -EINVAL;
        *ret = m;
        return 0;
}

/* What the kernel's ipconfig falls back to for an empty netmask. */
static struct in_addr classful_mask(struct in_addr a) {
        uint32_t h = ntohl(a.s_addr);

        if (h >> 31 == 0)
                return prefix_to_mask(8);
        if (h >> 30 == 2)
                return prefix_to_mask(16);
        return prefix_to_mask(24);
}

static bool ifname_ok(const char *s) {
        size_t l = strlen(s);

        if (l >= IFNAMSIZ || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return false;
        for (; *s; s++)
                if (*s == '/' || *s == ':' || *s <= ' ')
                        return false;
        return true;
}

static bool hostname_ok(const char *s) {
        size_t l = strlen(s);

        if (l == 0 || l > 64 || *s == '-' || *s == '.')
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                      *s == '-' || *s == '.'))
                        return false;
        return true;
}

/* 1: static, 0: dhcp, -EOPNOTSUPP: a method we do not do, -EINVAL. */
static int autoconf_kind(const char *s) {
        static const char * const unsupported[] = { "bootp", "rarp", "both", "dhcp6", "auto6", "ibft", "either6" };

        if (!*s || strcmp(s, "off") == 0 || strcmp(s, "none") == 0)
                return 1;
        if (strcmp(s, "dhcp") == 0 || strcmp(s, "on") == 0 || strcmp(s, "any") == 0)
                return 0;
        for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
                if (strcmp(s, unsupported[i]) == 0)
                        return -EOPNOTSUPP;
        return -EINVAL;
}

int sci_net_parse_ip(const char *value, SciNetConfig *c) {
        char buf[256], *f[IP_FIELDS_MAX] = {}, *p;
        SciNetConfig n = {};
        size_t nf = 0;
        int k;

        if (!value || strlen(value) >= sizeof(buf))
                return -EINVAL;
        strcpy(buf, value);
        for (p = buf; nf < IP_FIELDS_MAX; ) {
                f[nf++] = p;
                p = strchr(p, ':');
                if (!p)
                        break;
                *p++ = 0;
        }
        if (p)                  /* more fields than the kernel knows */
                return -EINVAL;

        if (nf <= 2 && parse_addr(f[0], &(struct in_addr) {}) < 0) {
                /* ip=off|none|dhcp|on|any|bootp|..., or dracut's
                 * ip=<device>:<method> */
                const char *method = nf == 2 ? f[1] : f[0];

                if (!*method)
                        return -EINVAL;
                k = autoconf_kind(method);
                if (k < 0)
                        return k;
                if (nf == 1 && k == 1) {
                        c->configured = c->dhcp = false;
                        return 0;
                }
                if (nf == 2 && (!*f[0] || !ifname_ok(f[0]) || k == 1))
                        return -EINVAL;
                n.dhcp = true;
                if (nf == 2)
                        strcpy(n.device, f[0]);
        } else {
                k = autoconf_kind(nf > 6 ? f[6] : "");
                if (k < 0)
                        return k;
                n.dhcp = k == 0;
                if (nf > 5 && *f[5]) {
                        if (!ifname_ok(f[5]))
                                return -EINVAL;
                        strcpy(n.device, f[5]);
                }
                if (nf > 4 && *f[4]) {
                        if (!hostname_ok(f[4]))
                                return -EINVAL;
                        strcpy(n.hostname, f[4]);
                }
                if (!n.dhcp) {
                        if (parse_addr(f[0], &n.address) < 0 || n.address.s_addr == INADDR_ANY)
                                return -EINVAL;
                        if (nf > 2 && *f[2] && parse_addr(f[2], &n.gateway) < 0)
                                return -EINVAL;
                        if (nf > 3 && *f[3]) {
                                if (parse_netmask(f[3], &n.netmask) < 0)
                                        return -EINVAL;
                        } else
                                n.netmask = classful_mask(n.address);
                }
                /* f[1] is the boot server, f[9] an NTP server: no use here. */
                for (size_t i = 7; i < nf && i < 9; i++)
                        if (*f[i] && parse_addr(f[i], &(struct in_addr) {}) < 0)
                                return -EINVAL;
        }

        n.configured = true;
        /* Keep what other arguments gathered: nameservers and routes. */
        memcpy(n.dns, c->dns, sizeof(n.dns));
        n.n_dns = c->n_dns;
        memcpy(n.routes, c->routes, sizeof(n.routes));
        n.n_routes = c->n_routes;
        *c = n;
        for (size_t i = 7; i < nf && i < 9; i++)
                if (*f[i])
                        (void) sci_net_add_nameserver(c, f[i]);
        return 0;
}

int sci_net_add_nameserver(SciNetConfig *c, const char *value) {
        struct in_addr a;

        if (parse_addr(value, &a) < 0)
                return -EINVAL;
        for (size_t i = 0; i < c->n_dns; i++)
                if (c->dns[i].s_addr == a.s_addr)
                        return 0;
        if (c->n_dns >= SCI_NET_DNS_MAX)
                return -E2BIG;
        c->dns[c->n_dns++] = a;
        return 0;
}

int sci_net_add_route(SciNetConfig *c, const char *value) {
        char buf[128], *slash, *gw, *dev = NULL;
        SciRoute r = {};

        if (!value || strlen(value) >= sizeof(buf))
                return -EINVAL;
        strcpy(buf, value);
        gw = strchr(buf, ':');
        if (!gw)
                return -EINVAL;
        *gw++ = 0;
        dev = strchr(gw, ':');
        if (dev)
                *dev++ = 0;
        slash = strchr(buf, '/');
        if (!slash)
                return -EINVAL;
        *slash++ = 0;
        if (parse_addr(buf, &r.net) < 0 || parse_prefixlen(slash, &r.prefixlen) < 0)
                return -EINVAL;
        r.net.s_addr &= prefix_to_mask(r.prefixlen).s_addr;
        if (*gw && parse_addr(gw, &r.gateway) < 0)
                return -EINVAL;
        if (dev && *dev) {
                if (!ifname_ok(dev))
                        return -EINVAL;
                strcpy(r.device, dev);
        }
        if (c->n_routes >= SCI_NET_ROUTES_MAX)
                return -E2BIG;
        c->routes[c->n_routes++] = r;
        return 0;
}

void sci_net_cmdline_cb(const char *key, const char *value, void *userdata) {
        SciNetConfig *c = userdata;
        int r;

        if (strcmp(key, "ip") == 0) {
                r = sci_net_parse_ip(value, c);
                if (r == -EOPNOTSUPP)
                        sci_log("ip=%s: only static addresses and dhcp are supported, ignored", value);
                else if (r < 0)
                        sci_log("ip=%s: not <client-ip>:<server-ip>:<gw-ip>:<netmask>:<hostname>:<device>:<autoconf>, ignored",
                                value ?: "");
        } else if (strcmp(key, "nameserver") == 0) {
                r = sci_net_add_nameserver(c, value);
                if (r < 0)
                        sci_log("nameserver=%s: %s, ignored", value ?: "",
                                r == -E2BIG ? "too many nameservers" : "not an IPv4 address");
        } else if (strcmp(key, "rd.route") == 0) {
                r = sci_net_add_route(c, value);
                if (r < 0)
                        sci_log("rd.route=%s: %s, ignored", value ?: "",
                                r == -E2BIG ? "too many routes" : "not <net>/<prefix>:[<gateway>][:<device>]");
        }
}

/* ---- applying it (ioctls: no netlink library in a static init) ---- */

static void ifr_name_set(struct ifreq *ifr, const char *dev) {
        size_t l = strnlen(dev, IFNAMSIZ - 1);

        memcpy(ifr->ifr_name, dev, l);
        ifr->ifr_name[l] = 0;
}

static int if_set_up(int fd, const char *dev) {
        struct ifreq ifr = {};

        ifr_name_set(&ifr, dev);
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return -errno;
        ifr.ifr_flags |= IFF_UP;
        return ioctl(fd, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

static int if_set_addr(int fd, const char *dev, unsigned long req, struct in_addr a) {
        struct ifreq ifr = {};
        struct sockaddr_in *sin = (struct sockaddr_in *) &ifr.ifr_addr;

        ifr_name_set(&ifr, dev);
        sin->sin_family = AF_INET;
        sin->sin_addr = a;
        return ioctl(fd, req, &ifr) < 0 ? -errno : 0;
}

static int route_add(int fd, const char *dev, struct in_addr dst, struct in_addr mask, struct in_addr gw) {
        struct rtentry rt = {
                .rt_flags = RTF_UP | (gw.s_addr != INADDR_ANY ? RTF_GATEWAY : 0),
                .rt_dev = (char *) dev,
        };

        *(struct sockaddr_in *) &rt.rt_dst = (struct sockaddr_in) { .sin_family = AF_INET, .sin_addr = dst };
        *(struct sockaddr_in *) &rt.rt_genmask = (struct sockaddr_in) { .sin_family = AF_INET, .sin_addr = mask };
        *(struct sockaddr_in *) &rt.rt_gateway = (struct sockaddr_in) { .sin_family = AF_INET, .sin_addr = gw };
        if (ioctl(fd, SIOCADDRT, &rt) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* The named device, or the first one that is not a loopback. Waits a
 * little: a NIC can appear shortly after its driver was loaded. */
static int find_device(int fd, const char *want, char ret[static IFNAMSIZ]) {
        for (unsigned waited = 0;; waited += 50) {
                if (*want) {
                        if (if_nametoindex(want) > 0) {
                                strcpy(ret, want);
                                return 0;
                        }
                } else {
                        struct if_nameindex *l = if_nameindex();
                        bool found = false;

                        for (struct if_nameindex *i = l; i && i->if_index; i++) {
                                struct ifreq ifr = {};

                                ifr_name_set(&ifr, i->if_name);
                                if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_LOOPBACK)) {
                                        memcpy(ret, ifr.ifr_name, IFNAMSIZ);
                                        found = true;
                                        break;
                                }
                        }
                        if (l)
                                if_freenameindex(l);
                        if (found)
                                return 0;
                }
                if (waited >= DEVICE_WAIT_MS)
                        return -ENODEV;
                usleep(50 * 1000);
        }
}

static int apply_address(int fd, const char *dev, struct in_addr a, struct in_addr mask, struct in_addr gw) {
        char as[INET_ADDRSTRLEN], gs[INET_ADDRSTRLEN];
        int r;

        inet_ntop(AF_INET, &a, as, sizeof(as));
        r = if_set_addr(fd, dev, SIOCSIFADDR, a);
        if (r == 0)
                r = if_set_addr(fd, dev, SIOCSIFNETMASK, mask);
        if (r < 0) {
                sci_log("%s: cannot set the address %s: %s", dev, as, strerror(-r));
                return r;
        }
        r = if_set_up(fd, dev);
        if (r < 0) {
                sci_log("%s: cannot bring it up: %s", dev, strerror(-r));
                return r;
        }
        if (gw.s_addr != INADDR_ANY) {
                inet_ntop(AF_INET, &gw, gs, sizeof(gs));
                r = route_add(fd, dev, (struct in_addr) {}, (struct in_addr) {}, gw);
                if (r < 0) {
                        sci_log("%s: cannot add the default route via %s: %s", dev, gs, strerror(-r));
                        return r;
                }
        }
        sci_dbg("%s: %s/%d%s%s", dev, as, __builtin_popcount(mask.s_addr),
                gw.s_addr != INADDR_ANY ? " via " : "", gw.s_addr != INADDR_ANY ? gs : "");
        return 0;
}

static const char *find_udhcpc(void) {
        static const char * const paths[] = { "/sbin/udhcpc", "/usr/sbin/udhcpc", "/bin/udhcpc", "/usr/bin/udhcpc" };

        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
                if (access(paths[i], X_OK) == 0)
                        return paths[i];
        return NULL;
}

/* busybox udhcpc with sci as its event script. It tries for about 8 s in
 * the foreground; then it goes to the background (lease or not), where it
 * keeps trying and renews the lease for a long-running (resume) VM. */
static int run_dhcp(int fd, const SciNetConfig *c, const char *dev, const char *script) {
        const char *udhcpc = find_udhcpc();
        struct ifreq ifr = {};
        int status;
        pid_t pid;

        if (!udhcpc) {
                sci_log("ip=dhcp: the image has no DHCP client (busybox udhcpc), %s stays unconfigured", dev);
                return -ENOENT;
        }
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                sigset_t none;

                sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                /* nameserver= on the command line wins over the lease's. */
                if (c->n_dns > 0)
                        (void) setenv("SCI_KEEP_RESOLV", "1", 1);
                execl(udhcpc, "udhcpc", "-i", dev, "-s", script, "-t", "4", "-T", "2", "-b",
                      sci_debug ? "-v" : "-q", (char *) NULL);
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        ifr_name_set(&ifr, dev);
        if (ioctl(fd, SIOCGIFADDR, &ifr) < 0) {
                sci_log("ip=dhcp: no lease on %s yet, udhcpc keeps trying in the background", dev);
                return -EAGAIN;
        }
        return 0;
}

int sci_net_apply(const SciNetConfig *c, const char *script) {
        char dev[IFNAMSIZ] = {};
        int fd, r = 0, k;

        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                sci_log("no IPv4 socket: %s", strerror(errno));
                return -errno;
        }
        /* Apps expect localhost, network or not. */
        k = if_set_up(fd, "lo");
        if (k < 0)
                sci_log("lo: cannot bring it up: %s", strerror(-k));

        if (*c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0)
                sci_log("cannot set the hostname %s: %s", c->hostname, strerror(errno));

        if (c->configured) {
                r = find_device(fd, c->device, dev);
                if (r < 0) {
                        if (*c->device)
                                sci_log("ip=: network device %s not found (is its driver, e.g. virtio_net, loaded?)",
                                        c->device);
                        else
                                sci_log("ip=: no network device found (is its driver, e.g. virtio_net, loaded?)");
                        goto out;
                }
                if (c->dhcp) {
                        k = if_set_up(fd, dev);
                        r = k < 0 ? k : run_dhcp(fd, c, dev, script);
                } else
                        r = apply_address(fd, dev, c->address, c->netmask, c->gateway);
        }

        for (size_t i = 0; i < c->n_routes; i++) {
                const SciRoute *rt = &c->routes[i];
                const char *d = *rt->device ? rt->device : dev;
                char ns[INET_ADDRSTRLEN];

                inet_ntop(AF_INET, &rt->net, ns, sizeof(ns));
                if (!*d) {
                        sci_log("rd.route=%s/%u: no device (no ip= and none given), ignored", ns, rt->prefixlen);
                        continue;
                }
                k = route_add(fd, d, rt->net, prefix_to_mask(rt->prefixlen), rt->gateway);
                if (k < 0) {
                        sci_log("rd.route=%s/%u on %s: %s", ns, rt->prefixlen, d, strerror(-k));
                        if (r == 0)
                                r = k;
                }
        }
out:
        close(fd);
        return r;
}

/* ---- resolv.conf ---- */

static int write_file(const char *path, const char *text, bool atomic) {
        char tmp[PATH_MAX];
        size_t l = strlen(text);
        int fd;

        snprintf(tmp, sizeof(tmp), "%s.sci~", path);
        fd = open(atomic ? tmp : path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        if (write(fd, text, l) != (ssize_t) l) {
                int r = errno ? -errno : -EIO;
                close(fd);
                if (atomic)
                        (void) unlink(tmp);
                return r;
        }
        close(fd);
        /* rename() also replaces a symlink (e.g. to systemd-resolved's
         * file) instead of writing through it. */
        if (atomic && rename(tmp, path) < 0) {
                int r = -errno;
                (void) unlink(tmp);
                /* Something is mounted on it (our own earlier bind mount,
                 * a DHCP renewal): write into it. */
                return r == -EBUSY ? write_file(path, text, false) : r;
        }
        return 0;
}

/* /etc on a read-only root gets a writable layer: an overlay whose upper
 * directory is on the /run tmpfs. For an /etc/resolv.conf that is missing
 * or a symlink (to systemd-resolved's or netconfig's file in /run, which
 * nobody creates in a flake VM): a bind mount needs an existing file to
 * cover, an overlay does not. */
static int overlay_etc(void) {
        static const char opts[] = "lowerdir=/etc,upperdir=/run/sci/etc/upper,workdir=/run/sci/etc/work";

        (void) mkdir("/run/sci/etc", 0755);
        (void) mkdir("/run/sci/etc/upper", 0755);
        (void) mkdir("/run/sci/etc/work", 0755);
        if (mount("overlay", "/etc", "overlay", 0, opts) == 0)
                return 0;
        if (errno != ENODEV)
                return -errno;
        if (sci_modprobe("overlay") < 0)
                return -ENODEV;
        return mount("overlay", "/etc", "overlay", 0, opts) < 0 ? -errno : 0;
}

static int write_resolv_read_only(const char *text) {
        struct stat st;
        int r;

        (void) mkdir("/run/sci", 0755);
        if (lstat("/etc/resolv.conf", &st) == 0 && S_ISREG(st.st_mode)) {
                /* A file on the /run tmpfs, mounted over the image's. */
                bool mounted = access("/run/sci/resolv.conf", F_OK) == 0;      /* by an earlier call */
                r = write_file("/run/sci/resolv.conf", text, false);
                if (r < 0) {
                        sci_log("cannot write /run/sci/resolv.conf: %s", strerror(-r));
                        return r;
                }
                if (mounted || mount("/run/sci/resolv.conf", "/etc/resolv.conf", NULL, MS_BIND, NULL) == 0)
                        return 0;
                r = -errno;
        } else {
                r = overlay_etc();
                if (r == 0) {
                        r = write_file("/etc/resolv.conf", text, true);
                        if (r == 0)
                                return 0;
                }
        }
        sci_log("nameserver=: the root is read-only and /etc/resolv.conf cannot be covered (%s); "
                "give the flake an overlay or ship an /etc/resolv.conf file in the image", strerror(-r));
        return r;
}

static int write_resolv(const struct in_addr *dns, size_t n) {
        char text[64 + SCI_NET_DNS_MAX * 32];
        size_t l;
        int r;

        if (n == 0)
                return 0;
        l = (size_t) snprintf(text, sizeof(text), "# written by sci(8)\n");
        for (size_t i = 0; i < n && i < SCI_NET_DNS_MAX; i++) {
                char a[INET_ADDRSTRLEN];
                inet_ntop(AF_INET, &dns[i], a, sizeof(a));
                l += (size_t) snprintf(text + l, sizeof(text) - l, "nameserver %s\n", a);
        }

        r = write_file("/etc/resolv.conf", text, true);
        if (r == 0)
                return 0;
        if (r != -EROFS) {
                sci_log("cannot write /etc/resolv.conf: %s", strerror(-r));
                return r;
        }
        /* A read-only root without overlay. */
        return write_resolv_read_only(text);
}

int sci_net_write_resolv(const SciNetConfig *c) {
        return write_resolv(c->dns, c->n_dns);
}

/* ---- udhcpc event script ---- */

bool sci_net_is_udhcpc_event(const char *event) {
        return event && (strcmp(event, "deconfig") == 0 || strcmp(event, "bound") == 0 ||
                         strcmp(event, "renew") == 0 || strcmp(event, "leasefail") == 0 ||
                         strcmp(event, "nak") == 0);
}

int sci_net_udhcpc_event(const char *event) {
        const char *dev = getenv("interface"), *ip = getenv("ip"), *subnet = getenv("subnet");
        const char *router = getenv("router"), *dns = getenv("dns");
        struct in_addr a, mask, gw = {}, servers[SCI_NET_DNS_MAX];
        size_t n = 0;
        int fd, r;

        if (!dev || !ifname_ok(dev)) {
                sci_log("udhcpc event %s without an interface", event);
                return 1;
        }
        if (strcmp(event, "leasefail") == 0 || strcmp(event, "nak") == 0) {
                sci_dbg("%s: DHCP %s", dev, event);
                return 0;
        }
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return 1;
        if (strcmp(event, "deconfig") == 0) {
                /* No address until the lease, but up to talk DHCP. */
                (void) if_set_addr(fd, dev, SIOCSIFADDR, (struct in_addr) {});
                r = if_set_up(fd, dev);
                close(fd);
                return r < 0;
        }

        if (parse_addr(ip, &a) < 0 || (subnet && parse_netmask(subnet, &mask) < 0)) {
                sci_log("%s: DHCP lease without a usable address (ip=%s subnet=%s)", dev, ip ?: "", subnet ?: "");
                close(fd);
                return 1;
        }
        if (!subnet)
                mask = classful_mask(a);
        if (router) {
                /* The first of a blank-separated list. */
                char first[INET_ADDRSTRLEN] = {};
                sscanf(router, "%15s", first);
                (void) parse_addr(first, &gw);
        }
        r = apply_address(fd, dev, a, mask, gw);
        close(fd);

        if (dns && !getenv("SCI_KEEP_RESOLV")) {
                char w[INET_ADDRSTRLEN];
                int used;

                for (const char *p = dns; n < SCI_NET_DNS_MAX && sscanf(p, "%15s%n", w, &used) == 1; p += used)
                        if (parse_addr(w, &servers[n]) == 0)
                                n++;
                (void) write_resolv(servers, n);
        }
        return r < 0;
}
