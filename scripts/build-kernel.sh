#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build-kernel.sh - build our own kernels, the "own" rows of
# scripts/kernels.tsv, from a Debian linux-source package (column "from":
# linux-source-6.12, linux-source-7.2, ...).  Column "what": "base" is the
# pristine tree, "debug" the pristine tree with the debug config (KASAN,
# lockdep, kmemleak, ...), "patches/PATH.patch" the pristine tree plus that
# patch.  Config: tinyconfig + scripts/kernel.config (+
# scripts/kernel-debug.config for debug).  Results are cached by content;
# a cached variant is not rebuilt.
#
# usage: scripts/build-kernel.sh [-h] VARIANT...
#        scripts/build-kernel.sh --tree DIR [--patch FILE]... [--config FILE]
#   VARIANT  the name of an own kernel in scripts/kernels.tsv (base v3 v4
#            v3-fallback layout debug from 6.12; base-7.2 v3-7.2 ... from 7.2)
#   --tree   your kernel source tree instead (scripts/build-tree.sh: built
#            out of tree into the cache, DIR never written; prints the
#            build dir to pass to -k)
# stdout: one line per variant, "VARIANT BZIMAGE KDIR" (KDIR: make -C KDIR M=...
#   builds external modules for it); progress goes to stderr.
# examples:
#   scripts/build-kernel.sh base-7.2 v3-7.2 v4-7.2 v3-fallback-7.2
#   read -r _ bzimage kdir < <(scripts/build-kernel.sh v4-7.2)
#   scripts/build-kernel.sh debug-7.2     # cold: about an hour on 2 cores
# env: KRP_CACHE (default ~/.cache/ksm_rmap_probe), KRP_JOBS (make -j, default nproc),
#      KRP_CCACHE=0 (gcc without ccache; default: through ccache, its cache in
#      $KRP_CACHE/ccache, shared with --tree builds)
#
# The source: /usr/src/linux-source-X.Y.tar.xz if the host happens to have
# that package installed; otherwise the package's newest version in the
# Debian release that ships it (scripts/lib.sh: krp_source_suite), fetched
# with apt-get download in a chroot of that release and unpacked with
# dpkg-deb: nothing is installed on the host.
#
# Under $KRP_CACHE:
#   src/linux-source-X.Y_VERSION.tar.xz   a fetched tarball
#   src/linux-X.Y/            the tarball unpacked once; never written again
#   kbuild/CFG/src/           hard-linked copy of it; a variant's patch is applied
#                             here to fresh copies of the files it touches
#   kbuild/CFG/obj/           the one O= build dir for that config: all variants
#                             of the config share it, so a variant rebuilds
#                             mm/ksm.o and relinks
#   kernels/VARIANT-KEY/      bzImage, vmlinux, System.map, config, kdir, info
# CFG hashes (source version, the config fragments); KEY hashes (source
# version, the config fragments, patch).  The variants of one source and
# one config share one CFG: only mm/ksm.c differs between them and
# MODVERSIONS is off, so their shared build dir is a valid KDIR for all of
# them.  debug has a config of its own, hence its own CFG and build dir;
# each source version has its own pristine tree, work trees and build dirs.
# Builds of one CFG run one at a time (kbuild/.lock-CFG); builds of
# different CFGs do not wait for each other.
set -euo pipefail

usage() { sed -n '4,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
short_usage() {
	echo "usage: $0 [-h] VARIANT...   (-h: help)" >&2
	echo "       $0 --tree DIR [--patch FILE]... [--config FILE]" >&2
}
[ "${1:-}" != --tree ] || exec bash "$(dirname "$0")/build-tree.sh" "$@"
while getopts "h" opt; do
	case $opt in
	h) usage; exit 0 ;;
	*) short_usage; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -eq 0 ]; then
	echo "error: no VARIANT given (an own kernel of scripts/kernels.tsv)" >&2
	short_usage
	exit 2
fi

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

FRAGMENT=$KRP_TOP/scripts/kernel.config
DEBUG_FRAGMENT=$KRP_TOP/scripts/kernel-debug.config
JOBS=${KRP_JOBS:-$(nproc)}

