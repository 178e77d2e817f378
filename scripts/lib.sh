# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# lib.sh - host-side helpers shared by run-stock.sh and tests/run.sh:
# install what is missing, fetch the stock Debian kernel, build the module
# and the reproducer, pack a busybox initramfs, boot it under QEMU (TCG, two
# NUMA nodes) and collect what the guest wrote to its second serial port.
#
# Source it; do not run it.  Everything built goes to $KRP_CACHE
# (default ${XDG_CACHE_HOME:-$HOME/.cache}/ksm_rmap_probe).

KRP_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The module's sources (what a build copies, what lint checks).
KRP_SOURCES=(ksm_rmap_probe.c ksm_rmap_probe.h ksm_rmap_probe_trace.h Kbuild)
KRP_CACHE=${KRP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ksm_rmap_probe}
mkdir -p "$KRP_CACHE"

krp_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
krp_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

krp_sudo() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# krp_need_pkgs PKG...: apt-get install the packages not yet installed.
krp_need_pkgs() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	krp_log "installing: ${missing[*]}"
	if ! krp_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "${missing[@]}" >"$KRP_CACHE/apt.log" 2>&1; then
		krp_sudo apt-get update -q >>"$KRP_CACHE/apt.log" 2>&1 ||
			krp_die "apt-get update failed (see $KRP_CACHE/apt.log)"
		krp_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends "${missing[@]}" >>"$KRP_CACHE/apt.log" 2>&1 ||
			krp_die "apt-get install ${missing[*]} failed (see $KRP_CACHE/apt.log)"
	fi
}

# Host tools for building and booting.
krp_host_setup() {
	krp_need_pkgs qemu-system-x86 busybox-static cpio kmod gcc make libc6-dev \
		gzip
}

# krp_stock_version [SERIES]: newest stock Debian 12 kernel of SERIES (6.12,
# the default: linux-image-6.12.N+deb12-amd64-unsigned; or 6.1:
# linux-image-6.1.0-N-amd64-unsigned) with headers; prints its release.
# KRP_STOCK_VERSION=<release> overrides for 6.12.
krp_stock_version() {
	local series=${1:-6.12} re list
	if [ "$series" = 6.12 ] && [ -n "${KRP_STOCK_VERSION:-}" ]; then
		echo "$KRP_STOCK_VERSION"
		return
	fi
	case $series in
	6.12) re='^linux-image-(6\.12\.[0-9]+\+deb12-amd64)-unsigned ' ;;
	6.1) re='^linux-image-(6\.1\.0-[0-9]+-amd64)-unsigned ' ;;
	*) krp_die "unknown kernel series '$series' (6.12 or 6.1)" ;;
	esac
	list=$(apt-cache search --names-only linux-image- 2>/dev/null | sed -En "s/$re.*/\1/p")
	if [ -z "$list" ]; then
		krp_sudo apt-get update -q >"$KRP_CACHE/apt.log" 2>&1 || true
		list=$(apt-cache search --names-only linux-image- | sed -En "s/$re.*/\1/p")
	fi
	[ -n "$list" ] || krp_die "no $series linux-image-*-amd64-unsigned in the apt sources"
	echo "$list" | sort -V | tail -n 1
}

# krp_stock_kernel VER: install image and headers; prints "VMLINUZ KDIR".
krp_stock_kernel() {
	local ver=$1
	krp_need_pkgs "linux-image-$ver-unsigned" "linux-headers-$ver"
	[ -r "/boot/vmlinuz-$ver" ] || krp_die "/boot/vmlinuz-$ver missing after install"
	[ -d "/usr/src/linux-headers-$ver" ] || krp_die "/usr/src/linux-headers-$ver missing"
	echo "/boot/vmlinuz-$ver /usr/src/linux-headers-$ver"
}

# krp_build_module KDIR OUTDIR: build ksm_rmap_probe.ko out of the source
# tree (one copy per kernel, so several kernels never share objects).
krp_build_module() {
	local kdir=$1 out=$2
	mkdir -p "$out"
	(cd "$KRP_TOP" && cp "${KRP_SOURCES[@]}" "$out"/)
	make -s -C "$kdir" M="$out" modules >"$out/build.log" 2>&1 ||
		{ cat "$out/build.log" >&2; krp_die "module build against $kdir failed"; }
	echo "$out/ksm_rmap_probe.ko"
}

