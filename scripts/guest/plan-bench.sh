#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# plan-bench.sh - the guest half of scripts/bench.sh: the same workload with
# no module, with the module timing only (count=0) and counting every
# iteration (count=1), in rounds, interleaved.  The clock that judges the
# module is not the module: ftrace's function_graph times every
# rmap_walk_ksm() call in all three cases.  Each run also times ordinary
# memory work with no KSM page in it (ksm_rmap_repro --mode idle): what
# the loaded module costs everything that is not a KSM walk.  And the same
# workload with a victim thread (ksm_rmap_repro --victim): what tracking
# victims costs the tasks that wait.
# shellcheck disable=SC1091 # /krp/lib.sh is scripts/guest/lib.sh in the guest
. /krp/lib.sh

n=$(param n 20000)
moves=$(param moves 4)
rounds=$(param rounds 3)
calls=$(param calls 2000)

# fg_on [FUNC]: time every call of FUNC (default rmap_walk_ksm)
fg_on() {
	echo 0 >"$T/tracing_on"
	echo nop >"$T/current_tracer"
	echo >"$T/trace"
	echo 8192 >"$T/buffer_size_kb"
	echo "${1:-rmap_walk_ksm}" >"$T/set_ftrace_filter"
	echo "${1:-rmap_walk_ksm}" >"$T/set_graph_function"
	echo function_graph >"$T/current_tracer"
	echo 1 >"$T/tracing_on"
}

# fg_off [FUNC]: one line per call: its duration in ns, as ftrace measured it.
fg_off() {
	echo 0 >"$T/tracing_on"
	awk -v f="${1:-rmap_walk_ksm}" 'index($0, f) { for (i = 1; i < NF; i++)
		if ($i ~ /^[0-9]+\.[0-9]+$/ && $(i + 1) == "us") {
			printf "%d\n", $i * 1000; break } }' "$T/trace"
	echo nop >"$T/current_tracer"
}

section uname uname -r
# the first run after boot pays for settling (faults, drains): not counted
section warmup.idle "$REPRO" --mode idle --calls "$calls"
r=1
while [ "$r" -le "$rounds" ]; do
	for mode in none time count; do
		case $mode in
		none) ;;
		time) module_load count=0 ;;
		count) module_load count=1 ;;
		esac
		probes_settle
		# rmap_walk_anon() itself, timed by ftrace, if it is a
		# function of its own there (not inlined)
		if grep -qx rmap_walk_anon "$T/available_filter_functions"; then
			fg_on rmap_walk_anon
			section "r$r.$mode.idle" "$REPRO" --mode idle --calls "$calls"
			section "r$r.$mode.anon" fg_off rmap_walk_anon
		else
			section "r$r.$mode.idle" "$REPRO" --mode idle --calls "$calls"
		fi
		fg_on
		section "r$r.$mode.repro" "$REPRO" --mode split --vmas "$n" --dups 2 --moves "$moves"
		section "r$r.$mode.fgraph" fg_off
		if [ "$mode" != none ]; then
			section "r$r.$mode.stats" cat "$D/stats"
			stats_reset
		fi
		# under contention: a thread on the walker's CPU toggles a
		# page's protection (the lock for write) while the walks run
		section "r$r.$mode.victim" "$REPRO" --mode split --vmas "$n" \
			--dups 2 --moves "$moves" --victim --victim-cpu 0
		if [ "$mode" != none ]; then
			section "r$r.$mode.vstats" cat "$D/stats"
			module_unload
		fi
	done
	r=$((r + 1))
done
section dmesg dmesg
