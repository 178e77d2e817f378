#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh - what does ksm_rmap_probe cost, and does it distort the hold
# times it reports?  One boot, the split workload in rounds: no module,
# module with count=0 (lock timing only), module with count=1 (every tree
# iteration probed).  ftrace's function_graph times every rmap_walk_ksm()
# in all three; the module's own hold times are compared between modes.
# Each run also times ordinary memory work with no KSM page anywhere
# (mincore, mprotect, mmap+munmap, a page fault, migrating a plain anon
# page: rmap_walk_anon()): the idle tax of the loaded module.
# The guest runs under QEMU -icount shift=0: one guest ns is one
# instruction, the same from run to run on a noisy host (it counts
# instructions, not cache misses); -W measures wall-clock time instead.
# A benchmark, not a test: it reports ratios and asserts nothing.
#
# usage: scripts/bench.sh [-h] [-k KERNEL] [-n VMAS] [-m MOVES] [-r ROUNDS]
#                         [-c CALLS] [-W]
#   -k KERNEL  a kernel of scripts/kernels.tsv (default stock-7.2; e.g. stock-7.3, base-7.2)
#   -n VMAS    VMAs on the anon_vma (default 20000)
#   -m MOVES   migrations per run, 2 walks each (default 4)
#   -r ROUNDS  rounds of the three runs (default 3)
#   -c CALLS   calls of each kind in the idle-tax run (default 2000)
#   -W         wall clock (no -icount): ns are time, not instructions
# example: scripts/bench.sh -n 20000 -r 5
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
kernel=stock-7.2 n=20000 moves=4 rounds=3 calls=2000 ic=0
while getopts "hk:n:m:r:c:W" opt; do
	case $opt in
	h) usage; exit 0 ;;
	k) kernel=$OPTARG ;;
	n) n=$OPTARG ;;
	m) moves=$OPTARG ;;
	r) rounds=$OPTARG ;;
	c) calls=$OPTARG ;;
	W) ic= ;;
	*) usage >&2; exit 2 ;;
	esac
done
[[ $n =~ ^[0-9]+$ && $moves =~ ^[0-9]+$ && $rounds =~ ^[1-9][0-9]*$ &&
	$calls =~ ^[1-9][0-9]*$ ]] ||
	{ usage >&2; exit 2; }

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

krp_host_setup
read -r bz kdir root <<<"$(krp_kernel "$kernel")"
[ -n "${root:-}" ] || krp_die "kernel $kernel is not available"
initrd=$(krp_guest_initrd "$kdir" "bench-$kernel" "$root")
out=$KRP_CACHE/bench-$kernel
unit=ns ku=us
[ -z "$ic" ] || { unit=instr; ku="k instr"; }
krp_log "booting $kernel: $rounds rounds x (none, count=0, count=1), $n VMAs, $moves moves${ic:+, -icount shift=$ic}"
KRP_ICOUNT=$ic krp_boot "$bz" "$initrd" "$out" 3600 \
	"krp.plan=bench krp.n=$n krp.moves=$moves krp.rounds=$rounds krp.calls=$calls" ||
	krp_die "guest run failed; see $out/console.log"
splats=$(krp_splats "$out/console.log" "$out/dmesg")
[ -z "$splats" ] || { echo "$splats" >&2; krp_die "kernel splat during the benchmark"; }