# krp_checkpatch: path of checkpatch.pl from linux-source-6.12 (installed
# and unpacked, just the files checkpatch reads, on first use).
krp_checkpatch() {
	local dir=$KRP_CACHE/checkpatch tarball=/usr/src/linux-source-6.12.tar.xz
	if [ ! -x "$dir/scripts/checkpatch.pl" ]; then
		krp_need_pkgs linux-source-6.12 perl
		mkdir -p "$dir"
		tar -xJf "$tarball" -C "$dir" --strip-components=1 \
			linux-source-6.12/scripts/checkpatch.pl \
			linux-source-6.12/scripts/spelling.txt \
			linux-source-6.12/scripts/const_structs.checkpatch ||
			krp_die "cannot unpack checkpatch.pl from $tarball"
	fi
	echo "$dir/scripts/checkpatch.pl"
}

# krp_build_repro OUTDIR: the static reproducer.
krp_build_repro() {
	local out=$1
	mkdir -p "$out"
	gcc -O2 -static -Wall -Wextra -Werror -o "$out/ksm_rmap_repro" \
		"$KRP_TOP/scripts/ksm_rmap_repro.c" ||
		krp_die "reproducer build failed"
	echo "$out/ksm_rmap_repro"
}

# krp_initramfs OUT KO REPRO: busybox userland, the guest scripts, the
# module and the reproducer, as a gzipped newc cpio.
krp_initramfs() {
	local out=$1 ko=$2 repro=$3 root
	root=$(mktemp -d)
	mkdir -p "$root"/{bin,dev,proc,sys,tmp,krp}
	cp /bin/busybox "$root/bin/busybox"
	cp "$KRP_TOP"/scripts/guest/init "$root/init"
	cp "$KRP_TOP"/scripts/guest/*.sh "$KRP_TOP"/scripts/guest/*.awk "$root/krp/"
	cp "$ko" "$root/krp/ksm_rmap_probe.ko"
	cp "$repro" "$root/krp/ksm_rmap_repro"
	chmod +x "$root/init" "$root/krp/"*.sh "$root/krp/ksm_rmap_repro"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
	rm -rf "$root"
}

# krp_guest_initrd KDIR NAME: module built against KDIR (in build/NAME) and
# the reproducer, packed as $KRP_CACHE/NAME.cpio.gz; prints its path.
krp_guest_initrd() {
	local ko repro initrd=$KRP_CACHE/$2.cpio.gz
	ko=$(krp_build_module "$1" "$KRP_CACHE/build/$2")
	repro=$(krp_build_repro "$KRP_CACHE/bin")
	krp_initramfs "$initrd" "$ko" "$repro"
	echo "$initrd"
}

# krp_boot VMLINUZ INITRD OUTDIR TIMEOUT APPEND: boot the guest; its console
# goes to OUTDIR/console.log, its ttyS1 to OUTDIR/serial.txt, which is then
# split into OUTDIR/<section> files.  Returns non-zero if QEMU failed or
# timed out.
#
# Single-threaded TCG by default: with one host thread per vCPU (QEMU 7.2,
# MTTCG) live kernel code patching is not safe in the guest -- toggling a
# plain ftrace kprobe event while another vCPU runs the patched function
# oopses the stock kernel with no module loaded (scripts/guest/
# plan-tcgcheck.sh shows it).  KRP_ACCEL overrides.
krp_boot() {
	local kernel=$1 initrd=$2 out=$3 tmo=$4 append=$5 rc=0
	mkdir -p "$out"
	rm -f "$out"/*
	timeout --foreground "$tmo" qemu-system-x86_64 \
		-accel "${KRP_ACCEL:-tcg,thread=single}" -cpu max -m 2G \
		-smp 2,sockets=2,cores=1,threads=1 \
		-object memory-backend-ram,size=1G,id=m0 \
		-object memory-backend-ram,size=1G,id=m1 \
		-numa node,nodeid=0,memdev=m0,cpus=0 \
		-numa node,nodeid=1,memdev=m1,cpus=1 \
		-kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 oops=panic loglevel=5 $append" \
		-display none -monitor none -no-reboot \
		-serial "file:$out/console.log" -serial "file:$out/serial.txt" \
		</dev/null >"$out/qemu.log" 2>&1 || rc=$?
	tr -d '\r' <"$out/serial.txt" | awk -v dir="$out" '
		/^=== BEGIN / { f = dir "/" $3; printf "" > f; next }
		/^=== END /   { close(f); f = ""; next }
		f != ""       { print > f }'
	[ "$rc" = 0 ] || krp_log "qemu exited with $rc (124 = timeout); see $out/console.log"
	return "$rc"
}

# krp_splats FILE...: print kernel splats found in the logs.
# ("RCU lockdep checking is enabled" is PROVE_RCU's boot banner, not a
# report; a kmemleak that turned itself off is one.)
krp_splats() {
	grep -hE 'BUG:|WARNING:|Oops|general protection|Call Trace|Kernel panic|lockdep|possible circular|possible recursive|INFO: task .* blocked|UBSAN|KASAN|kmemleak: [1-9]|kmemleak: (Memory pool empty|Cannot allocate|Kernel memory leak detector disabled)|RCU stall|rcu_sched self-detected|soft lockup|hard LOCKUP' \
		"$@" 2>/dev/null | grep -v 'RCU lockdep checking is enabled' || true
}

# krp_kv FILE KEY: value of "KEY: value" (stats) or "key=value" (repro).
krp_kv() {
	awk -v k="$2" '
		$1 == k ":" { print $2; exit }
		{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) {
			print substr($i, length(k) + 2); exit } }' "$1" 2>/dev/null || true
}

# krp_own_kernel VARIANT: our own 6.12 kernel built from linux-source-6.12
# by scripts/build-kernel.sh ("base", or NAME of patches/NAME.patch; cached,
# so only the first call builds); prints "BZIMAGE KDIR".
krp_own_kernel() {
	local line variant bzimage kdir
	line=$("$KRP_TOP/scripts/build-kernel.sh" "$1") ||
		krp_die "building our own kernel, variant '$1', failed"
	read -r variant bzimage kdir <<<"$line"
	if [ "$variant" != "$1" ] || [ ! -s "$bzimage" ] || [ ! -d "$kdir" ]; then
		krp_die "scripts/build-kernel.sh $1 printed an unexpected line: $line"
	fi
	echo "$bzimage $kdir"
}

# krp_kernel NAME: the kernel a script boots, as "BZIMAGE KDIR": "stock"
# (the newest stock Debian 6.12), "stock-6.1", or an own variant.
krp_kernel() {
	local ver
	case $1 in
	stock | stock-6.12 | stock-6.1)
		ver=$(krp_stock_version "$([ "$1" = stock-6.1 ] && echo 6.1 || echo 6.12)")
		krp_stock_kernel "$ver" ;;
	*)
		krp_own_kernel "$1" ;;
	esac
}

# krp_initramfs_extra OUT KO REPRO FILE...: what krp_initramfs packs, plus
# FILE... in /krp/ (modes kept).  The extra files go into a second gzipped
# newc cpio appended to krp_initramfs's: the kernel unpacks concatenated
# archives one after the other into the same rootfs
# (Documentation/driver-api/early-userspace/buffer-format.rst).
krp_initramfs_extra() {
	local out=$1 ko=$2 repro=$3 root f
	shift 3
	for f in "$@"; do
		[ -f "$f" ] || krp_die "krp_initramfs_extra: no such file: $f"
	done
	krp_initramfs "$out" "$ko" "$repro"
	[ $# -gt 0 ] || return 0
	root=$(mktemp -d)
	mkdir -m 755 "$root/krp"
	cp -p "$@" "$root/krp/"
	(cd "$root" && find krp | cpio -o -H newc --quiet | gzip -1) >>"$out"
	rm -rf "$root"
}