[[ $JOBS =~ ^[1-9][0-9]*$ ]] || krp_die "KRP_JOBS must be a positive number, not '$JOBS'"
[ -r "$FRAGMENT" ] || krp_die "config fragment $FRAGMENT missing"

# Every variant's row, checked before anything is built: SRC[v] its
# linux-source package, WHAT[v] base, debug or the patch's path under
# $KRP_TOP.
declare -A SRC=() WHAT=()
for v in "$@"; do
	row=$(krp_kernel_row "$v") || exit 1
	read -r _ kind from what _ <<<"$row"
	[ "$kind" = own ] || krp_die "$v is a $kind kernel, not one build-kernel.sh builds"
	[ "$(krp_kernel_arch "$v")" = "$(krp_host_arch)" ] ||
		krp_die "$v: own kernels are built for the host's architecture only ($(krp_host_arch))"
	[[ $from =~ ^linux-source-[0-9]+\.[0-9]+$ ]] ||
		krp_die "$v: 'from' must be a linux-source-X.Y package, not '$from'"
	case $what in
	base) ;;
	debug) [ -r "$DEBUG_FRAGMENT" ] || krp_die "config fragment $DEBUG_FRAGMENT missing" ;;
	patches/*.patch)
		[[ $what =~ ^patches/[A-Za-z0-9._/-]+\.patch$ && $what != *..* ]] ||
			krp_die "$v: bad patch path '$what'"
		[ -r "$KRP_TOP/$what" ] || krp_die "$v: $what missing" ;;
	*) krp_die "$v: 'what' must be base, debug or patches/NAME.patch, not '$what'" ;;
	esac
	SRC[$v]=$from
	WHAT[$v]=$what
done

# has_patch VARIANT: true unless VARIANT is built from the pristine tree.
has_patch() { [[ ${WHAT[$1]} == patches/* ]]; }
# patch_of VARIANT: its patch file.
patch_of() { echo "$KRP_TOP/${WHAT[$1]}"; }

# fragments VARIANT: its config fragments, one a line, in merge order (a
# later fragment overrides an earlier one).  A fragment may have a
# per-series override, scripts/kernel-X.Y.config or
# scripts/kernel-debug-X.Y.config, merged right after it, for an option
# that series renamed or dropped; today only kernel-debug-7.2.config.
fragments() {
	local series=${SRC[$1]#linux-source-}
	echo "$FRAGMENT"
	[ ! -r "$KRP_TOP/scripts/kernel-$series.config" ] ||
		echo "$KRP_TOP/scripts/kernel-$series.config"
	[ "${WHAT[$1]}" = debug ] || return 0
	echo "$DEBUG_FRAGMENT"
	[ ! -r "$KRP_TOP/scripts/kernel-debug-$series.config" ] ||
		echo "$KRP_TOP/scripts/kernel-debug-$series.config"
}

krp_need_pkgs gcc make libc6-dev bc flex bison libelf-dev \
	libssl-dev dwarves cpio xz-utils patch perl ccache
krp_kmake_init ''	# native gcc

# The sources: VERSION[pkg] its Debian version, TARBALL[pkg] its tarball
# (fetched only when a tree must be unpacked), SERIES[pkg] X.Y.  The host's
# installed package if there is one (as before 7.2, same version string,
# same cache keys), else the newest version in its release's chroot.
declare -A VERSION=() TARBALL=() SERIES=()
for v in "$@"; do
	pkg=${SRC[$v]}
	[ -z "${VERSION[$pkg]:-}" ] || continue
	SERIES[$pkg]=${pkg#linux-source-}
	if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' &&
		[ -r "/usr/src/$pkg.tar.xz" ]; then
		VERSION[$pkg]=$(dpkg-query -W -f='${Version}' "$pkg") ||
			krp_die "cannot read the version of $pkg"
		TARBALL[$pkg]=/usr/src/$pkg.tar.xz
	else
		suite=$(krp_source_suite "$pkg")
		root=$(krp_chroot "$suite") || exit 1
		VERSION[$pkg]=$(krp_chroot_apt "$root" policy "$pkg" 2>/dev/null |
			awk '$1 == "Candidate:" && $2 != "(none)" {print $2}')
		[ -n "${VERSION[$pkg]}" ] || krp_die "$pkg: not in $suite (apt-cache policy in $root)"
		TARBALL[$pkg]=$KRP_CACHE/src/${pkg}_${VERSION[$pkg]}.tar.xz
	fi
done

# fetch_tarball PKG: download PKG's .deb in its release's chroot and keep
# only the tarball from it (under the caller's lock).
fetch_tarball() {
	local pkg=$1 ver=${VERSION[$1]} root tmp deb
	[ ! -s "${TARBALL[$pkg]}" ] || return 0
	root=$(krp_chroot "$(krp_source_suite "$pkg")") || exit 1
	krp_log "fetching $pkg $ver (apt-get download in $root)"
	krp_sudo rm -rf "$root/tmp/krp-src"
	krp_sudo mkdir -p "$root/tmp/krp-src"
	# shellcheck disable=SC2016 # expanded by the inner sh
	krp_sudo chroot "$root" sh -c 'cd /tmp/krp-src && apt-get download "$1"' \
		sh "$pkg=$ver" >"$KRP_CACHE/src/$pkg.fetch.log" 2>&1 ||
		krp_die "apt-get download $pkg=$ver failed (see $KRP_CACHE/src/$pkg.fetch.log)"
	deb=$(find "$root/tmp/krp-src" -name "${pkg}_*.deb" | head -n 1)
	[ -n "$deb" ] || krp_die "apt-get download $pkg=$ver left no .deb"
	tmp=$(mktemp -d "$KRP_CACHE/src/.deb.XXXXXX")
	dpkg-deb -x "$deb" "$tmp" || { rm -rf "$tmp"; krp_die "cannot unpack $deb"; }
	krp_sudo rm -rf "$root/tmp/krp-src"
	[ -s "$tmp/usr/src/$pkg.tar.xz" ] ||
		{ rm -rf "$tmp"; krp_die "$deb has no usr/src/$pkg.tar.xz"; }
	mv "$tmp/usr/src/$pkg.tar.xz" "${TARBALL[$pkg]}"
	rm -rf "$tmp"
}

hash12() { sha256sum | cut -c1-12; }

# cfg_text VARIANT: what its config depends on (the source version and its
# fragments).  For the 6.12 base and patched variants this is exactly the
# version and kernel.config, as before the debug variant and 7.2 existed,
# so their CFG and KEY did not change.
cfg_text() {
	local f n=0
	echo "${VERSION[${SRC[$1]}]}"
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
		! has_patch "$1" || cat "$(patch_of "$1")"
	} | hash12
}

# use_cfg VARIANT: point CFG, KB, WORK, OBJ, FRAGS, PRISTINE, PKG and
# VER at VARIANT's config and source.
use_cfg() {
	CFG=$(cfg_text "$1" | hash12)
	KB=$KRP_CACHE/kbuild/$CFG
	WORK=$KB/src
	OBJ=$KB/obj
	mapfile -t FRAGS < <(fragments "$1")
	PKG=${SRC[$1]}
	VER=${VERSION[$PKG]}
	PRISTINE=$KRP_CACHE/src/linux-${SERIES[$PKG]}
}

mkdir -p "$KRP_CACHE/kbuild" "$KRP_CACHE/kernels" "$KRP_CACHE/src"

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

# unpack_pristine PKG: its tarball into src/linux-X.Y, once per version.
# Two locks: kbuild/.lock-src-X.Y, held shared by every build that uses
# the tree, from here to its end (for 6.12 the file is kbuild/.lock, as
# before 7.2); and kbuild/.lock-src-X.Y.unpack, held exclusive only while
# a caller checks and unpacks.  Unpacking over a tree of another version
# waits for the first lock's users to end; a cold start never does, so two
# builds of different configs (the debug kernel and the rest) unpack once
# and then run side by side.
declare -A pristine_locked=()
pristine_current() {
	local dir=$KRP_CACHE/src/linux-$1
	[ -d "$dir" ] && [ "$(cat "$dir.version" 2>/dev/null)" = "$2" ]
}
unpack_pristine() {
	local pkg=$1 series=${SERIES[$1]} ver=${VERSION[$1]} dir stamp tmp fd ufd lockf
	[ -z "${pristine_locked[$pkg]:-}" ] || return 0
	dir=$KRP_CACHE/src/linux-$series
	stamp=$dir.version
	lockf=$KRP_CACHE/kbuild/.lock-src-$series
	[ "$series" != 6.12 ] || lockf=$KRP_CACHE/kbuild/.lock
	exec {ufd}>"$lockf.unpack"
	lock "$ufd" -x "$dir"
	exec {fd}>"$lockf"
	if ! pristine_current "$series" "$ver"; then
		# another version's tree may be in use: wait for its users
		[ ! -d "$dir" ] || lock "$fd" -x "$dir"
		fetch_tarball "$pkg"
		krp_log "unpacking ${TARBALL[$pkg]} ($ver) into $dir"
		rm -rf "$dir" "$stamp"
		tmp=$(mktemp -d "$KRP_CACHE/src/.unpack.XXXXXX")
		tar -xJf "${TARBALL[$pkg]}" -C "$tmp" ||
			{ rm -rf "$tmp"; krp_die "cannot unpack ${TARBALL[$pkg]}"; }
		[ -f "$tmp/$pkg/Makefile" ] ||
			{ rm -rf "$tmp"; krp_die "${TARBALL[$pkg]} has no $pkg/Makefile"; }
		mv "$tmp/$pkg" "$dir"
		rmdir "$tmp"
		echo "$ver" >"$stamp"
	fi
	lock "$fd" -s "$dir"
	exec {ufd}>&-
	pristine_locked[$pkg]=$fd
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
		"${KRP_KMAKE[@]}" -C "$WORK" O="$OBJ" tinyconfig &&
			(cd "$OBJ" && "$WORK/scripts/kconfig/merge_config.sh" -m -O "$OBJ" \
				"$OBJ/.config" "${FRAGS[@]}") &&
			"${KRP_KMAKE[@]}" -C "$WORK" O="$OBJ" olddefconfig
	} >"$KB/config.log" 2>&1 ||
		{ tail -n 20 "$KB/config.log" >&2; krp_die "configuring the kernel failed (see $KB/config.log)"; }
	check_fragments
	touch "$OBJ/.krp-configured"
}

# switch_to VARIANT: make the work tree exactly pristine + VARIANT's patch.
# Every file any patch ever touched is restored to a fresh copy of the
# pristine file (new inode, new mtime, so make recompiles it), then the
# patch is applied.
switch_to() {
	local v=$1 f
	if has_patch "$v"; then
		krp_patch_files "$(patch_of "$v")" >>"$KB/touched"
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
	patch -p1 -s -f --no-backup-if-mismatch -d "$WORK" <"$(patch_of "$v")" ||
		krp_die "${WHAT[$v]} does not apply to the pristine tree ($PKG $VER)"
}

# build VARIANT KEY: build it in its config's build dir, copy the result
# into kernels/VARIANT-KEY.
build() {
	local v=$1 key=$2 dest=$KRP_CACHE/kernels/$1-$2 tmp log start pid now next steps rc=0 f
	log=$KB/build-$v.log
	switch_to "$v"
	krp_log "$v: building $PKG $VER (make -j$JOBS bzImage modules; log: $log)"
	start=$(date +%s)
	KBUILD_BUILD_USER=krp KBUILD_BUILD_HOST=krp \
		"${KRP_KMAKE[@]}" -C "$WORK" O="$OBJ" -j"$JOBS" bzImage modules >"$log" 2>&1 &
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
	! has_patch "$v" || cp "$(patch_of "$v")" "$tmp/$(basename "${WHAT[$v]}")"
	echo "$OBJ" >"$tmp/kdir"
	{
		echo "variant: $v"
		echo "key: $key"
		echo "$PKG: $VER"
		echo "what: ${WHAT[$v]}"
		echo "release: $(cat "$OBJ/include/config/kernel.release")"
		echo "compiler: $(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"/\1/p' "$OBJ/.config")"
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
for v in "${maybe[@]}"; do
	use_cfg "$v"
	unpack_pristine "$PKG"
	has_patch "$v" || continue
	patch -p1 -s -f --dry-run -d "$PRISTINE" <"$(patch_of "$v")" >/dev/null ||
		krp_die "${WHAT[$v]} does not apply to the pristine tree ($PKG $VER)"
done
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
		use_cfg "${todo[0]}"
		unpack_pristine "$PKG"
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
