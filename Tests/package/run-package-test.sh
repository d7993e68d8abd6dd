#!/usr/bin/env bash
# shellcheck disable=SC2016  # the bash -c programs get their values as arguments
# run-package-test.sh: builds the packages (`make deb rpm`: one release
# build for both; lintian must pass) and checks them as a packager's user
# would meet them:
#
#   - the binary is self-contained: readelf's NEEDED list holds only libc,
#     libm, libstdc++, libgcc_s, the dynamic loader, libdb (and libicu), and
#     there is no RPATH or RUNPATH; the .deb and the RPM carry the same one;
#   - the .deb installs with dpkg, runs (--version, check) with the Swift
#     toolchain's directory hidden, reports on /etc/postfix without changing
#     it, and purges;
#   - a dummy debhelper package whose postinst holds
#     Examples/packaging/debian/postinst.snippet builds, installs (fixing
#     /etc/postfix with backups, reloading through invoke-rc.d) and purges;
#   - the RPM lists the expected files and requirements, installs with rpm
#     (a scratch database) and runs its %post; a dummy noarch RPM whose
#     %post is Examples/packaging/rpm/post.snippet fixes /etc/postfix and
#     reloads through systemctl.
#
# Everything that installs runs in a private mount namespace over overlays of
# /usr, /etc and /var, so the host's files and dpkg database never change and
# parallel runs cannot see the installed tool.
#
# Usage: Tests/package/run-package-test.sh (as root; `make package-test`)
# PTF_DEBIAN_SNIPPET and PTF_RPM_SNIPPET name other snippets to try.
# Exit status 0 when every check passed, 1 otherwise, 77 when it cannot run here.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
debian_snippet=${PTF_DEBIAN_SNIPPET:-$repo/Examples/packaging/debian/postinst.snippet}
rpm_snippet=${PTF_RPM_SNIPPET:-$repo/Examples/packaging/rpm/post.snippet}
version=$(cat "$repo/VERSION")

if [[ $(id -u) -ne 0 ]]; then echo "SKIP: the package test needs root (dpkg, mount namespaces)"; exit 77; fi
for tool in dpkg-buildpackage dh lintian rpmbuild rpm readelf unshare postmap; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is missing (make deps-package)"; exit 77; }
done

