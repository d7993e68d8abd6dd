#!/bin/sh
# bench.sh: postfix-tls-fix against postmap on large TLS policy tables,
# measured side by side in the same run.
#
#   scripts/bench.sh BIN [--sizes "10000 100000 1000000"] [--runs 7] [--results FILE]
#
# For each size it generates a policy table with a realistic mix (verify,
# secure with match=, dane-only, may, encrypt with protocols=, none, entries
# that already carry servername, upper-case keys and levels, continuation
# lines, comment lines inside and between entries, blank lines), then times,
# in rounds that alternate between the commands (so load from other work on
# the machine hits all of them alike), at least --runs times each:
#
#   postmap   postmap -c DIR hash:DIR/tls_policy   (the unfixed table)
#   diff      BIN -c DIR diff                      (the unfixed table; output to a file)
#   apply     BIN -c DIR apply                     (restored to the unfixed table and
#                                                   its postmap-built index before each run)
#   check     BIN -c DIR check                     (an already fixed table with a current
#                                                   index: reads the whole .db)
#
# Each run's wall time comes from the clock, its peak RSS from
# `/usr/bin/time -v`. It prints medians, min/max, the ratios to postmap's
# median and the time per entry, checks the targets on the largest size
# (issue 6: apply <= 0.5x postmap, diff <= 0.15x, check <= 0.3x, peak RSS
# <= 3x the source size, time per entry from the 100k to the 1M table at
# most 20% higher), and exits 1 when one is missed.
#
# Results file (default .build/bench/results.tsv): lines starting with '#'
# describe the run (date, machine, load average before and after, the
# commit); then a header line and one tab-separated line per size and
# command with these columns:
#   entries        entries in the table
#   source_bytes   size of the table source
#   command        postmap, diff, apply or check
#   runs           number of timed runs
#   median_s       median wall time, seconds
#   min_s, max_s   fastest and slowest run, seconds
#   ratio          median_s / postmap's median_s on the same table
#   us_per_entry   median_s / entries, microseconds
#   peak_rss_kb    largest peak RSS over the runs, KiB
#   rss_per_source peak_rss_kb * 1024 / source_bytes
set -eu

usage() { echo "usage: bench.sh PATH_TO_postfix-tls-fix [--sizes \"N ...\"] [--runs N] [--results FILE]" >&2; exit 2; }
[ $# -ge 1 ] || usage
bin=$1; shift
sizes="10000 100000 1000000"
runs=7  # at least 5 (issue 6); 7 makes the medians steadier on a shared machine
root=$(cd "$(dirname "$0")/.." && pwd)
results="$root/.build/bench/results.tsv"
while [ $# -gt 0 ]; do
    case $1 in
        --sizes) sizes=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --results) results=$2; shift 2 ;;
        *) usage ;;
    esac
