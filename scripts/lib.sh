# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# lib.sh - host-side helpers shared by run-stock.sh and tests/run.sh:
# install what is missing, fetch the stock Debian kernel, build the module
# and the reproducer, pack a busybox initramfs, boot it under QEMU (TCG, two
# NUMA nodes) and collect what the guest wrote to its second serial port.
#
# Kernels of another architecture than the host's (arm64 on an amd64 host:
# the "arch" column of scripts/kernels.tsv) are cross-built for in the
# trixie chroot (its dpkg gets that architecture, never the host's) and
# booted with that architecture's QEMU.  Only krp_stock_kernel reads the
# column; what comes after follows what it fetched: the module's
# architecture from its headers, the initramfs's from the module, QEMU's
# from the kernel image.
#
# Source it; do not run it.  Everything built goes to $KRP_CACHE
# (default ${XDG_CACHE_HOME:-$HOME/.cache}/ksm_rmap_probe).

KRP_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The module's sources: its C files (what checkpatch checks) and, with
# Kbuild, what a build copies.
KRP_C_SOURCES=(ksm_rmap_probe.c ksm_rmap_probe.h ksm_rmap_probe_quirks.h
	ksm_rmap_probe_stats.h ksm_rmap_probe_trace.h)
KRP_SOURCES=("${KRP_C_SOURCES[@]}" Kbuild)
KRP_CACHE=${KRP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ksm_rmap_probe}
mkdir -p "$KRP_CACHE"

krp_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
krp_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

krp_sudo() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# krp_locked NAME CMD...: CMD under the exclusive lock NAME
# ($KRP_CACHE/locks/NAME), so that the test suite's parallel jobs and a
# background kernel build never run apt, debootstrap or dkms in the same
# place at once.  CMD runs in a subshell: its output and status pass
# through, its variables do not.  Never take a lock twice in one chain.
krp_locked() {
	local name=$1
	shift
	mkdir -p "$KRP_CACHE/locks"
	(
		flock 9 || krp_die "cannot lock $KRP_CACHE/locks/$name"
		"$@"
	) 9>"$KRP_CACHE/locks/$name"
}

