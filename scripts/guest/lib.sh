#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# lib.sh - guest-side helpers for the plans (busybox sh).
#
# Output goes to the host framed as "=== BEGIN name" ... "=== END name";
# the host splits it into one file per name.

# shellcheck disable=SC2034 # used by the plans that source this file
D=/sys/kernel/debug/ksm_rmap
T=/sys/kernel/tracing
KO=/krp/ksm_rmap_probe.ko
# shellcheck disable=SC2034
REPRO=/krp/ksm_rmap_repro

# section NAME CMD...: run CMD with its output framed as NAME.
section() {
	_n=$1
	shift
	echo "=== BEGIN $_n up=$(cut -d' ' -f1 /proc/uptime)"
	"$@" 2>&1
	echo "=== END $_n"
}

# param NAME DEFAULT: krp.NAME=value from the kernel command line.
param() {
	_v=$(sed -n "s/.*krp\.$1=\([^ ]*\).*/\1/p" /proc/cmdline)
	echo "${_v:-$2}"
}

# shellcheck disable=SC2120 # some plans pass module parameters
module_load() { insmod "$KO" "$@"; }
module_unload() { rmmod ksm_rmap_probe; }
stats_reset() { echo 1 >"$D/reset"; }

# probes_settle: after an insmod, rmmod or count switch the kernel goes on
# working on the probes in the background for a while (the kprobe
# optimizer, RCU grace periods); under -icount the other vCPU's
# instructions count as guest time too, so timings wait for that (without
# it, stock 7.2's longest hold at 2,000 VMAs read 338,070 instead of 95,210).
probes_settle() { sleep 3; }

# trace_start: tracing off, an empty 16 MB buffer; _it is the tree
# iterators' name stem (renamed anon_rmap_tree_iter_* in 7.3).
trace_start() {
	_it=anon_vma_interval_tree_iter
	grep -q ' anon_rmap_tree_iter_first$' /proc/kallsyms && _it=anon_rmap_tree_iter
	echo 0 >"$T/tracing_on"
	echo >"$T/trace"
	echo 16384 >"$T/buffer_size_kb"
}

# The oracle: the kernel's own kprobe events, counting in the same boot
# what the module counts.  Return probes on the tree iterators give every
# node the loop body ran on (a non-NULL return called from rmap_walk_ksm),
# entry probes on the rmap_one callbacks give the hits.
oracle_on() {
	trace_start
	echo >"$T/kprobe_events"
	# shellcheck disable=SC2016 # $retval is ftrace's, not the shell's
	{
		echo 'p:krp_oracle/walk rmap_walk_ksm'
		echo 'r:krp_oracle/walk_ret rmap_walk_ksm'
		echo "r:krp_oracle/first ${_it}_first ret=\$retval"
		echo "r:krp_oracle/next ${_it}_next ret=\$retval"
		for f in try_to_migrate_one remove_migration_pte try_to_unmap_one \
			folio_referenced_one page_idle_clear_pte_refs_one; do
			grep -q " $f\$" /proc/kallsyms && echo "p:krp_oracle/hit_$f $f"
		done
	} >>"$T/kprobe_events"
	echo 1 >"$T/events/krp_oracle/enable"
	echo 1 >"$T/tracing_on"
}

# victim_oracle_on: the kernel's own events for the victims of KSM holds:
# a loop's lock is held from the walker's iter_first() to its next
# up_read() (whose argument names the lock); lock:contention_begin/end
# (event probes, for the raw lock address) give every wait.
# scripts/guest/victim.awk matches them.  Returns 1 without event probes.
victim_oracle_on() {
	trace_start
	echo mono >"$T/trace_clock"
	echo >"$T/dynamic_events"
	# shellcheck disable=SC2016 # $lock_addr and friends are ftrace's
	{
		echo 'p:krp_oracle/walk rmap_walk_ksm'
		echo 'r:krp_oracle/walk_ret rmap_walk_ksm'
		echo "p:krp_oracle/lfirst ${_it}_first"
		echo 'p:krp_oracle/unlock up_read sem=$arg1:x64'
		echo 'e:krp_oracle/cbegin lock/contention_begin lock=$lock_addr:x64'
		echo 'e:krp_oracle/cend lock/contention_end lock=$lock_addr:x64'
	} >>"$T/dynamic_events" 2>/dev/null || return 1
	grep -q cbegin "$T/dynamic_events" || return 1
	echo 1 >"$T/events/krp_oracle/enable"
	echo 1 >"$T/events/ksm_rmap_probe/ksm_rmap_victim/enable"
	echo 1 >"$T/tracing_on"
}

