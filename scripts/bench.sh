#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh - what does ksm_rmap_probe cost, and does it distort the hold
# times it reports?  One boot, the split workload in rounds: no module,
# module with count=0 (lock timing only), module with count=1 (every tree
# iteration probed).  ftrace's function_graph times every rmap_walk_ksm()
# in all three; the module's own hold times are compared between modes.
# A benchmark, not a test: it reports ratios and asserts nothing.
#
# usage: scripts/bench.sh [-h] [-k KERNEL] [-n VMAS] [-m MOVES] [-r ROUNDS]
#   -k KERNEL  a kernel of scripts/kernels.tsv (default stock-6.12; e.g. stock-7.3, base, v3)
#   -n VMAS    VMAs on the anon_vma (default 20000)
#   -m MOVES   migrations per run, 2 walks each (default 4)
#   -r ROUNDS  rounds of the three runs (default 3)
# example: scripts/bench.sh -n 20000 -r 5
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
kernel=stock-6.12 n=20000 moves=4 rounds=3
while getopts "hk:n:m:r:" opt; do
	case $opt in
	h) usage; exit 0 ;;
	k) kernel=$OPTARG ;;
	n) n=$OPTARG ;;
	m) moves=$OPTARG ;;
	r) rounds=$OPTARG ;;
	*) usage >&2; exit 2 ;;
	esac
done
[[ $n =~ ^[0-9]+$ && $moves =~ ^[0-9]+$ && $rounds =~ ^[1-9][0-9]*$ ]] ||
	{ usage >&2; exit 2; }

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

krp_host_setup
read -r bz kdir root <<<"$(krp_kernel "$kernel")"
[ -n "${root:-}" ] || krp_die "kernel $kernel is not available"
initrd=$(krp_guest_initrd "$kdir" "bench-$kernel" "$root")
out=$KRP_CACHE/bench-$kernel
krp_log "booting $kernel: $rounds rounds x (none, count=0, count=1), $n VMAs, $moves moves"
krp_boot "$bz" "$initrd" "$out" 3600 \
	"krp.plan=bench krp.n=$n krp.moves=$moves krp.rounds=$rounds" ||
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
		"$((w_none / 1000)) us" "$((w_time / 1000)) us" "$((w_count / 1000)) us"
	printf '%-34s %14s %14s %14s\n' "  ratio to no module" "1.000" \
		"$(r "$w_time" "$w_none")" "$(r "$w_count" "$w_none")"
	printf '%-34s %14s %14s %14s\n' "lock hold, module, total" "-" \
		"$((h_time / 1000)) us" "$((h_count / 1000)) us"
	printf '%-34s %14s %14s %14s\n' "lock hold, module, max of a loop" "-" \
		"$(($(max_key time max_hold_ns) / 1000)) us" "$(($(max_key count max_hold_ns) / 1000)) us"
	printf '%-34s %14s %14s %14s\n' "  count=1 / count=0 (total hold)" "" "" "$(r "$h_count" "$h_time")"
	iters=$(sum_key count iterations)
	echo
	echo "tree iterations counted (count=1): $iters;" \
		"cost of the counting probe: $(awk -v a="$w_count" -v b="$w_time" -v i="$iters" \
		'BEGIN { if (i > 0) printf "%.0f", (a - b) / i; else print "-" }') ns per iteration"
	echo "hold share of walk time with count=0: $(r "$h_time" "$w_time")"
} | tee "$out/bench.txt"
