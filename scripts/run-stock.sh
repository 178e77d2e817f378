#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# run-stock.sh - the main job: the seed thread's before/after table, measured
# on Debian's stock kernels.  7.2 walks the anon_vma tree over [0, ULONG_MAX]
# (before), 7.3 only the page's stored linear index (after, upstream's fix).
# Each kernel is booted under QEMU (TCG, two NUMA nodes); the reproducer
# builds N VMAs on one anon_vma, lets KSM merge pages there and migrates the
# KSM page; ksm_rmap_probe measures the walks.  Hold times come from a
# count=0 run, counts from a count=1 run of the same workload in the same
# boot (counting every iteration would inflate the hold time).
#
# usage: scripts/run-stock.sh [-h] [-k KERNELS] [-n VMAS] [-m MODE] [-d DUPS] [-f FORKS]
#   -k KERNELS  comma list from scripts/kernels.tsv (default: its "main" set,
#               stock-7.2,stock-7.3); e.g. stock-6.12, stock-6.1, base, v3,
#               stock-7.2-arm64,stock-7.3-arm64 (arm64 guests, TCG); or the
#               path of a built x86-64 kernel tree or O= build dir (with a
#               /: bzImage, .config, Module.symvers), e.g. ~/linux-mm/build
#   -n VMAS     VMAs sharing the anon_vma (default 20000, the seed's case)
#   -m MODE     split (default), fork or mremap (see scripts/ksm_rmap_repro.c)
#   -d DUPS     identical pages, i.e. rmap_items on the KSM page (default 2)
#   -f FORKS    children in fork mode (default 2)
# examples:
#   scripts/run-stock.sh                         # the seed's table, 7.2 vs 7.3
#   scripts/run-stock.sh -k stock-6.12,stock-7.3 -m fork -n 5000
#   scripts/run-stock.sh -k stock-7.2-arm64,stock-7.3-arm64   # the same on arm64
#   scripts/run-stock.sh -k stock-7.2,$HOME/src/linux/build   # your kernel
#   KRP_STOCK_VERSION=7.2.11+deb13-amd64 scripts/run-stock.sh   # pin a release
# Guests run with QEMU's -icount shift=0: guest time is an instruction count
# (1 ns per instruction), the same from run to run whatever else the host
# does; KRP_ICOUNT= (empty) uses host time instead.
# env: KRP_STOCK_VERSION="RELEASE ..." pins stock kernels; results stay in
#      $KRP_CACHE/stock-out/NAME (default ~/.cache/ksm_rmap_probe)
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
n=20000 mode=split dups=2 forks=2 kernels=
while getopts "hk:n:m:d:f:" opt; do
	case $opt in
	h) usage; exit 0 ;;
	k) kernels=$OPTARG ;;
	n) n=$OPTARG ;;
	m) mode=$OPTARG ;;
	d) dups=$OPTARG ;;
	f) forks=$OPTARG ;;
	*) usage >&2; exit 2 ;;
	esac
done
[[ $n =~ ^[0-9]+$ && $dups =~ ^[0-9]+$ && $forks =~ ^[0-9]+$ ]] ||
	{ echo "error: -n, -d and -f take numbers" >&2; usage >&2; exit 2; }
case $mode in split|fork|mremap) ;; *) echo "error: bad -m '$mode'" >&2; usage >&2; exit 2 ;; esac

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
[ -n "$kernels" ] || kernels=$(krp_kernels_in main)
kernels=$(krp_kernel_ids "$kernels") || exit 1
IFS=, read -r -a klist <<<"$kernels"

export KRP_ICOUNT=${KRP_ICOUNT-0}
krp_host_setup
rows=()
for k in "${klist[@]}"; do
	read -r vmlinuz kdir root <<<"$(krp_kernel "$k")"
	[ -n "${root:-}" ] || krp_die "kernel $k is not available (see above)"
	krp_log "$k: building the module"
	ko=$(krp_build_module "$kdir" "$KRP_CACHE/build/$k" "$root")
	repro=$(krp_build_repro "$KRP_CACHE/bin" "$(krp_kernel_arch "$k")")
	out=$KRP_CACHE/stock-out/$k
	initrd=$KRP_CACHE/main-$k.cpio.gz
	krp_initramfs "$initrd" "$ko" "$repro"
	krp_log "$k: booting under QEMU TCG: mode=$mode vmas=$n dups=$dups (minutes at 20,000 VMAs)"
	krp_boot "$vmlinuz" "$initrd" "$out" 3600 \
		"krp.plan=main krp.mode=$mode krp.n=$n krp.dups=$dups krp.forks=$forks" ||
		krp_die "$k: guest run failed; see $out/console.log"
	[ -z "$(cat "$out/insmod" 2>/dev/null)" ] || krp_die "$k: insmod failed: $(cat "$out/insmod")"
	for f in timed.stats counted.stats; do
		[ -s "$out/$f" ] || krp_die "$k: no $f came back; see $out/console.log"
	done
	splats=$(krp_splats "$out/console.log" "$out/dmesg")
	[ -z "$splats" ] || { echo "$splats" >&2; krp_die "$k: kernel splat during the run"; }
	rows+=("$k")
done

