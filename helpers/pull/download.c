/* SPDX-License-Identifier: MIT */
#include <curl/curl.h>
#include <inttypes.h>
#include <strings.h>
#include <time.h>

#include "build-config.h"
#include "download.h"
#include "log.h"
#include "macro.h"
#include "download-bar.h"
#include "url-redact.h"

typedef struct Transfer {
        CURL *curl;
        const char *url;
        DownloadSink sink;
        void *userdata;
        DownloadBar bar;

        uint64_t delivered;         /* bytes handed to the sink, all attempts */
        char *validator;            /* ETag or Last-Modified of the first reply */

        /* per attempt */
        uint64_t offset;            /* where this attempt starts */
        bool checked;               /* reply status looked at */
        long status;
        char reason[64];
        char *etag, *last_modified;
        char *location;             /* of the last redirect */
        char *shown;                /* url for messages: url_redact() */
        int64_t range_start;        /* from Content-Range, -1 if none */
        bool bad_status;
        bool resume_refused;
        int sink_error;
        char errbuf[CURL_ERROR_SIZE];
} Transfer;

int download_global_init(void) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "Failed to initialise libcurl");
        return 0;
}

int download_check_url(const char *url, const PullOptions *o) {
        _cleanup_free_ char *scheme = NULL;
        _cleanup_free_ char *shown = url_redact(url);    /* logs carry no credentials */
        CURLU *u = curl_url();
        CURLUcode uc;
        char *s = NULL;

        if (!u)
                abort();
        uc = curl_url_set(u, CURLUPART_URL, url, 0);
        if (uc == CURLUE_OK)
                uc = curl_url_get(u, CURLUPART_SCHEME, &s, 0);
        curl_url_cleanup(u);
        if (uc != CURLUE_OK)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Invalid URL '%s': %s", shown, curl_url_strerror(uc));
        scheme = xstrdup(s);
        curl_free(s);

        if (strcasecmp(scheme, "https") == 0)
                return 0;
        if (strcasecmp(scheme, "http") != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EPROTONOSUPPORT),
                                       "Refusing URL '%s': only https:// URLs are supported", shown);
        if (!o->allow_insecure)
                return log_error_errno(SYNTHETIC_ERRNO(EPROTONOSUPPORT),
                                       "Refusing insecure URL '%s': only https:// is allowed "
                                       "(use --allow-insecure or set FLAKE_ALLOW_INSECURE_TRANSPORT)", shown);
        return 0;
}

static char *header_value(const char *line, size_t n, const char *name) {
        size_t l = strlen(name);
        const char *v, *e;

        if (n <= l || strncasecmp(line, name, l) != 0)
                return NULL;
        v = line + l;
        e = line + n;
        while (v < e && (*v == ' ' || *v == '\t'))
                v++;
        while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
                e--;
        return xstrndup(v, (size_t) (e - v));
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata) {
        Transfer *t = userdata;
        size_t n = size * nmemb;
        char *v;

        /* Each reply of a redirect chain starts with a status line: only the
         * last reply's headers count. */
        if (n > 5 && strncmp(data, "HTTP/", 5) == 0) {
                const char *sp = memchr(data, ' ', n), *sp2;

                t->reason[0] = 0;
                t->range_start = -1;
                t->etag = mfree(t->etag);
                t->last_modified = mfree(t->last_modified);
                if (sp && (sp2 = memchr(sp + 1, ' ', n - (size_t) (sp + 1 - data)))) {
                        size_t l = n - (size_t) (sp2 + 1 - data);
                        while (l > 0 && (sp2[l] == '\r' || sp2[l] == '\n'))
                                l--;
                        snprintf(t->reason, sizeof(t->reason), "%.*s", (int) l, sp2 + 1);
                }
        } else if ((v = header_value(data, n, "ETag:")))
                free_and_replace(t->etag, v);
        else if ((v = header_value(data, n, "Last-Modified:")))
                free_and_replace(t->last_modified, v);
        else if ((v = header_value(data, n, "Location:")))
                free_and_replace(t->location, v);
        else if ((v = header_value(data, n, "Content-Range:"))) {
                unsigned long long start;
                if (sscanf(v, "bytes %llu-", &start) == 1)
                        t->range_start = (int64_t) start;
                free(v);
        }
        return n;
}

