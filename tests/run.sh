#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/run.sh - the test suite: lint; then, for every kernel of the list
# (scripts/kernels.tsv), build the module for it, boot it under QEMU (TCG,
# two NUMA nodes), run the guest plan scripts/guest/plan-test.sh there and
# check what came back against the kernel's own ftrace counting the same
# events; then the kernel's KSM selftests with and without the module.
# Output is TAP; the last line is "N passed, N failed".
#
# usage: tests/run.sh [-h] [--full] [-k KERNELS] [-S] [-p PHASES]
#   --full      every kernel of scripts/kernels.tsv (also the 6.12 own
#               kernels and scanfix-7.2), the unreach boot on own kernels
#               too, the hunt with 100 seeds (KRP_TEST_HUNT_N), 20
#               insmod/rmmod cycles under fire on stock kernels (default 8,
#               KRP_TEST_CYCLES; the debug kernel always 20): for releases
#               and before a big change; CI runs the default
#   -k KERNELS  comma list of kernels of scripts/kernels.tsv (default: its
#               "test" set), or paths of built kernel trees (with a /: the
#               own kernels' plan runs on them); '' for lint only
#   -S          skip the kernel's KSM selftests (scripts/selftests.sh)
#   -p PHASES   only these guest phases on stock kernels (comma list: split,
#               fork,mremap,mremapfork,victim,stat,concurrent,big,events,timing,
#               control,rmmod,swap,refused,race,rmapst,unknown; hunt:
#               a boot of its own, also on base-7.2, v3-7.2, v4-7.2 and
#               v3-fallback-7.2; unreach: a boot of its own with
#               tests/ksm_fork_unreachable.c and ksm_migrate_unlisted.c,
#               on own kernels only when named; path alone: only the
#               kernel-by-path job); default all.  Our own kernels always
#               run their whole plan, except with -p hunt and/or unreach
#               alone: then only those boots
# Each kernel is a job; KRP_TEST_JOBS jobs (default: one per core) run at
# once, our own kernels build in the background meanwhile; each job's time
# is printed after its results ("# time: NAME: N s").
# examples:
#   tests/run.sh                      # what CI runs (cold: 41 min on 2026-12-05)
#   tests/run.sh -k stock-7.3 -S      # one kernel, no selftests
#   tests/run.sh -k v3-7.2 -S -p hunt # the hunt boot of an own kernel
# env: KRP_STOCK_VERSION="RELEASE ..." pins stock kernels,
#      KRP_CACHE=dir for builds (default ~/.cache/ksm_rmap_probe)
# Nothing is installed on the host but build tools, QEMU and busybox: stock
# kernels are fetched with apt-get download into $KRP_CACHE, and the module
# is built (and installed with DKMS, as a test) in a Debian chroot there.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
phases=all
kernels=
kset=0
selftests=1
full=0
args=()
for a in "$@"; do
	if [ "$a" = --full ]; then full=1; else args+=("$a"); fi
done
set -- "${args[@]}"
while getopts "hk:p:S" opt; do
	case $opt in
	h) usage; exit 0 ;;
	S) selftests=0 ;;
	k) kernels=$OPTARG kset=1 ;;
	p) phases=$OPTARG ;;
	*) usage >&2; exit 2 ;;
	esac
done

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../scripts/lib.sh"
if [ "$kset" = 1 ]; then
	:
elif [ "$full" = 1 ]; then
	kernels=$(krp_table | awk '{printf "%s%s", c, $1; c=","}')
	export KRP_TEST_HUNT_N=${KRP_TEST_HUNT_N:-100}
	cycles=${KRP_TEST_CYCLES:-20}
else
	kernels=$(krp_kernels_in test)
fi

# insmod/rmmod cycles under fire on stock kernels: the debug kernel (KASAN,
# lockdep: where the unload race of 2026-12-02 showed) always runs 20
cycles=${cycles:-${KRP_TEST_CYCLES:-8}}
passed=0
failed=0
n=0
ok() {		# ok COND-STATUS NAME [DIAG]
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - ${tag:-}$2"
		passed=$((passed + 1))
	else
		echo "not ok $n - ${tag:-}$2${3:+ # $3}"
		failed=$((failed + 1))
	fi
}
check() {	# check NAME CMD...: passes if CMD succeeds
	local name=$1
	shift
	if "$@"; then ok 0 "$name"; else ok 1 "$name"; fi
}
gt0() { [[ ${1:-} =~ ^[0-9]+$ ]] && [ "$1" -gt 0 ]; }
eq() {		# eq NAME EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then ok 0 "$1"; else ok 1 "$1" "expected '$2', saw '$3'"; fi
}
races() {	# races FILE...: a TAP comment for each known kernel race seen
	local r
	r=$(krp_known_races "$@")
	[ "${r:-0}" = 0 ] ||
		echo "# ${tag:-}note: the known kernel race of rmmod against a debugfs open (scripts/lib.sh, KRP_RACE_FILES) was reported $r time(s); not counted as a splat"
}
skip() {	# skip NAME REASON: reported, counted neither way
	n=$((n + 1))
	echo "ok $n - ${tag:-}$1 # SKIP $2"
}
finish() {
	echo "1..$n"
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
}

kernels=$(krp_kernel_ids "$kernels") || exit 1
echo "TAP version 13"
krp_host_setup
IFS=, read -r -a klist <<<"$kernels"
stock=()
own=()
for k in "${klist[@]}"; do
	[ -n "$k" ] || continue
	read -r _ kind _ <<<"$(krp_kernel_row "$k")"
	if [ "$kind" = stock ]; then stock+=("$k"); else own+=("$k"); fi
done

# Lint: the module must be checkpatch --strict clean, and W=1 and sparse
# clean on every stock kernel of the list (below, per kernel); the scripts
# must pass shellcheck.
krp_need_pkgs shellcheck jq
cp=$(krp_checkpatch)
eq "checkpatch.pl --strict: no errors, warnings or checks in the module (and tests/krp_die)" "" \
	"$(cd "$KRP_TOP"; perl "$cp" --no-tree --strict --terse -f "${KRP_C_SOURCES[@]}" tests/krp_die/krp_die.c 2>&1 | grep -E 'ERROR|WARNING|CHECK')"
