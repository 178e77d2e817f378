#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# plan-ab.sh - the guest half of scripts/ab.sh: for each workload, run the
# reproducer twice with the module loaded: once counting every iteration
# (count=1: iterations, skips, what-if) and once timing only (count=0: the
# lock hold without the per-iteration probe).  krp.sweep=N,N,... gives the
# split-mode VMA counts, krp.workloads=split,fork,mremap,victim the
# workloads (victim: split with krp.victim_vmas VMAs and a thread that keeps
# taking the anon_vma lock for write, ksm_rmap_repro --victim).
# Then the swap workload (the mremap shape swapped out by cgroup reclaim,
# if the guest has a RAM disk to swap on: /krp/brd.ko or built in) and
# upstream's rmap selftest (migrate fixture), if /krp/rmap is there.
# shellcheck disable=SC1091 # /krp/lib.sh is scripts/guest/lib.sh in the guest
. /krp/lib.sh

sweep=$(param sweep 1000,5000,20000,50000 | tr , ' ')
workloads=$(param workloads split,fork,mremap,victim | tr , ' ')
forkn=$(param forkn 1000)

section uname uname -r
section insmod module_load

# run NAME REPRO-ARGS...: one workload, counted then timed.
run() {
	_name=$1
	shift
	for _mode in count time; do
		if [ $_mode = count ]; then echo 1 >"$D/count"; else echo 0 >"$D/count"; fi
		probes_settle
		stats_reset
		section "$_name.$_mode.repro" "$REPRO" "$@"
		section "$_name.$_mode.stats" cat "$D/stats"
		section "$_name.$_mode.json" cat "$D/stats.json"
		section "$_name.$_mode.walks" cat "$D/walks"
	done
	echo 1 >"$D/count"
}

for w in $workloads; do
	case $w in
	split)
		for n in $sweep; do
			run "split-$n" --mode split --vmas "$n" --dups 2 --moves 2
		done ;;
	fork)
		run "fork-$forkn" --mode fork --vmas "$forkn" --dups 2 --forks 2 --moves 2 ;;
	mremap)
		run mremap --mode mremap --moves 2 ;;
	victim)
		# the victim shares the walker's CPU, as in the main job
		_vn=$(param victim_vmas 20000)
		run "victim-$_vn" --mode split --vmas "$_vn" --dups 2 --moves 2 \
			--victim --victim-cpu 0 --victim-rt 200 ;;
	esac
done
# Hugh Dickins's shape swapped out by cgroup reclaim (if the guest can swap)
if [ "$(param swap 1)" = 1 ] && swap_setup >/tmp/swap.setup 2>&1; then
	echo 1 >"$D/count"
	stats_reset
	section swap.count.repro "$REPRO" --mode swap --cgroup /sys/fs/cgroup/krp
	section swap.count.stats cat "$D/stats"
	section swap.count.walks cat "$D/walks"
fi
section swap.setup cat /tmp/swap.setup

# upstream's rmap selftest with the module loaded (if it was packed)
if [ -x /krp/rmap ]; then
	stats_reset
	rmap_selftest rmapst
	section rmapst.stats cat "$D/stats"
fi
section rmmod module_unload
section dmesg dmesg
