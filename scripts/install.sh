#!/bin/sh
# install.sh: installs a built postfix-tls-fix with its man page,
# postfix-tls-fix(8), and its bash, zsh and fish completions. The man page
# and the completions come from the same ArgumentParser definitions as
# --help: the page from swift-argument-parser's generate-manual plugin, the
# completions from the binary's --generate-completion-script.
#
# Usage: scripts/install.sh BIN DESTDIR PREFIX
#   BIN      the built executable, e.g. .build-release/release/postfix-tls-fix
#            (scripts/build-release.sh; the Makefile's install target builds
#            it first). The man page is generated in the same build
#            directory, in the debug configuration (below).
#   DESTDIR  staging directory for packages ("" installs in place)
#   PREFIX   e.g. /usr/local or /usr
#
# Installs:
#   $DESTDIR$PREFIX/sbin/postfix-tls-fix
#   $DESTDIR$PREFIX/share/man/man8/postfix-tls-fix.8
#   $DESTDIR$PREFIX/share/bash-completion/completions/postfix-tls-fix
#   $DESTDIR$ZSH_COMPLETION_DIR/_postfix-tls-fix
#   $DESTDIR$PREFIX/share/fish/vendor_completions.d/postfix-tls-fix.fish
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
bindir=$(cd "$(dirname "$bin")" && pwd -P)
# The build directory (swift build's --scratch-path) is the nearest parent
# that holds SwiftPM's workspace-state.json.
scratch=$(dirname "$bindir")
while [ ! -f "$scratch/workspace-state.json" ]; do
    [ "$scratch" != / ] || { echo "install: $bin is not inside a SwiftPM build directory" >&2; exit 1; }
    scratch=$(dirname "$scratch")
done

work=$(mktemp -d "${TMPDIR:-/tmp}/$name-install.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The binary is copied before anything else builds: the generate-manual
# plugin builds the package itself, with its own flags, and a build in BIN's
# configuration would replace BIN (a static release binary by one that
# needs the toolchain's libraries).
cp "$bin" "$work/$name"
bin=$work/$name
version=$("$bin" --version)

# --- man page ---------------------------------------------------------------
# The page comes from the command definitions, which are the same in every
# configuration; the plugin builds in debug so that it never touches the
# release build.
pages=$scratch/plugins/GenerateManual/outputs/$name
rm -rf "$pages"
date_args=
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
    date_args="--date $(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)"
fi
# shellcheck disable=SC2086
if ! (cd "$package" && swift package --scratch-path "$scratch" plugin generate-manual \
        --configuration debug -- --section 8 $date_args) >"$work/plugin.log" 2>&1; then
    cat "$work/plugin.log" >&2
    echo "install: generating the man page failed" >&2
    exit 1
fi
[ -f "$pages/$name.8" ] || { cat "$work/plugin.log" >&2; echo "install: no man page in $pages" >&2; exit 1; }
# generate-manual copies the help's blank lines between paragraphs into the
# page verbatim; mdoc wants .Pp there (an empty line is a warning). Its .Os
# is empty: the footer then names the tool and its version.
sed -e 's/^$/.Pp/' -e "s/^\.Os\$/.Os $name $version/" "$pages/$name.8" > "$work/$name.8"

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
    "$zsh_dir" "$root/share/fish/vendor_completions.d"
install -m 0755 "$bin" "$root/sbin/$name"
install -m 0644 "$work/$name.8" "$root/share/man/man8/$name.8"
install -m 0644 "$work/completion.bash" "$root/share/bash-completion/completions/$name"
install -m 0644 "$work/completion.zsh" "$zsh_dir/_$name"
install -m 0644 "$work/completion.fish" "$root/share/fish/vendor_completions.d/$name.fish"
echo "installed $name, $name(8) and completions under $root"
