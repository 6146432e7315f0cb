/* SPDX-License-Identifier: MIT */
#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <search.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "archive-extract.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "size.h"

#define READ_BUFFER_SIZE (1024 * 1024)

/* libarchive through a table of dlsym()ed functions (see the header for
 * why), as systemd does for its optional libraries. Nothing else in the
 * tree calls libarchive. */
#define ARCHIVE_SYMBOLS(X) \
        X(archive_entry_filetype) \
        X(archive_entry_gid) \
        X(archive_entry_hardlink) \
        X(archive_entry_mtime) \
        X(archive_entry_mtime_is_set) \
        X(archive_entry_mtime_nsec) \
        X(archive_entry_pathname) \
        X(archive_entry_pathname_utf8) \
        X(archive_entry_perm) \
        X(archive_entry_size) \
        X(archive_entry_size_is_set) \
        X(archive_entry_symlink) \
        X(archive_entry_uid) \
        X(archive_error_string) \
        X(archive_read_data_block) \
        X(archive_read_data_skip) \
        X(archive_read_free) \
        X(archive_read_new) \
        X(archive_read_next_header) \
        X(archive_read_open) \
        X(archive_read_support_filter_bzip2) \
        X(archive_read_support_filter_gzip) \
        X(archive_read_support_filter_lz4) \
        X(archive_read_support_filter_lzma) \
        X(archive_read_support_filter_xz) \
        X(archive_read_support_filter_zstd) \
        X(archive_read_support_format_tar) \
        X(archive_set_error)

#define DECLARE_SYM(name) static typeof(name) *sym_##name;
ARCHIVE_SYMBOLS(DECLARE_SYM)