work=$(mktemp -d /tmp/postfix-tls-fix-package.XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=0
check() {   # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then echo "  ok:   $what"; else echo "  FAIL: $what"; failed=1; fi
}

# --- build --------------------------------------------------------------------
echo "package: make deb rpm (log: build.log)"
if ! make -C "$repo" --no-print-directory deb rpm >"$work/build.log" 2>&1; then
    tail -40 "$work/build.log"
    echo "package test: FAILED (the build or lintian)"
    exit 1
fi
echo "  lintian:"
grep -E '^[EWIPNXO]: ' "$work/build.log" | sed 's/^/    /' || echo "    (nothing)"
deb=$(ls "$repo"/out/deb/postfix-tls-fix_"$version"_*.deb)
rpm_file=$(ls "$repo"/out/rpm/*/postfix-tls-fix-"$version"-1.*.rpm)

# --- the binary ---------------------------------------------------------------
dpkg-deb -x "$deb" "$work/deb-root"
bin=$work/deb-root/usr/sbin/postfix-tls-fix
needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' | sort | paste -sd ' ' -)
allowed='^(libc\.so\.6|libm\.so\.6|libstdc\+\+\.so\.6|libgcc_s\.so\.1|ld-linux-x86-64\.so\.2|libdb-5\.3\.so|libicu(uc|i18n|data)\.so\.[0-9]+)$'
check "NEEDED is only libc, libm, libstdc++, libgcc_s, the loader, libdb, libicu (got: $needed)" \
    bash -c 'for lib in $1; do [[ $lib =~ $2 ]] || exit 1; done' _ "$needed" "$allowed"
check "the binary links libdb itself (postmap's format)" grep -qw 'libdb-5.3.so' <<<"$needed"
check "no RPATH or RUNPATH" bash -c '! readelf -d "$1" | grep -qE "\((RPATH|RUNPATH)\)"' _ "$bin"
check "stripped (no .symtab)" bash -c '! readelf -S "$1" | grep -q "\.symtab"' _ "$bin"
mkdir "$work/rpm-root"
(cd "$work/rpm-root" && rpm2cpio "$rpm_file" | cpio -idm --quiet)
# dh_compress gzips documentation over 4 kB, as Debian policy asks.
check "the .deb carries the JSON schema" test -s "$work/deb-root/usr/share/doc/postfix-tls-fix/json-schema.md.gz"
check "the RPM carries the same binary" cmp -s "$bin" "$work/rpm-root/usr/sbin/postfix-tls-fix"

# --- the RPM's metadata ---------------------------------------------------------
files=$(rpm -qlp "$rpm_file" | grep -v '^/usr/lib/.build-id' | paste -sd ' ' -)
check "RPM files (got: $files)" test "$files" = "/usr/sbin/postfix-tls-fix \
/usr/share/bash-completion/completions/postfix-tls-fix /usr/share/doc/postfix-tls-fix/json-schema.md /usr/share/fish/vendor_completions.d/postfix-tls-fix.fish \
/usr/share/man/man8/postfix-tls-fix.8.gz /usr/share/zsh/site-functions/_postfix-tls-fix"
requires=$(rpm -qp --requires "$rpm_file")
check "RPM requires postfix >= 3.4" grep -qx 'postfix >= 3.4' <<<"$requires"
check "RPM requires libdb-5.3.so by soname" grep -qx 'libdb-5.3.so()(64bit)' <<<"$requires"
check "RPM requires nothing of the Swift toolchain" bash -c '! grep -qiE "swift|Foundation|dispatch" <<<"$1"' _ "$requires"
check "RPM version is VERSION" test "$(rpm -qp --qf '%{VERSION}' "$rpm_file")" = "$version"

# --- dummy packages that carry the snippets ---------------------------------------
# A dpkg-maintscript-helper entry makes dh_installdeb put real code where
# debhelper's token stands, as in most packages.
dummy=$work/dummy/ptf-dummy-0.1
mkdir -p "$dummy/debian/source"
echo '3.0 (native)' >"$dummy/debian/source/format"
cat >"$dummy/debian/control" <<'EOF'
Source: ptf-dummy
Section: mail
Priority: optional
Maintainer: Test <test@example.org>
Build-Depends: debhelper-compat (= 13)
Standards-Version: 4.6.2
Rules-Requires-Root: no

Package: ptf-dummy
Architecture: all
Depends: postfix-tls-fix, ${misc:Depends}
Description: dummy package running the postfix-tls-fix postinst snippet
 Test package of postfix-tls-fix's package test.
EOF
cat >"$dummy/debian/changelog" <<'EOF'
ptf-dummy (0.1) unstable; urgency=medium

  * Test package.

 -- Test <test@example.org>  Sat, 05 Dec 2026 12:00:00 +0000
EOF
printf '#!/usr/bin/make -f\n%%:\n\tdh $@\n' >"$dummy/debian/rules"
chmod +x "$dummy/debian/rules"
echo 'rm_conffile /etc/ptf-dummy.conf 0.1~' >"$dummy/debian/ptf-dummy.maintscript"
# The token is written here, by a packager, in its one real place.
{ printf '#!/bin/sh\nset -e\n\n'; cat "$debian_snippet"; printf '\n#%s#\n\nexit 0\n' DEBHELPER; } >"$dummy/debian/postinst"
chmod +x "$dummy/debian/postinst"
if (cd "$dummy" && dpkg-buildpackage -us -uc -b) >"$work/dummy-deb.log" 2>&1; then
    echo "  ok:   dummy debhelper package with the snippet builds"
else
    tail -20 "$work/dummy-deb.log"; echo "  FAIL: dummy debhelper package with the snippet builds"; failed=1
fi
check "dh_installdeb expanded debhelper's token once, in its place" \
    bash -c 'p=$1/debian/ptf-dummy/DEBIAN/postinst; [[ $(grep -c "^dpkg-maintscript-helper rm_conffile" "$p") -eq 1 ]]' _ "$dummy"

mkdir -p "$work/rpmbuild"
{
    printf 'Name: ptf-dummy\nVersion: 0.1\nRelease: 1\nSummary: dummy package running the postfix-tls-fix %%post snippet\n'
    printf 'License: MIT\nBuildArch: noarch\nRequires: postfix-tls-fix\n\n%%description\nTest package.\n\n%%post\n'
    cat "$rpm_snippet"
    printf '\n%%files\n'
} >"$work/ptf-dummy.spec"
check "dummy noarch RPM with the %post snippet builds" \
    rpmbuild -bb --quiet --define "_topdir $work/rpmbuild" --define "_rpmdir $work/rpmbuild" "$work/ptf-dummy.spec"

# --- installing, in a namespace of its own ---------------------------------------------
cat >"$work/inside.sh" <<'INSIDE'
set -uo pipefail
work=$1 deb=$2 rpm_file=$3 version=$4
failed=0
check() {
    local what=$1
    shift
    if "$@"; then echo "  ok:   $what"; else echo "  FAIL: $what"; failed=1; fi
}
for dir in usr etc var; do
    mkdir -p "$work/overlay/$dir/upper" "$work/overlay/$dir/work"
    mount -t overlay overlay -o "lowerdir=/$dir,upperdir=$work/overlay/$dir/upper,workdir=$work/overlay/$dir/work" "/$dir"
done
# The toolchain's libraries are out of reach: the installed tool must not need them.
[ -d /opt/swift ] && mount -t tmpfs -o ro tmpfs /opt/swift
# Stand-ins that log: postfix(1) says it runs; the init system's layers.
real_postfix=/usr/sbin/postfix.real
mv /usr/sbin/postfix "$real_postfix"
for stub in /usr/sbin/postfix /usr/sbin/invoke-rc.d /usr/bin/systemctl; do
    printf '#!/bin/sh\necho "%s $*" >> %s/init.log\nexit 0\n' "${stub##*/}" "$work" >"$stub"
    chmod 755 "$stub"
done
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/system /run/lock

fixture() {   # a main.cf with a table to fix and a level that changes main.cf
    rm -f /etc/postfix/main.cf* /etc/postfix/tls_policy* "$work/init.log"
    printf 'compatibility_level = 3.6\nsmtp_tls_policy_maps = hash:/etc/postfix/tls_policy\nlmtp_tls_security_level = verify\n' >/etc/postfix/main.cf
    printf 'example.com verify\nexample.net dane-only\n' >/etc/postfix/tls_policy
    postmap hash:/etc/postfix/tls_policy
    touch -d '-1 min' /etc/postfix/tls_policy /etc/postfix/tls_policy.db
}
fixed() {
    [ "$(postmap -q example.com hash:/etc/postfix/tls_policy)" = "verify servername=hostname" ] &&
        [ "$(postconf -h lmtp_tls_servername)" = hostname ] &&
        grep -qx 'example.com verify' /etc/postfix/tls_policy.bak
}
fingerprint() { cat /etc/postfix/main.cf /etc/postfix/tls_policy /etc/postfix/tls_policy.db | md5sum; }

echo "  --- the .deb (toolchain hidden: $(ls -A /opt/swift 2>/dev/null | wc -l) entries in /opt/swift)"
fixture
before=$(fingerprint)
dpkg -i "$deb" >"$work/dpkg-i.log" 2>&1
check "dpkg -i postfix-tls-fix" grep -q 'install ok installed' <(dpkg-query -W -f '${Status}' postfix-tls-fix 2>/dev/null)
check "its postinst reports check's findings in one line" grep -q '^postfix-tls-fix: postfix-tls-fix check has findings for /etc/postfix (nothing was changed)' "$work/dpkg-i.log"
check "its postinst changed nothing in /etc/postfix" test "$(fingerprint)" = "$before"
check "postfix-tls-fix --version says $version" test "$(/usr/sbin/postfix-tls-fix --version 2>&1)" = "$version"
status=0
/usr/sbin/postfix-tls-fix check >"$work/check.log" 2>&1 || status=$?
check "check runs and finds the entry (exit $status)" bash -c '[ "$1" -eq 1 ] && grep -q "tls_policy, line 1: example.com: verify without servername" "$2"' _ "$status" "$work/check.log"

echo "  --- a debhelper package with the Debian snippet"
dpkg -i "$work"/dummy/ptf-dummy_0.1_all.deb >"$work/dummy-i.log" 2>&1
check "dpkg -i ptf-dummy succeeds$(grep -m1 -E 'error|not found' "$work/dummy-i.log" | sed 's/^/: /')" \
    grep -q 'install ok installed' <(dpkg-query -W -f '${Status}' ptf-dummy 2>/dev/null)
check "its postinst fixed /etc/postfix, keeping backups" fixed
check "and reloaded through invoke-rc.d" grep -qx 'invoke-rc.d postfix reload' "$work/init.log"
check "its postinst said nothing" bash -c '! grep -q "^postfix-tls-fix:" "$1"' _ "$work/dummy-i.log"
after=$(fingerprint)
dpkg-reconfigure ptf-dummy >/dev/null 2>&1 || dpkg --configure -a >/dev/null 2>&1
check "a second configure changes nothing" test "$(fingerprint)" = "$after"
dpkg --purge ptf-dummy >"$work/purge.log" 2>&1
dpkg --purge postfix-tls-fix >>"$work/purge.log" 2>&1
check "dpkg --purge removes both" bash -c '! dpkg-query -W ptf-dummy postfix-tls-fix >/dev/null 2>&1 && [ ! -e /usr/sbin/postfix-tls-fix ]'
rm -f /etc/postfix/main.cf
check "without main.cf (\"No configuration\") the .deb installs silently" \
    bash -c 'dpkg -i "$1" "$2" >"$3" 2>&1 && ! grep -q "^postfix-tls-fix:" "$3"' _ "$deb" "$work"/dummy/ptf-dummy_0.1_all.deb "$work/quiet.log"
dpkg --purge ptf-dummy postfix-tls-fix >/dev/null 2>&1

echo "  --- the RPM (scratch database)"
fixture
before=$(fingerprint)
db=$work/rpmdb
rpm --initdb --dbpath "$db"
rpm -i --nodeps --dbpath "$db" "$rpm_file" >"$work/rpm-i.log" 2>&1
check "rpm -i postfix-tls-fix" bash -c 'rpm -q --dbpath "$1" postfix-tls-fix >/dev/null' _ "$db"
check "its %post reports check's findings in one line" grep -q '^postfix-tls-fix: postfix-tls-fix check has findings' "$work/rpm-i.log"
check "its %post changed nothing" test "$(fingerprint)" = "$before"
check "the installed tool runs (--version)" test "$(/usr/sbin/postfix-tls-fix --version 2>&1)" = "$version"
rpm -i --nodeps --dbpath "$db" "$work"/rpmbuild/noarch/ptf-dummy-0.1-1.noarch.rpm >"$work/rpm-dummy.log" 2>&1
check "an RPM with the %post snippet installs" bash -c 'rpm -q --dbpath "$1" ptf-dummy >/dev/null' _ "$db"
check "its %post fixed /etc/postfix, keeping backups" fixed
check "and reloaded through systemd" grep -qx 'systemctl try-reload-or-restart postfix.service' "$work/init.log"
rpm -e --dbpath "$db" ptf-dummy postfix-tls-fix >"$work/rpm-e.log" 2>&1
check "rpm -e removes both" bash -c '! rpm -q --dbpath "$1" postfix-tls-fix >/dev/null && [ ! -e /usr/sbin/postfix-tls-fix ]' _ "$db"
exit $failed
INSIDE
echo "package: installing in a private mount namespace"
unshare --mount --propagation private bash "$work/inside.sh" "$work" "$deb" "$rpm_file" "$version" || failed=1
check "the host saw none of it" bash -c '! dpkg-query -W postfix-tls-fix ptf-dummy >/dev/null 2>&1 && [ ! -e /usr/sbin/postfix-tls-fix ] && [ -x /usr/sbin/postfix ]'

if [[ $failed -ne 0 ]]; then echo "package test: FAILED"; exit 1; fi
echo "package test: passed"