# The table: one row per kernel; before = a full-range walk, after = the
# stored index (upstream's fix); ratios against the first row.
label() {
	case $(krp_kernel_walk "$1") in
	full) echo before ;; index) echo after ;; *) krp_kernel_walk "$1" ;;
	esac
}
# shown NAME: the release it ran, or for a kernel by path its name (the
# release plus its tree's describe and hash: two trees may share a release)
shown() {
	if [ "$(krp_kernel_row "$1" | awk '{print $2}')" = path ]; then echo "$1"
	else cat "$KRP_CACHE/stock-out/$1/uname"
	fi
}
st() { krp_kv "$KRP_CACHE/stock-out/$1/$2.stats" "$3"; }
ms() { [[ ${1:-} =~ ^[0-9]+$ ]] && awk -v v="$1" 'BEGIN { printf "%.3f", v / 1e6 }' || echo -; }
first=${rows[0]}
echo
echo "rmap_walk_ksm(), $mode: $(krp_kv "$KRP_CACHE/stock-out/$first/counted.repro" anon_vma_tree_nodes) VMAs in the anon_vma tree, $dups rmap_items on the KSM page"
printf '%-32s %11s %11s %11s %9s %7s %11s %9s %10s %10s\n' "" "max hold ms" iterations "addr skips" "mm skips" walks incomplete migrated "victim ms" "mprotect"
for k in "${rows[@]}"; do
	printf '%-32s %11.3f %11s %11s %9s %7s %11s %9s %10s %10s\n' \
		"$(label "$k") ($(shown "$k"))" \
		"$(awk -v v="$(st "$k" timed max_hold_ns)" 'BEGIN {print v / 1e6}')" \
		"$(st "$k" counted max_loop_iterations)" "$(st "$k" counted max_loop_skip_addr)" \
		"$(st "$k" counted max_loop_skip_mm)" "$(st "$k" counted walks)" \
		"$(st "$k" counted incomplete_walks)" \
		"$(krp_kv "$KRP_CACHE/stock-out/$k/counted.repro" migrated_count)/$(krp_kv "$KRP_CACHE/stock-out/$k/counted.repro" moves_done)" \
		"$(if [ "$(st "$k" victim victim_waits)" = 0 ]; then echo none; else ms "$(st "$k" victim victim_max_wait_ns)"; fi)" \
		"$(ms "$(awk '/victim calls=/ { for (i = 1; i <= NF; i++) if ($i ~ /^max_ns=/) print substr($i, 8) }' "$KRP_CACHE/stock-out/$k/victim.repro" 2>/dev/null)")"
done
for k in "${rows[@]:1}"; do
	awk -v a="$(st "$k" timed max_hold_ns)" -v b="$(st "$first" timed max_hold_ns)" \
		-v i="$(st "$k" counted max_loop_iterations)" -v j="$(st "$first" counted max_loop_iterations)" \
		-v l="$(label "$k") / $(label "$first")" \
		'BEGIN { printf "%-32s %11.4f %11.6f   (hold %.1fx shorter, %.0fx fewer iterations)\n",
			l, a / b, i / j, a ? b / a : 0, i ? j / i : 0 }'
done
echo
echo "max hold: longest anon_vma lock hold of one loop (one rmap_item, one pass), with"
echo "count=0; iterations / addr skips / mm skips: the most in one loop, with count=1,"
echo "same workload, same boot.  incomplete: walks that went through everything yet"
echo "found fewer mappings than lasted the whole walk (README: incomplete_walks)."
echo "victim ms: the longest wait of a task (a real-time thread on the walker's CPU"
echo "toggling a page's protection, third run, count=0) for the lock a KSM walk held;"
echo "mprotect: that thread's own longest mprotect() (the wait plus its own work)."
echo "The seed thread, on"
echo "real hardware with 20,000 VMAs: 228.65 ms -> 0.396 ms, 22169 -> 3 iterations."
if [ -n "$KRP_ICOUNT" ]; then
	echo "Guest time under QEMU -icount shift=$KRP_ICOUNT: $((1 << KRP_ICOUNT)) ns per guest instruction, so \"ms\" are"
	echo "millions of instructions (cache misses not counted; the other vCPU's background"
	echo "work counts too, so single maxima vary from run to run): compare ratios."
else
	echo "QEMU TCG times are an emulator's: compare the ratio, not the milliseconds."
fi
for k in "${rows[@]}"; do
	echo
	echo "$k: walks $(st "$k" counted walks), loops $(st "$k" counted loops), iterations $(st "$k" counted iterations), range full/index loops $(st "$k" counted range_full_loops)/$(st "$k" counted range_index_loops), incomplete walks $(st "$k" counted incomplete_walks), missed mappings $(st "$k" counted missed_mappings), probe misses $(st "$k" counted probe_misses)/$(st "$k" timed probe_misses), layout $(st "$k" counted layout)"
	echo "what-if (v3, v4): max iterations per loop $(st "$k" counted whatif_v3_max_loop_iterations), $(st "$k" counted whatif_v4_max_loop_iterations); walks that would miss a mapping $(st "$k" counted whatif_v3_missed_walks), $(st "$k" counted whatif_v4_missed_walks)"
	echo "the module's own work inside the holds (not in max hold): at most $(st "$k" timed max_module_hold_ns) ns a loop with count=0, $(st "$k" counted max_module_hold_ns) ns with count=1"
done
