#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# plan-ksmrepeat.sh - the guest half of scripts/selftests.sh --repeat: one
# KSM selftest invocation many times in one boot, in phases without and
# with ksm_rmap_probe loaded, to count how often each case gives which
# result.  Before every run the KSM tunables go back to their values at
# boot and everything is unmerged, then krp.ksm_set is applied.  Run I of
# phase P goes to section repeat.P.I ("### NAME ARGS" ... "### exit RC").
# krp.repeat=N: runs per phase (default 20);
# krp.phases=LIST: comma list of "without" and "with" (default
#   without,with; "with" loads the module, "without" after it unloads it);
# krp.repeat_cmd=NAME[:ARG...]: the invocation, colons for spaces
#   (default ksm_functional_tests; e.g. ksm_tests:-N:-m:1), or one of the
#   witness's own case lists in ksm.sh, exactly as plan-selftests.sh runs
#   them: ksm_tests_all or ksm_functional_all;
# krp.ksm_size=MIB: area of ksm_tests_all's -H/-P cases (default 20);
# krp.ksm_set=NAME=VALUE[,...]: KSM tunables set before each run;
# krp.ksm_trace=1: record the ksm:* trace events of each run and keep them
#   (section repeat.P.I.trace) for the runs with a result other than "ok";
# krp.ksm_timeout=SECONDS: limit for one invocation (default 150).
# shellcheck disable=SC1091 # /krp/lib.sh is scripts/guest/lib.sh in the guest
. /krp/lib.sh
# shellcheck disable=SC1091 # scripts/guest/ksm.sh in the guest
. /krp/ksm.sh

n=$(param repeat 20)
phases=$(param phases without,with)
cmd=$(param repeat_cmd ksm_functional_tests | tr ':' ' ')
settings=$(param ksm_set "")
trace=$(param ksm_trace 0)
# shellcheck disable=SC2034 # read by run_one and ksm_tests_all in ksm.sh
limit=$(param ksm_timeout 150)
# shellcheck disable=SC2034
size=$(param ksm_size 20)
VM="numa_pte_updates numa_hint_faults numa_pages_migrated pgmigrate_success
pgmigrate_fail thp_fault_alloc"

# test_prctl_fork_exec execs ./ksm_functional_tests
cd /krp || exit 1

# vmstat_now: the counters of $VM, "NAME VALUE" lines.
vmstat_now() {
	for _c in $VM; do
		awk -v c="$_c" '$1 == c { print c, $2 }' /proc/vmstat
	done
}

# vmstat_delta: what the counters of $VM rose by during the run.
vmstat_delta() {
	# shellcheck disable=SC2016 # awk's fields
	awk 'NR == FNR { b[$1] = $2; next } { print $1, $2 - b[$1] }' \
		/tmp/vm.before /tmp/vm.after
}

trace_on() {
	echo 0 >"$T/tracing_on"
	echo >"$T/trace"
	echo 8192 >"$T/buffer_size_kb"
	echo 1 >"$T/events/ksm/enable"
	echo 1 >"$T/tracing_on"
}

# one PHASE I: run I of PHASE.
one() {
	ksm_restore >/dev/null
	[ -z "$settings" ] || ksm_set "$settings" >/dev/null || exit 1
	[ "$trace" = 1 ] && trace_on
	vmstat_now >/tmp/vm.before
	# shellcheck disable=SC2086 # the invocation's words
	case $cmd in
	ksm_tests_all | ksm_functional_all) "$cmd" >/tmp/run.out ;;
	*) run_one $cmd >/tmp/run.out ;;
	esac
	vmstat_now >/tmp/vm.after
	[ "$trace" = 1 ] && echo 0 >"$T/tracing_on"
	section "repeat.$1.$2" cat /tmp/run.out
	section "repeat.$1.$2.vmstat" vmstat_delta
	if [ "$trace" = 1 ] && grep -q '^not ok\|^### exit [^0]\|No pages got merged' /tmp/run.out; then
		section "repeat.$1.$2.trace" cat "$T/trace"
	fi
}

section uname uname -r
section files ls -l /krp
ksm_save
section ksm_boot cat /tmp/ksm.boot
section numa_balancing cat /proc/sys/kernel/numa_balancing
section repeat.settings echo "cmd=$cmd n=$n phases=$phases ksm_set=${settings:-none} trace=$trace"
loaded=0
for p in $(echo "$phases" | tr ',' ' '); do
	case $p in
	with) [ "$loaded" = 1 ] || section "repeat.$p.insmod" module_load; loaded=1 ;;
	without) [ "$loaded" = 0 ] || section "repeat.$p.rmmod" module_unload; loaded=0 ;;
	*) echo "unknown phase $p"; exit 1 ;;
	esac
	_p0=$(date +%s)
	i=1
	while [ "$i" -le "$n" ]; do
		one "$p" "$i"
		i=$((i + 1))
	done
	section "repeat.$p.seconds" echo $(($(date +%s) - _p0))
	[ "$loaded" = 0 ] || section "repeat.$p.stats" cat "$D/stats"
done
[ "$loaded" = 0 ] || section rmmod module_unload
section dmesg dmesg