# krp_need_pkgs PKG...: apt-get install the packages not yet installed.
krp_need_pkgs() { krp_locked host-apt krp_need_pkgs_locked "$@"; }
krp_need_pkgs_locked() {
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

# krp_kmake_init [CROSS_COMPILE]: KRP_KMAKE, the make command for the kernels we build
# (build-kernel.sh, build-tree.sh; "${KRP_KMAKE[@]}" -C SRC O=OBJ ...,
# one process, so $! of it in the background is make's pid): gcc through
# ccache.  The cache lives in $KRP_CACHE/ccache and hashes paths under
# $KRP_CACHE relative to the build dir, so that two copies of one source
# share their objects: an own kernel and the same tree given to --tree, a
# patch and its parent.  KRP_CCACHE=0: plain gcc.
# shellcheck disable=SC2034 # KRP_KMAKE: used by the scripts that call it
krp_kmake_init() {
	if [ "${KRP_CCACHE:-1}" = 0 ]; then
		KRP_KMAKE=(make)
		return
	fi
	KRP_KMAKE=(env "CCACHE_DIR=$KRP_CACHE/ccache"
		"CCACHE_BASEDIR=$(realpath "$KRP_CACHE")" CCACHE_NOHASHDIR=1
		"CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-4G}" make "CC=ccache ${1:-}gcc")
}

# Host tools for building and booting.
krp_host_setup() {
	krp_need_pkgs qemu-system-x86 busybox-static cpio kmod gcc make libc6-dev \
		gzip
}

# ---- The kernel table (scripts/kernels.tsv) ----

KRP_TABLE=$KRP_TOP/scripts/kernels.tsv

# krp_table: the table's kernel rows, "name kind from what walk sets arch";
# krp_rows: every row, the source rows (kind "source") too.
krp_table() { krp_rows | awk '$2 != "source"'; }
krp_rows() { grep -Ev '^[[:space:]]*(#|$)' "$KRP_TABLE"; }

# krp_source_pkg USE: the linux-source package the table's source rows
# give for USE (checkpatch, selftests, rmapst).
krp_source_pkg() {
	local p
	p=$(krp_rows | awk -v u="$1" '$2 == "source" && "," $6 "," ~ "," u "," {print $4; exit}')
	[ -n "$p" ] || krp_die "scripts/kernels.tsv has no source row for $1"
	echo "$p"
}

# krp_kernel_row NAME: NAME's row, or die naming the known kernels.  A
# kernel given by path has the row "ID path DIR - WALK - amd64"
# (krp_kernel_id; x86-64 builds only, for now).
krp_kernel_row() {
	local row dir
	row=$(krp_table | awk -v n="$1" '$1 == n')
	if [ -z "$row" ] && [ -L "$KRP_CACHE/paths/$1" ]; then
		dir=$(readlink "$KRP_CACHE/paths/$1")
		row="$1 path $dir - $(krp_path_walk "$dir") - $(krp_kdir_arch - "$dir")"
	fi
	[ -n "$row" ] ||
		krp_die "unknown kernel '$1' (scripts/kernels.tsv has: $(krp_table | awk '{printf "%s%s", s, $1; s=" "}'); or give a built kernel tree's path, with a /)"
	echo "$row"
}

# ---- Kernels given by path: a built tree or O= build dir ----

# krp_is_path K: K names a directory (it has a slash), not a table row.
krp_is_path() { [[ $1 == */* ]]; }

# krp_kernel_id K: the name scripts use for kernel K: a table name as is;
# for a path, its release (make kernelrelease) and, in a git tree, git
# describe, made safe for a file name, with a hash of the absolute path.
# Every later lookup of that name (krp_kernel_row, krp_kernel) finds the
# path again ($KRP_CACHE/paths/NAME).  A path is checked here
# (krp_path_kernel), before anything boots.

# krp_kernel_ids LIST: comma list LIST as krp_kernel_id names, comma-separated.
krp_kernel_ids() {
	local k id out=
	IFS=, read -r -a _krp_ids <<<"$1"
	for k in "${_krp_ids[@]}"; do
		[ -n "$k" ] || continue
		id=$(krp_kernel_id "$k") || exit 1
		out=${out:+$out,}$id
	done
	echo "$out"
}
krp_kernel_id() {
	local dir rel src desc id
	if ! krp_is_path "$1"; then
		krp_kernel_row "$1" >/dev/null
		echo "$1"
		return
	fi
	[ -d "$1" ] || krp_die "kernel path $1: no such directory"
	dir=$(cd "$1" && pwd)
	[[ $dir != *[[:space:]]* ]] || krp_die "kernel path '$dir': white space in a path is not supported"
	rel=$(cat "$dir/include/config/kernel.release" 2>/dev/null) ||
		krp_die "$dir is not a built kernel tree (no include/config/kernel.release: run make there, or pass its O= build directory)"
	src=$(krp_path_source "$dir")
	desc=
	[ -z "$src" ] || desc=$(git --no-optional-locks -C "$src" describe --always --dirty 2>/dev/null) || desc=
	# scripts/build-tree.sh keeps the tree's git describe beside its build
	[ -n "$desc" ] || desc=$(cat "$dir/.krp-describe" 2>/dev/null) || desc=
	id=$rel${desc:+-$desc}
	id=${id//[^A-Za-z0-9._+-]/_}-$(printf %s "$dir" | sha256sum | cut -c1-6)
	krp_path_kernel "$dir" >/dev/null || exit 1
	mkdir -p "$KRP_CACHE/paths"
	ln -sfn "$dir" "$KRP_CACHE/paths/$id"
	echo "$id"
}

# krp_path_source DIR: the source tree of build dir DIR (itself, or its
# "source" link for an O= build), or nothing.
krp_path_source() {
	if [ -f "$1/mm/ksm.c" ]; then echo "$1"
	elif [ -f "$1/source/mm/ksm.c" ]; then (cd "$1/source" && pwd)
	fi
}

# krp_path_walk DIR: the range DIR's rmap_walk_ksm() walks, read from its
# source (full, index, v3, v3-fallback: both v3's range and the whole
# one; unknown without a source or another shape).
krp_path_walk() {
	local src
	src=$(krp_path_source "$1")
	[ -n "$src" ] || { echo unknown; return; }
	awk '/^void rmap_walk_ksm\(/ { f = 1 } f { print } f && /^}/ { exit }' "$src/mm/ksm.c" |
		awk '/linear_page_index/ { i = 1 } /ULONG_MAX/ { u = 1 }
			/address >> PAGE_SHIFT|addr >> PAGE_SHIFT/ { v = 1 }
			END { print i ? "index" : v && u ? "v3-fallback" : v ? "v3" : u ? "full" : "unknown" }'
}

# The options the module, the guest and the workloads need; each group
# "GROUP: OPTION... | ALTERNATIVE" (one of the alternatives is enough).
KRP_CONFIG_NEEDS='module: MODULES MODULE_UNLOAD KPROBES KRETPROBES KALLSYMS DEBUG_FS KSM
guest: BLK_DEV_INITRD RD_GZIP DEVTMPFS TMPFS PROC_FS SYSFS BINFMT_ELF SERIAL_8250_CONSOLE|SERIAL_AMBA_PL011_CONSOLE
main: MIGRATION ADVISE_SYSCALLS NUMA ACPI_NUMA|NUMA_EMU|OF_NUMA
arm64: SERIAL_AMBA_PL011_CONSOLE PCI_HOST_GENERIC VIRTIO_PCI VIRTIO_CONSOLE
oracle: FTRACE KPROBE_EVENTS HIST_TRIGGERS
reclaim: SWAP MEMCG BLK_DEV_RAM|ZRAM'

# krp_config_missing CONFIG GROUP...: one line for each option of GROUPs
# that .config CONFIG lacks (set to neither y nor m).
krp_config_missing() {
	local cfg=$1 g opt alt ok
	shift
	for g in "$@"; do
		for opt in $(echo "$KRP_CONFIG_NEEDS" | sed -n "s/^$g: //p"); do
			ok=0
			for alt in ${opt//|/ }; do
				! grep -qE "^CONFIG_$alt=[ym]$" "$cfg" || ok=1
			done
			[ "$ok" = 1 ] || echo "CONFIG_${opt//|/ or CONFIG_} ($g)"
		done
	done
}

# krp_path_kernel DIR: a built kernel at DIR, checked: "IMAGE KDIR -".
# Refused, one line per missing piece or option, before anything boots.
krp_path_kernel() {
	local dir=$1 img miss l arch groups=(module guest main)
	[ -s "$dir/.config" ] || krp_die "$dir: no .config"
	arch=$(krp_kdir_arch - "$dir") || exit 1
	img=$dir/$(krp_arch_image "$arch")
	[ -s "$img" ] || krp_die "$dir: no $(krp_arch_image "$arch") (build it with make $(basename "$img") modules)"
	[ -s "$dir/Module.symvers" ] ||
		krp_die "$dir: no Module.symvers (make modules there first: the module is built against it)"
	# the guest's results go to a virtio console on arm64's virt machine
	[ "$arch" = amd64 ] || groups+=("$arch")
	miss=$(krp_config_missing "$dir/.config" "${groups[@]}")
	if [ -n "$miss" ]; then
		while IFS= read -r l; do
			echo "error: $dir/.config lacks $l" >&2
		done <<<"$miss"
		krp_die "kernel $dir cannot run ksm_rmap_probe's guests: merge scripts/kernel.config$([ "$arch" = amd64 ] || echo " and scripts/kernel-$arch.config") into its .config (scripts/kconfig/merge_config.sh -O $dir $dir/.config $KRP_TOP/scripts/kernel.config$([ "$arch" = amd64 ] || echo " $KRP_TOP/scripts/kernel-$arch.config")), rebuild, or use scripts/build-kernel.sh --tree"
	fi
	echo "$img $dir -"
}

# krp_patch_files PATCH: the files a patch touches, one a line.
krp_patch_files() {
	sed -n -e 's/^--- a\/\([^[:space:]]*\).*/\1/p' -e 's/^+++ b\/\([^[:space:]]*\).*/\1/p' "$1" |
		sort -u
}

# krp_kernel_walk NAME: the range NAME walks (full, v3, index, v3-fallback).
krp_kernel_walk() { krp_kernel_row "$1" | awk '{print $5}'; }

# krp_kernel_arch NAME: NAME's Debian architecture (amd64, arm64).
krp_kernel_arch() { krp_kernel_row "$1" | awk '{print $7}'; }

# ---- Architectures ----

# krp_host_arch: the host's Debian architecture.
krp_host_arch() { dpkg --print-architecture; }

# krp_arch_triplet ARCH: the GNU triplet of Debian architecture ARCH.
krp_arch_triplet() {
	case $1 in
	amd64) echo x86_64-linux-gnu ;;
	arm64) echo aarch64-linux-gnu ;;
	*) krp_die "unsupported architecture '$1' (amd64 and arm64 only)" ;;
	esac
}

# krp_arch_image ARCH: where a kernel build dir of ARCH has its boot image.
krp_arch_image() {
	case $1 in
	amd64) echo arch/x86/boot/bzImage ;;
	arm64) echo arch/arm64/boot/Image ;;
	*) krp_die "unsupported architecture '$1' (amd64 and arm64 only)" ;;
	esac
}

# krp_kernel_srcarch ARCH: the kernel's name (make ARCH=) for Debian's ARCH.
krp_kernel_srcarch() {
	case $1 in
	amd64) echo x86 ;;
	arm64) echo arm64 ;;
	*) krp_die "unsupported architecture '$1' (amd64 and arm64 only)" ;;
	esac
}

# krp_qemu_pkg ARCH, krp_qemu ARCH: the Debian package and the QEMU
# system emulator for guests of ARCH.
krp_qemu_pkg() {
	case $1 in
	amd64) echo qemu-system-x86 ;;
	arm64) echo qemu-system-arm ;;
	*) krp_die "unsupported architecture '$1' (amd64 and arm64 only)" ;;
	esac
}
krp_qemu() {
	case $1 in
	amd64) echo qemu-system-x86_64 ;;
	arm64) echo qemu-system-aarch64 ;;
	*) krp_die "unsupported architecture '$1' (amd64 and arm64 only)" ;;
	esac
}

