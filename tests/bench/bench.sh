#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# make bench: the cost of tracing, measured side by side in one run and reported as
# ratios (this machine is shared and noisy: absolute times vary, ratios less so).
# Writes a table on stdout and the same numbers to OUTPUT/bench-results.json.
# usage: tests/bench/bench.sh OUTPUT
set -u
out=$1
gate="$out/memleak-run"
bin="$out/tests/bench"
results="$out/bench-results.json"
pairs=${BENCH_PAIRS:-20000}
export LC_ALL=C

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: tracing needs root" >&2
	exit 1
fi

now() { date +%s.%N; }
# Wall seconds of a command (output discarded), best of $REPEAT runs.
timed() {
	local best="" t0 t1 d
	for _ in $(seq "${REPEAT:-3}"); do
		t0=$(now)
		"$@" >/dev/null 2>&1
		t1=$(now)
		d=$(echo "$t1 - $t0" | bc -l)
		if [ -z "$best" ] || [ "$(echo "$d < $best" | bc -l)" = 1 ]; then best=$d; fi
	done
	echo "$best"
}
# ns per malloc/free pair reported by the churn program under a command prefix, best of
# $REPEAT runs (the machine is shared: a run can take twice as long as the next).
churn() {
	local best="" v
	for _ in $(seq "${REPEAT:-3}"); do
		v=$("$@" "$bin/churn" "${churn_pairs:-$pairs}" 2>&1 >/dev/null |
			sed -n 's/.*churn_ns_per_pair \([0-9.]*\).*/\1/p' | tail -n 1)
		[ -n "$v" ] || continue
		if [ -z "$best" ] || [ "$(echo "$v < $best" | bc -l)" = 1 ]; then best=$v; fi
	done
	echo "$best"
}
ratio() { echo "scale=2; $1 / $2" | bc -l; }

declare -A v
echo "memleak bench on $(uname -srm), $(nproc) cores; $pairs malloc/free pairs per churn run"
echo

# 1. Churn. The trap floor is memleak-run with programs that record nothing (--probe-only)
# at the same probe points: by default the preload library's sites, with --no-preload the
# C library's functions. memleak.py's placement is a probe at each C library function's
# entry.
v[churn_native]=$(churn env)
v[churn_gate]=$(churn "$gate" --)
v[churn_floor]=$(churn "$gate" --probe-only --)
v[churn_libc]=$(churn "$gate" --no-preload --)
v[churn_libc_floor]=$(churn "$gate" --probe-only --no-preload --)
v[churn_entry]=$(churn "$gate" --no-preload --probes-at-entry --)
v[churn_entry_floor]=$(churn "$gate" --probe-only --no-preload --probes-at-entry --)
v[churn_valgrind]=$(churn valgrind -q --leak-check=full --error-exitcode=0)
v[churn_lsan]=$(churn env LD_PRELOAD=/usr/lib/x86_64-linux-gnu/liblsan.so.0 LSAN_OPTIONS=detect_leaks=1)
v[churn_heaptrack]=$(churn heaptrack -o /tmp/bench-heaptrack)
rm -f /tmp/bench-heaptrack*
printf '%-44s %12s %10s\n' "churn: ns per malloc/free pair" "ns" "x native"
for k in native gate floor libc libc_floor entry entry_floor valgrind lsan heaptrack; do
	val=${v[churn_$k]:-}
	case $k in
	gate) label="memleak-run (preload sites)" ;;
	floor) label="trap floor (same probes, empty programs)" ;;
	libc) label="memleak-run --no-preload (C library)" ;;
	libc_floor) label="trap floor, --no-preload" ;;
	entry) label="C library, probes at entry (memleak.py)" ;;
	entry_floor) label="trap floor, probes at entry" ;;
	*) label=$k ;;
	esac
	if [ -n "$val" ]; then
		printf '%-44s %12s %10s\n' "  $label" "$val" "$(ratio "$val" "${v[churn_native]}")"
	else
		printf '%-44s %12s\n' "  $label" "n/a"
	fi
