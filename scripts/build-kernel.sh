#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build-kernel.sh - build our own 6.12 kernels from Debian's linux-source-6.12:
# "base" is the pristine tree, "debug" the pristine tree with the debug
# config (KASAN, lockdep, kmemleak, ...), every other variant is the
# pristine tree plus patches/VARIANT.patch.  Config: tinyconfig +
# scripts/kernel.config (+ scripts/kernel-debug.config for debug).
# Results are cached by content; a cached variant is not rebuilt.
#
# usage: scripts/build-kernel.sh [-h] VARIANT...
#   VARIANT  base; debug; or NAME for patches/NAME.patch (e.g. v3 v4
#            v3-fallback layout)
# stdout: one line per variant, "VARIANT BZIMAGE KDIR" (KDIR: make -C KDIR M=...
#   builds external modules for it); progress goes to stderr.
# examples:
#   scripts/build-kernel.sh base v3 v4 v3-fallback
#   read -r _ bzimage kdir < <(scripts/build-kernel.sh v4)
#   scripts/build-kernel.sh debug     # cold: about an hour on 2 cores
# env: KRP_CACHE (default ~/.cache/ksm_rmap_probe), KRP_JOBS (make -j, default nproc)
#
# Under $KRP_CACHE:
#   src/linux-6.12/           the tarball unpacked once; never written again
#   kbuild/CFG/src/           hard-linked copy of it; a variant's patch is applied
#                             here to fresh copies of the files it touches
#   kbuild/CFG/obj/           the one O= build dir for that config: all variants
#                             of the config share it, so a variant rebuilds
#                             mm/ksm.o and relinks
#   kernels/VARIANT-KEY/      bzImage, vmlinux, System.map, config, kdir, info
# CFG hashes (tarball version, the config fragments); KEY hashes (tarball
# version, the config fragments, patch).  base and the patched variants have
# one config and share one CFG: only mm/ksm.c differs between them and
# MODVERSIONS is off, so their shared build dir is a valid KDIR for all of
# them.  debug has a config of its own, hence its own CFG and build dir.
# Builds of one CFG run one at a time (kbuild/.lock-CFG); builds of
# different CFGs do not wait for each other.
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
	echo "error: no VARIANT given (base, debug, or NAME for patches/NAME.patch)" >&2
	short_usage
	exit 2
fi

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

TARBALL=/usr/src/linux-source-6.12.tar.xz
FRAGMENT=$KRP_TOP/scripts/kernel.config
DEBUG_FRAGMENT=$KRP_TOP/scripts/kernel-debug.config
PATCHES=$KRP_TOP/patches
PRISTINE=$KRP_CACHE/src/linux-6.12
JOBS=${KRP_JOBS:-$(nproc)}

[[ $JOBS =~ ^[1-9][0-9]*$ ]] || krp_die "KRP_JOBS must be a positive number, not '$JOBS'"
[ -r "$FRAGMENT" ] || krp_die "config fragment $FRAGMENT missing"

# has_patch VARIANT: true unless VARIANT is built from the pristine tree.
has_patch() { [ "$1" != base ] && [ "$1" != debug ]; }

# fragments VARIANT: its config fragments, one a line, in merge order (a
# later fragment overrides an earlier one).
fragments() {
	echo "$FRAGMENT"
	[ "$1" != debug ] || echo "$DEBUG_FRAGMENT"
}

# Check every variant before building anything.
for v in "$@"; do
	[ "$v" = base ] && continue
	if [ "$v" = debug ]; then
		[ -r "$DEBUG_FRAGMENT" ] || krp_die "config fragment $DEBUG_FRAGMENT missing"
		[ ! -e "$PATCHES/debug.patch" ] ||
			krp_die "$PATCHES/debug.patch: 'debug' is the debug config's variant, not a patch's; rename the patch"
		continue
	fi
	[[ $v =~ ^[A-Za-z0-9._-]+$ ]] || krp_die "bad variant name '$v'"
	if [ ! -r "$PATCHES/$v.patch" ]; then
		known="base debug"
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

# cfg_text VARIANT: what its config depends on (the tarball version and its
# fragments).  For base and the patched variants this is exactly the
# version and kernel.config, as before the debug variant existed, so their
# CFG and KEY did not change.
cfg_text() {
	local f n=0
	echo "$version"
	while IFS= read -r f; do
		[ $n = 0 ] || echo "--- fragment $(basename "$f")"
		n=$((n + 1))
		cat "$f"
	done < <(fragments "$1")
}