eq "shellcheck: scripts and tests clean" "" \
	"$(cd "$KRP_TOP" && { shellcheck -x tests/run.sh scripts/*.sh .ci/run
		shellcheck -s sh scripts/guest/*.sh scripts/guest/init scripts/ksm-rmap-stat; } 2>&1 | head -20)"

# sparse_parses ROOT KDIR: can the chroot's sparse parse these headers?
# Linux 7.x headers use __typeof_unqual__, which Debian's newest sparse
# (0.6.4) does not know: the kernel's own Makefile then turns C=2 off.
sparse_parses() {
	grep -rqs __typeof_unqual__ "$1$2/../$(basename "$2" | sed -E 's/-(rt-|cloud-)?(amd64|arm64(-16k)?)$/-common/')/include/linux/compiler_types.h" ||
		return 0
	local said
	said=$(printf 'static inline int u(const int *q) { __typeof_unqual__(*q) v = *q; return v; }\n' |
		krp_sudo chroot "$1" sparse - 2>&1)
	[[ $said != *error* ]]
}

# lint_kernel NAME: W=1 (and sparse, where it can parse the headers) for
# stock kernel NAME, built in its chroot.
lint_kernel() {
	local sp=C=2 log
	krp_chroot_pkgs "$root" sparse
	if ! sparse_parses "$root" "$kdir"; then
		sp=
		skip "sparse (C=2) against linux-headers-$ver" \
			"Debian's sparse $(krp_sudo chroot "$root" sparse --version 2>/dev/null) cannot parse these headers (__typeof_unqual__); W=1 still runs"
	fi
	log=$KRP_CACHE/build/lint-$1
	krp_build_module "$kdir" "$log" "$root" W=1 $sp >/dev/null 2>&1 || true
	eq "W=1${sp:+ and sparse ($sp)} against linux-headers-$ver: no warnings" "" \
		"$(if [ -f "$log/build.log" ]; then
			# kbuild's note where the headers have no vmlinux (6.1)
			sed -e '/^make/d' -e '/^Skipping BTF generation for .* due to unavailability of vmlinux$/d' "$log/build.log"
		else echo "no build log"; fi)"
}

# dkms_check: as a user would, in the chroot of $ver: dkms add, build,
# install, remove; the installed module's vermagic must be $ko's.  (DKMS
# installs into the chroot's /lib/modules, never the host's.)
dkms_check() {
	local v m f src
	m=ksm_rmap_probe/$dkms_version
	src=$root/usr/src/ksm_rmap_probe-$dkms_version
	krp_chroot_pkgs "$root" dkms
	krp_in_chroot "$root" dkms remove "$m" --all >/dev/null 2>&1 || true
	krp_sudo rm -rf "$src"
	krp_sudo mkdir -p "$src"
	(cd "$KRP_TOP" && krp_sudo cp "${KRP_SOURCES[@]}" Makefile dkms.conf "$src"/)
	{ krp_in_chroot "$root" dkms add "$m" &&
		krp_in_chroot "$root" dkms build "$m" -k "$ver" &&
		krp_in_chroot "$root" dkms install "$m" -k "$ver"; } >"$KRP_CACHE/dkms-$ver.log" 2>&1 ||
		return 1
	f=$(find "$root/lib/modules/$ver/updates/dkms" -name 'ksm_rmap_probe.ko*' 2>/dev/null | head -1)
	[ -n "$f" ] || return 1
	case $f in *.xz) v=$(xz -dc "$f" >"$KRP_CACHE/dkms-$ver.ko" && modinfo -F vermagic "$KRP_CACHE/dkms-$ver.ko") ;;
	*.zst) v=$(krp_sudo chroot "$root" sh -c "zstd -dc ${f#"$root"}" >"$KRP_CACHE/dkms-$ver.ko" && modinfo -F vermagic "$KRP_CACHE/dkms-$ver.ko") ;;
	*) v=$(modinfo -F vermagic "$f") ;;
	esac
	krp_in_chroot "$root" dkms remove "$m" --all >>"$KRP_CACHE/dkms-$ver.log" 2>&1
	krp_sudo rm -rf "$src"
	[ "$v" = "$(modinfo -F vermagic "$ko")" ] &&
		[ -z "$(find "$root/lib/modules/$ver/updates/dkms" -name 'ksm_rmap_probe.ko*' 2>/dev/null)" ]
}

# Helpers for the checks; $out is the guest output dir of the current boot.
s() { krp_kv "$out/$1" "$2"; }
# f NAME: a section's text; a section that never came back is not empty.
f() { if [ -f "$out/$1" ]; then cat "$out/$1"; else echo "<no section $1>"; fi; }
want() { [ "$phases" = all ] || [[ ",$phases," == *",$1,"* ]]; }

# check_oracle PHASE [may-fail]: the module and the kernel's kprobe events
# agree (may-fail: the moves need not migrate).
check_oracle() {
	local p=$1 k
	check "$p: the workload made rmap_walk_ksm() walks ($(s "$p.stats" walks))" \
		gt0 "$(s "$p.stats" walks)"
	for k in walks loops iterations hits max_loop_iterations; do
		eq "$p: $k equals ftrace's count" "$(s "$p.oracle" "oracle_$k")" \
			"$(s "$p.stats" "$k")"
	done
	eq "$p: per-loop iteration histogram equals ftrace's" \
		"$(awk '$1 == "oracle_hist" {print $3, $4, $5}' "$out/$p.oracle" 2>/dev/null)" \
		"$(awk '$1 == "iterations" {print $2, $3, $4}' "$out/$p.hist" 2>/dev/null)"
	eq "$p: nothing missed (module probe_misses, anomalies, ftrace misses)" "0 0 0" \
		"$(s "$p.stats" probe_misses) $(s "$p.stats" anomalies) $(s "$p.oracle" oracle_missed)"
	eq "$p: layout validated, every loop classified" "ok 0" \
		"$(s "$p.stats" layout) $(s "$p.stats" unclassified_loops)"
	eq "$p: skip_addr + skip_mm + skip_invalid + hits = iterations" \
		"$(s "$p.stats" iterations)" \
		"$(( $(s "$p.stats" skip_addr) + $(s "$p.stats" skip_mm) + $(s "$p.stats" skip_invalid) + $(s "$p.stats" hits) ))"
	[ "$p" = concurrent ] || [ "${2:-}" = may-fail ] ||
		eq "$p: every move migrated the KSM page" "$(s "$p.repro" moves)" \
			"$(s "$p.repro" migrated_count)"
}

# check_swap KERNEL: Hugh Dickins's shape swapped out by cgroup reclaim.
# The kernel's outcome (both mappings of the KSM page swapped, KSM pages
# gone) follows from its walk; the module must count the reclaim walks as
# ftrace does and classify them (rwc->invalid_vma is set on these walks:
# on IBT kernels the module must match the function behind its ENDBR).
check_swap() {
	local want=yes pkb
	if grep -q '^no /dev/ram0 and no /krp/brd.ko' "$out/swap.setup" 2>/dev/null; then
		skip "swap: reclaim walks" "no brd for this kernel (no swap device in the guest)"
		return
	fi
	[ "$(krp_kernel_walk "$1")" != v3 ] || want=no
	check "swap: swap on a RAM disk and a memory cgroup in the guest" \
		grep -q '^swap: 1 device' "$out/swap.setup"
	check_oracle swap may-fail
	# (pages_shared and pages_sharing stay 1 1 after the swap-out: with
	# ksmd stopped nothing looks the stale stable node up to drop it.  On
	# v3 the unmoved mapping is found and becomes a swap entry, 4 kB; the
	# moved one is not, so the page stays mapped and is not swapped out.)
	# the region's Swap kB: two pages swapped, or one on v3 (4 kB pages,
	# 16 kB on arm64-16k: the reproducer says which)
	pkb=$(awk '/ after / {for (i = 1; i <= NF; i++) if ($i ~ /^page_kb=/) print substr($i, 9)}' "$out/swap.repro" 2>/dev/null)
	eq "swap: the KSM page mapped twice (mremap shape) swapped out ($want): both PTEs swap entries, region Swap kB (${pkb:-?} kB pages)" \
		"$want $((${pkb:-0} * ($([ $want = yes ] && echo 2 || echo 1))))" \
		"$(s swap.repro swapped) $(awk '/ after / {for (i = 1; i <= NF; i++) if ($i ~ /^swap_kb=/) print substr($i, 9)}' "$out/swap.repro" 2>/dev/null)"
	eq "swap: reclaim walks (folio_referenced_one, try_to_unmap_one) seen and all classified" \
		"yes yes 0" \
		"$(grep -q ' folio_referenced_one ' "$out/swap.walks" && echo yes || echo no) $(grep -q ' try_to_unmap_one ' "$out/swap.walks" && echo yes || echo no) $(awk 'NR > 1 && $8 == "-"' "$out/swap.walks" 2>/dev/null | grep -c .)"
	if [ "$want" = yes ]; then
		eq "swap: no incomplete walk, no missed mapping" "0 0" \
			"$(s swap.stats incomplete_walks) $(s swap.stats missed_mappings)"
	else
		check "swap: the module reports the missed mapping in the reclaim walks ($(s swap.stats incomplete_walks) incomplete)" \
			gt0 "$(s swap.stats incomplete_walks)"
	fi
}

# check_victim: a reproducer thread took the anon_vma lock for write
# while the KSM page migrated.  The module's victims must match the
# kernel's own events (victim.awk: waits that began inside a hold, with
# bounds for the microsecond edges), each wait must lie inside the
# victim's own longest mprotect(), and the per-walk and trace views agree.
check_victim() {
	local mine vmin vmax wmax rmax late names
	check_victimrt
	if grep -q 'no event probes' "$out/victim.oracle" 2>/dev/null; then
		skip "victim: the module's victims against ftrace's" "this kernel has no event probes (e:) for the oracle"
		return
	fi
	mine=$(s victim.stats victim_waits)
	vmin=$(s victim.oracle oracle_victims_min)
	vmax=$(s victim.oracle oracle_victims_max)
	check "victim: victim_waits ($mine) within ftrace's count of waits that began inside a KSM hold [$vmin, $vmax] ($(s victim.oracle oracle_holds) holds, $(s victim.oracle oracle_waits) waits on any lock)" \
		test -n "$mine" -a -n "$vmin" -a "${mine:-x}" -ge "${vmin:-0}" -a "${mine:-x}" -le "${vmax:--1}"
	eq "victim: one ksm_rmap_victim trace event per victim wait" \
		"$mine" "$(s victim.oracle module_victim_events)"
	if ! gt0 "$mine"; then
		skip "victim: waits inside the victim's own mprotect(), per-walk view" \
			"no task waited behind a KSM hold in this run (ftrace saw at most ${vmax:-?})"
		return
	fi
	wmax=$(s victim.stats victim_max_wait_ns)
	rmax=$(awk '/victim calls=/ { for (i = 1; i <= NF; i++) if ($i ~ /^max_ns=/) print substr($i, 8) }' "$out/victim.repro" 2>/dev/null)
	check "victim: the longest wait ($wmax ns) lies inside the victim's own longest mprotect() ($rmax ns)" \
		test "${wmax:-x}" -gt 0 -a "${wmax:-x}" -le "${rmax:-0}"
	# a walk tallies its victims at each hold's up_read() call; a wait
	# that begins after that, still inside the hold, is counted late
	late=$(s victim.stats victim_late_waits)
	[[ $late =~ ^[0-9]+$ ]] || late=0
	# the waiters the walks name: ksm_rmap_repro only, and none at all
	# only when every wait was late (seen on 7.3-rt)
	names=$(awk 'NR > 1 && $14 > 0 { print $16 }' "$out/victim.walks" 2>/dev/null | sed 's|^[0-9]*/||' | sort -u)
	[ -n "$names" ] || [ "$((mine - late))" -gt 0 ] || names=ksm_rmap_repro
	check "victim: the walks name the waiter (ksm_rmap_repro) and count at least every wait but the late ones ($(awk 'NR > 1 { n += $14 } END { print n + 0 }' "$out/victim.walks" 2>/dev/null) >= $mine - $late)" \
		test "$(awk 'NR > 1 { n += $14 } END { print n + 0 }' "$out/victim.walks" 2>/dev/null)" -ge "$((mine - late))" -a \
		"$names" = ksm_rmap_repro
	check "victim: the histogram holds every wait" \
		test "$(awk '$1 == "victim_wait_ns" { n += $4 } END { print n + 0 }' "$out/victim.hist" 2>/dev/null)" = "$mine"
}

# check_victimrt: the victim as a real-time thread on the walker's CPU
# (--victim-rt): it preempts the walker inside holds and runs as soon as
# the lock is free, so its longest call is the longest wait plus its own
# work.  The wait must lie inside that call; how much longer the call was
# is shown beside the victim's cheapest call (no timing assertion).
check_victimrt() {
	local st=victimrt.stats w m own
	own=$(awk '/victim calls=/ { for (i = 1; i <= NF; i++) if ($i ~ /^(max|min)_ns=/) printf "%s ", substr($i, 8) }' "$out/victimrt.repro" 2>/dev/null)
	read -r m own <<<"$own"
	w=$(s $st victim_max_wait_ns)
	if ! gt0 "$(s $st victim_waits)"; then
		skip "victim-rt: the longest wait lies inside the victim's own longest call" \
			"no wait behind a KSM hold in this run ($(s $st victim_waits) waits; $(s $st walks) walks)"
		return
	fi
	check "victim-rt: the longest wait ($w ns, $(s $st victim_waits) waits) lies inside the victim's own longest call (${m:-?} ns: $(awk -v m="${m:-0}" -v w="${w:-0}" 'BEGIN { print m - w }') ns more; its cheapest call ${own:-?} ns)" \
		test "${w:-x}" -gt 0 -a "${w:-x}" -le "${m:-0}"
}

# check_stat RANGE: scripts/ksm-rmap-stat ran in the guest on the live
# module (busybox) around a workload; tests/stat_check.py compares its
# table, JSON lines and Prometheus file (parsed by Debian's
# python3-prometheus-client) with the stats captured around it.
check_stat() {
	local name exp seen res rc=0
	if [ ! -f "$out/stat.txt" ]; then
		ok 1 "stat: ksm-rmap-stat ran in the guest" "no section stat.txt"
		return
	fi
	krp_need_pkgs python3-prometheus-client
	res=$(/usr/bin/python3 "$KRP_TOP/tests/stat_check.py" "$out" "$ver" "$1" 2>&1) || rc=$?
	eq "stat: tests/stat_check.py ran (exit 0)" "0" \
		"$rc$([ "$rc" = 0 ] || printf ': %s' "$(tail -1 <<<"$res")")"
	while IFS='|' read -r name exp seen; do
		eq "stat: $name" "$exp" "$seen"
	done < <(grep '|.*|' <<<"$res")
}

