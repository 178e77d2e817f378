#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/rmap-selftest.sh - upstream's own rmap selftest as a witness:
# tools/testing/selftests/mm/rmap.c of Debian's linux-source-7.3, whose
# migrate fixture includes migrate.ksm and migrate.ksm_and_mremap (mremap
# the second half of a region over the first, merge, migrate with
# move_pages, check that every page maps the new pfn).  Builds it STATIC
# into $KRP_CACHE/selftests/bin/rmap, only when missing, and prints that
# path.  linux-source-7.3 is in trixie-backports, which the host's apt does
# not know (and must not be taught): the build runs in a Debian trixie
# chroot made with debootstrap in $KRP_CACHE/trixie (gcc-14, glibc 2.41,
# libnuma.a), from the archive URI of the host's own apt sources.
# With --run it then boots each KERNEL under QEMU TCG with
# scripts/guest/plan-rmapst.sh (no module loaded) and prints the verdict
# of every test of the migrate fixture, and its seconds, per kernel and run.
#
# usage: scripts/rmap-selftest.sh [-h] [-f] [--arch ARCH] [-n RUNS] [-r|--run KERNEL]...
#   -f         rebuild the binary even if it is cached
#   --arch A   build it for Debian architecture A (default the host's; arm64:
#              cross-built in the same chroot, into $KRP_CACHE/selftests/bin/arm64/)
#   -r KERNEL  boot KERNEL and run the selftest (repeatable); KERNEL is a
#              name of scripts/kernels.tsv (stock-7.3, base, v3, ...) or
#              the path of a bzImage/vmlinuz
#   -n RUNS    boots per kernel (default 2)
# exit status with --run: 1 if a guest did not finish, a stock kernel
# did not pass a test, the verdicts of
# a kernel differ between its runs, KSM was not put back as it was, or the
# kernel logged a splat.  The harness's fixture needs SYSVIPC (semget()),
# PROC_PAGE_MONITOR, two NUMA nodes and a tmpfs: section rmapst.env of a
# run says what the guest had.
# env: KRP_CACHE=dir for builds (default ~/.cache/ksm_rmap_probe)
set -euo pipefail

usage() { sed -n '4,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
bad_usage() { echo "error: $*; see scripts/rmap-selftest.sh -h" >&2; exit 2; }
force=0
runs=2
arch=
kernels=()
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	-f) force=1 ;;
	--arch)
		[ $# -ge 2 ] || bad_usage "--arch needs amd64 or arm64"
		arch=$2
		shift
		;;
	-n)
		[ $# -ge 2 ] || bad_usage "-n needs a number"
		runs=$2
		shift
		;;
	-r | --run)
		[ $# -ge 2 ] || bad_usage "$1 needs a kernel"
		kernels+=("$2")
		shift
		;;
	*) bad_usage "unknown argument '$1'" ;;
	esac
	shift
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || bad_usage "-n wants a positive number, not '$runs'"

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