done
printf '%-44s %12s\n' "  memleak-run / trap floor" "$(ratio "${v[churn_gate]}" "${v[churn_floor]}")"
printf '%-44s %12s\n' "  memleak.py placement / memleak-run" "$(ratio "${v[churn_entry]}" "${v[churn_gate]}")"
echo

# 1b. Only the traced tree pays: churn outside the tree, beside a gate whose traced process
# (a sleep) holds the same probes: in the C library (--no-preload), or at the sites of the
# preload library, which the outsider preloads too. Untraced, a pair costs nanoseconds:
# these runs make 100 times more of them.
beside() { # gate options...; then the churn prefix after --
	local opts=() gp
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	"$gate" "${opts[@]}" -- sleep 60 >/dev/null 2>&1 &
	gp=$!
	for _ in $(seq 100); do
		[ -d "/sys/kernel/tracing/events/memleak_$gp" ] && break
		sleep 0.1
	done
	sleep 0.3
	churn "$@"
	kill -TERM "$gp"
	wait "$gp" 2>/dev/null
}
preload="$out/libmemleak-preload.so"
churn_pairs=$((pairs * 100))
v[churn_untraced]=$(churn env)
v[churn_outside_libc]=$(beside --no-preload -- env)
v[churn_preloaded]=$(churn env LD_PRELOAD="$preload")
v[churn_outside_sites]=$(beside -- env LD_PRELOAD="$preload")
unset churn_pairs
printf '%-44s %12s %10s\n' "outside the traced tree, beside a gate" "ns" "x untraced"
printf '%-44s %12s %10s\n' "  untraced" "${v[churn_untraced]}" "1"
printf '%-44s %12s %10s\n' "  beside --no-preload (C library probes)" "${v[churn_outside_libc]}" \
	"$(ratio "${v[churn_outside_libc]}" "${v[churn_untraced]}")"
printf '%-44s %12s %10s\n' "  preloading the library, untraced" "${v[churn_preloaded]}" "1"
printf '%-44s %12s %10s\n' "  preloading the library, beside a gate" "${v[churn_outside_sites]}" \
	"$(ratio "${v[churn_outside_sites]}" "${v[churn_preloaded]}")"
echo

# 2. A real program: sqlite3 inserting and indexing rows.
sql=$(mktemp)
{
	echo "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score REAL);"
	echo "BEGIN;"
	for i in $(seq 1 20000); do echo "INSERT INTO t(name, score) VALUES ('name$i', $i.5);"; done
	echo "COMMIT;"
	echo "CREATE INDEX t_name ON t(name); CREATE INDEX t_score ON t(score);"
	echo "SELECT count(*), sum(score) FROM t WHERE name LIKE 'name1%';"
} > "$sql"
v[sqlite_native]=$(timed sh -c "sqlite3 :memory: < $sql")
v[sqlite_gate]=$(timed sh -c "$gate -- sqlite3 :memory: < $sql")
v[sqlite_floor]=$(timed sh -c "$gate --probe-only -- sqlite3 :memory: < $sql")
v[sqlite_libc]=$(timed sh -c "$gate --no-preload -- sqlite3 :memory: < $sql")
v[sqlite_valgrind]=$(REPEAT=1 timed sh -c "valgrind -q --leak-check=full sqlite3 :memory: < $sql")
rm -f "$sql"
printf '%-44s %12s %10s\n' "sqlite3, 20k rows inserted and indexed" "seconds" "x native"
for k in native gate floor libc valgrind; do
	case $k in
	gate) label="memleak-run (preload sites)" ;;
	floor) label="trap floor" ;;
	libc) label="memleak-run --no-preload" ;;
	*) label=$k ;;
	esac
	printf '%-44s %12s %10s\n' "  $label" "${v[sqlite_$k]}" "$(ratio "${v[sqlite_$k]}" "${v[sqlite_native]}")"
