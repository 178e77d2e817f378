#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# plan-rmapst.sh - upstream's rmap selftest alone (rmap_selftest of
# lib.sh, section rmapst, rmapst.times, rmapst.ksm), no module loaded:
# what the kernel does by itself.  Around it: the NUMA nodes the guest has
# (section numa), the migration and KSM counters before and after
# (sections counters.before, counters.after), and the kernel log (dmesg).
# krp.rmap_timeout=SECONDS limits the selftest (default 900).
# shellcheck disable=SC1091 # /krp/lib.sh is scripts/guest/lib.sh in the guest
. /krp/lib.sh

counters() {
	grep -E '^(pgmigrate_(success|fail)|numa_pages_migrated|thp_migration_success) ' /proc/vmstat
	for _f in full_scans pages_shared pages_sharing run; do
		echo "ksm_$_f $(cat /sys/kernel/mm/ksm/$_f)"
	done
}

section uname uname -r
section numa sh -c 'cat /sys/devices/system/node/online; grep -h MemTotal /sys/devices/system/node/node*/meminfo'
section counters.before counters
rmap_selftest rmapst
section counters.after counters
section dmesg dmesg