# variant_key VARIANT: the cache key of a variant.
variant_key() {
	{
		cfg_text "$1"
		echo "--- patch"
		! has_patch "$1" || cat "$PATCHES/$1.patch"
	} | hash12
}

# use_cfg VARIANT: point KB, WORK, OBJ and FRAGS at VARIANT's config.
use_cfg() {
	CFG=$(cfg_text "$1" | hash12)
	KB=$KRP_CACHE/kbuild/$CFG
	WORK=$KB/src
	OBJ=$KB/obj
	mapfile -t FRAGS < <(fragments "$1")
}

mkdir -p "$KRP_CACHE/kbuild" "$KRP_CACHE/kernels"

# cached VARIANT KEY: true if kernels/VARIANT-KEY is complete and its KDIR
# is still there.
cached() {
	local d=$KRP_CACHE/kernels/$1-$2 kdir
	[ -s "$d/bzImage" ] && [ -s "$d/kdir" ] || return 1
	kdir=$(cat "$d/kdir")
	[ -s "$kdir/Module.symvers" ] && [ -s "$kdir/.config" ]
}

# lock FD MODE WHAT: flock FD in MODE (-s or -x), saying so if it must wait.
lock() {
	if ! flock -n "$2" "$1"; then
		krp_log "another build-kernel.sh is using $3; waiting for it"
		flock "$2" "$1"
	fi
}

# unpack_pristine: the tarball into src/linux-6.12, once per tarball
# version.  kbuild/.lock (fd 9) guards it: held shared from here to the
# end, exclusive only while the tarball is unpacked.
pristine_locked=0
pristine_current() {
	[ -d "$PRISTINE" ] &&
		[ "$(cat "$KRP_CACHE/src/linux-6.12.version" 2>/dev/null)" = "$version" ]
}
unpack_pristine() {
	local stamp=$KRP_CACHE/src/linux-6.12.version tmp
	exec 9>"$KRP_CACHE/kbuild/.lock"
	if ! pristine_current; then
		lock 9 -x "$PRISTINE"
	fi
	if ! pristine_current; then
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
	fi
	lock 9 -s "$PRISTINE"
	pristine_locked=1
}

