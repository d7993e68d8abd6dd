#!/usr/bin/env bash
# run-e2e.sh: end-to-end test of postfix-tls-fix against two real Postfix
# instances on loopback.
#
# It reproduces the March 2024 Gmail failure: without SNI, Gmail's MX presented
# a self-signed "CN=invalid2.invalid" certificate ("No SNI provided; please fix
# your client."), so TLS policy entries at level "verify" deferred mail with
# "Server certificate not verified". Then it shows that the tool's fix makes
# the same queued message deliver.
#
#   receiver  Postfix at 127.0.0.2:2525, in the role of the MX "mx.gmail.test".
#             Without SNI it serves the self-signed invalid2.invalid certificate
#             (smtpd_tls_chain_files). With SNI "mx.gmail.test" it serves a
#             certificate signed by the test CA (tls_server_sni_maps). It
#             discards accepted mail and logs the SNI it received.
#   dnsmasq   127.0.0.1:53: gmail.test MX mx.gmail.test, mx.gmail.test A 127.0.0.2.
#   sender    Postfix with smtp_tls_policy_maps = hash:$config_directory/tls_policy
#             ("gmail.test verify", ...), trusting the test CA.
#   sender2   Postfix with relayhost = [mx.gmail.test]:2525 and
#             smtp_tls_security_level = verify in main.cf.
#
#   phase 1   sender: the message is deferred with the certificate failure.
#   phase 2   "BIN -c SENDER apply" while the sender runs, then a flush. The
#             message is delivered over a verified connection, and the receiver
#             logs SNI mx.gmail.test. There is no reload: smtp(8) notices the
#             replaced .db by itself.
#   phase 3   sender2: (a) deferred the same way; (b) "BIN -c SENDER2 apply"
#             edits main.cf; "diff" says it needs "postfix -c DIR reload", and
#             "apply --reload" runs it on the running sender2. After a flush the
#             message is delivered verified.
#   phase 4   "BIN probe" against the receiver (Tests/e2e/probe-phase.sh):
#             without SNI invalid2.invalid, with SNI mx.gmail.test; needs SNI.
#   phase 5   sender3, with queue_run_delay and back-off of an hour
#             (Tests/e2e/deferred-phase.sh): "check" shows the deferred
#             message as waiting for the gmail.test entry; "apply
#             --retry-deferred" delivers it within seconds, while a message
#             deferred for another destination stays queued.
#   phase 6   "BIN probe --all" (Tests/e2e/probe-all-phase.sh) against the
#             receiver's three TLS services (needs SNI on 2525, verifies
#             without it on 2527, fails either way on 2528) and a closed port.
#
# Usage: Tests/e2e/run-e2e.sh PATH_TO_postfix-tls-fix_BINARY
#
# Needs root and permission to run "unshare --mount --net". The script re-execs
# itself inside a new network and mount namespace that has only loopback, so no
# mail or DNS query can leave the machine. /etc/resolv.conf and /etc/hosts are
# replaced there by private bind mounts; no global file (/etc/postfix,
# /etc/hosts, /etc/resolv.conf) is modified. All state lives in a mktemp -d
# directory under /tmp. It is removed at the end unless KEEP=1 is set.
# Packages: scripts/install-deps.sh (postfix, dnsmasq-base, openssl, iproute2).
#
# Exit status: 0 if every phase passed, 1 if any failed, 2 on a usage error,
# 77 (with "SKIP: reason") if this machine cannot run the test at all.
# The last line is "e2e: N passed, M failed".
set -euo pipefail

readonly NS_MARK=POSTFIX_TLS_FIX_E2E_IN_NAMESPACE
readonly PHASES=6
readonly WAIT_SECS=${E2E_WAIT_SECS:-20}   # bound on each wait for a log line

skip() { echo "SKIP: $*"; exit 77; }

