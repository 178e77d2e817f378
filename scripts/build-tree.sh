#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build-tree.sh - build YOUR kernel source tree (mm-new, a patch series, a
# bisect point) for ksm_rmap_probe's guests, out of tree into the cache:
# DIR is never written.  Prints the build dir; pass it to -k of
# run-stock.sh, ab.sh, hunt.sh, bench.sh or tests/run.sh.
#
# usage: scripts/build-kernel.sh --tree DIR [--patch FILE]... [--config FILE] [--arch ARCH]
#   DIR            a kernel source tree: a git tree is taken as committed
#                  (git archive HEAD) plus its uncommitted changes to
#                  tracked files (git diff HEAD); any other tree as it is,
#                  which must be clean (make mrproper)
#   --patch FILE   apply FILE (patch -p1) on top, in the order given
#   --config FILE  start from FILE (e.g. your distro's config) instead of
#                  tinyconfig; scripts/kernel.config is merged either way
#   --arch ARCH    amd64 (default) or arm64: cross-built with Debian's
#                  gcc-aarch64-linux-gnu, scripts/kernel-arm64.config merged
#                  too (PL011, virtio console and PCI for QEMU's virt machine)
# examples:
#   b=$(scripts/build-kernel.sh --tree ~/src/linux)
#   p=$(scripts/build-kernel.sh --tree ~/src/linux --patch my-fix.patch)
#   scripts/ab.sh -k "$b,$p" -w split,mremap   # the patch against its parent
# env: KRP_CACHE (default ~/.cache/ksm_rmap_probe), KRP_JOBS (make -j),
#      KRP_CCACHE=0 (no ccache; by default gcc runs through ccache, so a
#      second tree, e.g. your patch after its parent, rebuilds only what
#      differs)
#
# Under $KRP_CACHE/trees/KEY/ (KEY hashes the tree's content, the patches
# and the configs): src/ (the copy the patches go to) and obj/ (the O=
# build dir, what -k takes).  A build whose KEY is cached is not redone.
set -euo pipefail

usage() { sed -n '4,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
bad() { echo "error: $*" >&2; echo "usage: scripts/build-kernel.sh --tree DIR [--patch FILE]... [--config FILE] [--arch amd64|arm64]" >&2; exit 2; }
tree=
config=
arch=amd64
patches=()
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	--tree) [ $# -ge 2 ] || bad "--tree needs a directory"; tree=$2; shift ;;
	--patch) [ $# -ge 2 ] || bad "--patch needs a file"; patches+=("$(realpath "$2")"); shift ;;
	--config) [ $# -ge 2 ] || bad "--config needs a file"; config=$(realpath "$2"); shift ;;
	--arch) [ $# -ge 2 ] || bad "--arch needs amd64 or arm64"; arch=$2; shift ;;
	*) bad "unknown argument '$1'" ;;
	esac
	shift
done
[ -n "$tree" ] || bad "no --tree DIR"
[[ $arch =~ ^(amd64|arm64)$ ]] || bad "--arch $arch: amd64 or arm64"
if [ ! -f "$tree/Makefile" ] || [ ! -f "$tree/mm/ksm.c" ]; then
	bad "$tree is not a kernel source tree (no Makefile, mm/ksm.c)"
fi
for f in "${patches[@]}" ${config:+"$config"}; do
	[ -r "$f" ] || bad "cannot read $f"
done
tree=$(cd "$tree" && pwd)

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
[ "$(krp_host_arch)" = amd64 ] ||
	krp_die "--tree builds on an amd64 host only (this host: $(krp_host_arch))"
JOBS=${KRP_JOBS:-$(nproc)}
FRAGMENTS=("$KRP_TOP/scripts/kernel.config")
cross=()
image=$(krp_arch_image "$arch")
krp_need_pkgs gcc make libc6-dev bc flex bison libelf-dev libssl-dev dwarves \
	cpio xz-utils patch perl git ccache
if [ "$arch" = amd64 ]; then
	krp_kmake_init ''
else
	FRAGMENTS+=("$KRP_TOP/scripts/kernel-$arch.config")
	cross=(ARCH="$(krp_kernel_srcarch "$arch")" CROSS_COMPILE="$(krp_arch_triplet "$arch")-")
	krp_need_pkgs "gcc-$(krp_arch_triplet "$arch")"
	krp_kmake_init "$(krp_arch_triplet "$arch")-"
fi

# What the tree is: for git, HEAD and the diff of tracked files; else every
# file's path, size and mtime.  The key adds the patches and the configs.
git=0
if git --no-optional-locks -C "$tree" rev-parse --show-toplevel 2>/dev/null | grep -qxF "$tree"; then
	git=1
	state() { git --no-optional-locks -C "$tree" rev-parse HEAD; git --no-optional-locks -C "$tree" diff HEAD; }
	describe=$(git --no-optional-locks -C "$tree" describe --always --dirty 2>/dev/null || true)