done
printf '%-44s %12s\n' "  memleak-run / valgrind" "$(ratio "${v[sqlite_gate]}" "${v[sqlite_valgrind]}")"
echo

# 3. Fixed cost per traced program.
v[true_native]=$(REPEAT=5 timed /bin/true)
v[true_gate]=$(REPEAT=5 timed "$gate" -- /bin/true)
v[true_valgrind]=$(REPEAT=5 timed valgrind -q /bin/true)
printf '%-44s %12s\n' "fixed cost: /bin/true" "seconds"
for k in native gate valgrind; do
	printf '%-44s %12s\n' "  $k" "${v[true_$k]}"
done
printf '%-44s %12s\n' "  memleak-run / valgrind" "$(ratio "${v[true_gate]}" "${v[true_valgrind]}")"
echo

# 4. Many processes: 200 tiny programs under one gate, and 200 gates.
many=$(mktemp)
printf 'for i in $(seq 200); do /bin/true; done\n' > "$many"
v[many_one_gate]=$(REPEAT=1 timed "$gate" -- sh "$many")
v[many_separate]=$(REPEAT=1 timed sh -c "for i in \$(seq 200); do $gate -- /bin/true; done")
v[many_native]=$(REPEAT=1 timed sh "$many")
rm -f "$many"
printf '%-44s %12s\n' "200 tiny programs" "seconds"
printf '%-44s %12s\n' "  native" "${v[many_native]}"
printf '%-44s %12s\n' "  under one memleak-run" "${v[many_one_gate]}"
printf '%-44s %12s\n' "  200 memleak-run runs" "${v[many_separate]}"
echo

# 5. Scale: blocks outstanding at once, judged at exit. memleak-run -v says how long
# reading them took and how much kernel memory the tracer's maps held at that moment.
printf '%-30s %9s %9s %9s %9s %9s %6s\n' "outstanding blocks at exit" "judged" "run s" "judge s" \
	"tool MiB" "maps MiB" "lost"
for n in ${BENCH_BLOCKS:-1000000 10000000}; do
	t0=$(now)
	res=$("$gate" -v --max-blocks $((n + n / 4)) -- "$bin/hold" "$n" 2>&1)
	t1=$(now)
	# The n blocks of 16 bytes and the array that holds them.
	seen=$(echo "$res" | sed -n 's/.*(hold) exited: .* in \([0-9]*\) blocks outstanding.*/\1/p')
	judge=$(echo "$res" | sed -n 's/.*(hold) exited: .*read in \([0-9.]*\) s.*/\1/p')
	maps=$(echo "$res" | sed -n 's/.*(hold) exited: .*maps held \([0-9.]*\) MiB.*/\1/p')
	lost=$(echo "$res" | grep -c 'LOST DATA')
	v[scale_${n}_seconds]=$(echo "$t1 - $t0" | bc -l)
	v[scale_${n}_judge_seconds]=${judge:-0}
	v[scale_${n}_rss_mib]=$(echo "$res" | sed -n 's/.*peak RSS \([0-9.]*\) MiB.*/\1/p')
	v[scale_${n}_maps_mib]=${maps:-0}
	v[scale_${n}_map_bytes_per_block]=$(echo "scale=0; ${maps:-0} * 1048576 / $n" | bc -l)
	v[scale_${n}_seen]=${seen:-0}
	v[scale_${n}_lost]=$lost
	printf '%-30s %9s %9.1f %9s %9s %9s %6s\n' "  $n" "${seen:-0}" "${v[scale_${n}_seconds]}" \
		"${judge:-?}" "${v[scale_${n}_rss_mib]}" "${maps:-?}" "$lost"
done
echo

