/* SPDX-License-Identifier: MIT */
#pragma once

/* HTTP(S) downloads with libcurl, streamed into a sink.
 *
 * Policy: https:// only, for the URL and every redirect, unless insecure
 * transport was allowed; only "200 OK" is a success. Transient failures
 * (connection refused or reset, timeouts, 408, 429, 5xx) are retried with
 * exponential backoff. A retry after part of the body was delivered resumes
 * with a Range request guarded by If-Range, so the sink sees every byte
 * exactly once, in order, from one version of the resource; a server that
 * cannot resume ends the download with an error instead. */

#include <stddef.h>

#include "pull.h"

/* Returns 0, or a negative errno to abort the download (the sink has
 * logged why, or the error is reported by whoever reads the data). */
typedef int (*DownloadSink)(const void *data, size_t size, void *userdata);

/* Is url acceptable under the policy in o? Logs why not. */
int download_check_url(const char *url, const PullOptions *o);

/* Returns 0 once the whole body went to sink; otherwise a negative errno
 * after logging one line naming the URL and the HTTP status or curl error
 * (-EINTR: interrupted; a sink error is returned as is, not logged). */
int download(const char *url, const PullOptions *o, const char *label, DownloadSink sink, void *userdata);

/* curl_global_init() once per process, before any thread starts. */
int download_global_init(void);
