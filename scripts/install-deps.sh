#!/bin/sh
# install-deps.sh: install the Debian packages the build (`build`) or the
# build and the tests (`all`, the default) need, non-interactively, and only
# when something is missing.
#
# Building needs libdb-dev and libicu-dev. The tests run the real Postfix tools
# (postmap, postconf, smtp(8)) as ground truth, so Postfix itself is a test
# dependency, installed only for the targets that run it. debconf is told
# "No configuration" so that installing Postfix neither asks questions nor
# starts a system mail server.
#
# Usage: scripts/install-deps.sh [build|all|package]
set -eu

build="libdb-dev libicu-dev"
tests="db5.3-util postfix postfix-lmdb postfix-cdb postfix-pcre dnsmasq-base openssl iproute2 util-linux time man-db acl attr"
case "${1:-all}" in
    build) packages="$build" ;;
    all) packages="$build $tests" ;;
    # what make deb, make rpm and the package test use
    package) packages="debhelper dpkg-dev lintian rpm rpm2cpio cpio binutils" ;;
    *) echo "usage: install-deps.sh [build|all|package]" >&2; exit 2 ;;
esac

missing=""
for p in $packages; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing Debian packages:$missing (run as root to install them)" >&2
    exit 1
fi

echo "install-deps: installing$missing" >&2
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
