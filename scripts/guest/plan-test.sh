#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# plan-test.sh - the guest half of tests/run.sh.  Each phase writes framed
# sections; the host (tests/run.sh) turns them into TAP results.
# krp.phases=a,b,c selects phases (default: all; rmapst runs only if
# /krp/rmap, upstream's rmap selftest, is in the initramfs).
# shellcheck disable=SC1091 # /krp/lib.sh is scripts/guest/lib.sh in the guest
. /krp/lib.sh

phases=$(param phases all)
want() { [ "$phases" = all ] || echo ",$phases," | grep -q ",$1,"; }

section uname uname -r
section insmod module_load
section stats_initial cat "$D/stats"
section modes stat -c '%n %a' "$D/stats" "$D/walks" "$D/hist" "$D/reset" \
	"$D/enable" "$D/count"

# oracle_phase NAME REPRO-ARGS...: module and ftrace count the same walks.
oracle_phase() {
	_name=$1
	shift
	stats_reset
	oracle_on
	section "$_name.repro" "$REPRO" "$@"
	oracle_off
	section "$_name.stats" cat "$D/stats"
	section "$_name.walks" cat "$D/walks"
	section "$_name.hist" cat "$D/hist"
	section "$_name.oracle" oracle_report
	oracle_clear
}

# die: a walker that oopses inside rmap_walk_ksm() (tests/krp_die, test
# only; panic_on_oops off).  Never part of "all": only a boot of its own.
# The page's owner stays alive; a second process (comm krp_die) migrates
# it and dies in the walk's first rmap_one(), holding the page's locks for
# good.  The phases after it count other walks, from other tasks.
if echo ",$phases," | grep -q ",die,"; then
	insmod /krp/krp_die.ko
	echo 0 >/proc/sys/kernel/panic_on_oops
	stats_reset
	"$REPRO" --mode split --vmas 64 --dups 2 --unique 0 --moves 0 \
		--start-file /tmp/krp_never >/tmp/die.owner 2>&1 &
	i=0
	while [ $i -lt 600 ] && ! grep -q 'ksm_addr=' /tmp/die.owner; do
		sleep 0.2
		i=$((i + 1))
	done
	_pid=$(sed -n 's/.* pid=\([0-9]*\) ksm_addr=.*/\1/p' /tmp/die.owner)
	_addr=$(sed -n 's/.* ksm_addr=\([0-9a-f]*\).*/\1/p' /tmp/die.owner)
	ln -sf "$REPRO" /tmp/krp_die
	section die.walker sh -c "/tmp/krp_die --mode move --pid '$_pid' --addr '$_addr'; echo rc=\$?"
	section die.owner cat /tmp/die.owner
	section die.stats cat "$D/stats"
	section die.walks cat "$D/walks"
	section die.dmesg sh -c 'dmesg | grep -E "krp_die|ksm_rmap_probe: walker"'
	rmmod krp_die
fi

want split && oracle_phase split --mode split --vmas 300 --dups 2 --moves 2
want fork && oracle_phase fork --mode fork --vmas 200 --dups 2 --forks 2 --moves 2
want mremap && oracle_phase mremap --mode mremap --moves 2
# the mremap shape with a child forked before the merge: the child's own
# rmap_items make the second pass hand every found VMA twice
want mremapfork && oracle_phase mremapfork --mode mremap --early-forks 1 --moves 2

if want victim; then
	# a thread of the reproducer takes the anon_vma lock for write while
	# the KSM page is migrated: the module's victims against ftrace's
	stats_reset
	if victim_oracle_on; then
		section victim.repro "$REPRO" --mode split --vmas 2000 --dups 2 --moves 4 --victim
		echo 0 >"$T/tracing_on"
		section victim.oracle victim_oracle_report
		section victim.trace victim_oracle_trace
		victim_oracle_clear
	else
		section victim.repro "$REPRO" --mode split --vmas 2000 --dups 2 --moves 4 --victim
		section victim.oracle echo "no event probes (e:) on this kernel"
	fi
	section victim.stats cat "$D/stats"
	section victim.walks cat "$D/walks"
	section victim.hist cat "$D/hist"
	# the victim as a real-time thread on the walker's CPU: its wake-ups
	# preempt the walker inside holds, and an unlock lets it run at once,
	# so its own call lasts its wait plus its own work
	stats_reset
	echo 0 >"$D/count"
	probes_settle
	section victimrt.repro "$REPRO" --mode split --vmas "$(param victim_vmas 5000)" \
		--dups 2 --moves 4 --victim --victim-cpu 0 --victim-rt 200
	section victimrt.stats cat "$D/stats"
	section victimrt.walks cat "$D/walks"
	echo 1 >"$D/count"
	probes_settle
fi