else
	if [ -e "$tree/.config" ] || [ -d "$tree/include/generated" ]; then
		krp_die "$tree was built in place (it has .config or include/generated): run make mrproper there, or give its git tree"
	fi
	state() { find "$tree" -type f -printf '%P %s %T@\n' | LC_ALL=C sort; }
	describe=
fi
key=$({
	state
	for f in "${patches[@]}"; do echo "--- patch"; cat "$f"; done
	echo "--- config"; [ -z "$config" ] || cat "$config"
	echo "--- fragment"; cat "${FRAGMENTS[0]}"
	# (an amd64 key is what it was before --arch existed)
	[ "$arch" = amd64 ] || { echo "--- arch $arch"; cat "${FRAGMENTS[@]:1}"; }
} | sha256sum | cut -c1-12)
top=$KRP_CACHE/trees/$key
obj=$top/obj
if [ -s "$obj/Module.symvers" ] && [ -s "$obj/$image" ]; then
	krp_log "cached: $obj"
	echo "$obj"
	exit 0
fi

mkdir -p "$KRP_CACHE/trees"
exec 8>"$KRP_CACHE/trees/.lock-$key"
flock 8
if [ -s "$obj/Module.symvers" ] && [ -s "$obj/$image" ]; then
	echo "$obj"	# built meanwhile by another caller
	exit 0
fi
rm -rf "$top"
mkdir -p "$top/src" "$obj"
krp_log "copying $tree into $top/src ($([ $git = 1 ] && echo 'git archive HEAD + git diff HEAD' || echo 'hard links'))"
if [ $git = 1 ]; then
	git --no-optional-locks -C "$tree" archive HEAD | tar -x -C "$top/src"
	git --no-optional-locks -C "$tree" diff HEAD --binary >"$top/uncommitted.diff"
	[ ! -s "$top/uncommitted.diff" ] ||
		git -C "$top/src" apply "$top/uncommitted.diff" 2>/dev/null ||
		(cd "$top/src" && patch -p1 -s -f <"$top/uncommitted.diff") ||
		krp_die "the uncommitted changes of $tree do not apply to its HEAD"
else
	cp -al "$tree/." "$top/src/" || krp_die "cannot hard-link $tree into $top/src"
fi
for f in "${patches[@]}"; do
	# break the hard links of the files the patch touches, then apply it
	while IFS= read -r p; do
		[ ! -e "$top/src/$p" ] || { cp "$top/src/$p" "$top/src/$p.krp" && mv -f "$top/src/$p.krp" "$top/src/$p"; }
	done < <(krp_patch_files "$f")
	patch -p1 -s -f --no-backup-if-mismatch -d "$top/src" <"$f" ||
		krp_die "$f does not apply to $tree"
done

krp_log "configuring $obj ($arch): ${config:-tinyconfig} + ${FRAGMENTS[*]}"
{
	if [ -n "$config" ]; then
		cp "$config" "$obj/.config"
	else
		"${KRP_KMAKE[@]}" -C "$top/src" O="$obj" "${cross[@]}" tinyconfig
	fi &&
		(cd "$obj" && "$top/src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "${FRAGMENTS[@]}") &&
		"${KRP_KMAKE[@]}" -C "$top/src" O="$obj" "${cross[@]}" olddefconfig
} >"$top/config.log" 2>&1 || { tail -n 20 "$top/config.log" >&2; krp_die "configuring failed (see $top/config.log)"; }
groups=(module guest main)
[ "$arch" = amd64 ] || groups+=("$arch")
miss=$(krp_config_missing "$obj/.config" "${groups[@]}")
[ -z "$miss" ] || krp_die "after merging ${FRAGMENTS[*]} the config still lacks: $(echo "$miss" | tr '\n' ' ')(see $top/config.log)"
echo "$describe" >"$obj/.krp-describe"
krp_log "building (make -j$JOBS $(basename "$image") modules; log: $top/build.log)"
t0=$SECONDS
KBUILD_BUILD_USER=krp KBUILD_BUILD_HOST=krp \
	"${KRP_KMAKE[@]}" -C "$top/src" O="$obj" "${cross[@]}" -j"$JOBS" "$(basename "$image")" modules \
	>"$top/build.log" 2>&1 ||
	{ tail -n 30 "$top/build.log" >&2; krp_die "the build failed (see $top/build.log)"; }
krp_log "built in $((SECONDS - t0)) s: $(cat "$obj/include/config/kernel.release")"
echo "$obj"