# krp_elf_arch FILE: the Debian architecture of ELF FILE (a module or a
# program), from its e_machine; "" if FILE is not an ELF file.
krp_elf_arch() {
	[ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = 177ELF ] || return 0
	case $(od -An -j18 -N2 -tu2 "$1" | tr -d ' ') in
	62) echo amd64 ;;
	183) echo arm64 ;;
	*) krp_die "$1: an ELF file neither for x86-64 nor for arm64" ;;
	esac
}

# krp_image_arch KERNEL: the Debian architecture of a boot image: an
# arm64 Image has "ARMd" at offset 56, an x86 bzImage "HdrS" at 514
# (Documentation/arch/arm64/booting.rst, Documentation/arch/x86/boot.rst).
krp_image_arch() {
	if [ "$(od -An -c -j56 -N4 "$1" 2>/dev/null | tr -d ' ')" = ARMd ]; then
		echo arm64
	elif [ "$(od -An -c -j514 -N4 "$1" 2>/dev/null | tr -d ' ')" = HdrS ]; then
		echo amd64
	else
		krp_die "$1: neither an arm64 Image nor an x86 bzImage"
	fi
}

# krp_kdir_arch ROOT KDIR: the Debian architecture that the kernel build
# dir (or headers) KDIR inside ROOT ("-": on the host) is configured for.
krp_kdir_arch() {
	local cfg=$2/.config
	[ "$1" = - ] || cfg=$1$cfg
	if grep -qx 'CONFIG_ARM64=y' "$cfg" 2>/dev/null; then
		echo arm64
	elif grep -qx 'CONFIG_X86_64=y' "$cfg" 2>/dev/null; then
		echo amd64
	else
		krp_die "$cfg: neither CONFIG_ARM64 nor CONFIG_X86_64 (or no such file)"
	fi
}

# krp_kernels_in SET: the kernels of default list SET, comma-separated.
krp_kernels_in() {
	krp_table | awk -v s="$1" '"," $6 "," ~ "," s "," {printf "%s%s", c, $1; c=","}'
}

# krp_source_suite PKG: the Debian suite whose chroot fetches linux-source
# package PKG (scripts/build-kernel.sh, rmap-selftest.sh): the "from" of
# its source row in the table.
krp_source_suite() {
	local s
	s=$(krp_rows | awk -v p="$1" '$2 == "source" && $4 == p {print $3; exit}')
	[ -n "$s" ] || krp_die "$1: scripts/kernels.tsv has no source row for it"
	echo "$s"
}

# ---- Debian chroots that build modules for Debian's stock kernels ----

# krp_archive_uri: the Debian archive this host's apt uses.
krp_archive_uri() {
	local uri
	uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '/^URIs:/ {print $2; exit}')
	[ -n "$uri" ] || uri=$(awk '$1 == "deb" && $0 !~ /security/ {print $2; exit}' \
		/etc/apt/sources.list 2>/dev/null)
	[ -n "$uri" ] || krp_die "cannot find the Debian archive in the host's apt sources"
	echo "$uri"
}

# krp_in_chroot ROOT CMD...: CMD inside ROOT, with /proc mounted (objtool
# reads it) in a private mount namespace, so nothing stays mounted.
krp_in_chroot() {
	local root=$1
	shift
	# shellcheck disable=SC2016 # expanded by the inner sh
	krp_sudo unshare --mount --propagation private sh -c \
		'mount -t proc proc "$0/proc" && exec chroot "$@"' "$root" "$root" "$@"
}

# krp_chroot SUITE: a minimal Debian chroot for the release of SUITE
# (bookworm, trixie-backports -> trixie) under $KRP_CACHE/chroot, made once
# with debootstrap, with gcc, make and kmod; prints its path.  Its apt
# sources are its own: the host's are never changed.  On a host of the same
# release it copies the host's sources (security updates included).
krp_chroot() {
	local rel=${1%%-*}
	[ -e "$KRP_CACHE/chroot/$rel/.krp-ready" ] ||
		krp_locked "chroot-$rel" krp_chroot_make "$rel" >/dev/null || exit 1
	echo "$KRP_CACHE/chroot/$rel"
}