ST=$KRP_CACHE/selftests
BIN=$ST/bin
PKG=$(krp_source_pkg rmapst)
SERIES=${PKG#linux-source-}
[ -n "$arch" ] || arch=$(krp_host_arch)
SRCARCH=$(krp_kernel_srcarch "$arch")
# Inside the chroot: a tree per architecture (make headers writes into it).
TARBALL=/usr/src/linux-source-$SERIES.tar.xz
SRC=/build/linux-$SERIES
CROSS=()
if [ "$arch" != "$(krp_host_arch)" ]; then
	[ ${#kernels[@]} = 0 ] || bad_usage "--run boots kernels of the host's architecture only"
	BIN=$BIN/$arch
	SRC=$SRC-$arch
	CROSS=(ARCH="$SRCARCH" CROSS_COMPILE="$(krp_arch_triplet "$arch")-")
fi

# in_root CMD...: run CMD in the chroot.
in_root() { krp_sudo chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C "$@"; }

# src_unpack: the files `make headers` and the mm selftests' Makefile need, from
# linux-source-7.3's tarball into $SRC in the chroot (once).
src_unpack() {
	local top=$PKG
	[ -e "$ROOT$SRC/.unpacked" ] && return 0
	krp_log "unpacking the mm selftests and the uapi headers from $TARBALL"
	rm -rf "${ROOT:?}$SRC"
	mkdir -p "$ROOT$SRC"
	tar -xJf "$ROOT$TARBALL" -C "$ROOT$SRC" --strip-components=1 --wildcards \
		"$top/Makefile" "$top/Kbuild" "$top/Kconfig" "$top/scripts/*" \
		"$top/arch/$SRCARCH/*" "$top/include/*" "$top/usr/*" "$top/tools/include/*" \
		"$top/tools/testing/selftests/lib.mk" \
		"$top/tools/testing/selftests/kselftest*" \
		"$top/tools/testing/selftests/mm/*" "$top/mm/gup_test.h" \
		"$top/tools/testing/selftests/x86/check_cc.sh" \
		"$top/tools/testing/selftests/x86/trivial_program.c" ||
		krp_die "cannot unpack the selftests from $TARBALL"
	touch "$ROOT$SRC/.unpacked"
}

# src_headers: `make headers` of 7.3 (the selftests' KHDR_INCLUDES).
src_headers() {
	[ -e "$ROOT$SRC/.headers" ] && return 0
	krp_log "make headers (uapi headers of linux-source-$SERIES)"
	in_root make -s -C "$SRC" -j"$(nproc)" ARCH="$SRCARCH" headers >"$ST/rmap-headers-$arch.log" 2>&1 ||
		{ tail -n 20 "$ST/rmap-headers-$arch.log" >&2; krp_die "make headers failed (see $ST/rmap-headers-$arch.log)"; }
	touch "$ROOT$SRC/.headers"
}

# build_rmap: static $BIN/rmap, built by the mm selftests' own Makefile
# (its CFLAGS, -no-pie, vm_util.c and the other helpers, rmap's -lnuma)
# with USERLDFLAGS=-static; the compiler line is in $ST/rmap.log.
build_rmap() {
	local mm=$SRC/tools/testing/selftests/mm out=/build/out-$arch ver numa=libnuma-dev
	ROOT=$(krp_chroot "$(krp_source_suite "$PKG")")
	if [ "$arch" != "$(krp_host_arch)" ]; then
		# the same chroot with $arch in its dpkg and the cross compiler
		[ "$(krp_arch_chroot "$arch")" = "$ROOT" ] ||
			krp_die "the $arch cross compiler lives in another chroot than $ROOT"
		numa=libnuma-dev:$arch
	fi
	krp_chroot_pkgs "$ROOT" gcc make libc6-dev "$numa" binutils xz-utils "$PKG"
	mkdir -p "$ST" "$BIN"
	src_unpack
	src_headers
	krp_log "building static rmap ($arch) with tools/testing/selftests/mm/Makefile"
	rm -rf "${ROOT:?}$out"
	mkdir -p "$ROOT$out"
	in_root make -C "$mm" V=1 OUTPUT="$out" USERLDFLAGS=-static "${CROSS[@]}" "$out/rmap" \
		>"$ST/rmap-$arch.log" 2>&1 ||
		{ tail -n 30 "$ST/rmap-$arch.log" >&2; krp_die "building rmap failed (see $ST/rmap-$arch.log)"; }
	if readelf -lW "$ROOT$out/rmap" | grep -q 'Requesting program interpreter'; then
		krp_die "$ROOT$out/rmap is not static"
	fi
	cp "$ROOT$out/rmap" "$BIN/rmap.tmp"
	mv "$BIN/rmap.tmp" "$BIN/rmap"
	# shellcheck disable=SC2016 # dpkg-query's ${Version}
	ver=$(in_root dpkg-query -W -f='${Version}' "$PKG")
	echo "$PKG $ver" >"$BIN/rmap.SOURCE"
}

if [ "$force" = 1 ] || [ ! -x "$BIN/rmap" ]; then
	build_rmap
fi
echo "$BIN/rmap"
[ ${#kernels[@]} -gt 0 ] || exit 0

# ---- --run: boot each kernel RUNS times with plan-rmapst.sh ----

# kernel_image KERNEL: the image to boot (see -r in the usage).
kernel_image() {
	local line
	if [ -f "$1" ]; then
		echo "$1"
	else
		line=$(krp_kernel "$1") || krp_die "no kernel '$1'"
		echo "${line%% *}"
	fi
}

# label KERNEL: its name in the table and under rmapst-out/: the name
# given, or for an image path the file name (its folder's name when the
# file is a bzImage or vmlinuz, as in $KRP_CACHE/kernels/VARIANT-KEY/).
label() {
	local b
	[ -f "$1" ] || { echo "$1"; return; }
	b=$(basename "$1")
	case $b in
	bzImage | vmlinuz) basename "$(dirname "$(realpath "$1")")" ;;
	*) echo "$b" ;;
	esac
}

# is_stock KERNEL: a Debian kernel as shipped (expected to pass every test).
is_stock() {
	[ ! -f "$1" ] && [ "$(krp_kernel_row "$1" | awk '{print $2}')" = stock ]
}

krp_host_setup
# The plan loads no module: an empty stand-in fills krp_initramfs's slots.
: >"$ST/rmapst-none"
initrd=$ST/rmapst.cpio.gz
krp_initramfs_extra "$initrd" "$ST/rmapst-none" "$ST/rmapst-none" "$BIN/rmap"
TESTS=(anon shm file ksm ksm_and_mremap)
status=0
table=$ST/rmapst-table.txt
{
	printf '%-22s %-3s %-24s' kernel run guest
	for t in "${TESTS[@]}"; do printf ' %-16s' "$t"; done
	printf ' %8s %6s\n' "rmap s" "boot s"
} >"$table"
for k in "${kernels[@]}"; do
	img=$(kernel_image "$k")
	first=""
	for r in $(seq 1 "$runs"); do
		out=$ST/rmapst-out/$(label "$k")/$r
		krp_log "booting $k ($img), run $r of $runs"
		start=$SECONDS
		boot_rc=0
		krp_boot "$img" "$initrd" "$out" 1500 "krp.plan=rmapst" || boot_rc=$?
		took=$((SECONDS - start))
		verdicts=""
		row=$(printf '%-22s %-3s %-24s' "$(label "$k")" "$r" "$(cat "$out/uname" 2>/dev/null || echo '?')")
		for t in "${TESTS[@]}"; do
			v=$(awk -v n="migrate.$t" '$1 == n { print $2 " " $3 }' "$out/rmapst.times" 2>/dev/null)
			[ -n "$v" ] || v="missing -"
			verdicts+="${v%% *} "
			row+=$(printf ' %-16s' "${v% *} ${v#* }s")
			if is_stock "$k" && [ "${v%% *}" != ok ]; then status=1; fi
		done
		secs=$(sed -n 's/^# krp: exit [0-9]* after \([0-9.]*\) s$/\1/p' "$out/rmapst" 2>/dev/null)
		row+=$(printf ' %8s %6s' "${secs:-?}" "$took")
		echo "$row" >>"$table"
		if [ "$boot_rc" != 0 ]; then
			echo "error: $k run $r: the guest did not finish (qemu exit status $boot_rc; see $out/console.log)" >&2
			status=1
		fi
		if [ -z "$first" ]; then
			first=$verdicts
		elif [ "$verdicts" != "$first" ]; then
			echo "note: $k run $r: verdicts differ from run 1 ($verdicts vs $first)" >&2
			status=1
		fi
		if grep -q 'NOT as before' "$out/rmapst.ksm" 2>/dev/null; then
			echo "note: $k run $r: KSM state not restored: $(tr '\n' ' ' <"$out/rmapst.ksm")" >&2
			status=1
		fi
		if [ -n "$(krp_splats "$out/console.log" "$out/dmesg")" ]; then
			echo "kernel splats, $k run $r:" >&2
			krp_splats "$out/console.log" "$out/dmesg" | sed 's/^/  /' >&2
			status=1
		fi
	done
done
echo
echo "rmap selftest ($(cat "$BIN/rmap.SOURCE")), fixture migrate, no module; per test: verdict and seconds from RUN to result"
cat "$table"
echo "(outputs in $ST/rmapst-out/KERNEL/RUN/: rmapst is the TAP stream)"
exit "$status"
