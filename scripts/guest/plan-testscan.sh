#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# plan-testscan.sh - plan-test.sh (krp.phases as there), then, if the
# kernel has kmemleak, two scans 5 s apart after its final rmmod (as
# plan-soak.sh does), lockdep's state and dmesg once more (sections
# kmemleak, lockdep_stats, dmesg_after_scan).
# For the debug kernel (scripts/build-kernel.sh debug).
# shellcheck disable=SC1091 # /krp/lib.sh is scripts/guest/lib.sh in the guest
. /krp/lib.sh

/krp/plan-test.sh
rc=$?
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	sleep 5
	echo scan >/sys/kernel/debug/kmemleak
	section kmemleak cat /sys/kernel/debug/kmemleak
fi
# lockdep still on at the end (debug_locks: 1): it turns itself off after
# its first report
[ ! -r /proc/lockdep_stats ] ||
	section lockdep_stats grep -E 'debug_locks|lock-classes|direct dependencies' /proc/lockdep_stats
section dmesg_after_scan dmesg
exit $rc