# krp_chroot_make REL: krp_chroot's work, under its lock.
krp_chroot_make() {
	local rel=$1 dir uri host
	dir=$KRP_CACHE/chroot/$rel
	if [ ! -e "$dir/.krp-ready" ]; then
		krp_need_pkgs debootstrap
		uri=$(krp_archive_uri)
		host=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
		krp_log "creating a Debian $rel chroot in $dir (debootstrap; once, about a minute)"
		krp_sudo rm -rf "$dir"
		mkdir -p "$KRP_CACHE/chroot"
		krp_sudo debootstrap --variant=minbase "$rel" "$dir" "$uri" \
			>"$KRP_CACHE/chroot/$rel.log" 2>&1 ||
			krp_die "debootstrap $rel failed (see $KRP_CACHE/chroot/$rel.log)"
		if [ "$rel" = "$host" ]; then
			krp_sudo cp /etc/apt/sources.list.d/*.sources "$dir/etc/apt/sources.list.d/" 2>/dev/null || true
			[ ! -s /etc/apt/sources.list ] || krp_sudo cp /etc/apt/sources.list "$dir/etc/apt/"
		else
			printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-backports main\n' \
				"$uri" "$rel" "$uri" "$rel" "$uri" "$rel" |
				krp_sudo tee "$dir/etc/apt/sources.list" >/dev/null
		fi
		krp_sudo chroot "$dir" apt-get update -q >"$KRP_CACHE/chroot/$rel.apt.log" 2>&1 ||
			krp_die "apt-get update in $dir failed (see $KRP_CACHE/chroot/$rel.apt.log)"
		touch "$KRP_CACHE/chroot/$rel.updated"
		krp_chroot_pkgs "$dir" gcc make libc6-dev kmod xz-utils dwarves perl python3
		krp_sudo touch "$dir/.krp-ready"
	fi
	echo "$dir"
}

# krp_arch_chroot ARCH: the chroot that builds for ARCH: the trixie one;
# for a foreign ARCH with ARCH added to its dpkg (never the host's) and
# the cross compiler and its libc installed (once); prints its path.
krp_arch_chroot() {
	local arch=$1 root
	root=$(krp_chroot trixie-backports) || exit 1
	if [ "$arch" != "$(krp_host_arch)" ] && [ ! -e "$root/.krp-arch-$arch" ]; then
		krp_locked "arch-$arch" krp_arch_add "$root" "$arch" || exit 1
	fi
	echo "$root"
}

# krp_arch_add ROOT ARCH: krp_arch_chroot's work, under its lock.
krp_arch_add() {
	local root=$1 arch=$2 triplet
	[ ! -e "$root/.krp-arch-$arch" ] || return 0
	triplet=$(krp_arch_triplet "$arch")
	krp_log "adding $arch to the trixie chroot's dpkg, with $triplet-gcc (once)"
	krp_locked "apt-$(basename "$root")" krp_sudo chroot "$root" dpkg --add-architecture "$arch"
	krp_locked "apt-$(basename "$root")" krp_sudo chroot "$root" apt-get update -q \
		>"$KRP_CACHE/chroot/trixie.$arch.log" 2>&1 ||
		krp_die "apt-get update in $root failed (see $KRP_CACHE/chroot/trixie.$arch.log)"
	touch "$KRP_CACHE/chroot/trixie.updated"
	# gcc-14 by name: Debian's headers call $(CROSS_COMPILE)gcc-14
	krp_chroot_pkgs "$root" "gcc-$triplet" "gcc-14-$triplet" \
		"libc6-dev-$arch-cross"
	krp_sudo touch "$root/.krp-arch-$arch"
}

# krp_busybox ARCH: a static busybox for ARCH: the host's (busybox-static)
# for the host's architecture, else Debian's busybox-static:ARCH fetched
# in the trixie chroot and unpacked into $KRP_CACHE/busybox-ARCH.
krp_busybox() {
	local arch=$1 root dir=$KRP_CACHE/busybox-$1
	if [ "$arch" = "$(krp_host_arch)" ]; then
		echo /bin/busybox
		return
	fi
	if [ ! -x "$dir/usr/bin/busybox" ]; then
		root=$(krp_arch_chroot "$arch") || exit 1
		krp_locked "busybox-$arch" krp_busybox_fetch "$root" "$arch" "$dir" || exit 1
	fi
	echo "$dir/usr/bin/busybox"
}

# krp_busybox_fetch ROOT ARCH DIR: krp_busybox's download, under its lock.
krp_busybox_fetch() {
	local root=$1 arch=$2 dir=$3
	if [ ! -x "$dir/usr/bin/busybox" ]; then
		krp_sudo rm -rf "$root/tmp/krp-bb"
		krp_sudo mkdir -p "$root/tmp/krp-bb"
		# shellcheck disable=SC2016 # the inner sh's $1
		krp_sudo chroot "$root" sh -c 'cd /tmp/krp-bb && apt-get download "$1"' \
			sh "busybox-static:$arch" >"$KRP_CACHE/busybox-$arch.log" 2>&1 ||
			krp_die "apt-get download busybox-static:$arch failed (see $KRP_CACHE/busybox-$arch.log)"
		# unpacked aside, renamed: others test it with -x, unlocked
		rm -rf "$dir" "$dir.tmp"
		mkdir -p "$dir.tmp"
		dpkg-deb -x "$root"/tmp/krp-bb/*.deb "$dir.tmp"
		mv "$dir.tmp" "$dir"
		krp_sudo rm -rf "$root/tmp/krp-bb"
		[ -x "$dir/usr/bin/busybox" ] || krp_die "no usr/bin/busybox in busybox-static:$arch"
	fi
}

# krp_chroot_pkgs ROOT PKG...: apt-get install PKG... inside ROOT.
krp_chroot_pkgs() { krp_locked "apt-$(basename "$1")" krp_chroot_pkgs_locked "$@"; }
krp_chroot_pkgs_locked() {
	local root=$1 log
	shift
	log=$KRP_CACHE/chroot/$(basename "$root").apt.log
	[ -x "$root/usr/bin/dpkg-query" ] || krp_die "$root is not a Debian chroot"
	if ! krp_sudo chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get \
		install -y -q --no-install-recommends "$@" >"$log" 2>&1; then
		krp_sudo chroot "$root" apt-get update -q >>"$log" 2>&1 ||
			krp_die "apt-get update in $root failed (see $log)"
		krp_sudo chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get \
			install -y -q --no-install-recommends "$@" >>"$log" 2>&1 ||
			krp_die "apt-get install $* in $root failed (see $log)"
	fi
}

# krp_chroot_apt ROOT ARGS...: apt-cache ARGS... inside ROOT (its package
# lists refreshed when older than six hours).
krp_chroot_apt() { krp_locked "apt-$(basename "$1")" krp_chroot_apt_locked "$@"; }
krp_chroot_apt_locked() {
	local root=$1 stamp
	shift
	stamp=$KRP_CACHE/chroot/$(basename "$root").updated
	if [ -z "$(find "$stamp" -mmin -360 2>/dev/null)" ]; then
		if krp_sudo chroot "$root" apt-get update -q >/dev/null 2>&1; then
			touch "$stamp"
		else
			krp_log "warning: apt-get update in $root failed; using its old lists"
		fi
	fi
	krp_sudo chroot "$root" apt-cache "$@"
}

# ---- Stock kernels ----

# krp_stock_version NAME: the release of stock kernel NAME: a release in
# KRP_STOCK_VERSION that matches its regex, else the newest one whose
# headers its suite has.
krp_stock_version() {
	local kind re root list v
	read -r _ kind _ re _ <<<"$(krp_kernel_row "$1")"
	[ "$kind" = stock ] || krp_die "$1 is not a stock kernel"
	for v in ${KRP_STOCK_VERSION:-}; do
		if [[ $v =~ ^$re$ ]]; then
			echo "$v"
			return
		fi
	done
	root=$(krp_stock_chroot "$1") || exit 1
	list=$(krp_chroot_apt "$root" search --names-only "^linux-headers-" |
		sed -En "s/^linux-headers-($re) .*/\1/p")
	[ -n "$list" ] || krp_die "no linux-headers package for $1 ($re) in $from"
	echo "$list" | sort -V | tail -n 1
}

# krp_stock_chroot NAME: the chroot that fetches and builds for stock
# kernel NAME: its suite's; for a foreign architecture (its row's arch)
# the trixie one, given that architecture (krp_arch_chroot), and the host
# gets that architecture's QEMU.  Prints its path.
krp_stock_chroot() {
	local from arch
	read -r _ _ from _ <<<"$(krp_kernel_row "$1")"
	arch=$(krp_kernel_arch "$1")
	if [ "$arch" = "$(krp_host_arch)" ]; then
		krp_chroot "$from"
		return
	fi
	[ "$from" = trixie-backports ] ||
		krp_die "$1: $arch kernels come from trixie-backports only (not $from)"
	krp_need_pkgs "$(krp_qemu_pkg "$arch")"
	krp_arch_chroot "$arch"
}