# check_mremapfork KERNEL: the mremap shape with a child forked before the
# merge: four mappings, four rmap_items, and the second pass hands each
# found VMA once more.  v3 misses both moved mappings while its hits equal
# the mapcount (the duplicates): incomplete only if each (VMA, address)
# counts once.  Every other kernel finds all four, and the remove walk
# restores every migration entry the migrate walk left.
check_mremapfork() {
	local st=mremapfork.stats
	check_oracle mremapfork may-fail
	if [ "$(krp_kernel_walk "$1")" = v3 ]; then
		check "mremapfork: v3 misses the moved mappings and the module says so ($(s $st incomplete_walks) incomplete walks)" \
			gt0 "$(s $st incomplete_walks)"
		# each walk misses both moved mappings (the parent's and the
		# child's); counted by hits, the second pass's duplicates of the
		# found VMAs hid one of them
		eq "mremapfork: each incomplete walk missed both moved mappings (missed = 2 x incomplete; hits $(s $st hits))" \
			"$((2 * $(s $st incomplete_walks)))" "$(s $st missed_mappings)"
	else
		eq "mremapfork: every mapping found (incomplete, missed), the KSM page migrated every move" \
			"0 0 $(s mremapfork.repro moves)" \
			"$(s $st incomplete_walks) $(s $st missed_mappings) $(s mremapfork.repro migrated_count)"
	fi
	eq "mremapfork: remove walks paired with their migration walk, each handed what it unmapped (remove_walks > 0, unconfirmed, unpaired)" \
		"yes 0 0" "$(gt0 "$(s $st remove_walks)" && echo yes || echo no) $(s $st remove_unconfirmed) $(s $st remove_unpaired)"
}

# check_refused: a reclaim walk whose invalid_vma refuses a VMA that maps
# the page (the child in another cgroup): refused is found, not missed.
check_refused() {
	if [ ! -f "$out/refused.stats" ]; then
		skip "refused: reclaim walks with a refused VMA" "no swap device or memory cgroup in the guest"
		return
	fi
	check_oracle refused may-fail
	check "refused: reclaim refused the child's VMA (skip_invalid $(s refused.stats skip_invalid))" \
		gt0 "$(s refused.stats skip_invalid)"
	eq "refused: no incomplete walk, no missed mapping (a refused VMA maps the page: found)" "0 0" \
		"$(s refused.stats incomplete_walks) $(s refused.stats missed_mappings)"
}