static bool check_reply(Transfer *t) {
        curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &t->status);

        if (t->offset > 0) {
                /* A resumed attempt must continue exactly where we stopped. */
                if (t->status != 206 || t->range_start != (int64_t) t->offset) {
                        t->resume_refused = true;
                        return false;
                }
        } else if (t->status != 200) {
                t->bad_status = true;
                return false;
        } else if (!t->validator)
                t->validator = xstrdup(t->etag ?: t->last_modified ?: "");
        t->checked = true;
        return true;
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *userdata) {
        Transfer *t = userdata;
        size_t n = size * nmemb;
        int r;

        if (!t->checked && !check_reply(t))
                return 0;
        if (pull_interrupted)
                return 0;
        r = t->sink(data, n, t->userdata);
        if (r < 0) {
                t->sink_error = r;
                return 0;
        }
        t->delivered += n;
        return n;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
        Transfer *t = userdata;

        if (pull_interrupted)
                return 1;
        download_bar_update(&t->bar, t->delivered, dltotal > 0 ? t->offset + (uint64_t) dltotal : 0);
        return 0;
}

static bool status_is_transient(long status) {
        return IN_SET(status, 408, 429, 500, 502, 503, 504);
}

static bool curl_error_is_transient(CURLcode c) {
        return IN_SET(c, CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_RECV_ERROR,
                      CURLE_SEND_ERROR, CURLE_PARTIAL_FILE, CURLE_GOT_NOTHING, CURLE_HTTP2,
                      CURLE_HTTP2_STREAM, CURLE_COULDNT_RESOLVE_HOST);
}

/* Sleeps, but gives up at once on Ctrl-C. */
static int sleep_ms(unsigned ms) {
        while (ms > 0 && !pull_interrupted) {
                unsigned step = ms > 100 ? 100 : ms;
                nanosleep(&(struct timespec) { .tv_nsec = (long) step * 1000000L }, NULL);
                ms -= step;
        }
        return pull_interrupted ? -EINTR : 0;
}

static int setup_handle(Transfer *t, const PullOptions *o) {
        const char *protocols = o->allow_insecure ? "http,https" : "https";

        t->curl = curl_easy_init();
        if (!t->curl)
                return log_error_errno(SYNTHETIC_ERRNO(ENOMEM), "Failed to create a libcurl handle");

#define SET(opt, val) if (curl_easy_setopt(t->curl, (opt), (val)) != CURLE_OK) \
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "Failed to set libcurl option " #opt)
        SET(CURLOPT_URL, t->url);
        SET(CURLOPT_PROTOCOLS_STR, protocols);
        SET(CURLOPT_REDIR_PROTOCOLS_STR, protocols);
        SET(CURLOPT_FOLLOWLOCATION, 1L);
        SET(CURLOPT_MAXREDIRS, 10L);
        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_CONNECTTIMEOUT, 30L);
        /* A stalled server is a transient error like a dropped connection. */
        SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
        SET(CURLOPT_LOW_SPEED_TIME, 60L);
        SET(CURLOPT_BUFFERSIZE, 512L * 1024);
        SET(CURLOPT_USERAGENT, "flake-pull/" PACKAGE_VERSION);
        SET(CURLOPT_ERRORBUFFER, t->errbuf);
        SET(CURLOPT_HEADERFUNCTION, on_header);
        SET(CURLOPT_HEADERDATA, t);
        SET(CURLOPT_WRITEFUNCTION, on_data);
        SET(CURLOPT_WRITEDATA, t);
        SET(CURLOPT_XFERINFOFUNCTION, on_progress);
        SET(CURLOPT_XFERINFODATA, t);
        SET(CURLOPT_NOPROGRESS, 0L);
        if (o->ca_bundle)
                SET(CURLOPT_CAINFO, o->ca_bundle);
#undef SET
        return 0;
}

/* One attempt. Returns 0 on success, -EAGAIN if a retry may help (logged
 * as a warning by the caller with *ret_why), other negative errnos after
 * logging. */