# krp_stock_kernel NAME [RELEASE]: fetch stock kernel NAME (its newest
# release, or RELEASE) with apt-get download into $KRP_CACHE/stock/RELEASE
# and unpack its headers into the chroot of its release (dpkg-deb -x:
# nothing is installed, no image on the host or in the chroot).  Prints
# "VMLINUZ KDIR ROOT RELEASE": KDIR is the headers' path inside ROOT.
# For a foreign architecture these are Debian's own cross-building set:
# the headers of that architecture with the host's linux-kbuild
# (Multi-Arch: foreign), whose Makefile sets ARCH and CROSS_COMPILE.
krp_stock_kernel() {
	local name=$1 ver=${2:-} root dir
	[ -n "$ver" ] || ver=$(krp_stock_version "$name") || exit 1
	[ -n "$ver" ] || krp_die "no release found for $name"
	root=$(krp_stock_chroot "$name") || exit 1
	dir=$KRP_CACHE/stock/$ver
	# the fetch uses the chroot's /tmp: one at a time per chroot
	if [ ! -e "$dir/.krp-ready" ] || [ ! -s "$dir/brd.ko" ]; then
		krp_locked "stock-$(basename "$root")" krp_stock_fetch "$name" "$ver" "$root" ||
			exit 1
	fi
	echo "$dir/vmlinuz /usr/src/linux-headers-$ver $root $ver"
}

# krp_stock_fetch NAME RELEASE ROOT: krp_stock_kernel's download and
# unpacking, under its lock.
krp_stock_fetch() {
	local name=$1 ver=$2 root=$3 dir=$KRP_CACHE/stock/$2 debs d pkgs
	if [ ! -e "$dir/.krp-ready" ]; then
		krp_log "$name: fetching Debian's $ver (image and headers, apt-get download)"
		# the headers and what they need of their own (common, kbuild);
		# a dependency without its ":ARCH" comes in the host's
		# architecture: linux-kbuild's tools run here
		pkgs=$(krp_chroot_apt "$root" depends --no-recommends --no-suggests \
			"linux-headers-$ver" 2>/dev/null |
			sed -En 's/^ *\|?Depends: <?(linux-(headers|kbuild)-[^ :>]+).*/\1/p' | sort -u)
		if krp_chroot_apt "$root" show "linux-image-$ver-unsigned" >/dev/null 2>&1; then
			pkgs="$pkgs linux-image-$ver-unsigned"
		else
			pkgs="$pkgs linux-binary-$ver"	# 7.x: the image proper
		fi
		krp_sudo rm -rf "$root/tmp/krp-debs"
		krp_sudo mkdir -p "$root/tmp/krp-debs"
		# shellcheck disable=SC2086 # a list of package names
		krp_sudo chroot "$root" sh -c 'cd /tmp/krp-debs && apt-get download "$@"' \
			sh "linux-headers-$ver" $pkgs >"$KRP_CACHE/stock-$ver.log" 2>&1 ||
			krp_die "apt-get download of $ver failed (see $KRP_CACHE/stock-$ver.log)"
		rm -rf "$dir"
		mkdir -p "$dir/image"
		for d in "$root"/tmp/krp-debs/*.deb; do
			case $(basename "$d") in
			linux-image-* | linux-binary-*) dpkg-deb -x "$d" "$dir/image" ;;
			linux-kbuild-*)	# the build tools: installed, for their libraries
				krp_chroot_pkgs "$root" "/tmp/krp-debs/$(basename "$d")" ;;
			*)	# a -common part other flavours share may be in use
				# by another job's build: never unpacked over
				[ ! -d "$root/usr/src/$(basename "${d%%_*}")" ] || continue
				# keep the chroot's /lib -> usr/lib (merged /usr)
				dpkg-deb --fsys-tarfile "$d" |
					krp_sudo tar -x --keep-directory-symlink -C "$root" ||
					krp_die "cannot unpack $(basename "$d") into $root" ;;
			esac
		done
		krp_sudo rm -rf "$root/tmp/krp-debs"
		debs=$(find "$dir/image" -name 'vmlinuz*' -type f | head -n 1)
		[ -n "$debs" ] || krp_die "no vmlinuz in the image package of $ver"
		ln -sf "${debs#"$dir/"}" "$dir/vmlinuz"
		[ -d "$root/usr/src/linux-headers-$ver" ] ||
			krp_die "no /usr/src/linux-headers-$ver in $root after unpacking"
		[ "$(krp_image_arch "$dir/vmlinuz")" = "$(krp_kernel_arch "$name")" ] ||
			krp_die "$name: the image of $ver is not for $(krp_kernel_arch "$name") (scripts/kernels.tsv)"
		touch "$dir/.krp-ready"
	fi
	[ -s "$dir/brd.ko" ] || krp_stock_brd "$ver" "$root" "$dir"
}

# krp_stock_brd RELEASE ROOT DIR: brd.ko of stock kernel RELEASE (a RAM
# disk to swap on, for the reclaim tests), decompressed into DIR/brd.ko:
# from the image package (6.x, already unpacked) or linux-modules-RELEASE
# (7.x, only that file taken).  A kernel without it just has no swap tests.
krp_stock_brd() {
	local ver=$1 root=$2 dir=$3 f
	f=$(find "$dir/image" -name 'brd.ko*' 2>/dev/null | head -n 1)
	if [ -z "$f" ]; then
		krp_sudo rm -rf "$root/tmp/krp-mods"
		krp_sudo mkdir -p "$root/tmp/krp-mods"
		# shellcheck disable=SC2016 # the inner sh's $1
		if krp_sudo chroot "$root" sh -c 'cd /tmp/krp-mods && apt-get download "$1"' \
			sh "linux-modules-$ver" >>"$KRP_CACHE/stock-$ver.log" 2>&1; then
			mkdir -p "$dir/modules"
			dpkg-deb --fsys-tarfile "$root"/tmp/krp-mods/*.deb |
				tar -x -C "$dir/modules" --wildcards '*/drivers/block/brd.ko*' 2>/dev/null || true
		fi
		krp_sudo rm -rf "$root/tmp/krp-mods"
		f=$(find "$dir/modules" -name 'brd.ko*' 2>/dev/null | head -n 1)
	fi
	case $f in
	'') krp_log "no brd.ko for $ver: no swap tests there"; return 0 ;;
	*.xz) xz -dc "$f" >"$dir/brd.ko.tmp" ;;
	*.zst) zstd -qdc "$f" >"$dir/brd.ko.tmp" ;;
	*) cp "$f" "$dir/brd.ko.tmp" ;;
	esac
	mv -f "$dir/brd.ko.tmp" "$dir/brd.ko"	# others test it with -s, unlocked
}

