#!/usr/bin/env bash
# shellcheck disable=SC2016  # the bash -c programs get their values as arguments
# run-install-test.sh: installs the built binary into a scratch DESTDIR with
# scripts/install.sh (what `make install` runs after its release build) and
# checks what lands there: the binary, a man page that man(1) renders
# without warnings and that documents every subcommand and shared option,
# and completions that bash actually completes with (zsh and fish files are
# syntax-checked when those shells are installed).
#
# Usage: Tests/install/run-install-test.sh PATH_TO_postfix-tls-fix_BINARY
# Exit status 0 when every check passed, 1 otherwise.
set -euo pipefail

[[ $# -eq 1 && -x $1 ]] || { echo "usage: $0 PATH_TO_postfix-tls-fix_BINARY" >&2; exit 2; }
bin=$1
repo=$(cd "$(dirname "$0")/../.." && pwd)
dest=$(mktemp -d /tmp/postfix-tls-fix-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT
prefix=/usr/local
root=$dest$prefix
failed=0
check() {   # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then echo "  ok:   $what"; else echo "  FAIL: $what"; failed=1; fi
}

echo "install: scripts/install.sh $bin DESTDIR=$dest PREFIX=$prefix"
SOURCE_DATE_EPOCH=1709251200 "$repo/scripts/install.sh" "$bin" "$dest" "$prefix"

page=$root/share/man/man8/postfix-tls-fix.8
bash_completion=$root/share/bash-completion/completions/postfix-tls-fix
zsh_completion=$root/share/zsh/site-functions/_postfix-tls-fix
fish_completion=$root/share/fish/vendor_completions.d/postfix-tls-fix.fish

check "binary installed, mode 755, same bytes as $bin" \
    bash -c '[[ $(stat -c %a "$1") == 755 ]] && cmp -s "$1" "$2"' _ "$root/sbin/postfix-tls-fix" "$bin"
check "installed binary runs (--help)" bash -c '"$1" --help >/dev/null' _ "$root/sbin/postfix-tls-fix"
version=$(cat "$repo/VERSION")
check "installed binary's --version is VERSION ($version)" test "$("$root/sbin/postfix-tls-fix" --version)" = "$version"

# The man page: section 8, dated from SOURCE_DATE_EPOCH (2024-03-01), and
# man renders it with no warning.
check "man page is postfix-tls-fix(8)" grep -qx '.Dt POSTFIX-TLS-FIX 8' "$page"
check "man page date comes from SOURCE_DATE_EPOCH" grep -qx '.Dd March 1, 2024' "$page"
check "man page footer names the version" grep -qx ".Os postfix-tls-fix $version" "$page"
check "the JSON schema is installed under the doc directory" \
    cmp -s "$root/share/doc/postfix-tls-fix/json-schema.md" "$repo/docs/json-schema.md"
warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null || true)
check "man --warnings renders it without warnings${warnings:+: $warnings}" test -z "$warnings"
rendered=$(MANWIDTH=200 man -l "$page" 2>/dev/null)
for word in check diff apply probe --config-directory --root --postfix-version --format --color --quiet; do
    check "man page documents $word" grep -qe "$word" <<<"$rendered"
done
# Written by hand, it must not drift from the options: each one --help lists.
for subcommand in check diff apply probe; do
    for option in $("$bin" "$subcommand" --help | sed -n '/OPTIONS/,$p' | grep -oE '^  (-[a-z], )?--[a-z-]+' | grep -oE -- '--[a-z-]+'); do
        check "man page documents $subcommand $option" grep -qe "$option" <<<"$rendered"
    done
done
for section in "EXIT STATUS" ENVIRONMENT FILES EXAMPLES "SEE ALSO"; do
    check "man page has $section" grep -qe "^$section" <<<"$rendered"
done

# bash: source the completion and ask it, as bash does on TAB.
complete_words() {   # complete_words WORD... : what TAB offers after the words
    bash -c '
        shopt -s extglob
        source "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        _postfix-tls-fix "$1" "${@: -1}" "${@: -2:1}"
        printf "%s\n" "${COMPREPLY[@]}"' _ "$bash_completion" "$@"
}
subcommands=$(complete_words postfix-tls-fix "" | sort | paste -sd ' ' -)
check "bash completes the subcommands (got: $subcommands)" \
    bash -c 'for c in check diff apply probe; do [[ " $1 " == *" $c "* ]] || exit 1; done' _ "$subcommands"
check "bash completes check --for to --format" test "$(complete_words postfix-tls-fix check --for)" = --format
# Paths where the option takes one: a directory for -c and --root, a file
# for apply's --allow-path and probe's --ca-file.
scratch=$(mktemp -d /tmp/ptf-complete.XXXXXX)
mkdir "$scratch/etc-postfix" && touch "$scratch/cafile.pem"
check "bash completes -c with a directory" test "$(complete_words postfix-tls-fix -c "$scratch/etc-")" = "$scratch/etc-postfix"
check "bash completes --root with a directory" test "$(complete_words postfix-tls-fix check --root "$scratch/etc-")" = "$scratch/etc-postfix"
check "bash completes apply --allow-path with a path" test "$(complete_words postfix-tls-fix apply --allow-path "$scratch/ca")" = "$scratch/cafile.pem"
check "bash completes probe --ca-file with a file" test "$(complete_words postfix-tls-fix probe --ca-file "$scratch/ca")" = "$scratch/cafile.pem"
rm -rf "$scratch"
check "bash completion is sourced, not run: no #! line" bash -c '[[ $(head -c2 "$1") != "#!" ]]' _ "$bash_completion"
check "zsh completion declares #compdef postfix-tls-fix" grep -qx '#compdef postfix-tls-fix' "$zsh_completion"
check "fish completion completes postfix-tls-fix" grep -qF "complete -c 'postfix-tls-fix'" "$fish_completion"
if command -v zsh >/dev/null; then check "zsh -n accepts the zsh completion" zsh -n "$zsh_completion"; fi
if command -v fish >/dev/null; then check "fish --no-execute accepts the fish completion" fish --no-execute "$fish_completion"; fi

if [[ $failed -ne 0 ]]; then echo "install test: FAILED"; exit 1; fi
echo "install test: passed"
