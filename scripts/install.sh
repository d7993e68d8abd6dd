#!/bin/sh
# install.sh: installs a built postfix-tls-fix with its man page,
# postfix-tls-fix(8), and its bash, zsh and fish completions. The man page
# is docs/postfix-tls-fix.8; the completions come from the same
# ArgumentParser definitions as --help (--generate-completion-script).
#
# Usage: scripts/install.sh BIN DESTDIR PREFIX
#   BIN      the built executable, e.g. .build/release/postfix-tls-fix (the
#            Makefile's install target builds it first).
#   DESTDIR  staging directory for packages ("" installs in place)
#   PREFIX   e.g. /usr/local or /usr
#
# Installs:
#   $DESTDIR$PREFIX/sbin/postfix-tls-fix
#   $DESTDIR$PREFIX/share/man/man8/postfix-tls-fix.8
#   $DESTDIR$PREFIX/share/bash-completion/completions/postfix-tls-fix
#   $DESTDIR$PREFIX/share/zsh/site-functions/_postfix-tls-fix
#   $DESTDIR$PREFIX/share/fish/vendor_completions.d/postfix-tls-fix.fish
# SOURCE_DATE_EPOCH, when set, fixes the man page's date (reproducible builds).
set -eu

if [ $# -ne 3 ]; then
    echo "usage: $0 BIN DESTDIR PREFIX" >&2
    exit 2
fi
bin=$1 destdir=$2 prefix=$3
name=postfix-tls-fix
[ -x "$bin" ] || { echo "install: $bin: not an executable (build it first)" >&2; exit 1; }
case $prefix in
    /*) ;;
    *) echo "install: PREFIX must be absolute: $prefix" >&2; exit 2 ;;
esac

package=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/$name-install.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- man page ---------------------------------------------------------------
# docs/postfix-tls-fix.8 is written for people (the install test checks that
# it names every option --help lists); only its date is filled in here.
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
    date=$(LC_ALL=C date -u -d "@$SOURCE_DATE_EPOCH" '+%B %-d, %Y')
else
    date=$(LC_ALL=C date -u '+%B %-d, %Y')
fi
sed "s/@DATE@/$date/" "$package/docs/$name.8" > "$work/$name.8"

# --- completions ------------------------------------------------------------
for shell in bash zsh fish; do
    "$bin" --generate-completion-script "$shell" > "$work/completion.$shell"
done

# --- install ----------------------------------------------------------------
root=$destdir$prefix
install -d "$root/sbin" "$root/share/man/man8" "$root/share/bash-completion/completions" \
    "$root/share/zsh/site-functions" "$root/share/fish/vendor_completions.d"
install -m 0755 "$bin" "$root/sbin/$name"
install -m 0644 "$work/$name.8" "$root/share/man/man8/$name.8"
install -m 0644 "$work/completion.bash" "$root/share/bash-completion/completions/$name"
install -m 0644 "$work/completion.zsh" "$root/share/zsh/site-functions/_$name"
install -m 0644 "$work/completion.fish" "$root/share/fish/vendor_completions.d/$name.fish"
echo "installed $name, $name(8) and completions under $root"
