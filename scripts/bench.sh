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
#   -k KERNEL  a kernel of scripts/kernels.tsv (default its "bench" set, stock
#              7.2; e.g. stock-7.3, base-7.2)
#              or the path of a built kernel tree (with a /)
#   -n VMAS    VMAs on the anon_vma (default 20000)
#   -m MOVES   migrations per run, 2 walks each (default 4)
#   -r ROUNDS  rounds of the three runs (default 3)
#   -c CALLS   calls of each kind in the idle-tax run (default 2000)
#   -W         wall clock (no -icount): ns are time, not instructions
#   -R         no run: print the report again from the last run's output
# example: scripts/bench.sh -n 20000 -r 5
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
kernel='' n=20000 moves=4 rounds=3 calls=2000 ic=0 rerun=0
while getopts "hk:n:m:r:c:WR" opt; do
	case $opt in
	h) usage; exit 0 ;;
	k) kernel=$OPTARG ;;
	n) n=$OPTARG ;;
	m) moves=$OPTARG ;;
	r) rounds=$OPTARG ;;
	c) calls=$OPTARG ;;
	W) ic= ;;
	R) rerun=1 ;;
	*) usage >&2; exit 2 ;;
	esac
done
[[ $n =~ ^[0-9]+$ && $moves =~ ^[0-9]+$ && $rounds =~ ^[1-9][0-9]*$ &&
	$calls =~ ^[1-9][0-9]*$ ]] ||
	{ usage >&2; exit 2; }

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

[ -n "$kernel" ] || kernel=$(krp_kernels_in bench)
kernel=$(krp_kernel_id "$kernel") || exit 1
out=$KRP_CACHE/bench-$kernel
if [ "$rerun" = 1 ]; then
	[ -f "$out/params" ] || krp_die "no earlier run in $out"
	read -r n moves rounds calls ic <"$out/params" || true
else
	krp_host_setup
	read -r bz kdir root <<<"$(krp_kernel "$kernel")"
	[ -n "${root:-}" ] || krp_die "kernel $kernel is not available"
	initrd=$(krp_guest_initrd "$kdir" "bench-$kernel" "$root")
	krp_log "booting $kernel: $rounds rounds x (none, count=0, count=1), $n VMAs, $moves moves${ic:+, -icount shift=$ic}"
	KRP_ICOUNT=$ic krp_boot "$bz" "$initrd" "$out" 3600 \
		"krp.plan=bench krp.n=$n krp.moves=$moves krp.rounds=$rounds krp.calls=$calls" ||
		krp_die "guest run failed; see $out/console.log"
	echo "$n $moves $rounds $calls $ic" >"$out/params"
fi
unit=ns ku=us
[ -z "$ic" ] || { unit=instr; ku="k instr"; }
splats=$(krp_splats "$out/console.log" "$out/dmesg")
[ -z "$splats" ] || { echo "$splats" >&2; krp_die "kernel splat during the benchmark"; }