if want stat && [ -x /krp/ksm-rmap-stat ]; then
	# scripts/ksm-rmap-stat on the live module, under busybox: a table and
	# JSON lines every 0.2 and 0.1 s while a workload with a victim runs
	# (about a second: several intervals share its walks), both
	# ended by SIGTERM once it is over (the last, partial interval), so
	# their deltas must add up to the stats after minus before; then
	# --prom once, beside the stats it must equal, and -n 2
	stats_reset
	section stat.before cat "$D/stats.json"
	section stat.hist_before cat "$D/hist"
	/krp/ksm-rmap-stat -i 0.2 >/tmp/stat.txt 2>&1 &
	_st=$!
	/krp/ksm-rmap-stat -i 0.1 -j >/tmp/stat.jsonl 2>&1 &
	_sj=$!
	# each has read its first snapshot once it has reported an interval
	wait_for /tmp/stat.txt ' walks '
	wait_for /tmp/stat.jsonl '"walks"'
	section stat.repro "$REPRO" --mode split --vmas 2000 --dups 2 --moves 8 --victim
	section stat.after cat "$D/stats.json"
	section stat.hist cat "$D/hist"
	section stat.walks cat "$D/walks"
	kill -TERM $_st $_sj
	wait $_st
	wait $_sj
	section stat.txt cat /tmp/stat.txt
	section stat.jsonl cat /tmp/stat.jsonl
	section stat.promrun sh -c '/krp/ksm-rmap-stat --prom /tmp/ksm_rmap.prom; echo rc=$?; ls /tmp | grep prom'
	section stat.prom cat /tmp/ksm_rmap.prom
	section stat.prom_stats cat "$D/stats.json"
	section stat.prom_hist cat "$D/hist"
	section stat.n2 sh -c '/krp/ksm-rmap-stat -i 1 -n 2; echo rc=$?'
fi

if want concurrent; then
	# two walkers at once, one per CPU: per-task state must stay apart
	stats_reset
	K=/sys/kernel/mm/ksm
	echo 5000 >$K/pages_to_scan
	echo 10 >$K/sleep_millisecs
	echo 1 >$K/run
	rm -f /tmp/go
	oracle_on
	"$REPRO" --quiet-ksm --start-file /tmp/go --cpu 0 --mode split \
		--vmas 400 --dups 2 --moves 6 >/tmp/ca 2>&1 &
	a=$!
	"$REPRO" --quiet-ksm --start-file /tmp/go --cpu 1 --mode fork \
		--vmas 300 --forks 1 --dups 3 --moves 6 >/tmp/cb 2>&1 &
	b=$!
	i=0
	while [ $i -lt 600 ] && ! { grep -q waiting /tmp/ca && grep -q waiting /tmp/cb; }; do
		sleep 0.2
		i=$((i + 1))
	done
	echo 0 >$K/run
	touch /tmp/go
	wait $a
	wait $b
	oracle_off
	section concurrent.a cat /tmp/ca
	section concurrent.b cat /tmp/cb
	section concurrent.stats cat "$D/stats"
	section concurrent.walks cat "$D/walks"
	section concurrent.hist cat "$D/hist"
	section concurrent.oracle oracle_report
	oracle_clear
fi

if want big; then
	stats_reset
	section big.repro "$REPRO" --mode split --vmas 2000 --dups 3 --moves 2
	section big.stats cat "$D/stats"
fi

if want events; then
	# the module's trace events, read back through tracefs; stats.json
	stats_reset
	echo 0 >"$T/tracing_on"
	echo >"$T/trace"
	echo 1 >"$T/events/ksm_rmap_probe/enable"
	echo 1 >"$T/tracing_on"
	section events.repro "$REPRO" --mode split --vmas 200 --dups 2 --moves 2
	echo 0 >"$T/tracing_on"
	echo 0 >"$T/events/ksm_rmap_probe/enable"
	section events.trace grep -o 'ksm_rmap_[a-z]*: .*' "$T/trace"
	section events.stats cat "$D/stats"
	section events.json cat "$D/stats.json"
	section events.format cat "$T/events/ksm_rmap_probe/ksm_rmap_walk/format"
fi

if want timing; then
	# count=0: the iteration probe is off, only the lock and walks are timed
	stats_reset
	echo 0 >"$D/count"
	section timing.count cat "$D/count"
	section timing.repro "$REPRO" --mode split --vmas 1000 --dups 2 --moves 2
	section timing.stats cat "$D/stats"
	echo 1 >"$D/count"
	stats_reset
	section counting.repro "$REPRO" --mode split --vmas 1000 --dups 2 --moves 2
	section counting.stats cat "$D/stats"
fi

