# fish completion for flake-ctl
# SPDX-License-Identifier: MIT
#
# The same commands and options as the bash and zsh completions; all are
# checked against flake-ctl's --help by tests/cli/test-completion.sh.

function __flake_ctl_candidates
        set -l words (commandline -opc)
        set -l cur (commandline -ct)
        switch "$words[-1]"
                case --format
                        printf '%s\n' table json csv
                        return
                case --app --target --include-tar --include-path --oci
                        __fish_complete_path "$cur"
                        return
        end

        # The command and sub-command, skipping options.
        set -l cmd
        set -l sub
        for w in $words[2..-1]
                string match -q -- '-*' $w; and continue
                if test -z "$cmd"
                        set cmd $w
                else if test -z "$sub"; and contains -- $cmd podman firecracker
                        set sub $w
                end
        end

        set -l candidates
        switch "$cmd $sub"
                case ' '
                        set candidates init list verify podman firecracker help --help --version
                case 'init '
                        set candidates --user --force --help
                case 'list '
                        set candidates --user --format --help
                case 'verify '
                        set candidates --user --units --help
                case 'podman '
                        set candidates register remove show pull load stop help --user --help
                case 'firecracker '
                        set candidates register remove show pull network snapshot volume help --user --help
                case 'podman register'
                        set candidates --container --app --target --base --layer --check-host-dependencies --include-tar --include-path --resume --no-agent --attach --opt --info --force --help
                case 'podman remove'
                        set candidates --app --container --force --help
                case 'podman show'
                        set candidates --format --help
                case 'podman pull'
                        set candidates --uri --help
                case 'podman load'
                        set candidates --oci --help
                case 'podman stop'
                        set candidates --help
                case 'firecracker register'
                        set candidates --vm --app --target --run-as --resume --force-vsock --overlay-size --no-net --include-tar --include-path --force --help
                case 'firecracker remove'
                        set candidates --app --vm --force --help
                case 'firecracker show'
                        set candidates --format --help
                case 'firecracker pull'
                        set candidates --name --kis-image --rootfs --kernel --initrd --force --sha256 --quiet --allow-insecure --max-size --user --help
                case 'firecracker network'
                        set candidates init add remove show --help
                case 'firecracker snapshot'
                        set candidates --remove --help
                case 'firecracker volume'
                        set candidates add remove --help
        end
        # Options already given are not offered again (except repeatable ones).
        for c in $candidates
                if contains -- $c $words
                        contains -- $c --layer --opt --include-tar --include-path; or continue
                end
                echo $c
        end
end

complete -c flake-ctl -f -a '(__flake_ctl_candidates)'
