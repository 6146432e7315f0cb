/* SPDX-License-Identifier: MIT */
#pragma once

/* Firecracker's API (its swagger definition, firecracker-api.yaml): one
 * request per connection to the API socket, HTTP/1.1 with a JSON body.
 * flake-vm uses it only for snapshots (vm-snapshot.h): PATCH /vm,
 * PUT /snapshot/create, PUT /snapshot/load, PATCH /drives/{id}. */

#include <json-c/json.h>

/* 0 on a 2xx answer; -EIO with Firecracker's fault_message (or the status
 * line) in *ret_error otherwise; -errno when the socket fails. Retries the
 * connection for up to connect_timeout_ms while Firecracker comes up. */
int firecracker_api(const char *socket_path, const char *method, const char *path, json_object *body,
                    int connect_timeout_ms, char **ret_error);