# krp_build_module KDIR OUTDIR [ROOT [MAKEARGS...]]: build ksm_rmap_probe.ko
# out of the source tree (one copy per kernel, so several kernels never
# share objects); prints its path.  With a ROOT other than "-" the build
# runs in that chroot (KDIR is a path inside it), OUTDIR bound into it.
# MAKEARGS (e.g. W=1 C=2) go to make; the build log is OUTDIR/build.log.
# For headers of another architecture than the host's, make gets ARCH and
# CROSS_COMPILE (the chroot has that compiler: krp_arch_chroot).
krp_build_module() {
	local kdir=$1 out=$2 root=${3:--}
	shift $(($# < 3 ? $# : 3))
	rm -rf "$out"
	mkdir -p "$out"
	(cd "$KRP_TOP" && cp "${KRP_SOURCES[@]}" "$out"/)
	krp_make_module "$kdir" "$out" "$root" ksm_rmap_probe.ko "$@"
}

# krp_build_test_module KDIR OUT [ROOT]: tests/krp_die (test only) likewise.
krp_build_test_module() {
	local kdir=$1 out=$2 root=${3:--}
	rm -rf "$out"
	mkdir -p "$out"
	cp "$KRP_TOP"/tests/krp_die/* "$out"/
	krp_make_module "$kdir" "$out" "$root" krp_die.ko
}

# krp_make_module KDIR OUT ROOT KO [MAKEARGS]: make the module in OUT
# against KDIR, on the host (ROOT "-") or in the chroot ROOT; print OUT/KO.
krp_make_module() {
	local kdir=$1 out=$2 root=$3 ko=$4 rc=0 arch
	shift 4
	arch=$(krp_kdir_arch "$root" "$kdir") || exit 1
	if [ "$arch" != "$(krp_host_arch)" ]; then
		set -- ARCH="$(krp_kernel_srcarch "$arch")" \
			CROSS_COMPILE="$(krp_arch_triplet "$arch")-" "$@"
		# a kernel by path, cross-built on this host: its cross compiler
		[ "$root" != - ] || krp_need_pkgs "gcc-$(krp_arch_triplet "$arch")"
	fi
	if [ "$root" = - ]; then
		make -s -C "$kdir" M="$out" "$@" modules >"$out/build.log" 2>&1 || rc=$?
	else
		krp_sudo mkdir -p "$root/krp-build"
		# shellcheck disable=SC2016 # expanded by the inner sh
		krp_sudo unshare --mount --propagation private sh -c \
			'mount -t proc proc "$0/proc" && mount --bind "$1" "$0/krp-build" &&
			shift && exec chroot "$@"' "$root" "$out" \
			"$root" make -s -C "$kdir" M=/krp-build "$@" modules \
			>"$out/build.log" 2>&1 || rc=$?
	fi
	if [ "$rc" != 0 ] || [ ! -s "$out/$ko" ]; then
		cat "$out/build.log" >&2
		krp_die "module build against $kdir failed${root#-}"
	fi
	echo "$out/$ko"
}

# krp_checkpatch: path of checkpatch.pl from the table's "checkpatch"
# source, a package of the host's own release (installed and unpacked,
# just the files checkpatch reads, on first use).
krp_checkpatch() {
	local dir=$KRP_CACHE/checkpatch pkg tarball
	if [ ! -x "$dir/scripts/checkpatch.pl" ]; then
		pkg=$(krp_source_pkg checkpatch)
		tarball=/usr/src/$pkg.tar.xz
		krp_need_pkgs "$pkg" perl
		mkdir -p "$dir"
		tar -xJf "$tarball" -C "$dir" --strip-components=1 \
			"$pkg/scripts/checkpatch.pl" \
			"$pkg/scripts/spelling.txt" \
			"$pkg/scripts/const_structs.checkpatch" ||
			krp_die "cannot unpack checkpatch.pl from $tarball"
	fi
	echo "$dir/scripts/checkpatch.pl"
}

# krp_build_static SRC OUTDIR [ARCH]: SRC (a C file of this tree) built
# static into OUTDIR, named after it; prints its path.  For an ARCH other
# than the host's it is cross-built in the trixie chroot, into OUTDIR/ARCH,
# with the headers next to SRC (scripts/krp_user.h).
krp_build_static() {
	local src=$KRP_TOP/$1 arch=${3:-} bin root tmp me=$BASHPID hdrs
	[ -n "$arch" ] || arch=$(krp_host_arch)
	# built aside and renamed: parallel jobs may build it at the same time
	# while another packs it ($BASHPID: a job is a subshell, whose $$ is
	# its parent's)
	if [ "$arch" = "$(krp_host_arch)" ]; then
		bin=$2/$(basename "$1" .c)
		mkdir -p "$2"
		gcc -O2 -static -Wall -Wextra -Werror -o "$bin.$me" "$src" ||
			krp_die "$1: build failed"
	else
		bin=$2/$arch/$(basename "$1" .c)
		mkdir -p "$2/$arch"
		root=$(krp_arch_chroot "$arch") || exit 1
		tmp=/tmp/krp-static-$me
		krp_sudo mkdir -p "$root$tmp"
		mapfile -t hdrs < <(find "$(dirname "$src")" -maxdepth 1 -name '*.h')
		krp_sudo cp "$src" "${hdrs[@]}" "$root$tmp/"
		krp_sudo chroot "$root" "$(krp_arch_triplet "$arch")-gcc" -O2 -static \
			-Wall -Wextra -Werror -o "$tmp/out" "$tmp/$(basename "$1")" ||
			{ krp_sudo rm -rf "${root:?}$tmp"; krp_die "$1: build for $arch failed"; }
		cp "$root$tmp/out" "$bin.$me" || krp_die "$1: cannot copy the $arch build out"
		krp_sudo rm -rf "${root:?}$tmp"
	fi
	mv -f "$bin.$me" "$bin" || krp_die "$1: cannot rename $bin.$me"
	echo "$bin"
}

# krp_build_repro OUTDIR [ARCH]: the static reproducer.
krp_build_repro() { krp_build_static scripts/ksm_rmap_repro.c "$@"; }

# krp_build_hunt OUTDIR [ARCH]: the static scenario generator of scripts/hunt.sh.
krp_build_hunt() { krp_build_static scripts/ksm_rmap_hunt.c "$@"; }

# krp_hunt_boot NAME OUTDIR TIMEOUT APPEND: boot kernel NAME of
# scripts/kernels.tsv with the module and ksm_rmap_hunt in the initramfs
# and the guest plan hunt (scripts/guest/plan-hunt.sh; APPEND: its krp.*
# parameters).  Returns krp_boot's status.
krp_hunt_boot() {
	local name=$1 out=$2 tmo=$3 append=$4 vmlinuz kdir root ko repro hunt brd
	local initrd=$KRP_CACHE/hunt-$1.cpio.gz
	read -r vmlinuz kdir root <<<"$(krp_kernel "$name")"
	[ -n "${root:-}" ] || krp_die "kernel $name is not available"
	ko=$(krp_build_module "$kdir" "$KRP_CACHE/build/hunt-$name" "$root")
	repro=$(krp_build_repro "$KRP_CACHE/bin" "$(krp_kernel_arch "$name")")
	hunt=$(krp_build_hunt "$KRP_CACHE/bin" "$(krp_kernel_arch "$name")")
	# a stock kernel's brd.ko, for reclaim walks (swap on a RAM disk)
	brd=$(dirname "$vmlinuz")/brd.ko
	[ -s "$brd" ] || brd=
	krp_initramfs_extra "$initrd" "$ko" "$repro" "$hunt" ${brd:+"$brd"}
	krp_boot "$vmlinuz" "$initrd" "$out" "$tmo" "krp.plan=hunt $append"
}

# krp_unreach_boot NAME OUTDIR TIMEOUT: boot kernel NAME of
# scripts/kernels.tsv with the module, tests/ksm_fork_unreachable.c and
# tests/ksm_migrate_unlisted.c in
# the initramfs and the guest plan unreach (scripts/guest/plan-unreach.sh).
# Returns krp_boot's status.
krp_unreach_boot() {
	local name=$1 out=$2 tmo=$3 vmlinuz kdir root ko repro prog prog2 brd arch
	local initrd=$KRP_CACHE/unreach-$1.cpio.gz
	read -r vmlinuz kdir root <<<"$(krp_kernel "$name")"
	[ -n "${root:-}" ] || krp_die "kernel $name is not available"
	ko=$(krp_build_module "$kdir" "$KRP_CACHE/build/unreach-$name" "$root")
	arch=$(krp_kernel_arch "$name")
	repro=$(krp_build_repro "$KRP_CACHE/bin" "$arch")
	prog=$(krp_build_static tests/ksm_fork_unreachable.c "$KRP_CACHE/bin" "$arch")
	prog2=$(krp_build_static tests/ksm_migrate_unlisted.c "$KRP_CACHE/bin" "$arch")
	# a stock kernel's brd.ko, for the reclaim walk (swap on a RAM disk)
	brd=$(dirname "$vmlinuz")/brd.ko
	[ -s "$brd" ] || brd=
	krp_initramfs_extra "$initrd" "$ko" "$repro" "$prog" "$prog2" ${brd:+"$brd"}
	krp_boot "$vmlinuz" "$initrd" "$out" "$tmo" "krp.plan=unreach"
}

# krp_hunt_summary RESULTS: the totals of a hunt.results file (one line
# per scenario, scripts/guest/plan-hunt.sh): "SCENARIOS KSM_PAGES
# INCOMPLETE MISSES FALSE_POSITIVES ERRORS FLAGGED NEW UNMERG UNMERG_FLAGGED
# UNMERG_ANY INC_NO_UNMERG" (INCOMPLETE: scenarios with an incomplete walk; FLAGGED:
# misses the module called incomplete; NEW: misses with a stuck page of
# class new; UNMERG: misses whose stuck pages are all of class
# unmergeable, MISSES = NEW + UNMERG; UNMERG_FLAGGED: scenarios with a
# stuck page of class unmergeable that the module called incomplete, of
# UNMERG_ANY such scenarios; INC_NO_UNMERG: incomplete scenarios without
# one).  The class fields (ksm_rmap_hunt's stuck_new, stuck_unmergeable)
# missing from an old file count a miss as new.
krp_hunt_summary() {
	awk '
		{ delete v; for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
		{ n++; p += v["ksm_pages"]; inc1 = v["incomplete_walks"] + 0 > 0; inc += inc1
		  unm = v["stuck_unmergeable"] + 0 > 0
		  sn = ("stuck_new" in v) ? v["stuck_new"] + 0 : v["stuck"] + 0 }
		v["verdict"] == "miss" { m++; fl += inc1; if (sn > 0) nw++; else un++ }
		unm { ua++; uf += inc1 }
		inc1 && !unm { inu++ }
		v["verdict"] == "false_positive" { fp++ }
		v["verdict"] == "error" { e++ }
		END { print n + 0, p + 0, inc + 0, m + 0, fp + 0, e + 0, fl + 0,
			nw + 0, un + 0, uf + 0, ua + 0, inu + 0 }' "$1"
}

# krp_initramfs OUT KO REPRO: busybox userland, the guest scripts, the
# module, the reproducer and scripts/ksm-rmap-stat, as a gzipped newc cpio, for the module's
# architecture (the reproducer's if KO is an empty stand-in, else the
# host's): busybox is chosen for it, the reproducer must match it.
krp_initramfs() {
	local out=$1 ko=$2 repro=$3 root arch rarch bb
	arch=$(krp_elf_arch "$ko") || exit 1
	rarch=$(krp_elf_arch "$repro") || exit 1
	[ -n "$arch" ] || arch=${rarch:-$(krp_host_arch)}
	[ -z "$rarch" ] || [ "$rarch" = "$arch" ] ||
		krp_die "krp_initramfs: $repro is built for $rarch, $ko for $arch"
	bb=$(krp_busybox "$arch") || exit 1
	root=$(mktemp -d)
	mkdir -p "$root"/{bin,dev,proc,sys,tmp,krp}
	cp "$bb" "$root/bin/busybox"
	cp "$KRP_TOP"/scripts/guest/init "$root/init"
	cp "$KRP_TOP"/scripts/guest/*.sh "$KRP_TOP"/scripts/guest/*.awk "$root/krp/"
	cp "$ko" "$root/krp/ksm_rmap_probe.ko"
	cp "$repro" "$root/krp/ksm_rmap_repro"
	cp "$KRP_TOP"/scripts/ksm-rmap-stat "$root/krp/"
	chmod +x "$root/init" "$root/krp/"*.sh "$root/krp/ksm_rmap_repro" "$root/krp/ksm-rmap-stat"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
	rm -rf "$root"
}

# krp_guest_initrd KDIR NAME [ROOT]: module built against KDIR (in
# build/NAME; in chroot ROOT if given) and the reproducer, packed as
# $KRP_CACHE/NAME.cpio.gz; prints its path.
krp_guest_initrd() {
	local ko repro initrd=$KRP_CACHE/$2.cpio.gz
	ko=$(krp_build_module "$1" "$KRP_CACHE/build/$2" "${3:--}")
	repro=$(krp_build_repro "$KRP_CACHE/bin")
	krp_initramfs "$initrd" "$ko" "$repro"
	echo "$initrd"
}

# krp_boot VMLINUZ INITRD OUTDIR TIMEOUT APPEND: boot the guest with the
# QEMU of the image's architecture (x86-64 or arm64); its console goes to
# OUTDIR/console.log, its results port (ttyS1 on x86-64, hvc0 on arm64,
# named to the guest as krp.port=) to OUTDIR/serial.txt, which is then
# split into OUTDIR/<section> files.  Returns non-zero if QEMU failed or
# timed out.
#
# Single-threaded TCG by default: with one host thread per vCPU (QEMU 7.2,
# MTTCG) live kernel code patching is not safe in the guest -- toggling a
# plain ftrace kprobe event while another vCPU runs the patched function
# oopses the stock kernel with no module loaded (scripts/guest/
# plan-tcgcheck.sh shows it).  KRP_ACCEL overrides.
#
# KRP_ICOUNT=N adds -icount shift=N: the guest clock then advances 2^N ns
# per guest instruction, so every time the guest measures (hold times,
# ftrace timestamps) is an instruction count, the same from run to run
# whatever else the host is doing (it counts instructions, not cache
# misses).  Without it guest time is host time, which other processes on
# the host inflate.  Under icount QEMU 7.2 can leave the idle vCPU's timer
# unserved for seconds of guest time: the guest then reports an RCU stall
# (seen once in about a dozen icount boots, on an idle CPU, with nothing of
# ours on the stack).  Such boots suppress RCU stall reports; the test
# suite, which boots without icount, keeps them.  (One vCPU avoids it but
# lets other tasks preempt the walker inside the hold: max hold 0.80 ms
# instead of 0.11 ms for 2,000 VMAs on 7.2.)
krp_boot() {
	local kernel=$1 initrd=$2 out=$3 tmo=$4 append=$5 rc=0 arch t0=$SECONDS
	local -a icount=() machine=()
	arch=$(krp_image_arch "$kernel") || exit 1
	mkdir -p "$out"
	rm -f "$out"/* "$out/.times"
	if [ -n "${KRP_ICOUNT:-}" ]; then
		icount=(-icount "shift=$KRP_ICOUNT")
		append="$append rcupdate.rcu_cpu_stall_suppress=1"
	fi
	case $arch in
	amd64)	# the results on the second 16550, ttyS1
		machine=(-cpu max -smp "2,sockets=2,cores=1,threads=1"
			-serial "file:$out/console.log" -serial "file:$out/serial.txt")
		append="console=ttyS0 $append" ;;
	arm64)	# virt has one PL011 (ttyAMA0) for the console; the results go
		# to a virtio console on PCI, hvc0 (Debian's arm64 kernels have
		# VIRTIO_PCI and VIRTIO_CONSOLE built in, VIRTIO_MMIO only as a
		# module).  pauth-impdef: TCG's QARMA pointer authentication
		# costs every PACIASP/AUTIASP pair of the kernel dearly
		machine=(-M virt -cpu "max,pauth-impdef=on" -smp 2
			-serial "file:$out/console.log"
			-device virtio-serial-pci -chardev "file,id=krp,path=$out/serial.txt"
			-device "virtconsole,chardev=krp")
		append="console=ttyAMA0 krp.port=hvc0 $append" ;;
	esac
	timeout --foreground "$tmo" "$(krp_qemu "$arch")" \
		-accel "${KRP_ACCEL:-tcg,thread=single}" "${icount[@]}" -m 2G \
		-object memory-backend-ram,size=1G,id=m0 \
		-object memory-backend-ram,size=1G,id=m1 \
		-numa node,nodeid=0,memdev=m0,cpus=0 \
		-numa node,nodeid=1,memdev=m1,cpus=1 \
		"${machine[@]}" \
		-kernel "$kernel" -initrd "$initrd" \
		-append "panic=-1 oops=panic loglevel=5 $append" \
		-display none -monitor none -no-reboot \
		</dev/null >"$out/qemu.log" 2>&1 || rc=$?
	tr -d '\r' <"$out/serial.txt" | awk -v dir="$out" '
		/^=== BEGIN / { f = dir "/" $3; printf "" > f
			if ($4 ~ /^up=/) print $3, substr($4, 4) > (dir "/.times")
			next }
		/^=== END /   { close(f); f = ""; next }
		f != ""       { print > f }'
	krp_log "guest $(basename "$out"): $((SECONDS - t0)) s"
	[ "$rc" = 0 ] || krp_log "qemu exited with $rc (124 = timeout); see $out/console.log"
	return "$rc"
}

# krp_phase_times OUTDIR: how long each phase of a guest plan took, from
# the guest's uptime at each section's start ("split 12.3 fork 8.0 ...",
# seconds; a phase is a section's name up to its first dot).
krp_phase_times() {
	awk '{ p = $1; sub(/\..*/, "", p)
		if (p != cur) { if (cur != "") printf "%s %.1f ", cur, $2 - t; cur = p; t = $2 }
		last = $2 }
		END { if (cur != "") printf "%s %.1f\n", cur, last - t }' "$1/.times" 2>/dev/null || true
}

