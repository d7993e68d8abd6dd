# policy-judged-phase.sh: phase 7 of run-e2e.sh (sourced inside its
# namespace, after phase 3 gave sender2 smtp_tls_servername = hostname).
# Two policies the tool must judge as smtp(8) does, judged here by sender2's
# own smtp(8) on loopback (its relayhost is [mx.gmail.test]:2525, the
# policy lookup key):
#
#   7a  "[mx.gmail.test]:2525 none # ticket 1234": smtp(8) only logs
#       "ignoring attribute ... with TLS disabled" and sends; check must
#       find no error in it.
#   7b  the same key twice in a texthash table: smtp(8) opens the table as
#       unavailable and defers with "client TLS configuration problem";
#       check must report it as an error with the fix (remove the later
#       line), and after that fix the message is delivered, verified.
#
# Uses run-e2e.sh's BIN, W, S2, S2LOG, RLOG, send, flush, run_tool, check,
# say, mark, since, wait_for, delivered, queue_id_of and show_key_lines.

P7=$S2/policy7
# use_policy TEXT: sender2's policy table becomes TEXT, read at a reload.
use_policy() {
    printf '%s' "$1" > "$P7"
    postconf -c "$S2" -e "smtp_tls_policy_maps = texthash:\$config_directory/policy7"
}
# reload_sender2: reload and wait until master(8) logged it, then a moment
# for the old qmgr(8) and smtp(8) processes to exit, so that the next
# message meets the new configuration.
reload_sender2() {
    local m
    m=$(mark "$S2LOG")
    postfix -c "$S2" reload >/dev/null 2>&1
    wait_for "$S2LOG" "$m" 'reload -- version' && sleep 1
}

say "phase 7a: '[mx.gmail.test]:2525 none # ticket 1234'"
use_policy $'[mx.gmail.test]:2525 none # ticket 1234\n'
rc=0
run_tool "$S2" "$W/check-none.out" check || rc=$?
check "check exits 0 or 1, not 2 (exit $rc)" test "$rc" -lt 2
check "check reports no error for the none entry" bash -c '! grep -q "error" "$1"' _ "$W/check-none.out"
check "sender2 reloaded" reload_sender2
m7=$(mark "$S2LOG")
send "$S2"
flush "$S2"
check "sender2 log: ignoring attribute ... with TLS disabled" \
    wait_for "$S2LOG" "$m7" 'ignoring attribute .* with TLS disabled'
check "sender2 log: status=sent (smtp(8) delivered in clear, as the entry says)" \
    wait_for "$S2LOG" "$m7" 'to=<user@gmail\.test>.*status=sent'
show_key_lines "sender2 log" "$S2LOG" "$m7"

say "phase 7b: the same key twice in a texthash table"
use_policy $'[mx.gmail.test]:2525 verify\n[mx.gmail.test]:2525 none\n'
rc=0
run_tool "$S2" "$W/check-dup.out" check || rc=$?
check "check exits 2 (exit $rc)" test "$rc" -eq 2
check "check: policy7, line 2 ... duplicate entry ... texthash table as unavailable" \
    grep -qE '^policy7, line 2: error: .*duplicate entry .*smtp\(8\) opens this texthash table as unavailable' "$W/check-dup.out"
check "check names the fix: remove the later line" grep -q 'remove' "$W/check-dup.out"
check "sender2 reloaded" reload_sender2
m7b=$(mark "$S2LOG")
send "$S2"
flush "$S2"
check "sender2 log: status=deferred (client TLS configuration problem)" \
    wait_for "$S2LOG" "$m7b" 'to=<user@gmail\.test>.*status=deferred \((delivery temporarily suspended: )?client TLS configuration problem\)'
QID7=$(queue_id_of "$S2LOG" "$m7b" 'status=deferred')
show_key_lines "sender2 log" "$S2LOG" "$m7b"

say "phase 7b: the fix check named (the later line removed), reload, flush"
use_policy $'[mx.gmail.test]:2525 verify\n'
rc=0
run_tool "$S2" "$W/check-dup-fixed.out" check || rc=$?
check "check exits 0 (exit $rc)" test "$rc" -eq 0
# Marked before the reload: the new qmgr(8) may deliver at once.
m7c=$(mark "$S2LOG")
check "sender2 reloaded" reload_sender2
flush "$S2"
if [[ -n $QID7 ]]; then
    FLUSH_DIR=$S2 check "sender2 log: Verified TLS connection ... and $QID7 status=sent" delivered "$S2LOG" "$m7c" "$QID7"
else
    check "queue id of the deferred message is known" false
fi
show_key_lines "sender2 log" "$S2LOG" "$m7c"