# check_race: mappings vanished or appeared during the walks; whether a
# race hit a walk is chance, so count it (raced_walks: the mapcount at
# return is not what the walk itself explains) and fail only on a false
# verdict: nothing in these workloads can be missed for real.
check_race() {
	local r st err inc full low
	for r in exit munmap cow merge stranger; do
		st=race-$r.stats
		if [ ! -f "$out/$st" ]; then
			ok 1 "race-$r: ran" "no section $st"
			continue
		fi
		err=$(grep -m1 'repro: error' "$out/race-$r.repro" || true)
		if [ -n "$err" ] && [ "$r" = stranger ] && [[ $err == */damon/* ]]; then
			skip "race-$r: no false incomplete verdict" "no DAMON walker: ${err#repro: error: }"
			continue
		fi
		ok "$([ -z "$err" ]; echo $?)" "race-$r: the reproducer ran" "$err"
		eq "race-$r: nothing lost (probe_misses, anomalies, layout)" "0 0 ok" \
			"$(s "$st" probe_misses) $(s "$st" anomalies) $(s "$st" layout)"
		inc=$(s "$st" incomplete_walks)
		# race merge keeps ksmd running while the parent migrates: ksmd
		# may drop the parent's rmap_items (tests/ksm_migrate_unlisted.c),
		# and walks then truly miss them.  True only if every incomplete
		# walk is unlisted and the kernel's count of the parent's listed
		# pages fell meanwhile (the reproducer watches it every ms).
		read -r full low <<<"$(sed -n 's/^repro: race=merge parent_listed=\([0-9-]*\) parent_listed_min=\([0-9-]*\).*/\1 \2/p' "$out/race-$r.repro")"
		if [ "$r" = merge ] && [ "$inc" != 0 ] && [ "$inc" = "$(s "$st" unlisted_walks)" ] &&
			gt0 "${full:-}" && [[ ${low:-} =~ ^[0-9]+$ ]] && [ "$low" -lt "$full" ]; then
			ok 0 "race-$r: no false incomplete verdict ($inc incomplete walks, all unlisted and true: ksmd dropped the parent's rmap_items, ksm_merging_pages fell to $low of $full)"
		elif [ "$inc" != 0 ]; then
			ok 1 "race-$r: no false incomplete verdict" \
				"$inc incomplete walks ($(s "$st" unlisted_walks) unlisted), $(s "$st" missed_mappings) missed, $(s "$st" raced_walks) raced of $(s "$st" walks) walks${full:+; parent listed $full, lowest $low}"
		elif gt0 "$(s "$st" raced_walks)"; then
			ok 0 "race-$r: no false incomplete verdict ($(s "$st" raced_walks) of $(s "$st" walks) walks raced, $(s "$st" unknown_waiter_walks) unjudged: lock waiters)"
		else
			skip "race-$r: no false incomplete verdict" \
				"the race never hit a walk (raced_walks 0 of $(s "$st" walks) walks)"
		fi
	done
}

# rmapst_for ARCH: upstream's rmap selftest built for ARCH (the host's
# is built once before the jobs start; another's by the first job that
# needs it, under a lock), or nothing if that build failed.
rmapst_for() {
	if [ "$1" = "$(krp_host_arch)" ]; then
		echo "$rmapst_host"
	else
		krp_locked "rmapst-$1" "$KRP_TOP/scripts/rmap-selftest.sh" --arch "$1" \
			2>>"$KRP_CACHE/rmap-selftest.log" || true
	fi
}

# check_rmapst KERNEL: upstream's rmap selftest ran with the module loaded;
# its verdicts must be what the kernel's walk implies (v3 misses the
# mremap-moved mapping: ksm_and_mremap fails, every other kernel passes),
# and the module's incomplete walks must say the same: on v3 some miss a
# mapping an rmap_item names (the range skipped it); elsewhere none does.
# A walk elsewhere may still be incomplete, and truly so: when ksmd scans
# while a migration has the ptes as migration entries, it drops the
# rmap_items of those addresses (no page there) and the failed migration
# puts the ptes back: the KSM page is mapped, listed by no rmap_item, and
# every walk misses it until ksmd's next scan lists it again (seen once
# in ksm_and_mremap on debug-7.2: 228 walks with no rmap_item, migrations
# retried until the next scan; the selftest retries, so it passes).  Those
# are counted as unlisted_walks, and only they may be incomplete.
check_rmapst() {
	local want=ok v miss unl listed ksm note
	if [ -z "$rmapst" ]; then
		ok 1 "upstream rmap selftest built for $(krp_kernel_arch "$1")" \
			"see $KRP_CACHE/rmap-selftest.log"
		return
	fi
	[ "$(krp_kernel_walk "$1")" != v3 ] || want=not_ok
	# migrate.ksm merges with prctl(PR_SET_MEMORY_MERGE), which came in
	# 6.4: on 6.1 the test skips itself, saying so
	ksm=ok note=
	if grep -q '^ok [0-9]* migrate.ksm # SKIP PR_SET_MEMORY_MERGE not supported' "$out/rmapst" 2>/dev/null; then
		ksm=skip note=" (migrate.ksm skips itself: no PR_SET_MEMORY_MERGE before 6.4)"
	fi
	v=$(awk '{printf "%s%s=%s", s, $1, $2; s=" "}' "$out/rmapst.times" 2>/dev/null)
	eq "rmap selftest ($(krp_source_pkg rmapst), migrate fixture, module loaded): verdicts$note" \
		"migrate.anon=ok migrate.shm=ok migrate.file=ok migrate.ksm=$ksm migrate.ksm_and_mremap=$want" "$v"
	miss=$(s rmapst.stats incomplete_walks)
	unl=$(s rmapst.stats unlisted_walks)
	# the incomplete walks that missed a mapping some rmap_item names
	listed="?($miss - $unl)"
	[[ "$miss $unl" =~ ^[0-9]+\ [0-9]+$ ]] && listed=$((miss - unl))
	if [ "$want" = ok ]; then
		eq "rmap selftest: the module saw walks, none missed a mapping an rmap_item names (agrees with the selftest; $unl of $miss incomplete walks unlisted)" \
			"yes 0" "$(gt0 "$(s rmapst.stats walks)" && echo yes || echo no) $listed"
		if gt0 "$unl"; then
			echo "# ${tag}rmap selftest: $unl walks missed mappings no rmap_item names ($(s rmapst.stats unlisted_missed) mappings); vmstat $(f rmapst.vmstat | tr '\n' ' ')"
		fi
	else
		check "rmap selftest: the module reports incomplete walks where ksm_and_mremap fails, missing mappings an rmap_item names ($miss incomplete, $unl of them unlisted)" \
			gt0 "$listed"
	fi
	eq "rmap selftest: KSM tunables restored afterwards" "ksm state: as before" \
		"$(grep '^ksm state' "$out/rmapst.ksm" 2>/dev/null)"
}

# suite NAME: build, boot and check stock kernel NAME.  What a loop visits
# follows from the range the kernel walks (scripts/kernels.tsv): all N VMAs
# of the tree on a full-range kernel, those at the page's index on 7.3.
suite() {
	local name=$1 arch hooked
	tag="[$name] "
	if ! read -r vmlinuz kdir root ver <<<"$(krp_stock_kernel "$name")" || [ -z "${ver:-}" ]; then
		ok 1 "stock kernel $name fetched" "see the messages above"
		return
	fi
	walk=$(krp_kernel_walk "$name")
	arch=$(krp_kernel_arch "$name")
	# upstream's rmap selftest for this kernel's architecture: check_rmapst,
	# called from here, sees this local
	local rmapst
	rmapst=$(rmapst_for "$arch")
	krp_log "$name: $ver (walks: $walk)"
	tag="[$name $ver] "
	if ko=$(krp_build_module "$kdir" "$KRP_CACHE/build/$name" "$root"); then
		ok 0 "module builds against linux-headers-$ver (in a Debian chroot)"
	else
		ok 1 "module builds against linux-headers-$ver (in a Debian chroot)"
		return
	fi
	lint_kernel "$name"
	dkms_version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$KRP_TOP/dkms.conf")
	check "dkms add/build/install/remove ksm_rmap_probe/$dkms_version for $ver in its chroot (vermagic matches)" \
		krp_locked "dkms-$(basename "$root")" dkms_check
	repro=$(krp_build_repro "$KRP_CACHE/bin" "$arch")
	out=$KRP_CACHE/test-out-$name
	initrd=$KRP_CACHE/test-initrd-$name.cpio.gz
	brd=$KRP_CACHE/stock/$ver/brd.ko
	[ -s "$brd" ] || brd=
	krp_initramfs_extra "$initrd" "$ko" "$repro" ${rmapst:+"$rmapst"} ${brd:+"$brd"}
	krp_log "booting $ver (TCG); phases: $phases"
	boot_rc=0
	krp_boot "$vmlinuz" "$initrd" "$out" 1500 \
		"krp.plan=test krp.phases=$phases krp.cycles=$cycles" || boot_rc=$?
	echo "# ${tag}guest phases (s): $(krp_phase_times "$out")"
	eq "guest booted, ran the plan and powered off" "0 0" "$boot_rc $(cat "$out/exit" 2>/dev/null)"
	eq "the guest runs $ver" "$ver" "$(f uname)"
	eq "insmod ksm_rmap_probe.ko succeeds" "" "$(f insmod)"
	eq "fresh stats: walks 0, layout unverified" "0 unverified" \
		"$(s stats_initial walks) $(s stats_initial layout)"
	eq "debugfs files are root-only (stats walks hist 0400, reset 0200, enable count 0600)" \
		"400 400 400 200 600 600" "$(awk '{printf "%s%s", sep, $2; sep=" "}' "$out/modes" 2>/dev/null)"

	# what one loop visits: the whole tree (full), or the VMAs at the page's
	# index (index: the item's own VMA, and in fork mode the children's)
	if [ "$walk" = full ]; then
		range_ok="range_narrow_loops 0"
	else
		range_ok="range_full_loops 0"
	fi
	if want split; then
		check_oracle split
		nv=$(s split.repro vmas)
		if [ "$walk" = full ]; then e="$nv $((nv - 1))"; else e="1 0"; fi
		eq "split: max_loop_iterations, max_loop_skip_addr = $e ($nv VMAs on one anon_vma, $walk range)" \
			"$e" "$(s split.stats max_loop_iterations) $(s split.stats max_loop_skip_addr)"
		eq "split: no incomplete walk, no missed mapping" "0 0" \
			"$(s split.stats incomplete_walks) $(s split.stats missed_mappings)"
		check "split: the module's own work inside the holds is reported ($(s split.stats module_hold_ns) ns, at most $(s split.stats max_module_hold_ns) in a loop)" \
			test "$(s split.stats module_hold_ns)" -gt 0 -a \
			"$(s split.stats max_module_hold_ns)" -le "$(s split.stats module_hold_ns)"
		eq "split: every loop walks the kernel's range ($range_ok)" "0" \
			"$(s split.stats "${range_ok% *}")"
		if [ "$walk" = full ]; then
			eq "split what-if: v3 and v4 ranges would visit 1 VMA per loop, miss nothing" \
				"1 1 0 0" "$(s split.stats whatif_v3_max_loop_iterations) $(s split.stats whatif_v4_max_loop_iterations) $(s split.stats whatif_v3_missed) $(s split.stats whatif_v4_missed)"
			eq "split what-if covers every loop" "$(s split.stats loops) $(s split.stats loops)" \
				"$(s split.stats whatif_v3_loops) $(s split.stats whatif_v4_loops)"
		else
			eq "split: every loop walked the rmap_item's stored linear index (range_index_loops = loops)" \
				"$(s split.stats loops)" "$(s split.stats range_index_loops)"
			eq "split what-if: no prediction on a narrow-walk kernel (n/a, JSON null), 0 loops" \
				"0 n/a n/a n/a n/a" "$(s split.stats whatif_v3_loops) $(s split.stats whatif_v3_max_loop_iterations) $(s split.stats whatif_v4_missed) $(s split.stats whatif_v3_missed_walks) $(s split.stats whatif_v4_iterations)"
		fi
	fi
	if want fork; then
		check_oracle fork
		k=$(s fork.repro forks)
		eq "fork: max_loop_skip_mm = forks ($k children map the same address)" "$k" \
			"$(s fork.stats max_loop_skip_mm)"
		nodes=$(s fork.repro anon_vma_tree_nodes)
		if [ "$walk" = full ]; then e=$nodes; else e=$((k + 1)); fi
		eq "fork: max_loop_iterations = $e (of $nodes VMAs in the tree, $walk range)" "$e" \
			"$(s fork.stats max_loop_iterations)"
		eq "fork: second pass walked (passes 2 in some walk)" "yes" \
			"$(awk 'NR > 1 && $5 == 2 {f = 1} END {print f ? "yes" : "no"}' "$out/fork.walks" 2>/dev/null)"
		eq "fork: no incomplete walk" "0" "$(s fork.stats incomplete_walks)"
		if [ "$walk" = full ]; then
			eq "fork what-if: narrowed ranges would visit forks+1 VMAs, miss nothing" \
				"$((k + 1)) $((k + 1)) 0 0" "$(s fork.stats whatif_v3_max_loop_iterations) $(s fork.stats whatif_v4_max_loop_iterations) $(s fork.stats whatif_v3_missed) $(s fork.stats whatif_v4_missed)"
		else
			eq "fork: every loop walked the stored linear index" \
				"$(s fork.stats loops)" "$(s fork.stats range_index_loops)"
		fi
	fi
	if want mremap; then
		check_oracle mremap
		eq "mremap: every mapping found (incomplete_walks 0), the KSM page migrated every move" \
			"0 0 $(s mremap.repro moves)" "$(s mremap.stats incomplete_walks) $(s mremap.stats missed_mappings) $(s mremap.repro migrated_count)"
		if [ "$walk" = full ]; then
			eq "mremap what-if: the v3 range would miss the moved mapping in every walk" \
				"$(s mremap.stats walks)" "$(s mremap.stats whatif_v3_missed_walks)"
			eq "mremap what-if: the v4 range would miss nothing" "0" "$(s mremap.stats whatif_v4_missed)"
		else
			eq "mremap: every loop walked the stored linear index (the moved VMA's own)" \
				"$(s mremap.stats loops)" "$(s mremap.stats range_index_loops)"
		fi
	fi
	if want concurrent; then
		check_oracle concurrent
		eq "concurrent: both walkers ran and were tracked apart (2 pids in walks)" "2" \
			"$(awk 'NR > 1 {print $2}' "$out/concurrent.walks" 2>/dev/null | sort -u | grep -c .)"
		if [ "$walk" = full ]; then e=600; else e=2; fi
		eq "concurrent: max_loop_iterations = $e (fork of 300 VMAs, 1 child; $walk range)" "$e" \
			"$(s concurrent.stats max_loop_iterations)"
	fi
	if want big; then
		if [ "$walk" = full ]; then e="2000 1999"; else e="1 0"; fi
		eq "big: max_loop_iterations, max_loop_skip_addr = $e (2000 VMAs, $walk range)" "$e" \
			"$(s big.stats max_loop_iterations) $(s big.stats max_loop_skip_addr)"
		eq "big: no incomplete walk, nothing missed" "0 0" \
			"$(s big.stats incomplete_walks) $(s big.stats probe_misses)"
	fi
	if want split && want events; then
		eq "no raw kernel pointer in stats, walks, hist, stats.json or trace events" "" \
			"$(cat "$out"/split.stats "$out"/split.walks "$out"/split.hist \
				"$out"/events.json "$out"/events.trace 2>/dev/null |
				grep -Eo '(0x)?ffff[0-9a-f]{12}' | head -3)"
	fi
	if want events; then
		eq "trace event ksm_rmap_walk: one per walk" "$(s events.stats walks)" \
			"$(grep -c '^ksm_rmap_walk: ' "$out/events.trace" 2>/dev/null)"
		eq "trace event ksm_rmap_loop: one per loop" "$(s events.stats loops)" \
			"$(grep -c '^ksm_rmap_loop: ' "$out/events.trace" 2>/dev/null)"
		eq "trace events' iterations and hits add up to the stats" \
			"$(s events.stats iterations) $(s events.stats hits)" \
			"$(awk '/^ksm_rmap_walk: / { for (i = 2; i <= NF; i++) { split($i, kv, "=")
				if (kv[1] == "iterations") it += kv[2]; if (kv[1] == "hits") h += kv[2] } }
				END { print it + 0, h + 0 }' "$out/events.trace" 2>/dev/null)"
		eq "stats.json parses, with the same walks, iterations and layout as stats" \
			"$(s events.stats walks) $(s events.stats iterations) \"ok\"" \
			"$(jq -r '"\(.walks) \(.iterations) \(.layout | tojson)"' "$out/events.json" 2>&1)"
		eq "stats.json has every stats key" \
			"$(awk -F': ' 'NF == 2 {print $1}' "$out/events.stats" 2>/dev/null | sort | tr '\n' ' ')" \
			"$(jq -r 'keys[]' "$out/events.json" 2>/dev/null | sort | tr '\n' ' ')"
	fi
	if want timing; then
		eq "count=0: count file reads 0" "0" "$(f timing.count)"
		check "count=0: walks and loops timed ($(s timing.stats walks) walks, max hold $(s timing.stats max_hold_ns) ns)" \
			gt0 "$(s timing.stats max_hold_ns)"
		eq "count=0: every loop uncounted, no iteration counted, walks end 'uncounted'" \
			"$(s timing.stats loops) 0 $(s timing.stats walks)" \
			"$(s timing.stats uncounted_loops) $(s timing.stats iterations) $(s timing.stats walks_uncounted)"
		if [ "$walk" = full ]; then e=1000; else e=1; fi
		eq "count=1 again: iterations counted ($e per loop, 1000 VMAs, $walk range), no uncounted loop" \
			"$e 0" "$(s counting.stats max_loop_iterations) $(s counting.stats uncounted_loops)"
	fi
	if want control; then
		eq "enable=0: walks happen (moves migrate) but none is counted" "2 0" \
			"$(s disabled.repro migrated_count) $(s disabled.stats walks)"
		eq "enable file reads back 0 while disabled" "0" "$(cat "$out/disabled.enable" 2>/dev/null)"
		# every probe of the module is at or in rmap_walk_ksm (the
		# call sites): nothing else pays for it.  enable=0 disarms all,
		# enable=1 re-arms them (count=1: iter_next too).  No other
		# kprobe or ftrace user runs in this phase.
		check "enable=0 disarms every probe ($(grep -c . "$out/disabled.kprobes" 2>/dev/null) kprobes, all [DISABLED])" \
			test "$(grep -c . "$out/disabled.kprobes" 2>/dev/null)" -ge 6 -a \
			"$(grep -vc DISABLED "$out/disabled.kprobes" 2>/dev/null)" = 0
		check "enable=1 re-arms them ($(grep -vc DISABLED "$out/enabled.kprobes" 2>/dev/null) armed)" \
			test "$(grep -c . "$out/enabled.kprobes" 2>/dev/null)" -ge 6 -a \
			"$(grep -c DISABLED "$out/enabled.kprobes" 2>/dev/null)" = 0
		# a kprobe on a function's ftrace site (its kretprobe) is an
		# ftrace hook where the kernel has KPROBES_ON_FTRACE (x86-64);
		# arm64 has none: every kprobe there is a BRK, no ftrace user
		hooked=
		! grep -qx 'CONFIG_KPROBES_ON_FTRACE=y' "$root$kdir/.config" 2>/dev/null ||
			hooked=rmap_walk_ksm
		eq "every kprobe is in rmap_walk_ksm(), the only ftrace-hooked function (${hooked:-none: no KPROBES_ON_FTRACE}): no other code pays" \
			"0 $hooked" \
			"$(grep -vc ' rmap_walk_ksm+' "$out/enabled.kprobes" 2>/dev/null) $(awk '{ print $1 }' "$out/enabled.ftrace" 2>/dev/null | sort -u | tr '\n' ' ' | sed 's/ $//')"
		check "enable=1: counting resumes ($(s enabled.stats walks) walks)" \
			gt0 "$(s enabled.stats walks)"
		eq "reset: every counter back to 0" "" \
			"$(f reset.stats | awk '/^<no/ || ($2 ~ /^[0-9]+$/ && $2 != 0 && $1 != "enabled:" && $1 != "count:")')"
		eq "reset: walks file keeps only its header" "1" \
			"$(grep -c . "$out/reset.walks" 2>/dev/null)"
		total=$(grep -c . "$out/badwrites" 2>/dev/null || true)
		inval=$(grep -c 'Invalid argument$' "$out/badwrites" 2>/dev/null || true)
		eq "garbage written to reset/enable/count: -EINVAL every time" "40 of 40" \
			"${inval:-0} of ${total:-0}"
		check "garbage writes change nothing (stats identical before and after)" \
			cmp -s "$out/badwrites.stats_before" "$out/badwrites.stats_after"
		eq "garbage writes leave enable and count at 1" "1 1" "$(f badwrites.enable | tr '\n' ' ' | sed 's/ $//')"
	fi
	if want rmmod; then
		eq "$cycles insmod/rmmod cycles under fire (walks on both CPUs, readers, resets)" \
			"cycles=$cycles unloads_ok=$cycles" "$(f rmmod.fire | grep -o 'cycles=[0-9]* unloads_ok=[0-9]*')"
		check "walkers kept migrating through the cycles ($(s rmmod.fire walker_moves) moves)" \
			gt0 "$(s rmmod.fire walker_moves)"
		check "the module counted walks in the cycles ($(s rmmod.fire walks_counted))" \
			gt0 "$(s rmmod.fire walks_counted)"
		eq "no probe misses in any cycle" "0" "$(s rmmod.fire probe_misses)"
	fi
	if want unknown; then
		check "a probed-function name the module does not know: insmod refused ($(f unknown.badsym | grep '^rc='))" \
			grep -qE '^rc=[1-9]' "$out/unknown.badsym"
		check "... and dmesg names it and lists the names it knows" \
			grep -q 'next_sym=krp_no_such_function: not a function this module knows how to probe (known: anon_vma_interval_tree_iter_next, anon_rmap_tree_iter_next)' "$out/unknown.dmesg"
		absent=$(sed -n 's/.*sym=//p' "$out/unknown.absent" 2>/dev/null)
		check "a known iterator this kernel lacks ($absent): insmod refused ($(f unknown.absent | grep -o '^rc=[0-9]*'))" \
			grep -qE '^rc=[1-9]' "$out/unknown.absent"
		check "... and dmesg says there is no such symbol in this kernel" \
			grep -q "cannot probe $absent: error -2 (no such symbol in this kernel)" "$out/unknown.dmesg"
		check "max_walkers=0: insmod refused ($(f unknown.badwalkers | grep '^rc='))" \
			grep -qE '^rc=[1-9]' "$out/unknown.badwalkers"
		eq "nothing left loaded after the refused loads" "0" "$(f unknown.loaded)"
	fi
	! want victim || check_victim
	! want stat || check_stat "$walk"
	! want swap || check_swap "$name"
	! want mremapfork || check_mremapfork "$name"
	! want swap || ! want refused || check_refused
	! want race || check_race
	! want rmapst || check_rmapst "$name"
	eq "rmmod at the end succeeds" "" "$(f rmmod_final)"
	check "dmesg came back from the guest" test -s "$out/dmesg"
	splats=$(krp_splats "$out/console.log" "$out/dmesg")
	eq "no oops, BUG, WARN or lockdep report in the console or dmesg" "" "$splats"
	races "$out/dmesg"
	! want hunt || hunt_suite "$name" "$walk"
	! want unreach || unreach_suite "$name"
}

