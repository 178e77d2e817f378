#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# plan-record.sh - the guest half of scripts/record.sh: record the module's
# trace events with perf and with trace-cmd, as docs/using.md tells a user to,
# while the reproducer makes walks; and count the walks in the stats.
# shellcheck disable=SC1091 # /krp/lib.sh is scripts/guest/lib.sh in the guest
. /krp/lib.sh
export PATH=/bin:/usr/bin HOME=/tmp

section uname uname -r
section insmod module_load
section versions perf version

stats_reset
section perf.record perf record -q -e ksm_rmap_probe:ksm_rmap_walk -a \
	-o /tmp/perf.data -- "$REPRO" --mode split --vmas 300 --dups 2 --moves 2
section perf.stats cat "$D/stats"
section perf.script perf script -i /tmp/perf.data

stats_reset
section tc.record trace-cmd record -q -e ksm_rmap_probe -o /tmp/tc.dat \
	"$REPRO" --mode fork --vmas 200 --forks 1 --dups 2 --moves 2
section tc.stats cat "$D/stats"
section tc.report trace-cmd report -i /tmp/tc.dat
section rmmod module_unload
section dmesg dmesg
