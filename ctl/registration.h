/* SPDX-License-Identifier: MIT */
#pragma once

/* What register and remove share across engines: the app link, NAME.yaml
 * and NAME.d/, created and removed under a lock on the flakes dir, with
 * rollback so that a failure leaves the dir exactly as it was. */

#include "ctl.h"

/* Reloads systemd (when it runs) so the generated units follow a change. */
void ctl_reload_units(Ctl *ctl);

/* Takes the flakes dir lock (creating the dir first). Returns the fd. */
int ctl_lock_flakes_dir(Ctl *ctl);

/* Checks an --app value: absolute, and a valid app name as its basename.
 * Usage error otherwise. ret_name gets the basename. */
int ctl_check_app(const char *option, const char *app, char **ret_name);

/* Writes doc as the registration of app and links app to the engine's
 * pilot, under the flakes dir lock. With force, an existing registration of
 * the same app is removed first. */
int ctl_register(Ctl *ctl, FlakeEngine engine, const char *app, bool force, YamlDocument *doc);

/* Removes the registration of app. Without force: NAME.yaml must exist and be
 * of this engine, and app must be a link to the engine's pilot; nothing is
 * removed otherwise. With force: removes whatever of it exists. Must hold the
 * lock. */
int ctl_remove_app(Ctl *ctl, FlakeEngine engine, const char *app, bool force);

/* Removes the image itself after its registrations (engine specific). */
typedef int (*CtlPurgeImage)(Ctl *ctl, const char *image);

/* Removes every registration of engine whose image is image, and the image
 * (purge). All or nothing: if any registration fails remove's checks or the
 * image cannot be removed, nothing is. Must hold the lock. */
int ctl_remove_image(Ctl *ctl, FlakeEngine engine, const char *image, CtlPurgeImage purge);

/* "remove (--app PATH | --container/--vm NAME) [--force]" for an engine. */
int ctl_verb_remove(Ctl *ctl, int argc, char *argv[], FlakeEngine engine, CtlPurgeImage purge);

/* The template document for an engine: TEMPLATE_DIR/<engine file> if it
 * exists (admins may customise it, as with the original), else built in. */
int ctl_load_template(FlakeEngine engine, YamlDocument **ret);

/* Sets key in mapping to a plain (or quoted) string; NULL sets null. */
void yaml_set_string(YamlNode *mapping, const char *key, const char *value);
void yaml_set_bool(YamlNode *mapping, const char *key, bool value);

/* Shared option parsing for --include-tar / --include-path values: absolute,
 * existing (a regular file for a tar) when registered, not only at the
 * first launch. */
int ctl_add_include(char ***list, const char *option, const char *value, bool regular_file);
/* ctl_add_include() for each value of the option ctl_getopt() just returned
 * (ctl_option_values(): "--include-tar a.tar b.tar"). */
int ctl_add_include_values(int argc, char *argv[], char ***list, const char *option, bool regular_file);

/* The flake a VM setting verb (network, volume) works on, given as NAME or
 * as --app PATH: its name, or a usage error naming the verb. */
int ctl_vm_flake_name(const char *verb, const char *app, char **ret);
/* Loads the registered VM flake name; logs if there is none or it is a
 * container flake (which has no what: "a network", "volumes"). */
int ctl_load_vm_flake(Ctl *ctl, const char *name, const char *what, Flake **ret);
/* Edits NAME.yaml itself (not the merged view, so drop-ins stay as they
 * are) with edit(), which returns -EINVAL (logged here) when the file has
 * no 'vm' section and logs its other failures itself; writes
 * it atomically and reloads the units. Must hold the lock. */
int ctl_edit_registration(Ctl *ctl, const char *name, int (*edit)(YamlDocument *doc, const void *userdata),
                          const void *userdata);
/* The name of the calling user (for runtime.runas). */
char *ctl_caller_name(void);