# own_suite VARIANT...: our own kernels from a linux-source package (the
# patch applies, the kernel builds and boots, the module loads and counts),
# each checked for what its table row says it does (what: base, debug or
# a patch, layout.patch being the layout test; walk: the range it walks),
# and the what-if of the base kernel of the same source against the rest.
own_suite() {
	local name bz kdir line from what walk base wi plan=1 lacks noreclaim reclaim karch
	# (check_rmapst reads rmapst: this kernel's, set below)
	local rmapst=$rmapst
	declare -A kfrom kwhat kwalk
	# -p hunt and/or unreach alone: those boots only, no test plan, no what-if
	[[ ! $phases =~ ^(hunt|unreach)(,(hunt|unreach))*$ ]] || plan=0
	for name in "$@"; do
		read -r _ _ from what walk _ <<<"$(krp_kernel_row "$name")"
		kfrom[$name]=$from
		kwhat[$name]=$what
		kwalk[$name]=$walk
	done
	declare -A kbz kkdir
	local built=()
	for name in "$@"; do
		if [ "$(krp_kernel_row "$name" | awk '{print $2}')" = path ]; then
			read -r kbz["$name"] kkdir["$name"] _ <<<"$(krp_kernel "$name")"
		else
			built+=("$name")
		fi
	done
	if [ ${#built[@]} -gt 0 ]; then
		krp_log "building own kernels: ${built[*]} (cold: minutes; cached after)"
		while read -r name bz kdir; do
			kbz[$name]=$bz
			kkdir[$name]=$kdir
		done < <("$KRP_TOP/scripts/build-kernel.sh" "${built[@]}" 2>"$KRP_CACHE/build-kernel-$1.log")
	fi
	for name in "$@"; do
		tag="[own $name] "
		if [ -z "${kbz[$name]:-}" ]; then
			ok 1 "patch applies, kernel builds" "see $KRP_CACHE/build-kernel-$1.log"
			continue
		fi
		ok 0 "patch applies, kernel builds (${kbz[$name]})"
		[ "$plan" = 1 ] || continue
		# a kernel by path may lack what parts of the plan need
		lacks=$(krp_config_missing "${kkdir[$name]}/.config" oracle | tr '\n' ' ')
		if [ -n "$lacks" ]; then
			skip "the test plan (its checks compare the module with the kernel's ftrace)" \
				"this kernel lacks ${lacks% }: merge scripts/kernel.config"
			continue
		fi
		noreclaim=$(krp_config_missing "${kkdir[$name]}/.config" reclaim | tr '\n' ' ')
		noreclaim=${noreclaim% }
		reclaim=swap,refused,
		[ -z "$noreclaim" ] || reclaim=
		# a kernel by path may be arm64: its reproducer; upstream's rmap
		# selftest is built for the host only (check_rmapst says so)
		karch=$(krp_kernel_arch "$name")
		repro=$(krp_build_repro "$KRP_CACHE/bin" "$karch")
		rmapst=$(rmapst_for "$karch")
		ko=$(krp_build_module "${kkdir[$name]}" "$KRP_CACHE/build/own-$name")
		out=$KRP_CACHE/test-out-own-$name
		initrd=$KRP_CACHE/test-initrd-own-$name.cpio.gz
		krp_initramfs_extra "$initrd" "$ko" "$repro" ${rmapst:+"$rmapst"}
		krp_log "booting own kernel $name"
		boot_rc=0
		if [ "${kwhat[$name]}" = debug ]; then
			# every workload of the test plan, then kmemleak scans
			krp_boot "${kbz[$name]}" "$initrd" "$out" 1800 \
				"krp.plan=testscan krp.phases=split,fork,mremap,mremapfork,victim,concurrent,events,timing,control,rmmod,swap,refused,race,rmapst,unknown krp.race_vmas=5000 krp.race_moves=4" ||
				boot_rc=$?
			check "debug: kmemleak scanned after the last rmmod: no leak" \
				test -f "$out/kmemleak" -a ! -s "$out/kmemleak"
			check "debug: lockdep still on at the end (no report turned it off)" \
				grep -q 'debug_locks: *1' "$out/lockdep_stats"
			eq "debug: no KASAN, lockdep, atomic-sleep, list or WARN report in any phase" "" \
				"$(krp_splats "$out/dmesg_after_scan")"
			eq "debug: 20 insmod/rmmod cycles under fire, every unload succeeded" \
				"cycles=20 unloads_ok=20" "$(f rmmod.fire | grep -o 'cycles=[0-9]* unloads_ok=[0-9]*')"
		else
			krp_boot "${kbz[$name]}" "$initrd" "$out" 900 \
				"krp.plan=test krp.phases=split,mremap,mremapfork,events,${reclaim}race,rmapst" ||
				boot_rc=$?
		fi
		echo "# ${tag}guest phases (s): $(krp_phase_times "$out")"
		eq "boots, runs the plan, powers off; insmod succeeds" "0 0 " \
			"$boot_rc $(cat "$out/exit" 2>/dev/null) $(f insmod)"
		eq "no oops, BUG, WARN or lockdep report" "" \
			"$(krp_splats "$out/console.log" "$out/dmesg")"
		races "$out/dmesg"
		[ "${kwhat[$name]}" != debug ] || check_victim
		case ${kwhat[$name]} in
		*/layout.patch)
			eq "layout check fails: layout mismatch, classification n/a" \
				"mismatch n/a n/a n/a" \
				"$(s split.stats layout) $(s split.stats skip_addr) $(s split.stats hits) $(s split.stats incomplete_walks)"
			check "dmesg says why, once" \
				test "$(grep -c 'layout check failed' "$out/dmesg")" = 1
			for line in walks loops iterations max_loop_iterations; do
				eq "counting goes on: $line equals ftrace's" \
					"$(s split.oracle "oracle_$line")" "$(s split.stats "$line")"
			done
			eq "stats.json says null, not a number, for hits" "null" \
				"$(jq -r '.hits' "$out/events.json" 2>&1)"
			continue ;;
		esac
		check_oracle split
		check_oracle mremap may-fail
		if [ -n "$noreclaim" ]; then
			skip "swap, refused: reclaim walks" "this kernel lacks $noreclaim"
		else
			check_swap "$name"
		fi
		check_mremapfork "$name"
		[ -n "$noreclaim" ] || check_refused
		check_race
		check_rmapst "$name"
		case ${kwalk[$name]} in
		full)
			eq "walks [0, ULONG_MAX]: 300 iterations per loop, no narrow loop" "300 0" \
				"$(s split.stats max_loop_iterations) $(s split.stats range_narrow_loops)" ;;
		unknown)
			skip "the range rmap_walk_ksm() walks" "not known for this kernel (no source beside its build, or a shape scripts/lib.sh krp_path_walk does not know)" ;;
		*)
			eq "walks a narrow range: 1 iteration per loop, no full-range loop in split" "1 0" \
				"$(s split.stats max_loop_iterations) $(s split.stats range_full_loops)" ;;
		esac
		case ${kwalk[$name]} in
		v3)
			eq "mremap: the moved mapping is missed, the KSM page cannot migrate" "0 yes yes" \
				"$(s mremap.repro migrated_count) $(gt0 "$(s mremap.stats incomplete_walks)" && echo yes) $(gt0 "$(s mremap.stats missed_mappings)" && echo yes)" ;;
		*)
			eq "mremap: every mapping found, the KSM page migrates" "2 0 0" \
				"$(s mremap.repro migrated_count) $(s mremap.stats incomplete_walks) $(s mremap.stats missed_mappings)" ;;
		esac
		[ "${kwalk[$name]}" != index ] ||
			eq "every loop walked the stored linear index (the module reads it at offset 32)" \
				"$(s split.stats loops) $(s mremap.stats loops)" \
				"$(s split.stats range_index_loops) $(s mremap.stats range_index_loops)"
		[ "${kwhat[$name]}" != debug ] ||
			die_suite "$name" "${kbz[$name]}" "${kkdir[$name]}" "$ko" "$repro"
	done
	# the missed-mapping hunt on the kernels that differ only in the range
	# rmap_walk_ksm() walks
	if want hunt; then
		for name in "$@"; do
			[ -n "${kbz[$name]:-}" ] || continue
			case ${kwhat[$name]} in
			base | */v3.patch | */v4.patch | */v3-fallback.patch)
				hunt_suite "$name" "${kwalk[$name]}" ;;
			esac
		done
	fi
	# the unreach boot (tests/ksm_fork_unreachable.c and
	# ksm_migrate_unlisted.c) on an own kernel only when -p names it: how
	# scanfix-7.2, a candidate fix, is tried (not in the default set)
	if [ "$full" = 1 ] || [[ ",$phases," == *,unreach,* ]]; then
		for name in "$@"; do
			[ -z "${kbz[$name]:-}" ] || unreach_suite "$name"
		done
	fi
	# the base kernel's prediction against what the v3 and index (v4)
	# kernels of the same source did
	[ "$plan" = 1 ] || return 0
	for name in "$@"; do
		case ${kwalk[$name]} in
		v3) wi=v3 ;;
		index) wi=v4 ;;
		*) continue ;;
		esac
		base=
		for line in "$@"; do
			[ "${kwhat[$line]}" != base ] || [ "${kfrom[$line]}" != "${kfrom[$name]}" ] ||
				base=$line
		done
		if [ -z "$base" ] || [ -z "${kbz[$name]:-}" ] || [ -z "${kbz[$base]:-}" ]; then
			continue
		fi
		tag="[what-if $base -> $name] "
		eq "split: predicted max iterations per loop equal the measured" \
			"$(krp_kv "$KRP_CACHE/test-out-own-$base/split.stats" "whatif_${wi}_max_loop_iterations")" \
			"$(krp_kv "$KRP_CACHE/test-out-own-$name/split.stats" max_loop_iterations)"
		eq "mremap: predicted misses (walks > 0) equal the measured (incomplete walks > 0)" \
			"$(gt0 "$(krp_kv "$KRP_CACHE/test-out-own-$base/mremap.stats" "whatif_${wi}_missed_walks")" && echo miss || echo none)" \
			"$(gt0 "$(krp_kv "$KRP_CACHE/test-out-own-$name/mremap.stats" incomplete_walks)" && echo miss || echo none)"
	done
}

