#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build-kernel.sh - build our own 6.12 kernels from Debian's linux-source-6.12:
# "base" is the pristine tree, every other variant is the pristine tree plus
# patches/VARIANT.patch.  Config: tinyconfig + scripts/kernel.config.
# Results are cached by content; a cached variant is not rebuilt.
#
# usage: scripts/build-kernel.sh [-h] VARIANT...
#   VARIANT  base, or NAME for patches/NAME.patch (e.g. v3 v4 v3-fallback layout)
# stdout: one line per variant, "VARIANT BZIMAGE KDIR" (KDIR: make -C KDIR M=...
#   builds external modules for it); progress goes to stderr.
# examples:
#   scripts/build-kernel.sh base v3 v4 v3-fallback
#   read -r _ bzimage kdir < <(scripts/build-kernel.sh v4)
# env: KRP_CACHE (default ~/.cache/ksm_rmap_probe), KRP_JOBS (make -j, default nproc)
#
# Under $KRP_CACHE:
#   src/linux-6.12/           the tarball unpacked once; never written again
#   kbuild/CFG/src/           hard-linked copy of it; a variant's patch is applied
#                             here to fresh copies of the files it touches
#   kbuild/CFG/obj/           the one O= build dir for that config: all variants
#                             share it, so a variant rebuilds mm/ksm.o and relinks
#   kernels/VARIANT-KEY/      bzImage, vmlinux, System.map, config, kdir, info
# CFG hashes (tarball version, kernel.config); KEY hashes (tarball version,
# kernel.config, patch).  Only mm/ksm.c differs between the variants and
# MODVERSIONS is off, so the shared build dir is a valid KDIR for all of them.
set -euo pipefail

usage() { sed -n '4,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
short_usage() { echo "usage: $0 [-h] VARIANT...   (-h: help)" >&2; }
while getopts "h" opt; do
	case $opt in
	h) usage; exit 0 ;;
	*) short_usage; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -eq 0 ]; then
	echo "error: no VARIANT given (base, or NAME for patches/NAME.patch)" >&2
	short_usage
	exit 2
fi

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

TARBALL=/usr/src/linux-source-6.12.tar.xz
FRAGMENT=$KRP_TOP/scripts/kernel.config
PATCHES=$KRP_TOP/patches
PRISTINE=$KRP_CACHE/src/linux-6.12
JOBS=${KRP_JOBS:-$(nproc)}

[[ $JOBS =~ ^[1-9][0-9]*$ ]] || krp_die "KRP_JOBS must be a positive number, not '$JOBS'"
[ -r "$FRAGMENT" ] || krp_die "config fragment $FRAGMENT missing"