static int attempt(Transfer *t, struct curl_slist **headers, char **ret_why) {
        _cleanup_free_ char *range = NULL;
        CURLcode c;

        t->offset = t->delivered;
        t->checked = t->bad_status = t->resume_refused = false;
        t->status = 0;
        t->sink_error = 0;
        t->errbuf[0] = 0;

        curl_slist_free_all(*headers);
        *headers = NULL;
        if (t->offset > 0) {
                range = xasprintf("%" PRIu64 "-", t->offset);
                if (!isempty(t->validator)) {
                        _cleanup_free_ char *h = xasprintf("If-Range: %s", t->validator);
                        *headers = curl_slist_append(NULL, h);
                }
        }
        curl_easy_setopt(t->curl, CURLOPT_RANGE, range);
        curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, *headers);

        c = curl_easy_perform(t->curl);

        if (t->sink_error < 0)
                return t->sink_error;
        if (pull_interrupted)
                return -EINTR;
        if (t->resume_refused)
                return log_error_errno(SYNTHETIC_ERRNO(EPROTO),
                                       "Download of %s broke off after %" PRIu64 " bytes and the server "
                                       "cannot resume it (HTTP %ld to a range request)",
                                       t->shown, t->offset, t->status);
        if (c == CURLE_OK && !t->checked && !check_reply(t) && t->resume_refused)
                return log_error_errno(SYNTHETIC_ERRNO(EPROTO),
                                       "Download of %s broke off and the server cannot resume it", t->shown);
        if (t->bad_status) {
                _cleanup_free_ char *why = xasprintf("HTTP %ld%s%s%s", t->status,
                                                     t->reason[0] ? " (" : "", t->reason, t->reason[0] ? ")" : "");
                if (status_is_transient(t->status)) {
                        *ret_why = TAKE_PTR(why);
                        return -EAGAIN;
                }
                return log_error_errno(SYNTHETIC_ERRNO(t->status == 404 ? ENOENT : EIO),
                                       "Download of %s failed: %s", t->shown, why);
        }
        if (c == CURLE_OK)
                return 0;

        if (c == CURLE_UNSUPPORTED_PROTOCOL && t->location) {
                _cleanup_free_ char *location = url_redact(t->location);
                return log_error_errno(SYNTHETIC_ERRNO(EPROTONOSUPPORT),
                                               "Download of %s refused: it redirects to '%s', and only https:// "
                                               "is allowed (use --allow-insecure or set FLAKE_ALLOW_INSECURE_TRANSPORT)",
                                               t->shown, location);
        }
        if (curl_error_is_transient(c)) {
                *ret_why = xstrdup(t->errbuf[0] ? t->errbuf : curl_easy_strerror(c));
                return -EAGAIN;
        }
        return log_error_errno(SYNTHETIC_ERRNO(EIO), "Download of %s failed: %s", t->shown,
                               t->errbuf[0] ? t->errbuf : curl_easy_strerror(c));
}

int download(const char *url, const PullOptions *o, const char *label, DownloadSink sink, void *userdata) {
        struct curl_slist *headers = NULL;
        Transfer t = {
                .url = url,
                .sink = sink,
                .userdata = userdata,
                .range_start = -1,
                .shown = url_redact(url),
        };
        unsigned delay = o->retry_delay_ms;
        int r;

        r = download_check_url(url, o);
        if (r < 0)
                goto finish;
        r = setup_handle(&t, o);
        if (r < 0)
                goto finish;

        download_bar_init(&t.bar, label, o->quiet);
        for (unsigned i = 0;; i++) {
                _cleanup_free_ char *why = NULL;

                r = attempt(&t, &headers, &why);
                if (r != -EAGAIN)
                        break;
                if (i >= o->retries) {
                        r = log_error_errno(SYNTHETIC_ERRNO(EIO), "Download of %s failed: %s (gave up after %u attempts)",
                                            t.shown, why, i + 1);
                        break;
                }
                if (t.delivered > 0 && isempty(t.validator)) {
                        /* Without ETag/Last-Modified a resumed body could be
                         * spliced from two versions of the file. */
                        r = log_error_errno(SYNTHETIC_ERRNO(EIO),
                                            "Download of %s failed after %" PRIu64 " bytes: %s (cannot resume safely: "
                                            "the server sent neither ETag nor Last-Modified)", t.shown, t.delivered, why);
                        break;
                }
                download_bar_done(&t.bar, false);
                log_warning("Download of %s: %s; retrying in %u ms (attempt %u of %u)",
                            t.shown, why, delay, i + 2, o->retries + 1);
                r = sleep_ms(delay);
                if (r < 0)
                        break;
                delay *= 2;
        }
        download_bar_done(&t.bar, r >= 0);

finish:
        if (t.curl)
                curl_easy_cleanup(t.curl);
        curl_slist_free_all(headers);
        free(t.validator);
        free(t.etag);
        free(t.last_modified);
        free(t.location);
        free(t.shown);
        return r;
}