# die_suite NAME BZIMAGE KDIR KO REPRO: a boot of its own in which a
# walker dies inside rmap_walk_ksm() (tests/krp_die, panic_on_oops=0): the
# module reports the walk lost, frees its slot, still counts other tasks'
# walks as ftrace does, and unloads.  Its one oops is expected; any other
# report (a second oops, KASAN on a stale slot) fails.
die_suite() {
	local name=$1 bz=$2 kdir=$3 ko=$4 repro=$5 die_ko initrd oopses
	local boot_rc
	die_ko=$(krp_build_test_module "$kdir" "$KRP_CACHE/build/own-$name-die")
	out=$KRP_CACHE/test-out-own-$name-die
	initrd=$KRP_CACHE/test-initrd-own-$name-die.cpio.gz
	krp_initramfs_extra "$initrd" "$ko" "$repro" "$die_ko"
	krp_log "booting own kernel $name: a walker dies inside the walk"
	tag="[own $name, dead walker] "
	boot_rc=0
	krp_boot "$bz" "$initrd" "$out" 900 \
		"krp.plan=test krp.phases=die,split,mremap" || boot_rc=$?
	eq "boots, runs the plan, powers off" "0 0" \
		"$boot_rc $(cat "$out/exit" 2>/dev/null)"
	check "the walker was killed inside the walk ($(f die.walker | grep -o '^rc=[0-9]*'))" \
		grep -q '^rc=139$' "$out/die.walker"
	check "the kernel says where it died (krp_die: dying inside rmap_walk_ksm())" \
		grep -q 'krp_die ([0-9]*): dying inside rmap_walk_ksm() on purpose' "$out/die.dmesg"
	eq "the lost walk is reported, its slot freed: walks_lost, walks_in_flight, walks" \
		"1 0 0" "$(s die.stats walks_lost) $(s die.stats walks_in_flight) $(s die.stats walks)"
	check "dmesg names the lost walk's walker" \
		grep -q 'ksm_rmap_probe: walker [0-9]* (krp_die) died inside rmap_walk_ksm: its walk is lost' "$out/die.dmesg"
	check_oracle split
	check_oracle mremap
	eq "afterwards: no walk left in flight" "0 0" \
		"$(s split.stats walks_in_flight) $(s mremap.stats walks_in_flight)"
	eq "rmmod succeeds" "" "$(f rmmod_final)"
	# oopses are numbered: [#1] is the walker's, a [#2] would be another
	oopses=$(grep -ohE 'Oops: .*\[#[0-9]+\]' "$out/dmesg" 2>/dev/null | grep -oE '#[0-9]+' | sort -u | tr '\n' ' ')
	eq "exactly the one expected oops" "#1 " "$oopses"
	eq "no KASAN, UBSAN, RCU stall or lockup report" "" \
		"$(grep -hE 'BUG: KASAN|UBSAN:|RCU stall|rcu_sched self-detected|soft lockup|hard LOCKUP' \
			"$out/console.log" "$out/dmesg" 2>/dev/null)"
}

# unreach_suite NAME: a boot of its own with tests/ksm_fork_unreachable.c
# (scripts/guest/plan-unreach.sh): a page fork() shares, made a KSM page
# through one process's mapping, whose other mappings have no rmap_item.
# The kernel's outcome decides: in the two control cases the page
# migrates and swaps out, in the three others it stays put (on every
# kernel tried so far; a kernel that fixes it fails here, on purpose:
# docs/findings/unreachable.md and the write-up must then change).  The
# module must call exactly the stuck cases' walks incomplete, and the
# kernel's own ksm trace events (6.7+) must show whose mappings got
# rmap_items: the merging process's only, but both processes' in
# both-moved.
unreach_suite() {
	local name=$1 boot_rc=0 res w mms cases="parent both-moved parent-moved child-unmerged child"
	tag="[unreach $name] "
	out=$KRP_CACHE/test-out-unreach-$name
	krp_log "$name: tests/ksm_fork_unreachable.c"
	krp_unreach_boot "$name" "$out" 900 || boot_rc=$?
	res=$out/unreach.results
	eq "boots, runs the plan, powers off; insmod succeeds" "0 0 " \
		"$boot_rc $(cat "$out/exit" 2>/dev/null) $(f insmod)"
	check "swap on a RAM disk, cgroup krp ($(f unreach.swap | tail -n 1))" \
		grep -q '^swap: 1 device' "$out/unreach.swap"
	for w in migrate reclaim; do
		eq "$w, no module: the controls leave, the KSM page of the other cases stays ($cases)" \
			"$(unreach_expect $w)" "$(unreach_verdicts "$out/unreach.bare" $w)"
		eq "$w, module loaded: the same outcomes" "$(unreach_expect $w)" \
			"$(unreach_verdicts "$res" $w)"
		eq "$w: the module calls walks incomplete in exactly the stuck cases, loses no event (incomplete_walks and missed_mappings > 0, probe_misses 0)" \
			"no no yes yes yes" "$(for c in $cases; do
				awk -v c="case=$c" -v w="walk=$w" '$1 == c && $2 == w {
					for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
					print (v["incomplete_walks"] + 0 > 0 && v["missed_mappings"] + 0 > 0) ? "yes" : "no",
						v["probe_misses"] }' "$res" 2>/dev/null
			done | awk '{ printf "%s%s", s, $1 ($2 == "0" ? "" : "-lost" $2); s = " " }')"
		# the mapping missed is one no rmap_item names (the ksm trace
		# events below say whose mappings got one): every rmap_item led
		# the walk to its own mapping, so every incomplete walk is unlisted
		eq "$w: every incomplete walk is unlisted: each rmap_item led to its own mapping, the missed one has none (unlisted_walks = incomplete_walks)" \
			"yes yes yes yes yes" "$(for c in $cases; do
				awk -v c="case=$c" -v w="walk=$w" '$1 == c && $2 == w {
					for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
					u = v["unlisted_walks"]; n = v["incomplete_walks"]
					print (u ~ /^[0-9]+$/ && u == n) ? "yes" : "no(" u "/" n ")" }' "$res" 2>/dev/null
			done | tr '\n' ' ' | sed 's/ $//')"
	done
	if grep -q 'ksm_merge_with_ksm_page' "$out/unreach.logs" 2>/dev/null; then
		mms=$(for c in $cases; do
			awk -v c="--- case $c walk migrate" '$0 == c { p = 1; next } /^--- case / { p = 0 }
				p && /ksm_merge_with_ksm_page: .* error 0$/ {
					for (i = 1; i < NF; i++) if ($i == "mm") m[$(i + 1)] = 1 }
				END { print length(m) }' "$out/unreach.logs"
		done | tr '\n' ' ')
		eq "ksm trace events: processes whose mappings got rmap_items, per case" \
			"1 2 1 1 1 " "$mms"
	else
		skip "ksm trace events: processes whose mappings got rmap_items" \
			"this kernel has no ksm trace events (added in 6.7)"
	fi
	unlisted_checks
	echo "# ${tag}/proc/kpageflags: KPF_KSM on a plain anonymous page: $(sed -n 's/.*kpf_ksm_on_plain_anon_page=\([0-9]*\).*/\1/p' "$out/unreach.bare" | head -n 1)"
	eq "rmmod at the end succeeds" "" "$(f rmmod_final)"
	eq "no oops, BUG, WARN or lockdep report" "" "$(krp_splats "$out/console.log" "$out/dmesg")"
}

