#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# soak.sh - load and unload ksm_rmap_probe many times while rmap_walk_ksm()
# runs on both CPUs, a reader reads every debugfs file and a writer resets
# the stats and flips count; then look for any kernel report.  Prints the
# figures: cycles survived, walks, minutes, reports found.
#
# usage: scripts/soak.sh [-h] [-c CYCLES] [-n VMAS] [-k KERNEL]
#   -c CYCLES  insmod/rmmod cycles (default 100)
#   -n VMAS    VMAs per walker's anon_vma (default 2000)
#   -k KERNEL  a kernel of scripts/kernels.tsv (default stock-6.12; e.g. stock-7.3, debug)
# example: scripts/soak.sh -c 100 -k debug
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
cycles=100 vmas=2000 kernel=stock
while getopts "hc:n:k:" opt; do
	case $opt in
	h) usage; exit 0 ;;
	c) cycles=$OPTARG ;;
	n) vmas=$OPTARG ;;
	k) kernel=$OPTARG ;;
	*) usage >&2; exit 2 ;;
	esac
done
[[ $cycles =~ ^[1-9][0-9]*$ && $vmas =~ ^[0-9]+$ ]] || { usage >&2; exit 2; }

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

krp_host_setup
read -r bz kdir root <<<"$(krp_kernel "$kernel")"
[ -n "${root:-}" ] || krp_die "kernel $kernel is not available"
initrd=$(krp_guest_initrd "$kdir" "soak-$kernel" "$root")
out=$KRP_CACHE/soak-$kernel
krp_log "booting $kernel: $cycles insmod/rmmod cycles under fire"
t0=$SECONDS
rc=0
krp_boot "$bz" "$initrd" "$out" 7200 \
	"krp.plan=soak krp.cycles=$cycles krp.vmas=$vmas" || rc=$?
reports=$(krp_splats "$out/console.log" "$out/dmesg")
leaks=$(grep -c '^unreferenced object' "$out/kmemleak" 2>/dev/null || true)
nreports=$(printf '%s' "$reports" | grep -c . || true)
echo "soak on $(cat "$out/uname" 2>/dev/null || echo "$kernel"): $(cat "$out/fire" 2>/dev/null)"
echo "minutes=$(awk -v s=$((SECONDS - t0)) 'BEGIN { printf "%.1f", s / 60 }') kernel_reports=$nreports kmemleak=${leaks:-not-enabled}"
[ -z "$reports" ] || echo "$reports" | head -20
[ "$rc" = 0 ] && [ -z "$reports" ] && [ "${leaks:-0}" = 0 ] &&
	grep -q "cycles=$cycles unloads_ok=$cycles" "$out/fire" 2>/dev/null
