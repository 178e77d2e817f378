#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# plan-unreach.sh - tests/ksm_fork_unreachable.c in the guest: first with
# no module (the kernel's outcome alone), by migration and by reclaim
# (swap on a RAM disk, the program in cgroup /sys/fs/cgroup/krp); then
# case by case and walk by walk with the module loaded, its stats reset
# before each run and read after, with the kernel's ksm trace events
# (6.7+) recording which processes' mappings got rmap_items.
# Sections unreach.bare: the program's output without the module;
# unreach.results: one line per case and walk (the program's line + the
# module's walks, incomplete_walks, missed_mappings, unlisted_walks,
# probe_misses);
# unreach.logs: per run the output, the module's walks, the ksm events.
# shellcheck disable=SC1091 # /krp/lib.sh is scripts/guest/lib.sh in the guest
. /krp/lib.sh

U=/krp/ksm_fork_unreachable
EV=$T/events/ksm
CG=/sys/fs/cgroup/krp

section uname uname -r
section unreach.swap swap_setup
bare() {
	"$U"
	"$U" --reclaim "$CG"
}
section unreach.bare bare
section insmod module_load
: >/tmp/results
: >/tmp/logs
for c in parent both-moved parent-moved child-unmerged child; do
	for w in migrate reclaim; do
		stats_reset
		if [ -d "$EV" ]; then
			echo 0 >"$T/tracing_on"
			: >"$T/trace"
			echo 1 >"$EV/enable"
			echo 1 >"$T/tracing_on"
		fi
		if [ $w = migrate ]; then
			"$U" --case "$c" >/tmp/u.out 2>&1
		else
			"$U" --case "$c" --reclaim "$CG" >/tmp/u.out 2>&1
		fi
		rc=$?
		[ -d "$EV" ] && echo 0 >"$EV/enable"
		cat "$D/stats" >/tmp/u.stats
		line=$(grep '^case=' /tmp/u.out)
		st() { sed -n "s/^$1: //p" /tmp/u.stats; }
		echo "${line:-case=$c walk=$w verdict=error} rc=$rc walks=$(st walks) incomplete_walks=$(st incomplete_walks) missed_mappings=$(st missed_mappings) unlisted_walks=$(st unlisted_walks) probe_misses=$(st probe_misses)" >>/tmp/results
		{
			echo "--- case $c walk $w"
			cat /tmp/u.out
			echo "the module's walks (first 8):"
			head -n 9 "$D/walks"
			if [ -d "$EV" ]; then
				echo "ksm trace events (merges and rmap_items):"
				grep -E 'ksm_(merge|remove_rmap_item|remove_ksm_page)' "$T/trace" | head -n 40
			fi
		} >>/tmp/logs
	done
done
section unreach.results cat /tmp/results
section unreach.logs cat /tmp/logs
# tests/ksm_migrate_unlisted.c: ksmd drops the rmap_items of a KSM page a
# migration has as migration entries; with the module loaded (its stats
# from a reset before to the end: unlisted.stats), then without (bare)
if [ -x /krp/ksm_migrate_unlisted ]; then
	stats_reset
	section unlisted /krp/ksm_migrate_unlisted --budget "$(param unlisted_budget 120)"
	section unlisted.stats cat "$D/stats"
	section unlisted.walks sh -c "head -n 9 $D/walks"
fi
section rmmod_final module_unload
if [ -x /krp/ksm_migrate_unlisted ]; then
	section unlisted.bare /krp/ksm_migrate_unlisted --budget "$(param unlisted_budget 120)"
fi
section dmesg dmesg