# unlisted_checks: tests/ksm_migrate_unlisted.c in the unreach boot, with
# the module (section unlisted, its stats unlisted.stats) and without
# (unlisted.bare).  Whether ksmd's scan meets a migration's window within
# the budget is chance: a run that did not catch it is a skip, saying so;
# one that did must show the page stuck while unlisted, leaving once
# listed again, and the module must call every walk it judged incomplete
# unlisted (no rmap_item names the missed ptes).
unlisted_checks() {
	local sec line inc unl
	for sec in unlisted unlisted.bare; do
		line=$(grep -m1 '^unlisted=' "$out/$sec" 2>/dev/null || true)
		case $line in
		unlisted=reproduced*)
			eq "ksmd dropped the rmap_items of a mapped KSM page in a migration's window ($sec): stuck while unlisted, moved once listed again (${line%% verdict=*})" \
				"stuck-then-moved" "$(sed -n 's/.* verdict=\([a-z-]*\).*/\1/p' <<<"$line")"
			;;
		unlisted=not-reproduced*)
			skip "ksmd dropped the rmap_items of a mapped KSM page in a migration's window ($sec)" \
				"not caught within the budget: ${line#unlisted=not-reproduced }"
			continue
			;;
		*)
			ok 1 "tests/ksm_migrate_unlisted.c ran ($sec)" "$(tail -n 3 "$out/$sec" 2>/dev/null)"
			continue
			;;
		esac
		[ "$sec" = unlisted ] || continue
		inc=$(s unlisted.stats incomplete_walks)
		unl=$(s unlisted.stats unlisted_walks)
		eq "the module: incomplete walks while the page was unlisted, every one unlisted, nothing lost (incomplete_walks > 0, = unlisted_walks; probe_misses 0)" \
			"yes yes 0" "$(gt0 "$inc" && echo yes || echo no) $([ "$inc" = "$unl" ] && echo yes || echo "no($unl)") $(s unlisted.stats probe_misses)"
	done
}

# unreach_expect WALK: the outcomes ksm_fork_unreachable's five cases have
# on every kernel tried.
unreach_expect() {
	local left=migrated
	[ "$1" = migrate ] || left=swapped
	echo "$left $left stuck stuck stuck"
}

# unreach_verdicts FILE WALK: the verdicts of ksm_fork_unreachable's case
# lines of WALK.
unreach_verdicts() {
	sed -n "s/^case=[^ ]* walk=$2 .* verdict=\([a-z]*\).*/\1/p" "$1" 2>/dev/null |
		tr '\n' ' ' | sed 's/ $//'
}

# path_suite: a kernel the table does not name, given by path, as a user
# brings one.  scripts/build-kernel.sh --tree builds the pristine source
# of the table's own index-walk kernel (v4-7.2) plus that row's patch, out
# of tree (the tree must stay untouched); the build dir then runs the own
# kernels' whole plan by path, its walk read from its source; a copy of
# it whose .config lacks SWAP and MEMCG runs it without the reclaim
# phases, each skip naming what is missing.  With --full the same tree
# and patch cross-built for arm64 runs the plan too.  And a .config
# without KPROBES is refused before anything boots, one line naming the
# option.
path_suite() {
	local row name src patch tree stamp obj aobj id fake rc
	tag="[path] "
	row=$(krp_table | awk '$2 == "own" && $5 == "index" && $4 ~ /^patches\// {print; exit}')
	read -r name _ src patch _ <<<"$row"
	tree=$KRP_CACHE/src/linux-${src#linux-source-}
	# built beside the others (cached): its pristine tree is then unpacked
	[ -z "$row" ] || "$KRP_TOP/scripts/build-kernel.sh" "$name" >/dev/null 2>>"$KRP_CACHE/build-tree.log" || true
	if [ -z "$row" ] || [ ! -f "$tree/Makefile" ]; then
		ok 1 "a pristine tree to build by --tree" "no own index-walk row, or $tree not unpacked"
		return
	fi
	stamp=$KRP_CACHE/path-stamp
	touch "$stamp"
	sleep 1
	obj=$("$KRP_TOP/scripts/build-kernel.sh" --tree "$tree" --patch "$KRP_TOP/$patch" \
		2>>"$KRP_CACHE/build-tree.log") || obj=
	check "build-kernel.sh --tree $tree --patch $patch builds it ($obj)" test -n "$obj"
	[ -n "$obj" ] || return 0
	eq "the tree given was not written" "" "$(find "$tree" -newer "$stamp" | head -3)"
	id=$(krp_kernel_id "$obj") || id=
	check "-k $obj is accepted, named $id" test -n "$id"
	[ -n "$id" ] || return 0
	eq "its walk is read from its source: index (the patch stores the linear index)" \
		index "$(krp_kernel_walk "$id")"
	own_suite "$id"
	# the same build, its .config without SWAP and MEMCG: the reclaim
	# phases are skipped with the reason, the rest runs.  Hard links for
	# its subdirectories, copies of its top-level files; its Makefile
	# (which names the build dir it was made for) written anew.
	fake=$KRP_CACHE/path-noreclaim
	rm -rf "$fake"
	cp -al "$obj" "$fake"
	find "$fake" -maxdepth 1 -type f -exec sh -c 'cp -p "$1" "$1.krp" && mv -f "$1.krp" "$1"' _ {} \;
	printf 'export KBUILD_OUTPUT = %s\ninclude %s/Makefile\n' "$fake" "$(readlink -f "$obj/source")" >"$fake/Makefile"
	grep -vE '^CONFIG_(SWAP|MEMCG)=' "$obj/.config" >"$fake/.config"
	touch "$stamp"
	id=$(krp_kernel_id "$fake") || id=
	if [ -n "$id" ]; then
		own_suite "$id"
		tag="[path] "
		eq "a kernel without SWAP and MEMCG: its reclaim phases did not run" "" \
			"$(cd "$KRP_CACHE/test-out-own-$id" && ls -d swap.* refused.* 2>/dev/null)"
		eq "... and the build dir it was copied from was not written" "" \
			"$(find "$obj" -newer "$stamp" | head -3)"
	else
		ok 1 "-k $fake (a copy without SWAP, MEMCG) is accepted"
	fi
	tag="[path] "
	# arm64 by path: the same tree and patch, cross-built.  A build of its
	# own (cold: 10 minutes and more on 2 cores), so only with --full
	if [ "$full" = 1 ] || [ "${KRP_TEST_PATH_ARM64:-0}" = 1 ]; then
		aobj=$("$KRP_TOP/scripts/build-kernel.sh" --tree "$tree" --patch "$KRP_TOP/$patch" \
			--arch arm64 2>>"$KRP_CACHE/build-tree.log") || aobj=
		check "build-kernel.sh --tree $tree --patch $patch --arch arm64 builds it ($aobj)" test -n "$aobj"
		id=
		[ -z "$aobj" ] || id=$(krp_kernel_id "$aobj") || id=
		if [ -n "$id" ]; then
			eq "-k $aobj: its architecture, read from its .config" arm64 "$(krp_kernel_arch "$id")"
			own_suite "$id"
			tag="[path] "
		fi
	else
		skip "an arm64 kernel by path" "with --full only (its own cross build; or KRP_TEST_PATH_ARM64=1)"
	fi
	fake=$KRP_CACHE/path-nokprobes
	rm -rf "$fake"
	mkdir -p "$fake/arch/x86/boot" "$fake/include/config"
	cp "$obj/arch/x86/boot/bzImage" "$obj/Module.symvers" "$fake/" 2>/dev/null
	mv "$fake/bzImage" "$fake/arch/x86/boot/"
	cp "$obj/include/config/kernel.release" "$fake/include/config/"
	grep -v '^CONFIG_KPROBES=' "$obj/.config" >"$fake/.config"
	rc=0
	"$KRP_TOP/scripts/run-stock.sh" -k "$fake" >"$KRP_CACHE/path-nokprobes.out" 2>&1 || rc=$?
	eq "run-stock.sh -k a kernel without KPROBES: refused before any boot, naming the option" \
		"1 error: $fake/.config lacks CONFIG_KPROBES (module)" \
		"$rc $(grep -m1 'lacks CONFIG_' "$KRP_CACHE/path-nokprobes.out")"
}

# hunt_suite NAME WALK: a boot of its own with the missed-mapping hunt's
# guest plan (scripts/hunt.sh, scripts/guest/plan-hunt.sh): the fixed
# scenarios hugh and hugh-pre (Hugh Dickins's case, the mremap move after
# and before the first merge) and the random seeds 1..KRP_TEST_HUNT_N
# (default 10), every KSM page migrated to the other node after each.
# What must come out follows the kernel's walk (scripts/kernels.tsv): on
# v3 both fixed scenarios and at least one random one are confirmed
# misses (a KSM page that stays) of class new, each flagged by the
# module.  Everywhere else: no miss of class new, no false positive (the
# module's incomplete walks in a scenario whose pages all migrated); a
# miss of class unmergeable (a mapping in a VMA without VM_MERGEABLE,
# which no rmap_item reaches on any kernel: tests/ksm_fork_unreachable.c)
# must be flagged by the module, and only such scenarios may have an
# incomplete walk.
hunt_suite() {
	local name=$1 walk=$2 hn=${KRP_TEST_HUNT_N:-10} boot_rc=0 res total pages inc
	local miss fp err flagged new unm unm_fl unm_any inc_other
	tag="[hunt $name] "
	out=$KRP_CACHE/test-out-hunt-$name
	krp_log "$name: missed-mapping hunt, fixed hugh,hugh-pre and seeds 1-$hn"
	krp_hunt_boot "$name" "$out" 900 "krp.fixed=hugh,hugh-pre krp.seed=1 krp.n=$hn krp.t=0" ||
		boot_rc=$?
	res=$out/hunt.results
	eq "boots, runs the hunt plan, powers off; insmod succeeds" "0 0 " \
		"$boot_rc $(cat "$out/exit" 2>/dev/null) $(f insmod)"
	if [ -f "$res" ]; then
		read -r total pages inc miss fp err flagged new unm unm_fl unm_any inc_other \
			< <(krp_hunt_summary "$res")
	else
		read -r total pages inc miss fp err flagged new unm unm_fl unm_any inc_other \
			<<<"0 0 0 0 0 0 0 0 0 0 0 0"
	fi
	eq "every scenario ran to its result, none failed (scenarios, errors)" "$((hn + 2)) 0" \
		"$total $err"
	check "KSM merged something to walk ($pages KSM pages over the scenarios)" gt0 "$pages"
	eq "the module lost no event (probe_misses 0 in every scenario)" "" \
		"$(grep -v ' probe_misses=0$' "$res" 2>/dev/null | cut -d' ' -f1 | tr '\n' ' ')"
	case $walk in
	v3)
		eq "fixed hugh, hugh-pre: the KSM page stays (confirmed miss of class new), the module flags it" \
			"miss miss" "$(awk '$1 == "scenario=hugh" || $1 == "scenario=hugh-pre" {
				split($2, v, "="); split($0, r, "incomplete_walks="); split($0, c, " stuck_new=")
				printf "%s%s", s, (v[2] == "miss" && r[2] + 0 > 0 && c[2] + 0 > 0) ? "miss" : \
					v[2] (v[2] == "miss" ? (c[2] + 0 > 0 ? "" : "-unmergeable") (r[2] + 0 > 0 ? "" : "-unflagged") : ""); s = " " }' "$res" 2>/dev/null)"
		check "random scenarios: at least one confirmed miss of class new ($((new - 2 < 0 ? 0 : new - 2)) of $hn; $unm more of class unmergeable only)" \
			test "$new" -ge 3
		eq "every confirmed miss is one the module calls incomplete" "$miss" "$flagged"
		eq "no false positive of the module" "0" "$fp" ;;
	*)
		eq "no confirmed miss of class new, no false positive (misses of class new, false positives)" \
			"0 0" "$new $fp"
		if [ "$unm_any" -gt 0 ]; then
			eq "every scenario with a miss of class unmergeable is flagged by the module ($unm_fl of $unm_any flagged)" \
				"$unm_any" "$unm_fl"
		else
			skip "every scenario with a miss of class unmergeable is flagged by the module" \
				"no scenario of these seeds has a miss of class unmergeable (the phase unreach checks that class)"
		fi
		eq "no incomplete walk but in scenarios with a miss of class unmergeable (incomplete scenarios without one; $inc incomplete in all)" \
			"0" "$inc_other" ;;
	esac
	eq "no oops, BUG, WARN or lockdep report" "" "$(krp_splats "$out/console.log" "$out/dmesg")"
}

