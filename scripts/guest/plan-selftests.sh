#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# plan-selftests.sh - the guest half of scripts/selftests.sh --run: the
# kernel's own KSM selftests (tools/testing/selftests/mm/ksm_tests and
# ksm_functional_tests, built static on the host) in three rounds: without
# ksm_rmap_probe, with it loaded, and without it again.  Round R of test T
# goes to section selftests.R.T, where "### T ARGS" and "### exit RC after
# Ns" frame each invocation.  Before each selftest of each round the KSM
# tunables go back to their values at boot and everything merged is
# unmerged (sections selftests.R.ksm_state and .ksm_state2): the state
# scripts/selftests.sh --repeat measured the cases in.  The cases
# themselves, and the tunables some of them need, are in ksm.sh.
# krp.ksm_size=MIB: area of the -H/-P merge-time cases (default 20;
# run_vmtests.sh has 100, 25 s each under TCG); krp.ksm_timeout=SECONDS:
# limit for one invocation (default 150).
# shellcheck disable=SC1091 # /krp/lib.sh is scripts/guest/lib.sh in the guest
. /krp/lib.sh

# shellcheck disable=SC1091 # scripts/guest/ksm.sh in the guest
. /krp/ksm.sh

# shellcheck disable=SC2034 # read by ksm_tests_all and run_one in ksm.sh
size=$(param ksm_size 20)
# shellcheck disable=SC2034
limit=$(param ksm_timeout 150)

# ksm_functional_tests (test_prctl_fork_exec) execs ./ksm_functional_tests
cd /krp || exit 1

# round NAME: both selftests, and how long each took.
round() {
	section "selftests.$1.ksm_state" ksm_restore
	_t0=$(date +%s)
	section "selftests.$1.ksm_tests" ksm_tests_all
	_t1=$(date +%s)
	section "selftests.$1.ksm_state2" ksm_restore
	section "selftests.$1.ksm_functional_tests" ksm_functional_all
	_t2=$(date +%s)
	section "selftests.$1.seconds" echo \
		"ksm_tests $((_t1 - _t0)) ksm_functional_tests $((_t2 - _t1))"
}

section uname uname -r
section files ls -l /krp
# Our guest has two NUMA nodes (for move_pages); NUMA balancing then
# migrates a few of the tests' pages while ksmd works on them (55 in 12
# runs of ksm_functional_tests here), a time-driven actor the selftests'
# usual one-node machines do not have.  Off for all three rounds.
echo 0 >/proc/sys/kernel/numa_balancing 2>/dev/null
section numa_balancing cat /proc/sys/kernel/numa_balancing
ksm_save
section ksm_boot cat /tmp/ksm.boot

round without
section insmod module_load
round with
section selftests.with.stats cat "$D/stats"
section selftests.with.walks cat "$D/walks"
section rmmod module_unload
round without2
section dmesg dmesg
