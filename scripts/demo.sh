#!/bin/sh
# demo.sh: the main job on the bundled seed example. Copies Examples/seed to
# a scratch directory, builds its index with the real postmap (as the admin
# had it), then shows `check`, `diff` and `apply`, and what Postfix's own
# postmap answers for gmail.com before and after.
set -eu
bin=${1:?usage: demo.sh PATH_TO_postfix-tls-fix}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/postfix-tls-fix-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -R "$root/Examples/seed" "$work/seed"
conf="$work/seed"
postmap -c "$conf" "hash:$conf/maps/tls_policy"

say() { printf '\n==> %s\n' "$*"; }
say "postmap -q gmail.com hash:maps/tls_policy (before)"
postmap -c "$conf" -q gmail.com "hash:$conf/maps/tls_policy"
say "postfix-tls-fix -c $conf check"
"$bin" -c "$conf" check || true
say "postfix-tls-fix -c $conf diff"
"$bin" -c "$conf" diff || true
say "postfix-tls-fix -c $conf apply"
"$bin" -c "$conf" apply
say "postmap -q gmail.com hash:maps/tls_policy (after)"
postmap -c "$conf" -q gmail.com "hash:$conf/maps/tls_policy"
say "postfix-tls-fix -c $conf apply (again: nothing to do)"
"$bin" -c "$conf" apply