if want control; then
	# enable=0: walks happen, nothing is counted
	stats_reset
	echo 0 >"$D/enable"
	section disabled.enable cat "$D/enable"
	section disabled.kprobes cat /sys/kernel/debug/kprobes/list
	section disabled.repro "$REPRO" --mode split --vmas 100 --dups 2 --moves 2
	section disabled.stats cat "$D/stats"
	echo 1 >"$D/enable"
	section enabled.kprobes cat /sys/kernel/debug/kprobes/list
	section enabled.ftrace cat "$T/enabled_functions"
	# counted again, then a reset clears everything
	section enabled.repro "$REPRO" --mode split --vmas 100 --dups 2 --moves 2
	section enabled.stats cat "$D/stats"
	stats_reset
	section reset.stats cat "$D/stats"
	section reset.walks cat "$D/walks"
	# garbage in: -EINVAL, nothing changes
	"$REPRO" --mode split --vmas 100 --dups 2 --moves 1 >/dev/null
	cat "$D/stats" >/tmp/before
	{
		for f in reset enable count; do
			for v in 2 abc -1 99999999999999999999 4294967297 "1 1" 0x1 \
				" 1" "1x" "$(printf '%04096d' 1)" '1\n\n' '1\0'; do
				echo "$f [$(printf '%.24s' "$v")] $(bad_write "$D/$f" "$v")"
			done
			# a write at an offset (the second byte of the file)
			echo "$f [@1] $(printf 1 | dd of="$D/$f" bs=1 seek=1 2>&1 |
				grep -o 'Invalid argument\|Illegal seek' || echo accepted)"
		done
		echo "reset [0] $(bad_write "$D/reset" 0)"
	} >/tmp/badw
	section badwrites cat /tmp/badw
	cat "$D/stats" >/tmp/after
	section badwrites.stats_before cat /tmp/before
	section badwrites.stats_after cat /tmp/after
	section badwrites.enable cat "$D/enable" "$D/count"
fi

if want rmmod; then
	# unload and reload while walks run on both CPUs, readers and writers
	# (krp.cycles times; tests/run.sh passes fewer on stock kernels)
	module_unload
	section rmmod.fire under_fire "$(param cycles 20)" 2000
	section rmmod.walkers cat /tmp/fire.a /tmp/fire.b
	module_load
fi

if want swap; then
	# Hugh Dickins's test as he ran it: the mremap shape, swapped out by
	# cgroup reclaim (folio_referenced and try_to_unmap walks)
	section swap.setup swap_setup
	if [ -f /sys/fs/cgroup/krp/memory.reclaim ] && grep -q ram0 /proc/swaps; then
		oracle_phase swap --mode swap --cgroup /sys/fs/cgroup/krp
	fi
fi

if want swap && want refused &&
	[ -f /sys/fs/cgroup/krp/memory.reclaim ] && grep -q ram0 /proc/swaps; then
	# one VMA maps the KSM page twice; a child forked before the merge
	# moves to the root cgroup: reclaim of krp refuses its VMA
	# (invalid_folio_referenced_vma), a refused mapping is a found one
	oracle_phase refused --mode swap --flat --early-forks 1 \
		--child-cgroup /sys/fs/cgroup --cgroup /sys/fs/cgroup/krp
fi

if want race; then
	# mappings vanish or appear while the parent migrates the KSM page:
	# fresh children exit, munmap, COW-write, or write for ksmd to merge
	# back, after a random delay (krp.race_vmas VMAs make a walk long);
	# or unrelated processes, merged first so that their rmap_items come
	# last in a walk, exit while it runs (their loops find empty trees)
	for _r in exit munmap cow merge stranger; do
		_f=2
		[ $_r = stranger ] && _f=$(param race_strangers 12)
		stats_reset
		section "race-$_r.repro" "$REPRO" --mode fork \
			--vmas "$(param race_vmas 20000)" --dups 2 --forks "$_f" \
			--moves "$(param race_moves 4)" --race "$_r"
		echo 0 >/sys/kernel/mm/ksm/run
		section "race-$_r.stats" cat "$D/stats"
		section "race-$_r.walks" cat "$D/walks"
	done
fi

if want rmapst && [ -x /krp/rmap ]; then
	# upstream's rmap selftest (migrate fixture) with the module loaded:
	# its verdicts and the module's incomplete walks must agree; the
	# kernel's migration counters around it (section rmapst.vmstat)
	grep -E '^pgmigrate_(success|fail) ' /proc/vmstat | sed 's/^/before_/' >/tmp/rmapst.vm
	stats_reset
	rmap_selftest rmapst
	section rmapst.stats cat "$D/stats"
	grep -E '^pgmigrate_(success|fail) ' /proc/vmstat | sed 's/^/after_/' >>/tmp/rmapst.vm
	section rmapst.vmstat cat /tmp/rmapst.vm
	section rmapst.walks cat "$D/walks"
fi

if want unknown; then
	# a kernel without one of the probed functions: refuse, name it
	module_unload
	# a name whose signature the module does not know: refused
	section unknown.badsym sh -c "insmod $KO next_sym=krp_no_such_function; echo rc=\$?"
	# a known iterator this kernel lacks (the other generation's name)
	_absent=anon_rmap_tree_iter_first
	grep -q " $_absent\$" /proc/kallsyms && _absent=anon_vma_interval_tree_iter_first
	section unknown.absent sh -c "insmod $KO first_sym=$_absent; echo rc=\$? sym=$_absent"
	section unknown.badwalkers sh -c "insmod $KO max_walkers=0; echo rc=\$?"
	section unknown.dmesg sh -c 'dmesg | grep ksm_rmap_probe | tail -n 6'
	section unknown.loaded sh -c 'grep -c ksm_rmap_probe /proc/modules'
	module_load
fi

section rmmod_final module_unload
section dmesg dmesg