static int dlopen_libarchive(void) {
        static bool loaded = false;
        void *dl;

        if (loaded)
                return 0;
        dl = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
        if (!dl)
                return log_error_errno(SYNTHETIC_ERRNO(EOPNOTSUPP), "Cannot load libarchive: %s", dlerror());
#define LOAD_SYM(name)                                                                  \
        if (!(sym_##name = (typeof(name) *) dlsym(dl, #name)))                          \
                return log_error_errno(SYNTHETIC_ERRNO(EOPNOTSUPP), "libarchive lacks %s", #name);
        ARCHIVE_SYMBOLS(LOAD_SYM)
        loaded = true;          /* kept loaded: the handle is never closed */
        return 0;
}

/* What the archive made of a name so far: the last entry for it wins. */
typedef struct Seen {
        char *path;
        ArchiveEntryType type;
} Seen;

struct ArchiveReader {
        struct archive *a;
        char *source;
        int fd;
        uint8_t *buf;
        ArchiveFlags flags;
        ArchiveLimits limits;
        uint64_t total;
        void *seen;                     /* tsearch() tree of Seen */
        ArchiveEntry entry;
        char *path, *link;
        char *error;
        bool failed;                    /* the archive is unusable from here */
};

static int seen_compare(const void *a, const void *b) {
        return strcmp(((const Seen *) a)->path, ((const Seen *) b)->path);
}

static void seen_free(void *p) {
        Seen *s = p;

        free(s->path);
        free(s);
}

static const Seen *seen_find(ArchiveReader *r, const char *path) {
        Seen key = { .path = (char *) path };
        void *n = tfind(&key, &r->seen, seen_compare);

        return n ? *(Seen **) n : NULL;
}

static void seen_set(ArchiveReader *r, const char *path, ArchiveEntryType type) {
        Seen *s = xmalloc(sizeof(Seen)), **n;

        *s = (Seen) { .path = xstrdup(path), .type = type == ARCHIVE_ENTRY_HARDLINK ? ARCHIVE_ENTRY_REGULAR : type };
        n = tsearch(s, &r->seen, seen_compare);
        if (!n)
                abort();
        if (*n != s) {
                (*n)->type = s->type;
                seen_free(s);
        }
}

static bool interrupted(ArchiveReader *r) {
        return r->limits.interrupted && *r->limits.interrupted;
}

static la_ssize_t reader_callback(struct archive *a, void *userdata, const void **ret_buf) {
        ArchiveReader *r = userdata;

        for (;;) {
                ssize_t k;

                if (interrupted(r)) {
                        sym_archive_set_error(a, EINTR, "interrupted");
                        return -1;
                }
                k = read(r->fd, r->buf, READ_BUFFER_SIZE);
                if (k >= 0) {
                        *ret_buf = r->buf;
                        return k;
                }
                if (errno != EINTR) {
                        sym_archive_set_error(a, errno, "read error: %s", strerror(errno));
                        return -1;
                }
        }
}

/* A libarchive call failed: remember why, for the caller to report. */
static int reader_failed(ArchiveReader *r) {
        const char *e = sym_archive_error_string(r->a);

        r->failed = true;
        free(r->error);
        r->error = xasprintf("%s: %s", r->source, e ?: "damaged archive");
        return interrupted(r) ? -EINTR : -EBADMSG;
}

int archive_reader_new(const char *source, int fd, ArchiveFlags flags, const ArchiveLimits *limits,
                       ArchiveReader **ret) {
        ArchiveReader *r;
        int k;

        k = dlopen_libarchive();
        if (k < 0)
                return k;

        r = xmalloc(sizeof(ArchiveReader));
        *r = (ArchiveReader) {
                .source = xstrdup(source),
                .fd = fd,
                .buf = xmalloc(READ_BUFFER_SIZE),
                .flags = flags,
                .limits = limits ? *limits : (ArchiveLimits) {},
                .a = sym_archive_read_new(),
        };
        if (!r->a)
                abort();
        sym_archive_read_support_format_tar(r->a);
        sym_archive_read_support_filter_gzip(r->a);
        sym_archive_read_support_filter_bzip2(r->a);
        sym_archive_read_support_filter_xz(r->a);
        sym_archive_read_support_filter_lzma(r->a);
        sym_archive_read_support_filter_zstd(r->a);
        sym_archive_read_support_filter_lz4(r->a);
        if (sym_archive_read_open(r->a, r, NULL, reader_callback, NULL) != ARCHIVE_OK)
                (void) reader_failed(r);        /* reported by the first archive_reader_next() */
        *ret = r;
        return 0;
}

ArchiveReader *archive_reader_free(ArchiveReader *r) {
        if (!r)
                return NULL;
        if (r->a)
                sym_archive_read_free(r->a);
        tdestroy(r->seen, seen_free);
        free(r->source);
        free(r->buf);
        free(r->path);
        free(r->link);
        free(r->error);
        free(r);
        return NULL;
}

const char *archive_reader_error(ArchiveReader *r) {
        return r->error;
}

int archive_path_normalize(const char *path, char **ret) {
        _cleanup_free_ char *out = NULL;
        size_t n = 0;
        const char *p = path;

        if (isempty(path))
                return -EINVAL;
        if (path[0] == '/')
                return -EPERM;

        out = xmalloc(strlen(path) + 1);
        while (*p) {
                size_t l = strcspn(p, "/");

                if (l == 2 && strneq(p, "..", 2))
                        return -EPERM;
                if (l > 0 && !(l == 1 && p[0] == '.')) {
                        if (n > 0)
                                out[n++] = '/';
                        memcpy(out + n, p, l);
                        n += l;
                }
                p += l;
                while (*p == '/')
                        p++;
        }
        out[n] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

int archive_link_target_check(const char *entry, const char *target) {
        long depth = 0;
        const char *p;

        if (isempty(target))
                return -EINVAL;
        if (target[0] == '/')
                return -EPERM;
        /* The link lives in entry's directory: start at its depth. */
        for (p = entry; (p = strchr(p, '/')); p++)
                depth++;

        for (p = target; *p;) {
                size_t l = strcspn(p, "/");

                if (l == 2 && strneq(p, "..", 2)) {
                        if (--depth < 0)
                                return -EPERM;
                } else if (l > 0 && !(l == 1 && p[0] == '.'))
                        depth++;
                p += l;
                while (*p == '/')
                        p++;
        }
        return 0;
}

static int unsafe(ArchiveReader *r, const char *raw, const char *why) {
        return log_error_errno(SYNTHETIC_ERRNO(EPERM), "%s: unsafe archive entry '%s': %s", r->source, raw, why);
}

/* No entry below something the archive made a non-directory. */
static int check_parents(ArchiveReader *r, const char *raw, const char *path) {
        _cleanup_free_ char *prefix = xstrdup(path);

        for (char *slash = strchr(prefix, '/'); slash; slash = strchr(slash + 1, '/')) {
                const Seen *s;

                *slash = 0;
                s = seen_find(r, prefix);
                if (s && s->type != ARCHIVE_ENTRY_DIRECTORY) {
                        _cleanup_free_ char *why = xasprintf("'%s' is a %s of the archive", prefix,
                                                             s->type == ARCHIVE_ENTRY_SYMLINK ? "symbolic link" : "file");
                        return unsafe(r, raw, why);
                }
                *slash = '/';
        }
        return 0;
}

static int check_size(ArchiveReader *r, const char *raw, uint64_t size) {
        char a[32], b[32];

        if (r->limits.max_entry_size > 0 && size > r->limits.max_entry_size)
                return log_error_errno(SYNTHETIC_ERRNO(EFBIG), "%s: archive entry '%s' is %s, more than the limit of %s",
                                       r->source, raw, format_size(a, sizeof(a), size),
                                       format_size(b, sizeof(b), r->limits.max_entry_size));
        if (r->limits.max_total_size > 0 && size > r->limits.max_total_size - r->total)
                return log_error_errno(SYNTHETIC_ERRNO(EFBIG), "%s: the archive unpacks to more than the limit of %s (at '%s')",
                                       r->source, format_size(b, sizeof(b), r->limits.max_total_size), raw);
        r->total += size;
        return 0;
}

static int check_entry(ArchiveReader *r, struct archive_entry *e) {
        ArchiveEntry *x = &r->entry;
        const char *raw = sym_archive_entry_pathname(e) ?: sym_archive_entry_pathname_utf8(e);
        const char *hardlink = sym_archive_entry_hardlink(e);
        mode_t type = sym_archive_entry_filetype(e);
        const Seen *s;
        int k;

        free(r->path);
        free(r->link);
        r->path = r->link = NULL;
        if (!raw)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "%s: archive entry without a usable name", r->source);
        k = archive_path_normalize(raw, &r->path);
        if (k < 0)
                return unsafe(r, raw, k == -EPERM ? "absolute path or '..' component" : "empty name");

        *x = (ArchiveEntry) {
                .path = r->path,
                .raw = raw,
                .size = sym_archive_entry_size_is_set(e) && sym_archive_entry_size(e) > 0 ?
                        (uint64_t) sym_archive_entry_size(e) : 0,
                .mode = sym_archive_entry_perm(e) & 07777,
                .uid = (uid_t) sym_archive_entry_uid(e),
                .gid = (gid_t) sym_archive_entry_gid(e),
                .mtime_set = sym_archive_entry_mtime_is_set(e),
                .mtime = { .tv_sec = sym_archive_entry_mtime(e), .tv_nsec = sym_archive_entry_mtime_nsec(e) },
        };

        if (hardlink) {
                k = archive_path_normalize(hardlink, &r->link);
                if (k < 0) {
                        _cleanup_free_ char *why = xasprintf("hard link to '%s' leaves the archive", hardlink);
                        return unsafe(r, raw, why);
                }
                s = seen_find(r, r->link);
                if (!s || s->type != ARCHIVE_ENTRY_REGULAR || streq(r->link, r->path)) {
                        _cleanup_free_ char *why = xasprintf("hard link to '%s', which is not a file extracted before it",
                                                             hardlink);
                        return unsafe(r, raw, why);
                }
                k = check_parents(r, hardlink, r->link);
                if (k < 0)
                        return k;
                x->type = ARCHIVE_ENTRY_HARDLINK;
                x->link = r->link;
                x->size = 0;    /* data of a hard link entry is never written */
        } else
                switch (type) {
                case AE_IFREG:
                        x->type = ARCHIVE_ENTRY_REGULAR;
                        break;
                case AE_IFDIR:
                        x->type = ARCHIVE_ENTRY_DIRECTORY;
                        x->size = 0;
                        break;
                case AE_IFLNK: {
                        const char *target = sym_archive_entry_symlink(e);

                        if (isempty(target))
                                return unsafe(r, raw, "symbolic link without a target");
                        if ((r->flags & ARCHIVE_SYMLINKS_INSIDE) && archive_link_target_check(r->path, target) < 0) {
                                _cleanup_free_ char *why = xasprintf("symbolic link to '%s' leaves the archive", target);
                                return unsafe(r, raw, why);
                        }
                        r->link = xstrdup(target);
                        x->type = ARCHIVE_ENTRY_SYMLINK;
                        x->link = r->link;
                        x->size = 0;
                        break;
                }
                default:
                        return unsafe(r, raw,
                                      type == AE_IFCHR || type == AE_IFBLK ? "device nodes are not allowed" :
                                      type == AE_IFIFO ? "fifos are not allowed" : "special files are not allowed");
                }

        if (isempty(x->path) && x->type != ARCHIVE_ENTRY_DIRECTORY)
                return unsafe(r, raw, "the top directory can only be a directory");
        s = seen_find(r, x->path);
        if (s && s->type == ARCHIVE_ENTRY_DIRECTORY && x->type != ARCHIVE_ENTRY_DIRECTORY)
                return unsafe(r, raw, "replaces a directory of the archive");
        k = check_parents(r, raw, x->path);
        if (k < 0)
                return k;
        k = check_size(r, raw, x->size);
        if (k < 0)
                return k;
        if (!isempty(x->path))
                seen_set(r, x->path, x->type);
        return 0;
}

int archive_reader_next(ArchiveReader *r, const ArchiveEntry **ret) {
        struct archive_entry *e;
        int k;

        if (r->failed)
                return interrupted(r) ? -EINTR : -EBADMSG;
        if (interrupted(r))
                return -EINTR;
        k = sym_archive_read_next_header(r->a, &e);
        if (k == ARCHIVE_EOF)
                return 0;
        /* ARCHIVE_WARN: a usable entry (an unknown pax keyword, say).
         * ARCHIVE_RETRY would be "skip this header and go on", but a tar
         * with a bad header is a damaged tar: stop. */
        if (k != ARCHIVE_OK && k != ARCHIVE_WARN)
                return reader_failed(r);
        k = check_entry(r, e);
        if (k < 0) {
                r->failed = true;
                return k;
        }
        *ret = &r->entry;
        return 1;
}

int archive_reader_read(ArchiveReader *r, const void **ret_buf, size_t *ret_size, uint64_t *ret_offset) {
        la_int64_t offset;
        int k;

        if (r->failed)
                return interrupted(r) ? -EINTR : -EBADMSG;
        if (interrupted(r))
                return -EINTR;
        k = sym_archive_read_data_block(r->a, ret_buf, ret_size, &offset);
        if (k == ARCHIVE_EOF)
                return 0;
        if (k != ARCHIVE_OK && k != ARCHIVE_WARN)
                return reader_failed(r);
        /* The size was checked against the limits: hold the data to it. */
        if (offset < 0 || (uint64_t) offset > r->entry.size || *ret_size > r->entry.size - (uint64_t) offset) {
                r->failed = true;
                free(r->error);
                r->error = xasprintf("%s: '%s' has more data than its declared size", r->source, r->entry.raw);
                return -EBADMSG;
        }
        *ret_offset = (uint64_t) offset;
        return 1;
}

int archive_reader_skip(ArchiveReader *r) {
        if (r->failed)
                return -EBADMSG;
        if (sym_archive_read_data_skip(r->a) != ARCHIVE_OK)
                return reader_failed(r);
        return 0;
}

/* --- extraction -------------------------------------------------------- */

typedef struct DirFixup {
        char *path;
        mode_t mode;
        uid_t uid;
        gid_t gid;
        bool mtime_set;
        struct timespec mtime;
} DirFixup;

typedef struct Extraction {
        ArchiveReader *r;
        int root_fd;
        bool owner;                     /* restore ownership (we are root) */
        DirFixup *fixups;
        size_t n_fixups;
} Extraction;

/* path (relative) resolved as if root_fd were "/": nothing it names, and no
 * symlink met on the way, leads out of the tree. */
static int open_in_root(int root_fd, const char *path, int flags) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        long fd = syscall(SYS_openat2, root_fd, isempty(path) ? "." : path, &how, sizeof(how));

        return fd < 0 ? negative_errno() : (int) fd;
}

/* The directory an entry goes into, made if missing (with its parents). */
static int open_parent(Extraction *x, const char *path, const char **ret_base) {
        _cleanup_free_ char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');
        _cleanup_close_ int fd = -EBADF;

        *ret_base = slash ? path + (slash - dir) + 1 : path;
        if (!slash)
                return open_in_root(x->root_fd, "", O_RDONLY | O_DIRECTORY);
        *slash = 0;
        fd = open_in_root(x->root_fd, dir, O_RDONLY | O_DIRECTORY);
        if (fd != -ENOENT)
                return TAKE_FD(fd);

        /* Missing parents are made one level at a time, each in its parent
         * as resolved in the root. */
        fd = open_in_root(x->root_fd, "", O_RDONLY | O_DIRECTORY);
        if (fd < 0)
                return fd;
        for (char *p = dir; p;) {
                char *next = strchr(p, '/');
                int k;

                if (next)
                        *next = 0;
                k = open_in_root(x->root_fd, dir, O_RDONLY | O_DIRECTORY);
                if (k == -ENOENT) {
                        if (mkdirat(fd, p, 0755) < 0 && errno != EEXIST)
                                return negative_errno();
                        k = open_in_root(x->root_fd, dir, O_RDONLY | O_DIRECTORY);
                }
                if (k < 0)
                        return k;
                close(fd);
                fd = k;
                if (next) {
                        *next = '/';
                        p = next + 1;
                } else
                        p = NULL;
        }
        return TAKE_FD(fd);
}

/* Makes room for a new non-directory: what is there goes (never followed,
 * never written through); a directory stays and is an error. */
static int replace(int dir_fd, const char *base) {
        if (unlinkat(dir_fd, base, 0) >= 0 || errno == ENOENT)
                return 0;
        if (errno == EISDIR)
                return -EISDIR;
        return negative_errno();
}

static int apply_owner_mode_time(Extraction *x, int fd, const ArchiveEntry *e) {
        mode_t mode = e->mode;

        if (x->owner) {
                if (fchown(fd, e->uid, e->gid) < 0)
                        return negative_errno();
        } else
                mode &= ~(mode_t) (S_ISUID | S_ISGID);  /* not ours to hand out */
        if (fchmod(fd, mode) < 0)
                return negative_errno();
        if (e->mtime_set && futimens(fd, (const struct timespec[2]) { e->mtime, e->mtime }) < 0)
                return negative_errno();
        return 0;
}

static int write_regular(Extraction *x, int dir_fd, const char *base, const ArchiveEntry *e) {
        _cleanup_close_ int fd = -EBADF;
        int k;

        k = replace(dir_fd, base);
        if (k < 0)
                return k;
        fd = openat(dir_fd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0)
                return negative_errno();
        for (;;) {
                const void *buf;
                size_t size;
                uint64_t offset;

                k = archive_reader_read(x->r, &buf, &size, &offset);
                if (k <= 0)
                        break;
                for (const uint8_t *p = buf; size > 0;) {
                        ssize_t w = pwrite(fd, p, size, (off_t) offset);
                        if (w < 0) {
                                if (errno == EINTR)
                                        continue;
                                return negative_errno();
                        }
                        p += w;
                        size -= (size_t) w;
                        offset += (uint64_t) w;
                }
        }
        if (k < 0)
                return k;
        if (ftruncate(fd, (off_t) e->size) < 0)      /* a sparse file may end in a hole */
                return negative_errno();
        return apply_owner_mode_time(x, fd, e);
}

static int write_directory(Extraction *x, int dir_fd, const char *base, const ArchiveEntry *e) {
        struct stat st;

        if (isempty(e->path))
                return 0;       /* the root itself ("./") keeps what it has */
        if (mkdirat(dir_fd, base, 0700) < 0) {
                if (errno != EEXIST)
                        return negative_errno();
                if (fstatat(dir_fd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return negative_errno();
                if (!S_ISDIR(st.st_mode)) {
                        if (unlinkat(dir_fd, base, 0) < 0 || mkdirat(dir_fd, base, 0700) < 0)
                                return negative_errno();
                }
        }
        /* Modes and times once everything is in (a read-only directory
         * must still take its entries, and they change its mtime). */
        x->fixups = xrealloc(x->fixups, (x->n_fixups + 1) * sizeof(DirFixup));
        x->fixups[x->n_fixups++] = (DirFixup) {
                .path = xstrdup(e->path), .mode = e->mode, .uid = e->uid, .gid = e->gid,
                .mtime_set = e->mtime_set, .mtime = e->mtime,
        };
        return 0;
}

static int write_symlink(Extraction *x, int dir_fd, const char *base, const ArchiveEntry *e) {
        int k;

        k = replace(dir_fd, base);
        if (k < 0)
                return k;
        if (symlinkat(e->link, dir_fd, base) < 0)
                return negative_errno();
        if (x->owner && fchownat(dir_fd, base, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0)
                return negative_errno();
        if (e->mtime_set && utimensat(dir_fd, base, (const struct timespec[2]) { e->mtime, e->mtime },
                                      AT_SYMLINK_NOFOLLOW) < 0)
                return negative_errno();
        return 0;
}

static int write_hardlink(Extraction *x, int dir_fd, const char *base, const ArchiveEntry *e) {
        _cleanup_close_ int target_dir = -EBADF;
        const char *target_base;
        struct stat st;
        int k;

        target_dir = open_parent(x, e->link, &target_base);
        if (target_dir < 0)
                return target_dir;
        /* The reader knows the archive made a regular file there; the disk
         * must agree (linkat() without AT_SYMLINK_FOLLOW never follows). */
        if (fstatat(target_dir, target_base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -ENOTRECOVERABLE;
        k = replace(dir_fd, base);
        if (k < 0)
                return k;
        if (linkat(target_dir, target_base, dir_fd, base, 0) < 0)
                return negative_errno();
        return 0;
}

static int extract_entry(Extraction *x, const ArchiveEntry *e) {
        _cleanup_close_ int dir_fd = -EBADF;
        const char *base;

        dir_fd = open_parent(x, e->path, &base);
        if (dir_fd < 0)
                return dir_fd;
        switch (e->type) {
        case ARCHIVE_ENTRY_REGULAR:
                return write_regular(x, dir_fd, base, e);
        case ARCHIVE_ENTRY_DIRECTORY:
                return write_directory(x, dir_fd, base, e);
        case ARCHIVE_ENTRY_SYMLINK:
                return write_symlink(x, dir_fd, base, e);
        case ARCHIVE_ENTRY_HARDLINK:
                return write_hardlink(x, dir_fd, base, e);
        }
        return -EINVAL;
}

static int fixup_directories(Extraction *x) {
        for (size_t i = 0; i < x->n_fixups; i++) {
                DirFixup *f = &x->fixups[i];
                ArchiveEntry e = { .mode = f->mode, .uid = f->uid, .gid = f->gid, .mtime_set = f->mtime_set,
                                   .mtime = f->mtime };
                _cleanup_close_ int fd = open_in_root(x->root_fd, f->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
                int k;

                if (fd < 0)
                        return log_error_errno(fd, "%s: cannot open '%s' again: %m", x->r->source, f->path);
                k = apply_owner_mode_time(x, fd, &e);
                if (k < 0)
                        return log_error_errno(k, "%s: cannot set the mode of '%s': %m", x->r->source, f->path);
        }
        return 0;
}

int archive_extract(ArchiveReader *r, int root_fd) {
        Extraction x = { .r = r, .root_fd = root_fd, .owner = geteuid() == 0 };
        const ArchiveEntry *e;
        int k;

        for (;;) {
                k = archive_reader_next(r, &e);
                if (k <= 0)
                        break;
                k = extract_entry(&x, e);
                if (k < 0) {
                        if (k == -EBADMSG || k == -EINTR)
                                break;          /* the reader's: reported below */
                        if (k == -EISDIR)
                                log_error_errno(k, "%s: archive entry '%s' would replace a directory", r->source, e->raw);
                        else if (k == -ENOTDIR || k == -ELOOP)
                                log_error_errno(k, "%s: cannot extract '%s': a parent is not a directory (%m)",
                                                r->source, e->raw);
                        else if (k == -ENOTRECOVERABLE)
                                log_error_errno(k, "%s: cannot extract '%s': the link target is no longer a file",
                                                r->source, e->raw);
                        else
                                log_error_errno(k, "%s: cannot extract '%s': %m", r->source, e->raw);
                        break;
                }
        }
        if (k == -EBADMSG && archive_reader_error(r))
                log_error_errno(k, "%s", archive_reader_error(r));
        else if (k == -EINTR)
                log_error_errno(k, "%s: interrupted", r->source);
        if (k >= 0)
                k = fixup_directories(&x);
        for (size_t i = 0; i < x.n_fixups; i++)
                free(x.fixups[i].path);
        free(x.fixups);
        return k;
}

int archive_extract_file(const char *path, int root_fd, const ArchiveLimits *limits) {
        _cleanup_(archive_reader_freep) ArchiveReader *r = NULL;
        _cleanup_close_ int fd = -EBADF;
        int k;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return log_error_errno(errno, "Cannot open %s: %m", path);
        k = archive_reader_new(path, fd, 0, limits, &r);
        if (k < 0)
                return k;
        return archive_extract(r, root_fd);
}