victim_oracle_report() {
	awk -f /krp/victim.awk "$T/trace"
	grep -c 'ksm_rmap_victim:' "$T/trace" | sed 's/^/module_victim_events: /'
}

# victim_oracle_trace: the raw events victim.awk read (the first 4000),
# kept for a disagreement to be read later
victim_oracle_trace() {
	grep -E ' (walk|walk_ret|lfirst|unlock|cbegin|cend|ksm_rmap_victim): ' "$T/trace" | head -n 4000
}
victim_oracle_clear() {
	echo 0 >"$T/tracing_on"
	echo 0 >"$T/events/krp_oracle/enable"
	echo 0 >"$T/events/ksm_rmap_probe/ksm_rmap_victim/enable"
	echo >"$T/trace"
	echo >"$T/dynamic_events"
	echo local >"$T/trace_clock"
}

oracle_off() {
	echo 0 >"$T/tracing_on"
	echo 0 >"$T/events/krp_oracle/enable"
}

# oracle_report: the oracle's counts, and its own missed events.
oracle_report() {
	awk -f /krp/oracle.awk "$T/trace"
	awk '$1 ~ /^krp_oracle/ { m += $3 } END { print "oracle_missed: " m + 0 }' \
		"$T/kprobe_profile"
	grep -c . "$T/trace" | sed 's/^/oracle_trace_lines: /'
}

oracle_clear() {
	echo >"$T/trace"
	echo >"$T/kprobe_events"
}

# bad_write FILE DATA: write DATA (backslash escapes expanded) in one
# write(2); print the error, if any.
bad_write() {
	printf '%b' "$2" | dd of="$1" bs=65536 2>&1 | grep -o 'Invalid argument\|Bad address\|Permission denied' || echo accepted
}

dmesg_all() { dmesg; }

# kmemleak_scan: on a kernel with kmemleak, two scans 5 s apart, then what
# it found (section kmemleak: empty when there is no leak).
kmemleak_scan() {
	[ -w /sys/kernel/debug/kmemleak ] || return 0
	echo scan >/sys/kernel/debug/kmemleak
	sleep 5
	echo scan >/sys/kernel/debug/kmemleak
	section kmemleak cat /sys/kernel/debug/kmemleak
}

# lockdep_state: is lockdep still on (debug_locks: 1)?  It turns itself
# off after its first report.
lockdep_state() {
	[ ! -r /proc/lockdep_stats ] ||
		section lockdep_stats grep -E 'debug_locks|lock-classes|direct dependencies' /proc/lockdep_stats
}

# wait_for FILE PATTERN: until FILE has a line matching PATTERN (120 s).
wait_for() {
	_t=0
	while [ $_t -lt 600 ] && ! grep -q "$2" "$1" 2>/dev/null; do
		sleep 0.2
		_t=$((_t + 1))
	done
}