# krp_splats FILE...: print kernel splats found in the logs.
# ("RCU lockdep checking is enabled" is PROVE_RCU's boot banner, not a
# report; a kmemleak that turned itself off is one.)  One kernel race is
# left out, counted by krp_known_races instead.
krp_splats() {
	krp_drop_known_races "$@" |
		grep -hE 'BUG:|WARNING:|Oops|general protection|Call Trace|Kernel panic|lockdep|possible circular|possible recursive|INFO: task .* blocked|UBSAN|KASAN|kmemleak: [1-9]|kmemleak: (Memory pool empty|Cannot allocate|Kernel memory leak detector disabled)|RCU stall|rcu_sched self-detected|soft lockup|hard LOCKUP' |
		grep -v 'RCU lockdep checking is enabled' || true
}

# The known race: rmmod's try_stop_module() (kernel/module/main.c) drops
# the module's last reference before it sets MODULE_STATE_GOING; a
# debugfs open of one of the module's files in between finds the module
# neither usable nor going and WARNs "debugfs file owner did not clean up
# at exit" (fs/debugfs/file.c, full_proxy_open_regular), then fails with
# ENXIO.  Nothing of ours runs there; seen once in some 200 insmod/rmmod
# cycles under fire (7.2).  KRP_RACE_FILES: the module's debugfs names.
KRP_RACE_FILES='stats|stats\.json|walks|hist|reset|enable|count'

