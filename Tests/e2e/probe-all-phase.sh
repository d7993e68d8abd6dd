# probe-all-phase.sh: phase 6 of run-e2e.sh (sourced inside its namespace,
# with the receiver running): `probe --all` over a policy table naming the
# receiver's three TLS services and a closed port, one verdict each.
# Uses run-e2e.sh's BIN, W, S and check, and probe-phase.sh's probe_run
# and has.

# has_text OUT TEXT: OUT contains TEXT (which may span lines) literally.
has_text() { local all; all=$(<"$1"); [[ $all == *"$2"* ]]; }

PA=$W/probe-all
mkdir -p "$PA"
cp "$S/main.cf" "$PA/main.cf"   # trusts the test CA; its policy table is $config_directory's
touch -d '1 minute ago' "$PA/main.cf"
cat > "$PA/tls_policy" <<'EOF2'
[mx.gmail.test]:2525 verify
[mx.gmail.test]:2527 verify
[mx.gmail.test]:2528 secure
[mx.gmail.test]:2526 verify
.gmail.test verify
EOF2
postmap -c "$PA" "hash:$PA/tls_policy"

check "probe --all exits 2 (the worst verdict: fails either way, unreachable)" \
    probe_run 2 "$W/probe-all.out" -c "$PA" probe --all --timeout 5
check "needs SNI: [mx.gmail.test]:2525" has_text "$W/probe-all.out" \
    $'needs SNI (the fix helps): 1\n  [mx.gmail.test]:2525 (verify, tls_policy, line 1: [mx.gmail.test]:2525)'
check "verifies without SNI: [mx.gmail.test]:2527" has_text "$W/probe-all.out" \
    $'verifies without SNI: 1\n  [mx.gmail.test]:2527 (verify, tls_policy, line 2: [mx.gmail.test]:2527)'
check "fails either way, with why: [mx.gmail.test]:2528" has_text "$W/probe-all.out" \
    $'fails with and without SNI (the fix is not enough): 1\n  [mx.gmail.test]:2528 (secure, tls_policy, line 3: [mx.gmail.test]:2528): [mx.gmail.test]:2528 fails verification at level secure with and without SNI (without: self-signed certificate; with: self-signed certificate)'
check "unreachable: [mx.gmail.test]:2526" has_text "$W/probe-all.out" \
    $'unreachable (nothing could be said): 1\n  [mx.gmail.test]:2526 (verify, tls_policy, line 4: [mx.gmail.test]:2526): cannot tell whether [mx.gmail.test]:2526 needs SNI: Failed to establish session'
check "the .gmail.test entry is listed as not probed" has "$W/probe-all.out" 'not probed: tls_policy, line 5: .gmail.test:'

check "probe --all --format json exits 2" probe_run 2 "$W/probe-all.json" -c "$PA" probe --all --format json --timeout 5
for field in '"needed" : 1' '"not-needed" : 1' '"does-not-help" : 1' '"unknown" : 1' '"all" : true'; do
    check "JSON has $field" has "$W/probe-all.json" "$field"
done