# under_fire CYCLES VMAS: insmod/rmmod CYCLES times while two reproducers
# migrate KSM pages on both CPUs (split on CPU 0, fork on CPU 1), a reader
# reads every debugfs file and a writer resets and flips count.  Expects
# the module unloaded; prints one line of figures; walkers' output in
# /tmp/fire.a and /tmp/fire.b.
under_fire() {
	# Both merge first, then ksmd stops and both start: ksmd scanning while
	# a walker migrates can drop an rmap_item of a page briefly unmapped
	# mid-migration, and later walks then miss that mapping for real.
	echo 5000 >/sys/kernel/mm/ksm/pages_to_scan
	echo 10 >/sys/kernel/mm/ksm/sleep_millisecs
	echo 1 >/sys/kernel/mm/ksm/run
	rm -f /tmp/fire.go
	"$REPRO" --quiet-ksm --start-file /tmp/fire.go --cpu 0 --mode split \
		--vmas "$2" --dups 2 --loop 7200 >/tmp/fire.a 2>&1 &
	_a=$!
	"$REPRO" --quiet-ksm --start-file /tmp/fire.go --cpu 1 --mode fork \
		--forks 1 --vmas "$2" --dups 2 --loop 7200 >/tmp/fire.b 2>&1 &
	_b=$!
	wait_for /tmp/fire.a waiting
	wait_for /tmp/fire.b waiting
	echo 0 >/sys/kernel/mm/ksm/run
	touch /tmp/fire.go
	while :; do
		cat "$D/stats" "$D/walks" "$D/hist" "$D/stats.json" "$D/enable" "$D/count"
	done >/dev/null 2>&1 &
	_r=$!
	while :; do
		echo 1 >"$D/reset"
		echo 0 >"$D/count"
		echo 1 >"$D/count"
		sleep 0.2
	done >/dev/null 2>&1 &
	_w=$!
	_i=0
	_ok=0
	_walks=0
	_miss=0
	_busy=0
	_t0=$(date +%s)
	while [ $_i -lt "$1" ]; do
		# shellcheck disable=SC2119
		module_load || break
		sleep 0.2
		_walks=$((_walks + $(sed -n 's/^walks: //p' "$D/stats")))
		_miss=$((_miss + $(sed -n 's/^probe_misses: //p' "$D/stats")))
		# an open debugfs file pins the module (EAGAIN): try again
		_try=0
		until module_unload 2>/dev/null; do
			_try=$((_try + 1))
			[ $_try -lt 400 ] || break
			_busy=$((_busy + 1))
			sleep 0.05
		done
		[ $_try -lt 400 ] && _ok=$((_ok + 1))
		_i=$((_i + 1))
	done
	kill $_r $_w
	kill -TERM $_a $_b
	wait $_a
	wait $_b
	_moves=$(cat /tmp/fire.a /tmp/fire.b | sed -n 's/.*loop_moves=//p' | awk '{ s += $1 } END { print s + 0 }')
	echo "cycles=$_i unloads_ok=$_ok seconds=$(($(date +%s) - _t0)) walker_moves=$_moves walks_counted=$_walks probe_misses=$_miss rmmod_busy_retries=$_busy"
}

# ksm_state_save FILE: every writable file of /sys/kernel/mm/ksm (run and
# the tunables) as "NAME VALUE" lines; of a choice such as "[none]
# scan-time", the one chosen.
ksm_state_save() {
	for _f in $(find /sys/kernel/mm/ksm -maxdepth 1 -type f -perm -200 | sort); do
		echo "${_f##*/} $(sed 's/.*\[\(.*\)\].*/\1/' "$_f")"
	done >"$1"
}

# ksm_state_restore FILE: put back what ksm_state_save saved, run last,
# writing only what differs (merge_across_nodes refuses writes while pages
# are shared); prints what it changed and anything still different.
ksm_state_restore() {
	ksm_state_save /tmp/ksm.now
	grep -v '^run ' "$1" >/tmp/ksm.want
	grep '^run ' "$1" >>/tmp/ksm.want
	while read -r _f _v; do
		grep -qx "$_f $_v" /tmp/ksm.now && continue
		echo "restore $_f: $(grep "^$_f " /tmp/ksm.now | cut -d' ' -f2-) -> $_v"
		echo "$_v" >"/sys/kernel/mm/ksm/$_f" || echo "restore $_f: write failed"
	done </tmp/ksm.want
	ksm_state_save /tmp/ksm.now
	if cmp -s "$1" /tmp/ksm.now; then
		echo "ksm state: as before"
	else
		echo "ksm state: NOT as before:"
		diff "$1" /tmp/ksm.now
	fi
}

# rmap_selftest_env: what rmap_selftest needs, and whether the guest has it.
rmap_selftest_env() {
	echo "numa_nodes_online $(cat /sys/devices/system/node/online 2>/dev/null || echo none)"
	echo "pagemap $([ -r /proc/self/pagemap ] && echo yes || echo 'no (PROC_PAGE_MONITOR)')"
	echo "sysvipc $([ -d /proc/sysvipc ] && echo yes || echo 'no (SYSVIPC)')"
	echo "ksm $([ -w /sys/kernel/mm/ksm/run ] && echo yes || echo no)"
	echo "cwd_fs $(awk '$2 == "/tmp" { print $3 }' /proc/mounts)"
	echo "dev_shm_fs $(awk '$2 == "/dev/shm" { print $3 }' /proc/mounts)"
}