sum_walks() {	# sum_walks MODE: total ftrace walk ns over all rounds, and count
	cat "$out"/r*."$1".fgraph 2>/dev/null |
		awk '{ s += $1; n++ } END { printf "%d %d\n", s, n }'
}
sum_key() {	# sum_key MODE KEY: a stats key summed over rounds
	local f t=0 v
	for f in "$out"/r*."$1".stats; do
		v=$(krp_kv "$f" "$2")
		t=$((t + ${v:-0}))
	done
	echo "$t"
}
max_key() {	# max_key MODE KEY: a stats key's maximum over rounds
	local f m=0 v
	for f in "$out"/r*."$1".stats; do
		v=$(krp_kv "$f" "$2")
		[ "${v:-0}" -gt "$m" ] && m=$v
	done
	echo "$m"
}
r() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }'; }
idle_min() {	# idle_min MODE KEY: a per-call figure of the idle runs, least of the rounds
	local f v
	for f in "$out"/r*."$1".idle; do
		v=$(krp_kv "$f" "$2")
		[[ ${v:-} =~ ^[0-9]+$ ]] && echo "$v"
	done | sort -n | head -n 1 | grep . || echo -
}
idle_spread() {	# idle_spread MODE KEY: (max - min) / min over the rounds
	local f v
	for f in "$out"/r*."$1".idle; do
		v=$(krp_kv "$f" "$2")
		[[ ${v:-} =~ ^[0-9]+$ ]] && echo "$v"
	done | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END {
		if (NR && lo > 0) printf "%.1f%%", 100 * (hi - lo) / lo; else print "-" }'
}
pct() {		# pct WITH WITHOUT: the difference in percent
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%+.2f%%", 100 * (a - b) / b; else print "-" }'
}

read -r w_none n_none < <(sum_walks none)
read -r w_time n_time < <(sum_walks time)
read -r w_count n_count < <(sum_walks count)
h_time=$(sum_key time total_hold_ns)
h_count=$(sum_key count total_hold_ns)
{
	echo "ksm_rmap_probe overhead on $(cat "$out/uname"), QEMU TCG, split workload:"
	echo "$n VMAs, 2 rmap_items, $moves moves per run, $rounds rounds (walks per mode: $n_none / $n_time / $n_count)"
	echo
	printf '%-34s %14s %14s %14s\n' "" "no module" "count=0" "count=1"
	printf '%-34s %14s %14s %14s\n' "walk time, ftrace function_graph" \
		"$((w_none / 1000)) $ku" "$((w_time / 1000)) $ku" "$((w_count / 1000)) $ku"
	printf '%-34s %14s %14s %14s\n' "  ratio to no module" "1.000" \
		"$(r "$w_time" "$w_none")" "$(r "$w_count" "$w_none")"
	printf '%-34s %14s %14s %14s\n' "lock hold, module, total" "-" \
		"$((h_time / 1000)) $ku" "$((h_count / 1000)) $ku"
	printf '%-34s %14s %14s %14s\n' "lock hold, module, max of a loop" "-" \
		"$(($(max_key time max_hold_ns) / 1000)) $ku" "$(($(max_key count max_hold_ns) / 1000)) $ku"
	printf '%-34s %14s %14s %14s\n' "  count=1 / count=0 (total hold)" "" "" "$(r "$h_count" "$h_time")"
	iters=$(sum_key count iterations)
	echo
	echo "tree iterations counted (count=1): $iters;" \
		"cost of the counting probe: $(awk -v a="$w_count" -v b="$w_time" -v i="$iters" \
		'BEGIN { if (i > 0) printf "%.0f", (a - b) / i; else print "-" }') $unit per iteration"
	echo "hold share of walk time with count=0: $(r "$h_time" "$w_time")"
	echo
	echo "idle tax: ordinary memory work with no KSM page anywhere, $unit per call"
	echo "(least of $rounds rounds after a warm-up run, $calls calls each, $((calls / 10 + 1))"
	echo "migrations; the other vCPU's work only adds, so the least is the cost;"
	echo "spread: (most - least) / least of the runs without the module)"
	printf '%-34s %14s %14s %14s %9s %9s %8s\n' "" "no module" "count=0" "count=1" "count=0" "count=1" "spread"
	for k in mincore mprotect mmap_munmap fault move_anon; do
		a=$(idle_min none "${k}_ns")
		b=$(idle_min time "${k}_ns")
		c=$(idle_min count "${k}_ns")
		printf '%-34s %14s %14s %14s %9s %9s %8s\n' "$k" "$a" "$b" "$c" \
			"$(pct "$b" "$a")" "$(pct "$c" "$a")" "$(idle_spread none "${k}_ns")"
	done
} | tee "$out/bench.txt"
