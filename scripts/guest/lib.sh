#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# lib.sh - guest-side helpers for the plans (busybox sh).
#
# Output goes to the host framed as "=== BEGIN name" ... "=== END name";
# the host splits it into one file per name.

# shellcheck disable=SC2034 # used by the plans that source this file
D=/sys/kernel/debug/ksm_rmap
T=/sys/kernel/tracing
KO=/krp/ksm_rmap_probe.ko
# shellcheck disable=SC2034
REPRO=/krp/ksm_rmap_repro

# section NAME CMD...: run CMD with its output framed as NAME.
section() {
	_n=$1
	shift
	echo "=== BEGIN $_n"
	"$@" 2>&1
	echo "=== END $_n"
}

# param NAME DEFAULT: krp.NAME=value from the kernel command line.
param() {
	_v=$(sed -n "s/.*krp\.$1=\([^ ]*\).*/\1/p" /proc/cmdline)
	echo "${_v:-$2}"
}

module_load() { insmod "$KO" "$@"; }
module_unload() { rmmod ksm_rmap_probe; }
stats_reset() { echo 1 >"$D/reset"; }

# The oracle: the kernel's own kprobe events, counting in the same boot
# what the module counts.  Return probes on the tree iterators give every
# node the loop body ran on (a non-NULL return called from rmap_walk_ksm),
# entry probes on the rmap_one callbacks give the hits.
oracle_on() {
	echo 0 >"$T/tracing_on"
	echo >"$T/trace"
	echo 16384 >"$T/buffer_size_kb"
	echo >"$T/kprobe_events"
	# shellcheck disable=SC2016 # $retval is ftrace's, not the shell's
	{
		echo 'p:krp_oracle/walk rmap_walk_ksm'
		echo 'r:krp_oracle/walk_ret rmap_walk_ksm'
		echo 'r:krp_oracle/first anon_vma_interval_tree_iter_first ret=$retval'
		echo 'r:krp_oracle/next anon_vma_interval_tree_iter_next ret=$retval'
		for f in try_to_migrate_one remove_migration_pte try_to_unmap_one \
			folio_referenced_one page_idle_clear_pte_refs_one; do
			grep -q " $f\$" /proc/kallsyms && echo "p:krp_oracle/hit_$f $f"
		done
	} >>"$T/kprobe_events"
	echo 1 >"$T/events/krp_oracle/enable"
	echo 1 >"$T/tracing_on"
}

oracle_off() {
	echo 0 >"$T/tracing_on"
	echo 0 >"$T/events/krp_oracle/enable"
}

# oracle_report: the oracle's counts, and its own missed events.
oracle_report() {
	awk -f /krp/oracle.awk "$T/trace"
	awk '$1 ~ /^krp_oracle/ { m += $3 } END { print "oracle_missed: " m + 0 }' \
		"$T/kprobe_profile"
	grep -c . "$T/trace" | sed 's/^/oracle_trace_lines: /'
}

oracle_clear() {
	echo >"$T/trace"
	echo >"$T/kprobe_events"
}

# bad_write FILE DATA: write DATA (backslash escapes expanded) in one
# write(2); print the error, if any.
bad_write() {
	printf '%b' "$2" | dd of="$1" bs=65536 2>&1 | grep -o 'Invalid argument\|Bad address\|Permission denied' || echo accepted
}

dmesg_all() { dmesg; }
