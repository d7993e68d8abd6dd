#!/bin/sh
# run-ansible-test.sh: runs Examples/ansible's role with ansible-core (from
# PyPI, in a virtual environment kept in .build) against localhost, on a
# scratch copy of the seed's configuration: check mode with --diff (changed,
# the diff shown, nothing written), a real run (changed, written, postmap
# sees the fix), and a second run (no change).
#
# Usage: Tests/ansible/run-ansible-test.sh PATH_TO_postfix-tls-fix
set -eu
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=${ANSIBLE_VENV:-$root/.build/ansible-venv}
if [ ! -x "$venv/bin/ansible-playbook" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "ansible-core==2.19.*"
fi
work=$(mktemp -d /tmp/ptf-ansible.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -R "$root/Examples/seed" "$work/postfix"
postmap -c "$work/postfix" "hash:$work/postfix/maps/tls_policy"
printf 'localhost ansible_connection=local ansible_python_interpreter=%s\n' "$venv/bin/python3" > "$work/inventory"
cat > "$work/play.yml" <<PLAY
- hosts: localhost
  gather_facts: false
  vars:
    postfix_tls_fix_binary: $bin
    postfix_tls_fix_config_directory: $work/postfix
    postfix_tls_fix_postfix_version: "3.7.11"
  roles:
    - $root/Examples/ansible/roles/postfix_tls_fix
PLAY
export LANG=C.UTF-8 ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCAL_TEMP="$work/.ansible"
stamp() { find "$work/postfix" -type f -exec sha256sum {} + | sort; }
fail() { echo "ansible: FAIL: $*"; exit 1; }
play() { "$venv/bin/ansible-playbook" -i "$work/inventory" "$work/play.yml" "$@" > "$work/out" 2>&1 || { cat "$work/out"; fail "ansible-playbook $*"; }; }

before=$(stamp)
play --check --diff
grep -q 'changed=1' "$work/out" || { cat "$work/out"; fail "check mode did not report changed"; }
grep -q '^+gmail.com  *verify servername=hostname' "$work/out" || { cat "$work/out"; fail "check mode showed no diff"; }
[ "$(stamp)" = "$before" ] || fail "check mode wrote files"
echo "ansible: check mode: changed, diff shown, nothing written"

play --diff
grep -q 'changed=1' "$work/out" || { cat "$work/out"; fail "the real run did not report changed"; }
[ "$(postmap -c "$work/postfix" -q gmail.com "hash:$work/postfix/maps/tls_policy")" = "verify servername=hostname" ] || fail "postmap does not see the fix"
[ -f "$work/postfix/maps/tls_policy.bak" ] || fail "no backup"
echo "ansible: real run: changed, postmap sees servername=hostname, backup kept"

play
grep -q 'changed=0' "$work/out" || { cat "$work/out"; fail "a second run reported a change"; }
echo "ansible: second run: no change"
echo "ansible: 3 passed, 0 failed"