done
case $bin in /*) ;; *) bin="$(pwd)/$bin" ;; esac
[ -x "$bin" ] || { echo "bench: $bin is not an executable" >&2; exit 2; }
command -v postmap >/dev/null || { echo "bench: postmap not found (scripts/install-deps.sh)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time not found (Debian package time)" >&2; exit 2; }
[ "$runs" -ge 1 ] || usage

work=$(mktemp -d "${TMPDIR:-/tmp}/postfix-tls-fix-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$(dirname "$results")"
samples="$work/samples"   # size command seconds rss_kb
: > "$samples"

# The table: entry i gets one of 20 shapes (i mod 20); every 50th entry has
# a comment line before it and every 997th a blank line. About 46 bytes per
# entry, 60% of the entries need servername.
generate() {
    awk -v n="$1" 'BEGIN {
        for (i = 1; i <= n; i++) {
            k = i % 20
            d = sprintf("client%07d", i)
            if (i % 50 == 0) print "# customer block " i ": imported from the MTA-STS feed"
            if (i % 997 == 0) print ""
            if (k <= 4)       print d ".example.com verify"
            else if (k == 5)  print "[mx." d ".example.net]:25\tverify"
            else if (k <= 7)  print d ".example.org secure match=." d ".example.org:" d ".example.org"
            else if (k == 8)  print "." d ".example.org\tsecure"
            else if (k <= 10) print d ".example.de dane-only"
            else if (k <= 12) print d ".example.fr may"
            else if (k == 13) print d ".example.it encrypt protocols=>=TLSv1.2"
            else if (k <= 15) print d ".example.nl verify servername=hostname"
            else if (k == 16) { print d ".example.se secure"; print "    match=nexthop:dot-nexthop" }
            else if (k == 17) { print d ".example.dk verify"; print "# rotated 2024-03"; print "\tciphers=high" }
            else if (k == 18) print "D" d ".Example.AT Verify ciphers=high"
            else              print d ".example.pl none"
        }
    }'
}

config() {  # config DIR: a configuration directory whose only policy map is DIR/tls_policy
    mkdir -p "$1"
    printf '%s\n' "compatibility_level = 3.6" "smtp_tls_security_level = may" \
        'smtp_tls_policy_maps = hash:$config_directory/tls_policy' > "$1/main.cf"
}

now_ns() { date +%s%N; }

# measure SIZE COMMAND EXPECTED_STATUS CMD...: one timed run, appended to samples.
measure() {
    size=$1; name=$2; expected=$3; shift 3
    start=$(now_ns)
    status=0
    /usr/bin/time -v -o "$work/time.txt" "$@" > "$work/out.txt" 2> "$work/err.txt" || status=$?
    end=$(now_ns)
    if [ "$status" -ne "$expected" ]; then
        echo "bench: $name on $size entries exited $status (expected $expected):" >&2
        tail -5 "$work/err.txt" >&2
        exit 1
    fi
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.txt")
    echo "$size $name $(( (end - start) / 1000 )) $rss" >> "$samples"
}

load() { cut -d' ' -f1-3 /proc/loadavg; }

echo "bench: $bin"
echo "bench: sizes $sizes, $runs runs each, load average $(load) (other work on the machine makes figures noisy)"
load_before=$(load)
for size in $sizes; do
    dir="$work/$size"
    mkdir -p "$dir"
    generate "$size" > "$dir/unfixed"
    bytes=$(wc -c < "$dir/unfixed")
    echo "$size $bytes" >> "$work/sizes"
    for c in postmap diff apply check; do config "$dir/$c"; cp "$dir/unfixed" "$dir/$c/tls_policy"; done
    postmap -c "$dir/apply" "hash:$dir/apply/tls_policy"
    cp "$dir/apply/tls_policy.db" "$dir/unfixed.db"
    postmap -c "$dir/diff" "hash:$dir/diff/tls_policy"
    "$bin" -c "$dir/check" apply > /dev/null
    "$bin" -c "$dir/check" check > /dev/null
    printf 'bench: %s entries (%s bytes):' "$size" "$bytes"
    round=1
    while [ "$round" -le "$runs" ]; do
        measure "$size" postmap 0 postmap -c "$dir/postmap" "hash:$dir/postmap/tls_policy"
        measure "$size" diff 1 "$bin" -c "$dir/diff" diff
        cp "$dir/unfixed" "$dir/apply/tls_policy"
        cp "$dir/unfixed.db" "$dir/apply/tls_policy.db"
        measure "$size" apply 0 "$bin" -c "$dir/apply" apply
        measure "$size" check 0 "$bin" -c "$dir/check" check
        printf ' %s' "$round"
        round=$((round + 1))
    done
    echo
    rm -rf "$dir"
done
load_after=$(load)

# Medians, extremes, ratios and targets.
{
    echo "# postfix-tls-fix benchmark against postmap (scripts/bench.sh; format in its header)"
    echo "# date: $(date -u '+%Y-%m-%dT%H:%M:%SZ')"
    echo "# machine: $(uname -srm), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "# load average before: $load_before; after: $load_after"
    echo "# commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
    echo "# postmap: $(postconf -d -h mail_version 2>/dev/null || echo unknown); runs per command: $runs"
    printf 'entries\tsource_bytes\tcommand\truns\tmedian_s\tmin_s\tmax_s\tratio\tus_per_entry\tpeak_rss_kb\trss_per_source\n'
    for size in $sizes; do
        bytes=$(awk -v s="$size" '$1 == s { print $2 }' "$work/sizes")
        postmap_median=""
        for c in postmap diff apply check; do
            awk -v s="$size" -v c="$c" '$1 == s && $2 == c { print $3, $4 }' "$samples" | sort -n > "$work/one"
            stats=$(awk -v size="$size" -v bytes="$bytes" -v c="$c" -v pm="$postmap_median" '
                { t[NR] = $1 / 1e6; if ($2 > rss) rss = $2 }
                END {
                    m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
                    ratio = (pm == "") ? 1 : m / pm
                    printf "%d\t%d\t%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%d\t%.2f\n",
                        size, bytes, c, NR, m, t[1], t[NR], ratio, m / size * 1e6, rss, rss * 1024 / bytes
                }' "$work/one")
            [ "$c" = postmap ] && postmap_median=$(echo "$stats" | cut -f5)
            echo "$stats"
        done
    done
} > "$results"

echo
# The table, aligned (awk rather than column(1), which is not always there).
grep -v '^#' "$results" | awk -F '\t' '
    { for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > width[i]) width[i] = length($i) } fields = NF }
    END { for (r = 1; r <= NR; r++) { line = ""; for (i = 1; i <= fields; i++) line = line sprintf("%-" (width[i] + 2) "s", cell[r, i]); sub(/ +$/, "", line); print line } }'
echo
echo "bench: results in $results"

# Targets, on the largest table, with time per entry compared between the
# two largest.
largest=$(echo "$sizes" | tr ' ' '\n' | sort -n | tail -1)
previous=$(echo "$sizes" | tr ' ' '\n' | sort -n | tail -2 | head -1)
awk -F '\t' -v big="$largest" -v small="$previous" '
    /^#/ || $1 == "entries" { next }
    { key = $1 SUBSEP $3; ratio[key] = $8; per[key] = $9; rss[key] = $11 }
    function verdict(ok, text) { printf "  %-4s %s\n", ok ? "ok" : "MISS", text; if (!ok) missed++ }
    END {
        print "targets (" big " entries, ratios to postmap):"
        verdict(ratio[big, "apply"] <= 0.5, sprintf("apply %.3fx postmap (<= 0.5x)", ratio[big, "apply"]))
        verdict(ratio[big, "diff"] <= 0.15, sprintf("diff  %.3fx postmap (<= 0.15x)", ratio[big, "diff"]))
        verdict(ratio[big, "check"] <= 0.3, sprintf("check %.3fx postmap (<= 0.3x)", ratio[big, "check"]))
        split("diff apply check", commands, " ")
        for (i = 1; i <= 3; i++) {
            c = commands[i]
            verdict(rss[big, c] <= 3, sprintf("%-5s peak RSS %.2fx the source size (<= 3x)", c, rss[big, c]))
        }
        if (small != big) {
            for (i = 1; i <= 3; i++) {
                c = commands[i]
                # Flat means not growing with the table: at most 20% more
                # per entry on the larger one. (Less is fine: the start-up
                # cost, some 40 ms, weighs more on the smaller table.)
                growth = per[big, c] / per[small, c]
                verdict(growth <= 1.2,
                    sprintf("%-5s time per entry %s -> %s entries: %.3f -> %.3f us (x%.2f, at most x1.20)", c, small, big, per[small, c], per[big, c], growth))
            }
        }
        if (missed) print "bench: " missed " target" (missed > 1 ? "s" : "") " missed (see above; docs/performance.md says why)"
        else print "bench: all targets met"
        exit missed > 0
    }' "$results"