# rmap_selftest NAME: upstream's rmap selftest (/krp/rmap: tools/testing/
# selftests/mm/rmap.c of linux-source-7.3, static, from
# scripts/rmap-selftest.sh), its migrate fixture (-f migrate: anon, shm,
# file, ksm, ksm_and_mremap), under `timeout` (krp.rmap_timeout, default
# 900 s; the harness itself kills a test after 30 s).  Its TAP output goes
# to section NAME (with a last comment line "# krp: exit RC after S s"),
# "TEST VERDICT SECONDS" per test to section NAME.times (seconds from
# the "RUN" line to the result line, from /proc/uptime), what it needs and
# what the guest has to section NAME.env, and the KSM restore to section
# NAME.ksm.
# What the test needs: two NUMA nodes (move_pages to "the other" node),
# SysV semaphores, /dev/shm (shm_open; a tmpfs is mounted there if
# nothing is, and unmounted again), a writable cwd on a file system that
# migrates (migrate.file creates ./kst_rmap_file: a dir on the /tmp tmpfs).
# Its KSM tests write /sys/kernel/mm/ksm/run themselves (2 at the start,
# then 1 and waiting for two full scans before move_pages, which they retry
# up to 100 times while ksmd runs) and leave ksmd running: run and the
# tunables go back to what they were before.
rmap_selftest() {
	_name=$1
	ksm_state_save /tmp/ksm.before
	_shm=0
	if ! grep -q ' /dev/shm ' /proc/mounts; then
		mkdir -p /dev/shm
		mount -t tmpfs -o mode=1777 shm /dev/shm && _shm=1
	fi
	rm -rf /tmp/rmapst
	mkdir -p /tmp/rmapst
	section "$_name.env" rmap_selftest_env
	: >/tmp/rmapst.stamps
	read -r _t0 _ </proc/uptime
	{
		(cd /tmp/rmapst && exec timeout "$(param rmap_timeout 900)" /krp/rmap -f migrate)
		echo $? >/tmp/rmapst.rc
	} 2>&1 | while IFS= read -r _l; do
		read -r _up _ </proc/uptime
		echo "$_l"
		echo "$_up $_l" >>/tmp/rmapst.stamps
	done >/tmp/rmapst.tap
	read -r _t1 _ </proc/uptime
	echo "# krp: exit $(cat /tmp/rmapst.rc) after $(awk -v a="$_t0" -v b="$_t1" 'BEGIN { printf "%.2f", b - a }') s" >>/tmp/rmapst.tap
	section "$_name" cat /tmp/rmapst.tap
	# shellcheck disable=SC2016 # awk's $1, not the shell's
	section "$_name.times" awk '
		$3 == "RUN" { start[$4] = $1; next }
		$2 == "ok" || ($2 == "not" && $3 == "ok") {
			n = ($2 == "ok") ? $4 : $5
			v = ($2 == "ok") ? "ok" : "not_ok"
			if ($0 ~ /# SKIP/) v = "skip"
			else if ($0 ~ /# XFAIL/) v = "xfail"
			printf "%s %s %.2f\n", n, v, (n in start) ? $1 - start[n] : -1
		}' /tmp/rmapst.stamps
	[ "$_shm" = 0 ] || umount /dev/shm
	rm -rf /tmp/rmapst
	section "$_name.ksm" ksm_state_restore /tmp/ksm.before
}

# swap_setup: swap on a RAM disk (brd: built in, or /krp/brd.ko from the
# kernel's own modules), cgroup v2 with the memory controller and a child
# cgroup /sys/fs/cgroup/krp for the reproducer's swap mode.  Prints what
# it did; fails if any step does.
swap_setup() {
	if [ ! -b /dev/ram0 ]; then
		[ -f /krp/brd.ko ] || { echo "no /dev/ram0 and no /krp/brd.ko"; return 1; }
		insmod /krp/brd.ko rd_nr=1 rd_size=131072 || return 1
	fi
	mkswap /dev/ram0 >/dev/null && swapon /dev/ram0 || return 1
	grep -q ' /sys/fs/cgroup cgroup2 ' /proc/mounts ||
		mount -t cgroup2 none /sys/fs/cgroup || return 1
	echo +memory >/sys/fs/cgroup/cgroup.subtree_control || return 1
	mkdir -p /sys/fs/cgroup/krp || return 1
	echo "swap: $(grep -c ram0 /proc/swaps) device(s); cgroup /sys/fs/cgroup/krp: $(cat /sys/fs/cgroup/krp/cgroup.controllers)"
}