# Check every variant before building anything.
for v in "$@"; do
	[ "$v" = base ] && continue
	[[ $v =~ ^[A-Za-z0-9._-]+$ ]] || krp_die "bad variant name '$v'"
	if [ ! -r "$PATCHES/$v.patch" ]; then
		known=base
		for p in "$PATCHES"/*.patch; do
			[ -e "$p" ] && known="$known $(basename "$p" .patch)"
		done
		krp_die "unknown variant '$v': no $PATCHES/$v.patch (known: $known)"
	fi
done

krp_need_pkgs linux-source-6.12 gcc make libc6-dev bc flex bison libelf-dev \
	libssl-dev dwarves cpio xz-utils patch perl
[ -r "$TARBALL" ] || krp_die "$TARBALL missing although linux-source-6.12 is installed"
version=$(dpkg-query -W -f='${Version}' linux-source-6.12) ||
	krp_die "cannot read the version of linux-source-6.12"

hash12() { sha256sum | cut -c1-12; }
cfgkey=$({ echo "$version"; cat "$FRAGMENT"; } | hash12)
KB=$KRP_CACHE/kbuild/$cfgkey
WORK=$KB/src
OBJ=$KB/obj
mkdir -p "$KRP_CACHE/kbuild" "$KRP_CACHE/kernels"

# One build at a time: the work tree and the build dir are shared.
exec 9>"$KRP_CACHE/kbuild/.lock"
if ! flock -n 9; then
	krp_log "another build-kernel.sh is running; waiting for it"
	flock 9
fi

# variant_key VARIANT: the cache key of a variant.
variant_key() {
	{
		echo "$version"
		cat "$FRAGMENT"
		echo "--- patch"
		[ "$1" = base ] || cat "$PATCHES/$1.patch"
	} | hash12
}

# cached VARIANT KEY: true if kernels/VARIANT-KEY is complete and its KDIR
# is still there.
cached() {
	local d=$KRP_CACHE/kernels/$1-$2 kdir
	[ -s "$d/bzImage" ] && [ -s "$d/kdir" ] || return 1
	kdir=$(cat "$d/kdir")
	[ -s "$kdir/Module.symvers" ] && [ -s "$kdir/.config" ]
}

# unpack_pristine: the tarball into src/linux-6.12, once per tarball version.
unpack_pristine() {
	local stamp=$KRP_CACHE/src/linux-6.12.version tmp
	if [ -d "$PRISTINE" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
		return 0
	fi
	krp_log "unpacking $TARBALL ($version) into $PRISTINE"
	rm -rf "$PRISTINE" "$stamp"
	mkdir -p "$KRP_CACHE/src"
	tmp=$(mktemp -d "$KRP_CACHE/src/.unpack.XXXXXX")
	tar -xJf "$TARBALL" -C "$tmp" || { rm -rf "$tmp"; krp_die "cannot unpack $TARBALL"; }
	[ -f "$tmp/linux-source-6.12/Makefile" ] ||
		{ rm -rf "$tmp"; krp_die "$TARBALL has no linux-source-6.12/Makefile"; }
	mv "$tmp/linux-source-6.12" "$PRISTINE"
	rmdir "$tmp"
	echo "$version" >"$stamp"
}

# prepare_tree: the work tree (hard links to the pristine files; every file a
# patch touches is first replaced by a private copy) and the configured
# build dir for this config.
prepare_tree() {
	local line sym want
	if [ ! -d "$WORK" ]; then
		krp_log "work tree $WORK (hard links to $PRISTINE)"
		rm -rf "$WORK.tmp"
		mkdir -p "$KB"
		cp -al "$PRISTINE" "$WORK.tmp" || krp_die "cannot hard-link $PRISTINE into $WORK.tmp"
		mv "$WORK.tmp" "$WORK"
		: >"$KB/touched"
	fi
	[ -f "$OBJ/.krp-configured" ] && return 0
	krp_log "configuring $OBJ: tinyconfig + $FRAGMENT"
	rm -rf "$OBJ"
	mkdir -p "$OBJ"
	{
		make -C "$WORK" O="$OBJ" tinyconfig &&
			(cd "$OBJ" && "$WORK/scripts/kconfig/merge_config.sh" -m -O "$OBJ" \
				"$OBJ/.config" "$FRAGMENT") &&
			make -C "$WORK" O="$OBJ" olddefconfig
	} >"$KB/config.log" 2>&1 ||
		{ tail -n 20 "$KB/config.log" >&2; krp_die "configuring the kernel failed (see $KB/config.log)"; }
	# Every line of the fragment must have survived olddefconfig.
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			grep -qxF -- "$line" "$OBJ/.config" ||
				krp_die "$line did not survive olddefconfig (unmet dependency?); .config has: $(grep -E "^(# )?${line%%=*}[= ]" "$OBJ/.config" || echo nothing)"
			;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }
			sym=${sym%% *}
			want=$(grep -E "^$sym=" "$OBJ/.config" || true)
			[ -z "$want" ] || krp_die "$FRAGMENT turns $sym off but .config has $want"
			;;
		esac
	done <"$FRAGMENT"
	touch "$OBJ/.krp-configured"
}

# patch_files PATCH: the files a patch touches, one a line.
patch_files() {
	sed -n -e 's/^--- a\/\([^[:space:]]*\).*/\1/p' -e 's/^+++ b\/\([^[:space:]]*\).*/\1/p' "$1" |
		sort -u
}

