#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# plan-hunt.sh - the guest half of scripts/hunt.sh: seeded KSM scenarios
# (/krp/ksm_rmap_hunt, one process tree each) with the module loaded; per
# scenario the module's stats are reset before and read after, and the
# kernel's own outcome (KSM pages that did not migrate) is put beside them.
# krp.fixed=a,b   fixed scenarios first (default hugh,hugh-pre; "-": none)
# krp.seed=N      first seed (default 1)
# krp.n=N         random scenarios (default 20)
# krp.t=SECONDS   or: as many as fit in SECONDS of guest time (0: use n)
# krp.walk=W      migrate (default), or reclaim: swap on a RAM disk, the
#                 scenarios in cgroup /sys/fs/cgroup/krp, memory.reclaim
# Section hunt.results: one line per scenario; hunt.logs: the whole output
# of scenarios that were not clean: errors, false positives and misses the
# module did not flag (24 in all at most), flagged misses (3 at most of
# each class: with a stuck page of class new, or unmergeable only).
# shellcheck disable=SC1091 # /krp/lib.sh is scripts/guest/lib.sh in the guest
. /krp/lib.sh

HUNT=/krp/ksm_rmap_hunt
fixed=$(param fixed hugh,hugh-pre)
seed=$(param seed 1)
n=$(param n 20)
budget=$(param t 0)
walk=$(param walk migrate)
kept_miss=0
kept_unm=0
kept_other=0

section uname uname -r
section insmod module_load
walkarg=
if [ "$walk" = reclaim ]; then
	section hunt.swap swap_setup
	walkarg="--reclaim /sys/fs/cgroup/krp"
fi
: >/tmp/results
: >/tmp/logs

# one ID ARGS...: run one scenario, append its line to /tmp/results
one() {
	_id=$1
	shift
	stats_reset
	# shellcheck disable=SC2086 # walkarg: empty or two words
	timeout 600 "$HUNT" "$@" $walkarg >/tmp/h.out 2>&1
	_rc=$?
	cat "$D/stats" >/tmp/h.stats
	cat "$D/walks" >/tmp/h.walks
	_r=$(grep '^hunt: result ' /tmp/h.out | sed 's/^hunt: result //')
	_st=$(echo "$_r" | sed -n 's/.* stuck=\([0-9]*\).*/\1/p')
	_sn=$(echo "$_r" | sed -n 's/.* stuck_new=\([0-9]*\).*/\1/p')
	_kp=$(echo "$_r" | sed -n 's/.* ksm_pages=\([0-9]*\).*/\1/p')
	_inc=$(sed -n 's/^incomplete_walks: //p' /tmp/h.stats)
	_mis=$(sed -n 's/^missed_mappings: //p' /tmp/h.stats)
	_wk=$(sed -n 's/^walks: //p' /tmp/h.stats)
	_ovf=$(sed -n 's/^unknown_overflow_walks: //p' /tmp/h.stats)
	_pm=$(sed -n 's/^probe_misses: //p' /tmp/h.stats)
	if [ "$_rc" != 0 ] || [ -z "$_st" ]; then
		_v=error
	elif [ "$_st" -gt 0 ]; then
		_v=miss
	elif [ "${_inc:-0}" != 0 ]; then
		_v=false_positive
	elif [ "$_kp" = 0 ]; then
		_v=empty
	else
		_v=clean
	fi
	echo "scenario=$_id verdict=$_v rc=$_rc ${_r:-seed=$_id} walks=$_wk incomplete_walks=$_inc missed_mappings=$_mis unknown_overflow_walks=$_ovf probe_misses=$_pm" >>/tmp/results
	_keep=0
	if [ "$_v" = miss ] && [ "${_inc:-0}" != 0 ] && [ "${_sn:-0}" != 0 ]; then
		[ $kept_miss -ge 3 ] || { kept_miss=$((kept_miss + 1)); _keep=1; }
	elif [ "$_v" = miss ] && [ "${_inc:-0}" != 0 ]; then
		[ $kept_unm -ge 3 ] || { kept_unm=$((kept_unm + 1)); _keep=1; }
	elif [ "$_v" != clean ] && [ "$_v" != empty ]; then
		[ $kept_other -ge 24 ] || { kept_other=$((kept_other + 1)); _keep=1; }
	fi
	if [ $_keep = 1 ]; then
		{
			echo "--- scenario $_id ($_v)"
			cat /tmp/h.out
			grep -E '^(walks|incomplete_walks|missed_mappings|found_mappings|walks_complete|walks_stop|walks_done|raced_walks|unknown_overflow_walks|unknown_waiter_walks|layout|probe_misses):' /tmp/h.stats
			echo "the module's last walks (at most 64; first and last 6):"
			head -n 7 /tmp/h.walks
			tail -n 6 /tmp/h.walks
		} >>/tmp/logs
	fi
}

for f in $(echo "$fixed" | tr ',' ' '); do
	[ "$f" = - ] || one "$f" --fixed "$f"
done
read -r t0 _ </proc/uptime
t0=${t0%.*}
i=0
while :; do
	if [ "$budget" -gt 0 ]; then
		read -r now _ </proc/uptime
		[ $((${now%.*} - t0)) -lt "$budget" ] || break
	else
		[ "$i" -lt "$n" ] || break
	fi
	one $((seed + i)) --seed $((seed + i))
	i=$((i + 1))
done

section hunt.results cat /tmp/results
section hunt.logs cat /tmp/logs
section rmmod_final module_unload
section dmesg dmesg