sum_walks() {	# sum_walks MODE: total ftrace walk ns over all rounds, and count
	cat "$out"/r*."$1".fgraph 2>/dev/null |
		awk '{ s += $1; n++ } END { printf "%d %d\n", s, n }'
}
sum_key() {	# sum_key MODE KEY [SECTION]: a stats key summed over rounds
	local f t=0 v
	for f in "$out"/r*."$1"."${3:-stats}"; do
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
victim_sum() {	# victim_sum MODE KEY: calls summed, or mean_ns averaged over rounds
	cat "$out"/r*."$1".victim 2>/dev/null | awk -v k="$2" '/victim calls=/ {
		for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) { s += substr($i, length(k) + 2); n++ } }
		END { if (!n) print "-"; else if (k == "calls") print s; else printf "%d\n", s / n }'
}
r() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }'; }
idle_vals() {	# idle_vals MODE KEY LINE: a per-call figure of each round's idle run
	local f
	for f in "$out"/r*."$1".idle; do
		awk -v k="$2" -v l="$3" '$2 == l { for (i = 3; i <= NF; i++)
			if (index($i, k "=") == 1) print substr($i, length(k) + 2) }' "$f" 2>/dev/null
	done | grep -E '^[0-9]+$' || true
}
idle_min() {	# idle_min MODE KEY LINE: the least over rounds
	idle_vals "$@" | sort -n | head -n 1 | grep . || echo -
}
idle_spread() {	# idle_spread MODE KEY LINE: (max - min) / min over the rounds
	idle_vals "$@" | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END {
		if (NR && lo > 0) printf "%.1f%%", 100 * (hi - lo) / lo; else print "-" }'
}
# anon MODE least|p25|p75|n: rmap_walk_anon() durations over all rounds
# (a migration walks twice, try_to_migrate and remove_migration_ptes: two
# clusters; the quartiles each fall inside one, the median between them)
anon() {
	cat "$out"/r*."$1".anon 2>/dev/null | sort -n | awk -v w="$2" '{ v[NR] = $1 }
		END { if (!NR) print "-"; else if (w == "least") print v[1];
			else if (w == "p25") print v[int((NR + 3) / 4)];
			else if (w == "p75") print v[int((3 * NR + 3) / 4)]; else print NR }'
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
	echo "($rounds rounds after a warm-up run, $calls calls each, $((calls / 10 + 1)) migrations;"
	echo "each call timed alone.  least: the cheapest call of a run, least of the rounds:"
	echo "under -icount the call's own instructions (interrupts and the other vCPU's work"
	echo "only add).  mean: all calls, least of the rounds.  spread: (most - least) / least"
	echo "of the runs without the module)"
	printf '%-34s %14s %14s %14s %9s %9s %8s\n' "" "no module" "count=0" "count=1" "count=0" "count=1" "spread"
	for line in idle_least idle; do
		for k in mincore mprotect mmap_munmap fault move_anon; do
			a=$(idle_min none "${k}_ns" "$line")
			b=$(idle_min time "${k}_ns" "$line")
			c=$(idle_min count "${k}_ns" "$line")
			printf '%-34s %14s %14s %14s %9s %9s %8s\n' \
				"$k, $([ "$line" = idle ] && echo mean || echo least)" "$a" "$b" "$c" \
				"$(pct "$b" "$a")" "$(pct "$c" "$a")" "$(idle_spread none "${k}_ns" "$line")"
		done
	done
	echo
	for q in least p25 p75; do
		printf '%-34s %14s %14s %14s %9s %9s\n' "rmap_walk_anon(), ftrace, $q" \
			"$(anon none $q)" "$(anon time $q)" "$(anon count $q)" \
			"$(pct "$(anon time $q)" "$(anon none $q)")" "$(pct "$(anon count $q)" "$(anon none $q)")"
	done
	echo "(every rmap_walk_anon() of the migrations above, all rounds: $(anon none n) / $(anon time n) / $(anon count n) calls,"
	echo "quartiles; its own instructions, without the other CPU's work that a whole migration waits"
	echo "for: move_anon above swings by its spread with that work, with or without the module)"
	echo
	echo "under contention: the same workload with a victim thread on the walker's CPU"
	echo "toggling a page's protection (the anon_vma lock for write), sum over $rounds rounds"
	printf '%-34s %14s %14s %14s %9s %9s\n' "" "no module" "count=0" "count=1" "count=0" "count=1"
	va=$(victim_sum none mean_ns) vb=$(victim_sum time mean_ns) vc=$(victim_sum count mean_ns)
	printf '%-34s %14s %14s %14s %9s %9s\n' "victim's mprotect, mean $unit" \
		"$va" "$vb" "$vc" "$(pct "$vb" "$va")" "$(pct "$vc" "$va")"
	printf '%-34s %14s %14s %14s\n' "victim's mprotect calls" \
		"$(victim_sum none calls)" "$(victim_sum time calls)" "$(victim_sum count calls)"
	printf '%-34s %14s %14s %14s\n' "victim waits the module counted" "-" \
		"$(sum_key time victim_waits vstats)" "$(sum_key count victim_waits vstats)"
	echo "(the mean includes the waits behind the walks' holds, which count=1 lengthens;"
	echo "with count=0 the holds are those of the kernel, so the difference is the cost of"
	echo "the module's hold timing and victim tracking to the task that waits)"
} | tee "$out/bench.txt"