if [[ $# -ne 1 ]]; then
    echo "usage: $0 PATH_TO_postfix-tls-fix_BINARY" >&2
    exit 2
fi
if [[ ! -f $1 || ! -x $1 ]]; then
    echo "run-e2e: $1: not an executable file" >&2
    exit 2
fi
BIN=$(readlink -f -- "$1")
SELF=$(readlink -f -- "${BASH_SOURCE[0]}")

# ---------------------------------------------------------------------------
# Outside the namespace: check what we need, then re-exec inside it.
# ---------------------------------------------------------------------------
if [[ ${!NS_MARK:-} != 1 ]]; then
    [[ $(id -u) -eq 0 ]] || skip "must run as root (unshare --net, starting Postfix)"
    export PATH="$PATH:/usr/sbin:/sbin"
    for c in unshare ip ss mount dnsmasq openssl postfix postconf postmap postqueue sendmail; do
        command -v "$c" >/dev/null 2>&1 || skip "$c not found (run scripts/install-deps.sh)"
    done
    id postfix >/dev/null 2>&1 || skip "no 'postfix' user (run scripts/install-deps.sh)"
    if ! err=$(unshare --mount --net --propagation private true 2>&1); then
        skip "cannot create a network and mount namespace: ${err:-unshare failed}"
    fi
    export "$NS_MARK=1"
    exec unshare --mount --net --propagation private -- "$BASH" "$SELF" "$BIN"
fi

# ---------------------------------------------------------------------------
# Inside the namespace.
# ---------------------------------------------------------------------------
export PATH="$PATH:/usr/sbin:/sbin"
export LC_ALL=C
unset MAIL_CONFIG

unset "$NS_MARK"

# Refuse to run anywhere but a fresh network namespace (no address outside lo,
# no route), since the test bind-mounts over /etc files. Tunnel devices such as
# sit0 may exist there, down and without addresses.
if [[ -n $(ip -o addr show | awk '$2 != "lo"') || -n $(ip route show) ]]; then
    echo "run-e2e: not inside a fresh network namespace; refusing to continue" >&2
    exit 1
fi

passed=0
failed=0
finished=0
started_instances=()   # Postfix config directories to stop
dnsmasq_pid=
W=

log_files() {
    local f
    for f in "$W"/log/*; do [[ -f $f ]] && printf '%s\n' "$f"; done
}

dump_logs() {
    local f
    [[ -n $W && -d $W/log ]] || return 0
    while IFS= read -r f; do
        echo "----- last 40 lines of ${f#"$W"/} -----"
        tail -n 40 "$f"
    done < <(log_files)
    echo "----- end of logs -----"
}

stop_postfix() {   # stop one instance; by pid if "postfix stop" did not do it
    local dir=$1 q pid
    postfix -c "$dir" stop >/dev/null 2>&1 || true
    q=$(postconf -c "$dir" -h queue_directory 2>/dev/null) || return 0
    pid=$(sed -n '1s/[^0-9]//gp' "$q/pid/master.pid" 2>/dev/null) || true
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -9 -- "-$pid" 2>/dev/null || kill -9 "$pid" 2>/dev/null || true
    fi
}

cleanup() {
    local rc=$? i
    trap - EXIT
    trap '' INT TERM   # finish stopping everything
    set +e
    if [[ $finished != 1 ]]; then
        echo "run-e2e: aborted (status $rc) before all phases ran"
        failed=$((PHASES - passed))
    fi
    if [[ $failed -gt 0 ]]; then
        dump_logs
    fi
    for ((i = ${#started_instances[@]} - 1; i >= 0; i--)); do
        stop_postfix "${started_instances[i]}"
    done
    if [[ -n $dnsmasq_pid ]]; then
        kill "$dnsmasq_pid" 2>/dev/null
        wait "$dnsmasq_pid" 2>/dev/null
    fi
    umount /etc/resolv.conf 2>/dev/null
    umount /etc/hosts 2>/dev/null
    if [[ -n $W && -d $W ]]; then
        if [[ ${KEEP:-} == 1 ]]; then
            echo "run-e2e: kept $W"
        else
            rm -rf -- "$W"
        fi
    fi
    echo "e2e: $passed passed, $failed failed"
    if [[ $finished != 1 && $rc -gt 128 ]]; then exit "$rc"; fi   # signal
    if [[ $failed -gt 0 ]]; then exit 1; fi
    exit 0
}
trap cleanup EXIT
trap 'echo "run-e2e: interrupted"; exit 130' INT
trap 'echo "run-e2e: terminated"; exit 143' TERM

T0=$SECONDS
say() { printf '[%3ds] %s\n' $((SECONDS - T0)) "$*"; }

# --- log helpers ------------------------------------------------------------
# mark FILE: number of lines now; since FILE MARK: the lines added after it.
mark() { if [[ -f $1 ]]; then wc -l < "$1"; else echo 0; fi; }
since() { if [[ -f $1 ]]; then tail -n "+$(($2 + 1))" "$1"; fi; }

# wait_for FILE MARK REGEX...: wait (at most WAIT_LIMIT or WAIT_SECS seconds)
# until every extended regex matches a line logged after MARK.
wait_for() {
    local file=$1 from=$2 deadline=$((SECONDS + ${WAIT_LIMIT:-$WAIT_SECS})) re ok
    shift 2
    while :; do
        ok=1
        for re in "$@"; do
            since "$file" "$from" | grep -E -- "$re" >/dev/null || { ok=0; break; }
        done
        [[ $ok == 1 ]] && return 0
        [[ $SECONDS -ge $deadline ]] && return 1
        sleep 0.2
    done
}

# count FILE MARK REGEX: how many lines after MARK match.
count() { since "$1" "$2" | grep -Ec -- "$3" || true; }

# re TEXT: TEXT as an extended regex that matches it literally.
# shellcheck disable=SC2016
re() { printf '%s' "$1" | sed 's/[][\.|$(){}?+*^]/\\&/g'; }

show_key_lines() {   # show_key_lines TITLE FILE MARK
    echo "  $1:"
    since "$2" "$3" | grep -E 'certificate verification|TLS connection established|status=|has changed|reload' \
        | sed 's/^/    /' || echo "    (none)"
}

# check DESCRIPTION COMMAND...: run an assertion and report it. It always
# returns 0 (set -e); the result is in last_ok, and phase_ok for the phase.
phase_ok=1
last_ok=1
check() {
    local what=$1
    shift
    if "$@"; then
        echo "  ok:   $what"
        last_ok=1
    else
        echo "  FAIL: $what"
        phase_ok=0
        last_ok=0
    fi
}

# After a failed delivery the receiver's SNI line cannot come; don't wait long.
sni_wait() { if [[ $last_ok == 1 ]]; then echo "$WAIT_SECS"; else echo 2; fi; }

begin_phase() { phase_ok=1; echo; say "=== phase $1: $2"; }
end_phase() {
    if [[ $phase_ok == 1 ]]; then
        passed=$((passed + 1)); say "phase $1: PASS"
    else
        failed=$((failed + 1)); say "phase $1: FAIL"
    fi
}

# ---------------------------------------------------------------------------
# Setup
# ---------------------------------------------------------------------------
W=$(mktemp -d /tmp/postfix-tls-fix-e2e.XXXXXX)
chmod 755 "$W"   # every parent must be traversable by the postfix user
mkdir -p "$W"/{certs,log,receiver,sender,sender2} "$W"/spool/{receiver,sender,sender2}
CERTS=$W/certs
R=$W/receiver S=$W/sender S2=$W/sender2
RLOG=$W/log/receiver.maillog SLOG=$W/log/sender.maillog S2LOG=$W/log/sender2.maillog
say "binary: $BIN"
say "work directory: $W"

# Loopback only: 127.0.0.1 (sender, dnsmasq) and 127.0.0.2 (receiver).
ip link set lo up
ip addr add 127.0.0.2/8 dev lo

# --- certificates -------------------------------------------------------------
cat > "$CERTS/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[selfsigned]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:invalid2.invalid
subjectKeyIdentifier = hash
[mx]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:mx.gmail.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
(
    cd "$CERTS"
    ossl() { openssl "$@" 2>>"$CERTS/openssl.log" >&2 || { cat "$CERTS/openssl.log" >&2; return 1; }; }
    ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
    ossl req -config openssl.cnf -x509 "${ec[@]}" -days 2 -keyout ca.key -out ca.crt \
        -subj "/O=postfix-tls-fix e2e/CN=postfix-tls-fix e2e test CA" -extensions ca
    ossl req -config openssl.cnf -x509 "${ec[@]}" -days 2 -keyout invalid2.key -out invalid2.crt \
        -subj "/OU=No SNI provided; please fix your client./CN=invalid2.invalid" -extensions selfsigned
    ossl req -config openssl.cnf -new "${ec[@]}" -keyout mx.key -out mx.csr -subj "/CN=mx.gmail.test"
    ossl x509 -req -in mx.csr -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" -days 2 \
        -extfile openssl.cnf -extensions mx -out mx.crt
    chmod 644 ./*.crt
    chmod 600 ./*.key
)
say "certificates: test CA, self-signed invalid2.invalid, mx.gmail.test signed by the CA"

# --- DNS ----------------------------------------------------------------------
printf 'nameserver 127.0.0.1\noptions attempts:1 timeout:1\n' > "$W/resolv.conf"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' > "$W/hosts"
mount --bind "$W/resolv.conf" /etc/resolv.conf
mount --bind "$W/hosts" /etc/hosts
dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
    --listen-address=127.0.0.1 --bind-interfaces --port=53 \
    --pid-file="$W/dnsmasq.pid" --log-facility="$W/log/dnsmasq.log" --log-queries \
    --mx-host=gmail.test,mx.gmail.test,10 --host-record=mx.gmail.test,127.0.0.2 &
dnsmasq_pid=$!
deadline=$((SECONDS + 10))
until ss -Hlun 'sport = :53' | grep 127.0.0.1 >/dev/null; do
    kill -0 "$dnsmasq_pid" 2>/dev/null || { echo "run-e2e: dnsmasq exited" >&2; exit 1; }
    [[ $SECONDS -lt $deadline ]] || { echo "run-e2e: dnsmasq did not start" >&2; exit 1; }
    sleep 0.1
done
say "dnsmasq: gmail.test MX mx.gmail.test, mx.gmail.test A 127.0.0.2"

# --- Postfix instances ----------------------------------------------------------
# write_master DIR [EXTRA_LINE...]: every service unchrooted (chroot column "n").
write_master() {
    cat > "$1/master.cf" <<'EOF'
# service type  private unpriv  chroot  wakeup  maxproc command + args
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
    local dir=$1
    shift
    if [[ $# -gt 0 ]]; then printf '%s\n' "$@" >> "$dir/master.cf"; fi
}

# common_main DIR NAME: what every instance needs to run from its own directories.
common_main() {
    cat <<EOF
# Generated by run-e2e.sh ($2)
compatibility_level = 3.6
queue_directory = $W/spool/$2
data_directory = $W/spool/$2-data
maillog_file = $W/log/$2.maillog
maillog_file_prefixes = $W
inet_protocols = ipv4
mydestination =
alias_maps =
alias_database =
local_recipient_maps =
biff = no
append_dot_mydomain = no
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
EOF
}

# sender_main DIR NAME: main.cf of a sending instance NAME.test that
# delivers to port 2525 with TLS at may, trusting the test CA, and takes
# its TLS policy from the table DIR/tls_policy.
sender_main() {
    common_main "$1" "$2"
    cat <<EOF
myhostname = $2.test
myorigin = $2.test
inet_interfaces = loopback-only
smtp_tcp_port = 2525
smtp_connection_cache_on_demand = no
smtp_tls_security_level = may
smtp_tls_CAfile = $CERTS/ca.crt
smtp_tls_loglevel = 1
smtp_tls_policy_maps = hash:\$config_directory/tls_policy
EOF
}

# age DIR: every Postfix command pauses ~2 s on a main.cf written less than a
# second ago; make the generated files look older.
age() { touch -d '1 minute ago' "$1/main.cf" "$1/master.cf"; }

# Receiver: the "Gmail MX".
{
    common_main "$R" receiver
    cat <<EOF
myhostname = mx.gmail.test
inet_interfaces = 127.0.0.2
smtpd_peername_lookup = no
relay_domains = gmail.test
transport_maps = inline:{ gmail.test=discard:accepted }
smtpd_tls_security_level = may
# No SNI (or an unknown name): the self-signed "No SNI provided" certificate.
smtpd_tls_chain_files = $CERTS/invalid2.key, $CERTS/invalid2.crt
# SNI mx.gmail.test: the certificate signed by the test CA.
tls_server_sni_maps = hash:$R/sni
# Level 1 logs "... TLS connection established from CLIENT to SNI: ...".
smtpd_tls_loglevel = 1
EOF
} > "$R/main.cf"
# 2527: the CA-signed certificate for everyone (needs no SNI); 2528: the
# self-signed one for everyone (fails with and without SNI). For phases 5-6.
write_master "$R" "127.0.0.2:2525 inet n       -       n       -       -       smtpd" \
    "127.0.0.2:2527 inet n       -       n       -       -       smtpd -o tls_server_sni_maps= -o smtpd_tls_chain_files=$CERTS/mx.key,$CERTS/mx.crt" \
    "127.0.0.2:2528 inet n       -       n       -       -       smtpd -o tls_server_sni_maps="
age "$R"
printf 'mx.gmail.test %s %s\n' "$CERTS/mx.key" "$CERTS/mx.crt" > "$R/sni"
postmap -c "$R" -F "hash:$R/sni"

# Sender, phases 1-2: seed-style TLS policy table.
sender_main "$S" sender > "$S/main.cf"
write_master "$S"
age "$S"
cat > "$S/tls_policy" <<'EOF'
# Outbound TLS policy (in the style of the March 2024 report)
gmail.test      verify
.gmail.test     verify
freebsd.test    dane-only
EOF
postmap -c "$S" "hash:$S/tls_policy"

# Sender, phase 3: verify from main.cf through a relayhost, no policy table.
{
    common_main "$S2" sender2
    cat <<EOF
myhostname = sender2.test
myorigin = sender2.test
inet_interfaces = loopback-only
relayhost = [mx.gmail.test]:2525
smtp_connection_cache_on_demand = no
smtp_tls_security_level = verify
smtp_tls_CAfile = $CERTS/ca.crt
smtp_tls_loglevel = 1
EOF
} > "$S2/main.cf"
write_master "$S2"
age "$S2"

start_postfix() {
    local dir=$1 out
    started_instances+=("$dir")
    if ! out=$(postfix -c "$dir" start 2>&1); then
        printf '%s\n' "$out" >&2
        echo "run-e2e: postfix -c $dir start failed" >&2
        return 1
    fi
}
start_postfix "$R"
deadline=$((SECONDS + 10))
until ss -Hltn 'sport = :2525' | grep 127.0.0.2 >/dev/null; do
    [[ $SECONDS -lt $deadline ]] || { echo "run-e2e: receiver is not listening on 127.0.0.2:2525" >&2; exit 1; }
    sleep 0.1
done
start_postfix "$S"
start_postfix "$S2"
say "postfix: receiver on 127.0.0.2:2525, sender and sender2 started"

# send DIR: queue one message to user@gmail.test.
send() {
    local dir=$1 from
    from=e2e@$(postconf -c "$dir" -h myorigin)
    sendmail -C "$dir" -f "$from" user@gmail.test <<EOF
From: $from
To: user@gmail.test
Subject: postfix-tls-fix e2e ($dir)

Test message.
EOF
}

flush() { postqueue -c "$1" -f; }

# run_tool DIR OUTFILE: run the binary under test; show its output.
# run_tool DIR OUT [ARGS...]: "$BIN -c DIR ARGS" (default: apply), output to OUT.
run_tool() {
    local rc=0 dir=$1 out=$2
    shift 2
    [[ $# -gt 0 ]] || set -- apply
    say "run: $BIN -c $dir $*"
    "$BIN" -c "$dir" "$@" > "$out" 2>&1 || rc=$?
    sed 's/^/    | /' "$out"
    return "$rc"
}

CERT_FAIL_RE=$(re 'certificate verification failed for mx.gmail.test[127.0.0.2]:2525: self-signed certificate')
VERIFIED_RE=$(re 'Verified TLS connection established to mx.gmail.test[127.0.0.2]:2525')
# With SNI, the receiver logs "... established from CLIENT to mx.gmail.test: ...".
SNI_RE='TLS connection established from [^ ]+ to mx\.gmail\.test: '
NO_SNI_RE='TLS connection established from [^ ]+: '

# queue_id_of FILE MARK STATUS_REGEX: queue id of the last matching delivery line.
queue_id_of() {
    since "$1" "$2" | sed -nE "s/.*postfix[^/ ]*\/(smtp|relay)\[[0-9]+\]: ([0-9A-Za-z]+): to=<user@gmail\.test>.*$3.*/\2/p" | tail -n 1
}

# delivered FILE MARK QUEUE_ID [MARK2]: wait until QUEUE_ID is sent over a
# verified connection, or give up early once it has been deferred 3 times
# after MARK2 (default MARK). At most one attempt that started before the fix
# took effect can be among them. With FLUSH_DIR set, that instance's queue
# is flushed every 3 s meanwhile: after a reload, a flush can reach the old
# qmgr(8) just before it exits, and the new one would then wait for its
# 300 s wakeup.
delivered() {
    local file=$1 from=$2 qid=$3 from2=${4:-$2} deadline=$((SECONDS + WAIT_SECS)) next_flush=$((SECONDS + 3))
    local sent_re="$qid: to=<user@gmail\.test>.*status=sent"
    while :; do
        if [[ -n ${FLUSH_DIR:-} && $SECONDS -ge $next_flush ]]; then
            flush "$FLUSH_DIR"
            next_flush=$((SECONDS + 3))
        fi
        if since "$file" "$from" | grep -E -- "$VERIFIED_RE" >/dev/null &&
            since "$file" "$from" | grep -E -- "$sent_re" >/dev/null; then
            return 0
        fi
        if [[ $(count "$file" "$from2" "$qid: .*status=deferred") -ge 3 ]]; then
            echo "  (message $qid deferred again 3 times after the fix)"
            return 1
        fi
        [[ $SECONDS -lt $deadline ]] || return 1
        sleep 0.2
    done
}

# ---------------------------------------------------------------------------
# Phase 1: before the tool, verify without SNI defers.
# ---------------------------------------------------------------------------
begin_phase 1 "sender with 'gmail.test verify': deferred without SNI"
m1=$(mark "$SLOG") r1=$(mark "$RLOG")
send "$S"
flush "$S"
check "sender log: certificate verification failed ... self-signed certificate" \
    wait_for "$SLOG" "$m1" "$CERT_FAIL_RE"
check "sender log: status=deferred (Server certificate not verified)" \
    wait_for "$SLOG" "$m1" 'to=<user@gmail\.test>.*status=deferred \(Server certificate not verified\)'
check "receiver log: TLS handshake without SNI" wait_for "$RLOG" "$r1" "$NO_SNI_RE"
QID1=$(queue_id_of "$SLOG" "$m1" 'status=deferred')
check "queue id of the deferred message is known (${QID1:-none})" test -n "$QID1"
show_key_lines "sender log" "$SLOG" "$m1"
show_key_lines "receiver log" "$RLOG" "$r1"
end_phase 1

# ---------------------------------------------------------------------------
# Phase 2: the tool fixes the policy table of the running sender.
# ---------------------------------------------------------------------------
begin_phase 2 "postfix-tls-fix apply on the running sender, then flush: delivered"
cp "$S/tls_policy" "$W/tls_policy.before"
check "'$(basename "$BIN") -c $S apply' exits 0" run_tool "$S" "$W/apply-sender.out"
echo "  tls_policy after the tool (diff against before):"
diff -u "$W/tls_policy.before" "$S/tls_policy" | sed 's/^/    /' || true
echo "  postmap -q gmail.test: $(postmap -c "$S" -q gmail.test "hash:$S/tls_policy" 2>&1 || true)"
check "unrelated entry unchanged: freebsd.test -> dane-only" \
    test "$(postmap -c "$S" -q freebsd.test "hash:$S/tls_policy" 2>&1)" = dane-only
m2=$(mark "$SLOG") r2=$(mark "$RLOG")
flush "$S"
if [[ -n $QID1 ]]; then
    check "sender log: Verified TLS connection ... and $QID1 status=sent" delivered "$SLOG" "$m2" "$QID1"
else
    check "sender log: Verified TLS connection ... and status=sent" \
        wait_for "$SLOG" "$m2" "$VERIFIED_RE" 'to=<user@gmail\.test>.*status=sent'
fi
WAIT_LIMIT=$(sni_wait) check "receiver log: SNI mx.gmail.test received" wait_for "$RLOG" "$r2" "$SNI_RE"
show_key_lines "sender log" "$SLOG" "$m2"
show_key_lines "receiver log" "$RLOG" "$r2"
end_phase 2

# ---------------------------------------------------------------------------
# Phase 3: main.cf variant (relayhost + smtp_tls_security_level = verify).
# ---------------------------------------------------------------------------
begin_phase 3 "sender2 with smtp_tls_security_level = verify in main.cf"
say "phase 3a: before the tool"
m3=$(mark "$S2LOG") r3=$(mark "$RLOG")
send "$S2"
flush "$S2"
check "sender2 log: certificate verification failed ... self-signed certificate" \
    wait_for "$S2LOG" "$m3" "$CERT_FAIL_RE"
check "sender2 log: status=deferred (Server certificate not verified)" \
    wait_for "$S2LOG" "$m3" 'to=<user@gmail\.test>.*status=deferred \(Server certificate not verified\)'
check "receiver log: TLS handshake without SNI" wait_for "$RLOG" "$r3" "$NO_SNI_RE"
QID3=$(queue_id_of "$S2LOG" "$m3" 'status=deferred')
check "queue id of the deferred message is known (${QID3:-none})" test -n "$QID3"
show_key_lines "sender2 log" "$S2LOG" "$m3"
show_key_lines "receiver log" "$RLOG" "$r3"

say "phase 3b: the tool edits main.cf and, with --reload, reloads the running Postfix; flush"
run_tool "$S2" "$W/diff-sender2.out" diff || true
check "diff says 'postfix -c $S2 reload' is needed" grep -qF "then: postfix -c $S2 reload" "$W/diff-sender2.out"
m3b=$(mark "$S2LOG") r3b=$(mark "$RLOG")
check "'$(basename "$BIN") -c $S2 apply --reload' exits 0" run_tool "$S2" "$W/apply-sender2.out" apply --reload
check "tool output says it reloaded Postfix" grep -q "reloaded: postfix -c $S2 reload" "$W/apply-sender2.out"
sn=$(postconf -c "$S2" -h smtp_tls_servername 2>/dev/null || true)
check "main.cf now has smtp_tls_servername = hostname (is: '${sn}')" test "$sn" = hostname
echo "  main.cf lines now: $(grep -E '^smtp_tls_(security_level|servername)' "$S2/main.cf" | paste -sd ';' -)"
# A flush sent while the reload is still in progress may wait for the
# next queue run; wait for master(8) to log the reload first.
check "sender2 log: master reloaded" wait_for "$S2LOG" "$m3b" 'reload -- version'
m3c=$(mark "$S2LOG")
flush "$S2"
if [[ -n $QID3 ]]; then
    FLUSH_DIR=$S2 check "sender2 log: Verified TLS connection ... and $QID3 status=sent" \
        delivered "$S2LOG" "$m3b" "$QID3" "$m3c"
else
    check "sender2 log: Verified TLS connection ... and status=sent" \
        wait_for "$S2LOG" "$m3b" "$VERIFIED_RE" 'to=<user@gmail\.test>.*status=sent'
fi
WAIT_LIMIT=$(sni_wait) check "receiver log: SNI mx.gmail.test received" wait_for "$RLOG" "$r3b" "$SNI_RE"
show_key_lines "sender2 log" "$S2LOG" "$m3b"
show_key_lines "receiver log" "$RLOG" "$r3b"
end_phase 3

begin_phase 4 "postfix-tls-fix probe: the receiver's certificates without and with SNI"
# shellcheck source=Tests/e2e/probe-phase.sh
source "$(dirname "$SELF")/probe-phase.sh"
end_phase 4

begin_phase 5 "deferred mail: check shows it waiting for the fix; apply --retry-deferred delivers only it"
# shellcheck source=Tests/e2e/deferred-phase.sh
source "$(dirname "$SELF")/deferred-phase.sh"
end_phase 5

begin_phase 6 "postfix-tls-fix probe --all: needs SNI, verifies without, fails either way, unreachable"
# shellcheck source=Tests/e2e/probe-all-phase.sh
source "$(dirname "$SELF")/probe-all-phase.sh"
end_phase 6

begin_phase 7 "policies judged as smtp(8) judges them: 'none' with attributes, texthash duplicates"
# shellcheck source=Tests/e2e/policy-judged-phase.sh
source "$(dirname "$SELF")/policy-judged-phase.sh"
end_phase 7

echo
say "done"
finished=1
# cleanup (EXIT trap) stops everything and prints the summary line.
