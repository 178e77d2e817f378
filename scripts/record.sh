#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# record.sh - try docs/using.md's "Record with perf / trace-cmd" as a user
# would: Debian's perf and trace-cmd (with their shared libraries) go into
# the guest, record ksm_rmap_probe's trace events while the reproducer
# makes walks, and the events are compared with the module's stats.
#
# usage: scripts/record.sh [-h]
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
while getopts "h" opt; do
	case $opt in
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

# add_binaries ROOT BIN...: copy programs and the shared libraries they
# load (as ldd resolves them on this host) into ROOT at the same paths.
add_binaries() {
	local root=$1 f
	shift
	for f in "$@" $(ldd "$@" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*[^:]$/ { print $1 }' | sort -u); do
		mkdir -p "$root$(dirname "$f")"
		cp -L "$f" "$root$f"
	done
}

krp_host_setup
krp_need_pkgs linux-perf trace-cmd
k=$(krp_kernels_in record)
read -r vmlinuz kdir root ver <<<"$(krp_stock_kernel "$k")"
[ -n "${ver:-}" ] || krp_die "$k is not available"
ko=$(krp_build_module "$kdir" "$KRP_CACHE/build/record-$ver" "$root")
repro=$(krp_build_repro "$KRP_CACHE/bin")
out=$KRP_CACHE/record-out
initrd=$KRP_CACHE/record-initrd.cpio.gz
krp_initramfs "$initrd" "$ko" "$repro"
extra=$(mktemp -d)
add_binaries "$extra" /usr/bin/perf /usr/bin/trace-cmd
# a second archive appended: the kernel unpacks both into one rootfs
(cd "$extra" && find . | cpio -o -H newc --quiet | gzip -1) >>"$initrd"
rm -rf "$extra"
krp_log "booting $ver with perf and trace-cmd"
krp_boot "$vmlinuz" "$initrd" "$out" 900 "krp.plan=record" ||
	krp_die "guest run failed; see $out/console.log"

walks() { krp_kv "$out/$1" walks; }
echo "$(head -n 1 "$out/versions"), trace-cmd $(dpkg-query -W -f='${Version}' trace-cmd), kernel $ver"
echo "perf:      $(grep -c 'ksm_rmap_probe:ksm_rmap_walk' "$out/perf.script" 2>/dev/null) ksm_rmap_walk events recorded; the module counted $(walks perf.stats) walks"
grep -m 2 'ksm_rmap_walk' "$out/perf.script" | cut -c1-200
echo "trace-cmd: $(grep -c 'ksm_rmap_walk:' "$out/tc.report" 2>/dev/null) ksm_rmap_walk and $(grep -c 'ksm_rmap_loop:' "$out/tc.report" 2>/dev/null) ksm_rmap_loop events; the module counted $(walks tc.stats) walks, $(krp_kv "$out/tc.stats" loops) loops"
grep -m 2 'ksm_rmap_walk:' "$out/tc.report" | cut -c1-200
splats=$(krp_splats "$out/console.log" "$out/dmesg")
[ -z "$splats" ] || { echo "$splats" >&2; krp_die "kernel splat"; }