# selftests_suite: the kernel's own KSM selftests, run without the module,
# with it and without it again in one boot (scripts/selftests.sh --run),
# compared case by case (by name, not by line: scripts/selftests.sh keys
# the results and writes one verdict per case).  A case measured unstable
# by itself (scripts/selftests.sh --repeat) is a skip with the measured
# reason; every other case must give the same result in all three rounds.
selftests_suite() {
	local st=$KRP_CACHE/selftests/out t v k a b c why
	tag="[kselftest] "
	krp_log "KSM selftests without / with / without the module"
	rm -f "$st"/verdicts.*
	"$KRP_TOP/scripts/selftests.sh" --run >"$KRP_CACHE/selftests.log" 2>&1 || true
	for t in ksm_tests ksm_functional_tests; do
		check "$t ran in all three rounds ($(grep -c . "$st/verdicts.$t" 2>/dev/null || echo 0) cases)" \
			test -s "$st/verdicts.$t" -a -z "$(grep -h '(missing)\|^(no ' \
				"$st/results."{without,with,without2}".$t" 2>/dev/null)"
		[ -s "$st/verdicts.$t" ] || continue
		while IFS=$'\t' read -r v k a b c why; do
			case $v in
			skip) skip "$t: $k (${b#"$k: "} with the module)" "$why" ;;
			same) ok 0 "$t: $k: same with the module (${a#"$k: "})" ;;
			differs) ok 1 "$t: $k: same with the module" \
				"without: '${a#"$k: "}' twice, with: '${b#"$k: "}'" ;;
			varies) ok 1 "$t: $k: stable without the module, as measured" \
				"'${a#"$k: "}' then '${c#"$k: "}' (with: '${b#"$k: "}'); re-measure with scripts/selftests.sh --repeat" ;;
			*) ok 1 "$t: $k: verdict" "unknown verdict '$v'" ;;
			esac
		done <"$st/verdicts.$t"
	done
	eq "no kernel report in the selftest boot" "" \
		"$(krp_splats "$st/console.log" "$st/dmesg")"
}


# ---- Jobs ----
# Each kernel's checks run as a job: a TCG guest is one host thread, so
# KRP_TEST_JOBS guests (default: one per core) boot at once.  Our own
# kernels are built in the background from the start, at low priority,
# while the stock kernels boot (build-kernel.sh's locks make a job that
# needs a kernel wait for its build, then find it cached).  A job writes
# its TAP lines to a file of its own; they are printed in job order,
# renumbered, as soon as every earlier job has ended, each job followed by
# its time.  A job that dies (exit status) is a failure of its own.
jobs_max=${KRP_TEST_JOBS:-$(nproc)}
[[ $jobs_max =~ ^[1-9][0-9]*$ ]] || krp_die "KRP_TEST_JOBS must be a positive number"
jobdir=$(mktemp -d)
trap 'rm -rf "$jobdir"' EXIT
declare -a job_name=() job_t0=() job_rc=()
declare -A job_of=()
jobs_next=0	# the first job not yet printed
jobs_all=0

# flush_jobs: print the jobs that ended, in order, up to the first still running.
flush_jobs() {
	local i=$jobs_next line
	while [ "$i" -lt "$jobs_all" ] && [ -n "${job_rc[i]:-}" ]; do
		while IFS= read -r line; do
			if [[ $line =~ ^(not\ )?ok\ [0-9]+\ (.*)$ ]]; then
				n=$((n + 1))
				if [ -n "${BASH_REMATCH[1]}" ]; then
					failed=$((failed + 1))
				elif [[ $line != *" # SKIP "* ]]; then
					passed=$((passed + 1))
				fi
				echo "${BASH_REMATCH[1]}ok $n ${BASH_REMATCH[2]}"
			else
				echo "$line"
			fi
		done <"$jobdir/$i.tap"
		tag="[${job_name[i]}] "
		[ "${job_rc[i]}" = 0 ] ||
			ok 1 "the job ran to its end" "exit status ${job_rc[i]}; see the messages above"
		tag=
		echo "# time: ${job_name[i]}: ${job_t1[i]} s"
		i=$((i + 1))
	done
	jobs_next=$i
}

# wait_job: wait for one running job to end and record it.
declare -a job_t1=()
wait_job() {
	local pid rc=0 i
	wait -n -p pid "${!job_of[@]}" || rc=$?
	i=${job_of[$pid]}
	unset "job_of[$pid]"
	job_rc[i]=$rc
	job_t1[i]=$((SECONDS - job_t0[i]))
	krp_log "job ${job_name[i]} ended (status $rc) after ${job_t1[i]} s"
	flush_jobs
}

# job NAME CMD...: run CMD as a job once a slot is free.
job() {
	local i=$jobs_all
	while [ ${#job_of[@]} -ge "$jobs_max" ]; do wait_job; done
	job_name[i]=$1
	job_t0[i]=$SECONDS
	shift
	(n=0 passed=0 failed=0; "$@") >"$jobdir/$i.tap" &
	job_of[$!]=$i
	jobs_all=$((i + 1))
	krp_log "job ${job_name[i]} started"
}

# Our own kernels are built in the background from the start, one make
# job for the debug kernel (a config of its own) and one for the rest, so
# that the builds and the stock kernels' guests share the cores.  The
# debug kernel's job comes first: its build and its long boot are the
# longest chain.
own_plain=()
own_debug=()
own_paths=()
for k in "${own[@]}"; do
	read -r _ kind _ what _ <<<"$(krp_kernel_row "$k")"
	if [ "$kind" = path ]; then own_paths+=("$k")
	elif [ "$what" = debug ]; then own_debug+=("$k")
	else own_plain+=("$k")
	fi
done
for k in own_debug own_plain; do
	declare -n list=$k
	[ ${#list[@]} = 0 ] ||
		KRP_JOBS=1 "$KRP_TOP/scripts/build-kernel.sh" "${list[@]}" \
			>/dev/null 2>"$KRP_CACHE/build-kernel-bg-$k.log" &
	unset -n list
done
# upstream's rmap selftest for the host's architecture, built once
# (static, in the trixie chroot); rmapst_for gives each kernel its own
rmapst_host=
if [ ${#klist[@]} -gt 0 ]; then
	rmapst_host=$("$KRP_TOP/scripts/rmap-selftest.sh" 2>"$KRP_CACHE/rmap-selftest.log") || rmapst_host=
fi
rmapst=$rmapst_host
if [ "$phases" = path ]; then
	job path path_suite
else
	for k in "${own_debug[@]}"; do
		job "$k" own_suite "$k"
	done
	for k in "${stock[@]}"; do
		job "$k" suite "$k"
	done
	[ "$selftests" = 0 ] || job kselftest selftests_suite
	[ ${#own_plain[@]} = 0 ] || job own own_suite "${own_plain[@]}"
	[ ${#own_plain[@]} = 0 ] || job path path_suite
	for k in "${own_paths[@]}"; do
		job "$k" own_suite "$k"
	done
fi
while [ ${#job_of[@]} -gt 0 ]; do wait_job; done
wait	# the background builds
echo "# time: whole run: $SECONDS s"
tag=
finish