# 6. Reading a process's memory at its end, for the leak kinds. memleak-run -v says how
# long the process was held, how long listing its blocks took, and how much it read.
# valgrind's leak check on the same program: its run with --leak-check=full less its run
# with --leak-check=no.
held_line() { echo "$1" | grep -m1 "\[[0-9]*\] held "; }
held_s() { held_line "$1" | sed -n 's/.* held \([0-9.]*\) s at its end.*/\1/p'; }
listed_s() { held_line "$1" | sed -n 's/.*blocks listed in \([0-9.]*\) s.*/\1/p'; }
read_bytes() {
	held_line "$1" | sed -n 's/.*, \([0-9]*\) bytes of roots and \([0-9]*\) of blocks read.*/\1 + \2/p' | bc
}
printf '%-44s %9s %9s %9s %9s\n' "memory read at exit" "held s" "listing s" "GB/s" "valgrind s"
res=$("$gate" -v --max-blocks 1300000 -- "$bin/hold" 1000000 2>&1)
v[scan_1m_held]=$(held_s "$res")
v[scan_1m_listed]=$(listed_s "$res")
v[scan_1m_classify]=$(echo "${v[scan_1m_held]} - ${v[scan_1m_listed]}" | bc -l)
printf '%-44s %9s %9s %9s %9s\n' "  1M blocks of 16 bytes, all reachable" "${v[scan_1m_held]}" \
	"${v[scan_1m_listed]}" "-" "-"
res=$("$gate" -v -- "$bin/heap" 1024 1024 2>&1)
v[scan_heap_held]=$(held_s "$res")
v[scan_heap_gbps]=$(echo "scale=2; $(read_bytes "$res") / ${v[scan_heap_held]} / 1000000000" | bc -l)
vg_no=$(REPEAT=1 timed valgrind -q --leak-check=no "$bin/heap" 1024 1024)
vg_full=$(REPEAT=1 timed valgrind -q --leak-check=full "$bin/heap" 1024 1024)
v[scan_heap_valgrind]=$(echo "$vg_full - $vg_no" | bc -l)
printf '%-44s %9s %9s %9s %9.2f\n' "  1 GiB heap, every word a pointer" "${v[scan_heap_held]}" \
	"$(listed_s "$res")" "${v[scan_heap_gbps]}" "${v[scan_heap_valgrind]}"
echo

# The goals, each a ratio from this run.
goal() { # label value op limit
	local ok
	ok=$(echo "$2 $3 $4" | bc -l)
	printf '%-60s %8s %s %-6s %s\n' "$1" "$2" "$3" "$4" "$([ "$ok" = 1 ] && echo met || echo MISSED)"
}
echo "goals"
goal "  pair cost / trap floor of the same probes" "$(ratio "${v[churn_gate]}" "${v[churn_floor]}")" "<=" 1.2
goal "  memleak.py placement / memleak-run" "$(ratio "${v[churn_entry]}" "${v[churn_gate]}")" ">=" 1.7
goal "  outside the tree, beside --no-preload / untraced" \
	"$(ratio "${v[churn_outside_libc]}" "${v[churn_untraced]}")" "<=" 1.2
goal "  outside the tree, beside the sites / untraced" \
	"$(ratio "${v[churn_outside_sites]}" "${v[churn_preloaded]}")" "<=" 1.2
goal "  sqlite3: memleak-run / valgrind" "$(ratio "${v[sqlite_gate]}" "${v[sqlite_valgrind]}")" "<=" 0.33
goal "  /bin/true: memleak-run / valgrind" "$(ratio "${v[true_gate]}" "${v[true_valgrind]}")" "<=" 0.1
for n in ${BENCH_BLOCKS:-1000000 10000000}; do
	goal "  $n blocks: judged / held" "$(ratio "${v[scale_${n}_seen]}" "$((n + 1))")" ">=" 1
done
goal "  memory read at exit, GB/s" "${v[scan_heap_gbps]}" ">=" 1
goal "  1M blocks classified, seconds (listing apart)" "${v[scan_1m_classify]}" "<" 1
echo

{
	echo "{"
	first=1
	for k in "${!v[@]}"; do
		[ $first -eq 1 ] || echo ","
		first=0
		printf '  "%s": "%s"' "$k" "${v[$k]}"
	done
	echo
	echo "}"
} > "$results"
echo
echo "results: $results"
