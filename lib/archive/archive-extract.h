/* SPDX-License-Identifier: MIT */
#pragma once

/* The one tar reader and extractor, with the one path policy, for every
 * place that unpacks an archive: include.tar provisioning (podman-pilot),
 * VM overlay includes (flake-vm) and KIS image pulls (flake-pull).
 *
 * The policy, enforced by the reader for every entry whatever the caller
 * does with it:
 *  - names are normalised ("./", "//" and trailing "/" dropped); absolute
 *    names and ".." components are refused;
 *  - nothing is placed below a name an earlier entry made a symbolic link
 *    or a regular file (no writing through a link of the archive);
 *  - a hard link must name a regular file extracted earlier from the same
 *    archive (so it can never reach a file of the host or of the tree the
 *    archive is unpacked over);
 *  - symbolic links may point anywhere (the extractor never follows them:
 *    see archive_extract()), or, with ARCHIVE_SYMLINKS_INSIDE, only inside
 *    the tree;
 *  - device nodes, fifos and sockets are refused;
 *  - a directory of the archive is never replaced by something else;
 *  - the declared size of an entry and the sum of all of them can be
 *    capped (a sparse entry counts with its full size, which is what
 *    reading it costs);
 *  - damaged archives end the extraction (libarchive's ARCHIVE_RETRY and
 *    ARCHIVE_FAILED are errors here, not "carry on").
 *
 * Only tar, uncompressed or compressed with gzip, bzip2, xz, lzma, zstd or
 * lz4 (all in process: an archive never makes us run a program).
 *
 * libarchive is dlopen()ed on first use: with what it pulls in (libxml2,
 * ICU, libstdc++) it costs more start-up time than the rest of
 * podman-pilot together, and the pilot needs it only when a flake has
 * include.tar (bench/podman-launch.sh). */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

typedef enum ArchiveEntryType {
        ARCHIVE_ENTRY_REGULAR,
        ARCHIVE_ENTRY_DIRECTORY,
        ARCHIVE_ENTRY_SYMLINK,
        ARCHIVE_ENTRY_HARDLINK,         /* to a regular file extracted earlier */
} ArchiveEntryType;

typedef struct ArchiveEntry {
        const char *path;               /* normalised, relative; "" is the top directory */
        const char *raw;                /* the name as in the archive, for messages */
        ArchiveEntryType type;
        const char *link;               /* symlink: the target as is; hard link: normalised */
        uint64_t size;                  /* declared (for a sparse file: with its holes) */
        mode_t mode;                    /* permission bits, 07777 */
        uid_t uid;
        gid_t gid;
        bool mtime_set;
        struct timespec mtime;
} ArchiveEntry;

typedef enum ArchiveFlags {
        ARCHIVE_SYMLINKS_INSIDE = 1 << 0,   /* symlink targets must stay inside the tree */
} ArchiveFlags;

typedef struct ArchiveLimits {
        uint64_t max_entry_size;        /* 0: no limit */
        uint64_t max_total_size;        /* 0: no limit */
        /* Checked in every loop; set (by a signal handler): -EINTR. */
        const volatile sig_atomic_t *interrupted;
} ArchiveLimits;

typedef struct ArchiveReader ArchiveReader;

/* Reads from fd (not closed; read to the end of the archive only). source
 * names the archive in messages. limits may be NULL. */
int archive_reader_new(const char *source, int fd, ArchiveFlags flags, const ArchiveLimits *limits,
                       ArchiveReader **ret);
ArchiveReader *archive_reader_free(ArchiveReader *r);
static inline void archive_reader_freep(ArchiveReader **r) {
        archive_reader_free(*r);
}

/* The next entry that passes the policy: 1 and *ret (valid until the next
 * call), 0 at the end. Policy violations and limits are logged here
 * (-EPERM, -EFBIG). A damaged or unreadable archive is -EBADMSG and is NOT
 * logged: archive_reader_error() says what it was, and the caller decides
 * (a truncated download may already have been reported). -EINTR when
 * interrupted. */
int archive_reader_next(ArchiveReader *r, const ArchiveEntry **ret);
/* The data of the current entry, block by block: 1 with a block (at
 * *ret_offset: a gap before it is a hole), 0 at the end of the entry.
 * Errors as for archive_reader_next(). */
int archive_reader_read(ArchiveReader *r, const void **ret_buf, size_t *ret_size, uint64_t *ret_offset);
int archive_reader_skip(ArchiveReader *r);
/* The last read error, "SOURCE: what libarchive said", or NULL. */
const char *archive_reader_error(ArchiveReader *r);

/* Unpacks every entry below root_fd. Names are resolved as if root_fd were
 * "/" (openat2 RESOLVE_IN_ROOT: symlinks the tree already had, e.g. a
 * container's /lib -> usr/lib, stay inside it), the last component is
 * never followed, an existing non-directory is replaced (unlinked, never
 * written through), and what the policy refuses ends the extraction.
 * (A symlink the tree had may lead through one the archive made, e.g. an
 * image's lib -> usr/lib after the archive made usr: that is still inside
 * the root, which is what RESOLVE_IN_ROOT guarantees. The kernel must have
 * openat2(), Linux 5.6 or later.)
 * Ownership is restored when running as root; setuid/setgid bits are kept
 * only then (as libarchive does). Directory modes and times are applied
 * at the end. Logs every error. */
int archive_extract(ArchiveReader *r, int root_fd);
/* The same for a tar file. */
int archive_extract_file(const char *path, int root_fd, const ArchiveLimits *limits);

/* The path policy, for unit tests and callers with names of their own.
 * Normalises path into a new string ("" for the top directory): -EPERM for
 * an absolute path or a ".." component, -EINVAL for an empty one. */
int archive_path_normalize(const char *path, char **ret);
/* Does a symlink target stay inside the tree, seen from entry (a
 * normalised path)? -EPERM if it is absolute or climbs out. */
int archive_link_target_check(const char *entry, const char *target);
