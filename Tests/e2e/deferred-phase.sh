# deferred-phase.sh: phase 5 of run-e2e.sh (sourced inside its namespace,
# with the receiver running). Closes the loop on mail that already failed.
#
#   sender3   like the seed sender ("gmail.test verify" in hash:tls_policy),
#             but with queue_run_delay and the back-off times set to an hour,
#             so that after the first failure only an explicit request can
#             make Postfix try again within this phase. It also routes
#             fail.test to the receiver's port 2528, whose certificate fails
#             with or without SNI, under an entry that already has
#             servername: a certificate failure this fix does not address.
#
# check must show the gmail.test message as waiting for the gmail.test
# entry (text and JSON) and not the fail.test one; apply --retry-deferred
# must deliver the first within seconds (verified, with SNI) and leave the
# second deferred and untried.
# Uses run-e2e.sh's BIN, W, CERTS, R, RLOG, common_main, write_master, age,
# start_postfix, run_tool, check, say, mark, since, count, wait_for,
# delivered, queue_id_of and the *_RE patterns.

# not_has OUT TEXT: no line of OUT contains TEXT.
not_has() { ! grep -F -q -- "$2" "$1"; }

S3=$W/sender3
S3LOG=$W/log/sender3.maillog
mkdir -p "$S3" "$W/spool/sender3"
{
    # Its own retry times instead of common_main's 1-2 s.
    sender_main "$S3" sender3 | grep -Ev '^(queue_run_delay|minimal_backoff_time|maximal_backoff_time) ='
    cat <<EOF2
transport_maps = inline:{ fail.test=smtp:[mx.gmail.test]:2528 }
# No retry of its own within this phase.
queue_run_delay = 3600s
minimal_backoff_time = 3600s
maximal_backoff_time = 7200s
EOF2
} > "$S3/main.cf"
write_master "$S3"
age "$S3"
printf 'gmail.test verify\n[mx.gmail.test]:2528 verify servername=hostname\n' > "$S3/tls_policy"
postmap -c "$S3" "hash:$S3/tls_policy"
start_postfix "$S3"

# send_to DIR ADDRESS: queue one message.
send_to() {
    sendmail -C "$1" -f e2e@sender3.test "$2" <<EOF2
From: e2e@sender3.test
To: $2
Subject: postfix-tls-fix e2e deferred ($2)

Test message.
EOF2
}

m5=$(mark "$S3LOG")
send_to "$S3" user@gmail.test
send_to "$S3" user@fail.test
check "sender3 log: both messages deferred (Server certificate not verified)" \
    wait_for "$S3LOG" "$m5" 'to=<user@gmail\.test>.*status=deferred \(Server certificate not verified\)' \
    'to=<user@fail\.test>.*status=deferred \(Server certificate not verified\)'
QID5=$(queue_id_of "$S3LOG" "$m5" 'status=deferred')
QIDF=$(since "$S3LOG" "$m5" | sed -nE 's/.*postfix[^/ ]*\/smtp\[[0-9]+\]: ([0-9A-Za-z]+): to=<user@fail\.test>.*status=deferred.*/\1/p' | tail -n 1)
check "queue ids known (gmail.test ${QID5:-none}, fail.test ${QIDF:-none})" test -n "$QID5" -a -n "$QIDF"
postqueue -c "$S3" -j > "$W/sender3-queue-before.json" 2>&1 || true

# check: the evidence, per finding and in the summary, as text and JSON.
run_tool "$S3" "$W/check-sender3.out" check || true
check "check: the gmail.test entry has 1 deferred message waiting" has "$W/check-sender3.out" \
    'tls_policy, line 1: gmail.test: 1 deferred message to gmail.test is waiting for this fix (Server certificate not verified)'
check "check: summary names gmail.test and suggests --retry-deferred" has "$W/check-sender3.out" \
    '1 deferred message to gmail.test is waiting for these fixes; `postfix-tls-fix -c '"$S3"' apply --retry-deferred`'
check "check: the fail.test message is not evidence" not_has "$W/check-sender3.out" fail.test
"$BIN" -c "$S3" check --format json > "$W/check-sender3.json" 2>/dev/null || true
for field in "\"queueId\" : \"$QID5\"" '"key" : "gmail.test"' '"nextHop" : "gmail.test"' '"messageCount" : 1' \
    "\"retryCommand\" : \"postqueue -c $S3 -i $QID5\""; do
    check "check JSON has $field" has "$W/check-sender3.json" "$field"
done

# apply --retry-deferred: the fix, then postqueue -i for exactly that message.
m5b=$(mark "$S3LOG") r5=$(mark "$RLOG")
t5=$SECONDS
check "'apply --retry-deferred' exits 0" run_tool "$S3" "$W/apply-sender3.out" apply --retry-deferred
check "apply says it scheduled the message" has "$W/apply-sender3.out" \
    "scheduled 1 deferred message for immediate delivery: postqueue -c $S3 -i $QID5"
if [[ -n $QID5 ]]; then
    WAIT_LIMIT=10 check "sender3 log: Verified TLS connection ... and $QID5 status=sent" delivered "$S3LOG" "$m5b" "$QID5"
fi
say "$((SECONDS - t5))s after apply (queue_run_delay and back-off are 3600s)"
WAIT_LIMIT=$(sni_wait) check "receiver log: SNI mx.gmail.test received" wait_for "$RLOG" "$r5" "$SNI_RE"
postqueue -c "$S3" -j > "$W/sender3-queue-after.json" 2>&1 || true
check "sender3 queue: $QID5 is gone" not_has "$W/sender3-queue-after.json" "\"queue_id\": \"$QID5\""
check "sender3 queue: $QIDF (fail.test) is still deferred" has "$W/sender3-queue-after.json" \
    "\"queue_name\": \"deferred\", \"queue_id\": \"$QIDF\""
check "sender3 log: no new attempt for fail.test" test "$(count "$S3LOG" "$m5b" 'to=<user@fail\.test>')" = 0
show_key_lines "sender3 log" "$S3LOG" "$m5b"