# check_fragments: every line of the fragments must have survived
# olddefconfig, except a line a later fragment (or a later line) overrides.
check_fragments() {
	local -A seen=()
	local i f line sym val
	for ((i = ${#FRAGS[@]} - 1; i >= 0; i--)); do
		f=${FRAGS[i]}
		while IFS= read -r line; do
			case $line in
			CONFIG_*=*)
				sym=${line%%=*}
				val=on ;;
			"# CONFIG_"*" is not set")
				sym=${line#\# }
				sym=${sym%% *}
				val=off ;;
			*) continue ;;
			esac
			[ -z "${seen[$sym]:-}" ] || continue
			seen[$sym]=1
			if [ $val = on ]; then
				grep -qxF -- "$line" "$OBJ/.config" ||
					krp_die "$(basename "$f"): $line did not survive olddefconfig (unmet dependency?); .config has: $(grep -E "^(# )?${sym}[= ]" "$OBJ/.config" || echo nothing)"
			elif grep -qE "^$sym=" "$OBJ/.config"; then
				krp_die "$(basename "$f") turns $sym off but .config has $(grep -E "^$sym=" "$OBJ/.config")"
			fi
		done < <(tac "$f")
	done
}

# prepare_tree: the work tree (hard links to the pristine files; every file a
# patch touches is first replaced by a private copy) and the configured
# build dir for this config.
prepare_tree() {
	if [ ! -d "$WORK" ]; then
		krp_log "work tree $WORK (hard links to $PRISTINE)"
		rm -rf "$WORK.tmp"
		mkdir -p "$KB"
		cp -al "$PRISTINE" "$WORK.tmp" || krp_die "cannot hard-link $PRISTINE into $WORK.tmp"
		mv "$WORK.tmp" "$WORK"
		: >"$KB/touched"
	fi
	[ -f "$OBJ/.krp-configured" ] && return 0
	krp_log "configuring $OBJ: tinyconfig + ${FRAGS[*]}"
	rm -rf "$OBJ"
	mkdir -p "$OBJ"
	{
		make -C "$WORK" O="$OBJ" tinyconfig &&
			(cd "$OBJ" && "$WORK/scripts/kconfig/merge_config.sh" -m -O "$OBJ" \
				"$OBJ/.config" "${FRAGS[@]}") &&
			make -C "$WORK" O="$OBJ" olddefconfig
	} >"$KB/config.log" 2>&1 ||
		{ tail -n 20 "$KB/config.log" >&2; krp_die "configuring the kernel failed (see $KB/config.log)"; }
	check_fragments
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
	if has_patch "$v"; then
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
	has_patch "$v" || return 0
	patch -p1 -s -f --no-backup-if-mismatch -d "$WORK" <"$PATCHES/$v.patch" ||
		krp_die "patches/$v.patch does not apply to the pristine tree ($version)"
}

# build VARIANT KEY: build it in its config's build dir, copy the result
# into kernels/VARIANT-KEY.
build() {
	local v=$1 key=$2 dest=$KRP_CACHE/kernels/$1-$2 tmp log start pid now next steps rc=0 f
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
	! has_patch "$v" || cp "$PATCHES/$v.patch" "$tmp/$v.patch"
	echo "$OBJ" >"$tmp/kdir"
	{
		echo "variant: $v"
		echo "key: $key"
		echo "linux-source-6.12: $version"
		echo "release: $(cat "$OBJ/include/config/kernel.release")"
		echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) in $(($(date +%s) - start)) s"
		echo "config fragments (sha256):"
		for f in "${FRAGS[@]}"; do
			echo "$(sha256sum <"$f" | cut -d' ' -f1)  $(basename "$f")"
		done
		echo "sources (sha256 of the files patches touch, as built):"
		(cd "$WORK" && while IFS= read -r f; do
			[ -e "$f" ] && sha256sum "$f"
		done <"$KB/touched")
	} >"$tmp/info"
	rm -rf "$dest"
	mv "$tmp" "$dest"
	krp_log "$v: built in $(($(date +%s) - start)) s -> $dest"
}

# Keys and configs of the variants; which may need building?  Check their
# patches before building any.
declare -A keys=() cfgs=()
order=()
maybe=()
for v in "$@"; do
	keys[$v]=$(variant_key "$v")
	use_cfg "$v"
	cfgs[$v]=$CFG
	[[ " ${order[*]} " == *" $CFG "* ]] || order+=("$CFG")
	cached "$v" "${keys[$v]}" || maybe+=("$v")
done
if [ ${#maybe[@]} -gt 0 ]; then
	unpack_pristine
	for v in "${maybe[@]}"; do
		has_patch "$v" || continue
		patch -p1 -s -f --dry-run -d "$PRISTINE" <"$PATCHES/$v.patch" >/dev/null ||
			krp_die "patches/$v.patch does not apply to the pristine tree ($version)"
	done
fi
# One config at a time, each under its own lock: its work tree and build dir
# are shared by its variants.  Cached variants are reported under the lock
# too, so a caller never gets a KDIR in the middle of a rebuild.
for cfg in "${order[@]}"; do
	exec 8>"$KRP_CACHE/kbuild/.lock-$cfg"
	lock 8 -x "$KRP_CACHE/kbuild/$cfg"
	todo=()
	for v in "$@"; do
		[ "${cfgs[$v]}" = "$cfg" ] || continue
		if cached "$v" "${keys[$v]}"; then
			krp_log "$v: cached ($KRP_CACHE/kernels/$v-${keys[$v]})"
		else
			[[ " ${todo[*]} " == *" $v "* ]] || todo+=("$v")
		fi
	done
	if [ ${#todo[@]} -gt 0 ]; then
		[ $pristine_locked = 1 ] || unpack_pristine
		use_cfg "${todo[0]}"
		prepare_tree
		for v in "${todo[@]}"; do
			cached "$v" "${keys[$v]}" || build "$v" "${keys[$v]}"
		done
	fi
	exec 8>&-
done
for v in "$@"; do
	d=$KRP_CACHE/kernels/$v-${keys[$v]}
	echo "$v $d/bzImage $(cat "$d/kdir")"
done
