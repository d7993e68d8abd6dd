#!/bin/sh
# install.sh: installs a built postfix-tls-fix with its man page,
# postfix-tls-fix(8), and its bash, zsh and fish completions. The man page
# is docs/postfix-tls-fix.8; the completions come from the same
# ArgumentParser definitions as --help (--generate-completion-script).
#
# Usage: scripts/install.sh BIN DESTDIR PREFIX
#   BIN      the built executable, e.g. .build-release/release/postfix-tls-fix
#            (scripts/build-release.sh; the Makefile's install target builds
#            it first).
#   DESTDIR  staging directory for packages ("" installs in place)
#   PREFIX   e.g. /usr/local or /usr
#
# Installs:
#   $DESTDIR$PREFIX/sbin/postfix-tls-fix
#   $DESTDIR$PREFIX/share/man/man8/postfix-tls-fix.8
#   $DESTDIR$PREFIX/share/bash-completion/completions/postfix-tls-fix
#   $DESTDIR$ZSH_COMPLETION_DIR/_postfix-tls-fix
#   $DESTDIR$PREFIX/share/fish/vendor_completions.d/postfix-tls-fix.fish
#   $DESTDIR$PREFIX/share/doc/postfix-tls-fix/json-schema.md (--format json)
# ZSH_COMPLETION_DIR defaults to $PREFIX/share/zsh/site-functions (zsh's own
# default and Fedora's); Debian's zsh reads /usr/share/zsh/vendor-completions.
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

# The binary is copied first: what is installed is exactly what was asked
# about, whatever builds run meanwhile in BIN's build directory.
cp "$bin" "$work/$name"
bin=$work/$name
version=$("$bin" --version)

# --- man page ---------------------------------------------------------------
# docs/postfix-tls-fix.8 is written for people (the install test checks that
# it names every option --help lists); its date and the version in its
# footer are filled in here.
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
    date=$(LC_ALL=C date -u -d "@$SOURCE_DATE_EPOCH" '+%B %-d, %Y')
else
    date=$(LC_ALL=C date -u '+%B %-d, %Y')
fi
sed -e "s/@DATE@/$date/" -e "s/^\.Os$/.Os $name $version/" "$package/docs/$name.8" > "$work/$name.8"

# --- completions ------------------------------------------------------------
for shell in bash zsh fish; do
    "$bin" --generate-completion-script "$shell" > "$work/completion.$shell"
done
# bash sources its completions: ArgumentParser's #!/bin/bash line would only
# suggest the file were a program (lintian: bash-completion-with-hashbang).
sed -i '1{/^#!/d}' "$work/completion.bash"

# --- install ----------------------------------------------------------------
root=$destdir$prefix
zsh_dir=$destdir${ZSH_COMPLETION_DIR:-$prefix/share/zsh/site-functions}
install -d "$root/sbin" "$root/share/man/man8" "$root/share/bash-completion/completions" \
    "$zsh_dir" "$root/share/fish/vendor_completions.d" "$root/share/doc/$name"
install -m 0755 "$bin" "$root/sbin/$name"
install -m 0644 "$work/$name.8" "$root/share/man/man8/$name.8"
install -m 0644 "$work/completion.bash" "$root/share/bash-completion/completions/$name"
install -m 0644 "$work/completion.zsh" "$zsh_dir/_$name"
install -m 0644 "$work/completion.fish" "$root/share/fish/vendor_completions.d/$name.fish"
install -m 0644 "$package/docs/json-schema.md" "$root/share/doc/$name/json-schema.md"
echo "installed $name, $name(8) and completions under $root"
