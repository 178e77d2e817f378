#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# run-stock.sh - the main job: on the stock Debian 6.12 kernel, booted under
# QEMU (TCG, two NUMA nodes), build many VMAs on one anon_vma, let KSM merge
# pages there, migrate the KSM page, and print what rmap_walk_ksm() did in
# the shape of the seed thread's table.
#
# usage: scripts/run-stock.sh [-h] [-n VMAS] [-m MODE] [-d DUPS] [-f FORKS]
#   -n VMAS   VMAs sharing the anon_vma (default 20000)
#   -m MODE   split (default), fork or mremap (see scripts/ksm_rmap_repro.c)
#   -d DUPS   identical pages, i.e. rmap_items on the KSM page (default 2)
#   -f FORKS  children in fork mode (default 2)
# examples:
#   scripts/run-stock.sh                  # the seed's case, 20,000 VMAs
#   scripts/run-stock.sh -m fork -n 5000  # second pass and mm skips
# env: KRP_STOCK_VERSION pins the kernel; results stay in
#      $KRP_CACHE/stock-out (default ~/.cache/ksm_rmap_probe/stock-out)
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
n=20000 mode=split dups=2 forks=2
while getopts "hn:m:d:f:" opt; do
	case $opt in
	h) usage; exit 0 ;;
	n) n=$OPTARG ;;
	m) mode=$OPTARG ;;
	d) dups=$OPTARG ;;
	f) forks=$OPTARG ;;
	*) usage >&2; exit 2 ;;
	esac
done
[[ $n =~ ^[0-9]+$ && $dups =~ ^[0-9]+$ && $forks =~ ^[0-9]+$ ]] ||
	{ usage >&2; exit 2; }
case $mode in split|fork|mremap) ;; *) usage >&2; exit 2 ;; esac

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

krp_host_setup
ver=$(krp_stock_version 6.12)
read -r vmlinuz kdir < <(krp_stock_kernel "$ver")
krp_log "stock kernel $ver: building module and reproducer"
ko=$(krp_build_module "$kdir" "$KRP_CACHE/build/$ver")
repro=$(krp_build_repro "$KRP_CACHE/bin")
out=$KRP_CACHE/stock-out
initrd=$KRP_CACHE/stock-initrd.cpio.gz
krp_initramfs "$initrd" "$ko" "$repro"
krp_log "booting under QEMU TCG: mode=$mode vmas=$n dups=$dups (minutes at 20,000 VMAs)"
krp_boot "$vmlinuz" "$initrd" "$out" 3600 \
	"krp.plan=main krp.mode=$mode krp.n=$n krp.dups=$dups krp.forks=$forks" ||
	krp_die "guest run failed; see $out/console.log"
[ -s "$out/probe.stats" ] || krp_die "no stats came back; see $out/console.log"
if [ -n "$(cat "$out/insmod")" ]; then
	krp_die "insmod failed: $(cat "$out/insmod")"
fi

st() { krp_kv "$out/probe.stats" "$1"; }
echo
echo "rmap_walk_ksm() on $ver, $mode: $(krp_kv "$out/probe.repro" anon_vma_tree_nodes) VMAs in the anon_vma tree, $dups rmap_items"
printf '%-28s %12s %12s %12s %10s\n' "" "max hold ms" "iterations" "addr skips" "mm skips"
printf '%-28s %12.3f %12s %12s %10s\n' "$ver" \
	"$(awk -v v="$(st max_hold_ns)" 'BEGIN {print v / 1e6}')" \
	"$(st max_loop_iterations)" "$(st max_loop_skip_addr)" "$(st max_loop_skip_mm)"
echo
echo "walks $(st walks), loops $(st loops), iterations $(st iterations), incomplete walks $(st incomplete_walks), missed mappings $(st missed_mappings), probe misses $(st probe_misses), layout $(st layout)"
move_us() {	# total time of the reproducer's move_pages() calls
	awk '/ move=/ { for (i = 1; i <= NF; i++) if ($i ~ /^us=/) s += substr($i, 4) }
		END { print s + 0 }' "$1"
}
bare=$(move_us "$out/bare.repro")
probed=$(move_us "$out/probe.repro")
echo "move_pages time: ${bare} us without the module, ${probed} us with it" \
	"($(awk -v a="$probed" -v b="$bare" -v i="$(st iterations)" \
	'BEGIN {if (b > 0 && i > 0) printf "%.2fx, %.0f ns per iteration", a / b, (a - b) * 1000 / i}'))"
echo "(TCG timings are an emulator's; compare ratios, not absolute times)"
echo
echo "recent walks:"
cat "$out/probe.walks"
splats=$(krp_splats "$out/console.log" "$out/dmesg")
[ -z "$splats" ] || { echo "$splats" >&2; krp_die "kernel splat during the run"; }
