/* SPDX-License-Identifier: MIT */
#pragma once

#include "pull.h"

/* flake-pull@INSTANCE: everything the registered flake needs. INSTANCE is
 * "app" or "app@id" (the id does not matter for images). */
int pull_flake(const char *instance, const PullOptions *o);