# switch_to VARIANT: make the work tree exactly pristine + VARIANT's patch.
# Every file any patch ever touched is restored to a fresh copy of the
# pristine file (new inode, new mtime, so make recompiles it), then the
# patch is applied.
switch_to() {
	local v=$1 f
	if [ "$v" != base ]; then
		patch_files "$PATCHES/$v.patch" >>"$KB/touched"
		sort -u -o "$KB/touched" "$KB/touched"
	fi
	while IFS= read -r f; do
		[ -n "$f" ] || continue
		rm -f "$WORK/$f"
		if [ -e "$PRISTINE/$f" ]; then
			cp "$PRISTINE/$f" "$WORK/$f" || krp_die "cannot restore $f from $PRISTINE"
		fi
	done <"$KB/touched"
	[ "$v" = base ] && return 0
	patch -p1 -s -f --no-backup-if-mismatch -d "$WORK" <"$PATCHES/$v.patch" ||
		krp_die "patches/$v.patch does not apply to the pristine tree ($version)"
}

# build VARIANT KEY: build it in the shared build dir, copy the result into
# kernels/VARIANT-KEY.
build() {
	local v=$1 key=$2 dest=$KRP_CACHE/kernels/$1-$2 tmp log start pid now next steps rc=0
	log=$KB/build-$v.log
	switch_to "$v"
	krp_log "$v: building (make -j$JOBS bzImage modules; log: $log)"
	start=$(date +%s)
	KBUILD_BUILD_USER=krp KBUILD_BUILD_HOST=krp \
		make -C "$WORK" O="$OBJ" -j"$JOBS" bzImage modules >"$log" 2>&1 &
	pid=$!
	# shellcheck disable=SC2064 # expand $pid now
	trap "kill $pid 2>/dev/null || true" EXIT
	next=$((start + 60))
	while kill -0 "$pid" 2>/dev/null; do
		sleep 2
		now=$(date +%s)
		if [ "$now" -ge "$next" ]; then
			next=$((next + 60))
			steps=$(grep -cE '^  (CC|AS|LD|AR)' "$log" || true)
			krp_log "$v: $(((now - start) / 60)) min, $steps build steps so far"
		fi
	done
	wait "$pid" || rc=$?
	trap - EXIT
	if [ "$rc" != 0 ]; then
		tail -n 30 "$log" >&2
		krp_die "$v: kernel build failed (make exit $rc; see $log)"
	fi
	[ -s "$OBJ/arch/x86/boot/bzImage" ] || krp_die "$v: no bzImage after the build"
	tmp=$(mktemp -d "$KRP_CACHE/kernels/.$v-$key.XXXXXX")
	chmod 755 "$tmp"
	cp "$OBJ/arch/x86/boot/bzImage" "$OBJ/vmlinux" "$OBJ/System.map" "$tmp/"
	cp "$OBJ/.config" "$tmp/config"
	[ "$v" = base ] || cp "$PATCHES/$v.patch" "$tmp/$v.patch"
	echo "$OBJ" >"$tmp/kdir"
	{
		echo "variant: $v"
		echo "key: $key"
		echo "linux-source-6.12: $version"
		echo "release: $(cat "$OBJ/include/config/kernel.release")"
		echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) in $(($(date +%s) - start)) s"
		echo "sources (sha256 of the files patches touch, as built):"
		(cd "$WORK" && while IFS= read -r f; do
			[ -e "$f" ] && sha256sum "$f"
		done <"$KB/touched")
	} >"$tmp/info"
	rm -rf "$dest"
	mv "$tmp" "$dest"
	krp_log "$v: built in $(($(date +%s) - start)) s -> $dest"
}

# Which variants need building?  Check their patches before building any.
declare -A keys=()
todo=()
for v in "$@"; do
	keys[$v]=$(variant_key "$v")
	if cached "$v" "${keys[$v]}"; then
		krp_log "$v: cached ($KRP_CACHE/kernels/$v-${keys[$v]})"
	else
		todo+=("$v")
	fi
done
if [ ${#todo[@]} -gt 0 ]; then
	unpack_pristine
	for v in "${todo[@]}"; do
		[ "$v" = base ] && continue
		patch -p1 -s -f --dry-run -d "$PRISTINE" <"$PATCHES/$v.patch" >/dev/null ||
			krp_die "patches/$v.patch does not apply to the pristine tree ($version)"
	done
	prepare_tree
	for v in "${todo[@]}"; do
		cached "$v" "${keys[$v]}" || build "$v" "${keys[$v]}"
	done
fi
for v in "$@"; do
	d=$KRP_CACHE/kernels/$v-${keys[$v]}
	echo "$v $d/bzImage $(cat "$d/kdir")"
done
