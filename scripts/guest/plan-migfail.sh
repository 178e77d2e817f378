#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# plan-migfail.sh - why do the soak's split walker's migrations fail?  The
# two walkers of under_fire (split on CPU 0, then fork on CPU 1 once split
# has merged, krp.vmas VMAs each), but the split walker makes krp.moves
# verbose moves (one line each: move_pages' return, status, errno, time)
# instead of a quiet loop.  krp.module=1 loads ksm_rmap_probe first,
# krp.fork=0 runs the split walker alone, krp.ksmd=1 keeps ksmd running
# (pages_to_scan 5000, sleep_millisecs 0) from the split walker's merge
# to the end.  A sampler logs the KSM counters
# and the migration counters every second (section ksm).
# shellcheck disable=SC1091 # /krp/lib.sh is scripts/guest/lib.sh in the guest
. /krp/lib.sh

K=/sys/kernel/mm/ksm
vmas=$(param vmas 2000)
section uname uname -r
[ "$(param module 0)" = 0 ] || section insmod module_load
while :; do
	echo "t=$(cut -d' ' -f1 /proc/uptime) run=$(cat $K/run) shared=$(cat $K/pages_shared) sharing=$(cat $K/pages_sharing) full_scans=$(cat $K/full_scans) $(grep -E '^pgmigrate_(success|fail) ' /proc/vmstat | tr ' \n' '= ')"
	sleep 1
done >/tmp/ksm.log 2>&1 &
s=$!
"$REPRO" --cpu 0 --mode split --vmas "$vmas" --dups 2 --moves "$(param moves 3000)" >/tmp/split 2>&1 &
a=$!
wait_for /tmp/split merged=
if [ "$(param ksmd 0)" = 1 ]; then
	# ksmd scans (and merges) all the time the split walker migrates
	echo 5000 >$K/pages_to_scan
	echo 0 >$K/sleep_millisecs
	echo 1 >$K/run
fi
if [ "$(param fork 1)" = 1 ]; then
	"$REPRO" --cpu 1 --mode fork --forks 1 --vmas "$vmas" --dups 2 --loop 7200 >/tmp/fork 2>&1 &
	b=$!
fi
wait $a
if [ -n "${b:-}" ]; then
	kill -TERM "$b"
	wait "$b"
	section fork cat /tmp/fork
fi
kill $s
section split cat /tmp/split
section ksm cat /tmp/ksm.log
[ "$(param module 0)" = 0 ] || section stats cat "$D/stats"
section dmesg dmesg
