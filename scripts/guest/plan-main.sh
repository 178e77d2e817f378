#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# plan-main.sh - the guest half of scripts/run-stock.sh: the same workload
# twice in one boot with the module loaded: first with count=0 (only the
# lock and the walks are timed: undistorted hold times), then with count=1
# (every tree iteration counted and classified); then once more with a
# victim thread (ksm_rmap_repro --victim), count=0: a real-time thread on
# the walker's CPU, so that its own call lasts its wait and its own work.
# shellcheck disable=SC1091 # /krp/lib.sh is scripts/guest/lib.sh in the guest
. /krp/lib.sh

args="--mode $(param mode split) --vmas $(param n 20000) --dups $(param dups 2)"
args="$args --forks $(param forks 2) --moves $(param moves 2)"

section uname uname -r
section insmod module_load count=0
probes_settle
# shellcheck disable=SC2086 # $args is a word list on purpose
section timed.repro "$REPRO" $args
section timed.stats cat "$D/stats"
stats_reset
echo 1 >"$D/count"
probes_settle
section counted.count cat "$D/count"
# shellcheck disable=SC2086
section counted.repro "$REPRO" $args
section counted.stats cat "$D/stats"
section counted.walks cat "$D/walks"
section counted.hist cat "$D/hist"
if [ "$(param mode split)" != mremap ]; then
	# the same again with a victim: a thread that keeps taking the lock
	# for write (its VMA merges change the tree, so it gets a run of its
	# own); the module's longest victim wait against the victim's own
	stats_reset
	echo 0 >"$D/count"
	probes_settle
	# shellcheck disable=SC2086
	section victim.repro "$REPRO" $args --victim --victim-cpu 0 --victim-rt 200
	section victim.stats cat "$D/stats"
fi
section rmmod module_unload
section dmesg dmesg