# krp_drop_known_races FILE...: the logs without the known race's
# reports (from "cut here" or the message to "end trace").
krp_drop_known_races() {
	awk -v re="debugfs file owner did not clean up at exit: ($KRP_RACE_FILES)\$" '
		{ sub(/\r$/, "") }	# the serial console ends lines with CR LF
		/------------\[ cut here \]------------/ { held = $0; next }
		$0 ~ re { skip = 1; held = ""; next }
		skip && /---\[ end trace/ { skip = 0; next }
		skip { next }
		held != "" { print held; held = "" }
		{ print }
		END { if (held != "") print held }' "$@" 2>/dev/null
}

# krp_known_races FILE...: how many times the known race was reported.
krp_known_races() {
	cat "$@" 2>/dev/null | tr -d '\r' |
		grep -cE "debugfs file owner did not clean up at exit: ($KRP_RACE_FILES)\$" || true
}

# krp_kv FILE KEY: value of "KEY: value" (stats) or "key=value" (repro).
krp_kv() {
	awk -v k="$2" '
		$1 == k ":" { print $2; exit }
		{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) {
			print substr($i, length(k) + 2); exit } }' "$1" 2>/dev/null || true
}

# krp_own_kernel VARIANT: our own kernel VARIANT (an own row of
# scripts/kernels.tsv), built from its linux-source package by
# scripts/build-kernel.sh (cached, so only the first call builds); prints
# "BZIMAGE KDIR".
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

# krp_kernel NAME: a kernel of scripts/kernels.tsv or of krp_kernel_id,
# ready to boot and to build the module for: "VMLINUZ KDIR ROOT" (ROOT: the
# chroot to build in, "-" for the host).  Stock kernels are fetched, own
# ones built (cached), path ones checked.
krp_kernel() {
	local kind from vmlinuz kdir root bz
	read -r _ kind from _ <<<"$(krp_kernel_row "$1")"
	if [ "$kind" = path ]; then
		krp_path_kernel "$from"
	elif [ "$kind" = stock ]; then
		read -r vmlinuz kdir root _ <<<"$(krp_stock_kernel "$1")"
		[ -n "${root:-}" ] || exit 1
		echo "$vmlinuz $kdir $root"
	else
		read -r bz kdir <<<"$(krp_own_kernel "$1")"
		[ -n "${kdir:-}" ] || exit 1
		echo "$bz $kdir -"
	fi
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
