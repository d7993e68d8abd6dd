# probe-phase.sh: the `probe` phase of run-e2e.sh. run-e2e.sh sources it
# inside its namespace while the receiver runs, so `postfix-tls-fix probe`
# meets the same loopback SNI server (self-signed invalid2.invalid without
# SNI, the CA-signed mx.gmail.test with it) through Postfix's own
# posttls-finger. Uses run-e2e.sh's BIN, W, S, R, RLOG, CERTS, SNI_RE and its
# check, say, mark and wait_for helpers.

# probe_run WANT OUT ARGS...: run the binary, show its output (saved in
# OUT), and succeed when it exits WANT.
probe_run() {
    local want=$1 out=$2 rc=0
    shift 2
    "$BIN" "$@" > "$out" 2>&1 || rc=$?
    sed 's/^/    | /' "$out"
    [[ $rc == "$want" ]] || { echo "    (exit status $rc, expected $want)"; return 1; }
}

# has OUT TEXT: OUT has a line containing TEXT literally.
has() { grep -F -q -- "$2" "$1"; }

rp=$(mark "$RLOG")
check "probe '[mx.gmail.test]:2525' exits 1 (needs SNI)" \
    probe_run 1 "$W/probe-mx.out" -c "$S" probe '[mx.gmail.test]:2525'
check "without SNI: the self-signed invalid2.invalid certificate, not verified" has "$W/probe-mx.out" \
    'without SNI: mx.gmail.test[127.0.0.2]:2525: CN=invalid2.invalid, issued by CN=invalid2.invalid: untrusted, not verified (self-signed certificate)'
check "with SNI: mx.gmail.test from the test CA, verified" has "$W/probe-mx.out" \
    'with SNI (-s hostname): mx.gmail.test[127.0.0.2]:2525: CN=mx.gmail.test, issued by CN=postfix-tls-fix e2e test CA: verified (matched mx.gmail.test)'
check "verdict: needs SNI" has "$W/probe-mx.out" '[mx.gmail.test]:2525 needs SNI'
check "receiver log: the probe's SNI mx.gmail.test arrived" wait_for "$RLOG" "$rp" "$SNI_RE"

# Through the MX lookup (dnsmasq), as JSON.
check "probe --format json gmail.test:2525 exits 1" \
    probe_run 1 "$W/probe-mx.json" -c "$S" probe --format json gmail.test:2525
for field in '"verdict" : "needed"' '"needsSNI" : true' '"certificateDependsOnSNI" : true' \
    '"subjectCN" : "invalid2.invalid"' '"subjectCN" : "mx.gmail.test"' '"matchedName" : "mx.gmail.test"'; do
    check "JSON has $field" has "$W/probe-mx.json" "$field"
done

# Trusting only the self-signed certificate: neither handshake verifies.
check "probe --ca-file invalid2.crt exits 2 (SNI does not help)" \
    probe_run 2 "$W/probe-untrusted.out" -c "$S" probe --ca-file "$CERTS/invalid2.crt" '[mx.gmail.test]:2525'
check "verdict: fails with and without SNI" has "$W/probe-untrusted.out" \
    'fails verification at level verify with and without SNI (without: num=62:hostname mismatch;'

# A destination that needs no SNI: the default certificate under its own
# name (invalid2.invalid, found through /etc/hosts as smtp_host_lookup =
# native says) with itself as the trust anchor (smtp_tls_CAfile). The probe
# takes both settings from main.cf. /etc/hosts here is run-e2e.sh's private
# copy, bind-mounted in this namespace only.
mkdir -p "$W/probe-config"
{
    cat "$S/main.cf"
    printf 'smtp_tls_CAfile = %s\nsmtp_host_lookup = native\n' "$CERTS/invalid2.crt"
} > "$W/probe-config/main.cf"
touch -d '1 minute ago' "$W/probe-config/main.cf"
printf '127.0.0.2\tinvalid2.invalid\n' >> "$W/hosts"
check "probe '[invalid2.invalid]:2525' exits 0 (SNI not needed)" \
    probe_run 0 "$W/probe-plain.out" -c "$W/probe-config" probe '[invalid2.invalid]:2525'
check "without SNI: verified" has "$W/probe-plain.out" \
    'without SNI: invalid2.invalid[127.0.0.2]:2525: CN=invalid2.invalid, issued by CN=invalid2.invalid: verified (matched invalid2.invalid)'
check "verdict: does not need SNI" has "$W/probe-plain.out" '[invalid2.invalid]:2525 does not need SNI'

check "probe of a closed port exits 2 and says why" \
    probe_run 2 "$W/probe-closed.out" -c "$S" probe '[127.0.0.2]:2526'
check "verdict: cannot tell, connection refused" has "$W/probe-closed.out" \
    'cannot tell whether [127.0.0.2]:2526 needs SNI: Failed to establish session to [127.0.0.2]:2526'
