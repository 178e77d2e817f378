#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/selftests.sh - the kernel's own KSM selftests as a witness that
# ksm_rmap_probe changes nothing.  Builds static ksm_tests and
# ksm_functional_tests from linux-source-6.12 (tools/testing/selftests/mm)
# into $KRP_CACHE/selftests/bin/, only when missing, and prints their two
# paths.  With --run it then boots the stock Debian 6.12 kernel under QEMU
# (scripts/guest/plan-selftests.sh), runs both selftests without the
# module, with it loaded and without it again, and compares the results.
#
# usage: scripts/selftests.sh [-h] [-f] [-r|--run] [-s MIB]
#   -f         rebuild the two binaries even if they are cached
#   -r, --run  boot the stock kernel and compare (exit status 1 if a result
#              with the module differs from both rounds without it, or the
#              guest did not finish, or the kernel logged a splat)
#   -s MIB     area of the ksm_tests -H/-P merge-time cases in the guest
#              (default 20; the kernel's run_vmtests.sh has 100, which
#              takes about 25 s per case and round under TCG)
# env: KRP_STOCK_VERSION=6.12.NNN+deb12-amd64 to pin the kernel,
#      KRP_CACHE=dir for builds (default ~/.cache/ksm_rmap_probe)
set -euo pipefail

usage() { sed -n '4,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
bad_usage() { echo "error: $*; see scripts/selftests.sh -h" >&2; exit 2; }
force=0
run=0
size=20
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	-f) force=1 ;;
	-r | --run) run=1 ;;
	-s)
		[ $# -ge 2 ] || bad_usage "-s needs a size in MiB"
		size=$2
		shift
		;;
	*) bad_usage "unknown argument '$1'" ;;
	esac
	shift
done
[[ $size =~ ^[1-9][0-9]*$ ]] || bad_usage "-s wants a size in MiB, not '$size'"

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

TARBALL=/usr/src/linux-source-6.12.tar.xz
ST=$KRP_CACHE/selftests
SRC=$ST/src
BIN=$ST/bin
TESTS=(ksm_tests ksm_functional_tests)

# The flags of tools/testing/selftests/mm/Makefile (CFLAGS, and -no-pie of
# x86_64), the exported uapi headers of this very source tree first, then
# -static.  Both link vm_util.c and thp_settings.c, as the Makefile does for
# every mm selftest; ksm_tests also links libnuma (libnuma-dev has libnuma.a).
CFLAGS=(-Wall -O2 -U_FORTIFY_SOURCE -no-pie -I "$SRC" -isystem "$SRC/usr/include"
	-isystem "$SRC/tools/include/uapi")
HELPERS=(vm_util.c thp_settings.c)
LDLIBS=(-lrt -lpthread -lm)
declare -A EXTRA_LIBS=([ksm_tests]=-lnuma [ksm_functional_tests]="")

# st_unpack: the files the selftests and `make headers` need, from the
# tarball of linux-source-6.12 into $SRC (once).
st_unpack() {
	local top=linux-source-6.12
	[ -e "$SRC/.unpacked" ] && return 0
	krp_need_pkgs linux-source-6.12 xz-utils
	[ -r "$TARBALL" ] || krp_die "$TARBALL missing although linux-source-6.12 is installed"
	krp_log "unpacking the mm selftests and the uapi headers from $TARBALL"
	rm -rf "$SRC"
	mkdir -p "$SRC"
	tar -xJf "$TARBALL" -C "$SRC" --strip-components=1 --wildcards \
		"$top/Makefile" "$top/Kbuild" "$top/Kconfig" "$top/scripts/*" \
		"$top/arch/x86/*" "$top/include/uapi/*" "$top/include/vdso/*" \
		"$top/usr/*" "$top/tools/include/*" \
		"$top/tools/testing/selftests/lib.mk" \
		"$top/tools/testing/selftests/kselftest*" \
		"$top/tools/testing/selftests/mm/*" ||
		krp_die "cannot unpack the selftests from $TARBALL"
	touch "$SRC/.unpacked"
}

# st_headers: `make headers`: the uapi headers of 6.12 in $SRC/usr/include,
# where the selftests' Makefile looks for them (Debian 12's linux-libc-dev
# is 6.1, without PAGEMAP_SCAN, which vm_util.c needs).
st_headers() {
	[ -e "$SRC/.headers" ] && return 0
	krp_log "make headers (uapi headers of linux-source-6.12)"
	make -s -C "$SRC" -j"$(nproc)" ARCH=x86 headers >"$ST/headers.log" 2>&1 ||
		{ tail -n 20 "$ST/headers.log" >&2; krp_die "make headers failed (see $ST/headers.log)"; }
	grep -q PAGEMAP_SCAN "$SRC/usr/include/linux/fs.h" ||
		krp_die "$SRC/usr/include/linux/fs.h lacks PAGEMAP_SCAN after make headers"
	touch "$SRC/.headers"
}

# st_build_one NAME: static $BIN/NAME; the compiler's messages go to
# $ST/NAME.log.
st_build_one() {
	local name=$1 mm=$SRC/tools/testing/selftests/mm
	local -a extra
	read -r -a extra <<<"${EXTRA_LIBS[$name]}"
	krp_log "building static $name"
	mkdir -p "$BIN"
	(cd "$mm" && gcc "${CFLAGS[@]}" -static -o "$BIN/$name.tmp" "$name.c" \
		"${HELPERS[@]}" "${extra[@]}" "${LDLIBS[@]}") >"$ST/$name.log" 2>&1 ||
		{ cat "$ST/$name.log" >&2; krp_die "building $name failed (see $ST/$name.log)"; }
	if readelf -lW "$BIN/$name.tmp" | grep -q 'Requesting program interpreter'; then
		krp_die "$BIN/$name.tmp is not static"
	fi
	mv "$BIN/$name.tmp" "$BIN/$name"
}

# st_build: both binaries, built only when missing (or with -f).
st_build() {
	local t need=()
	for t in "${TESTS[@]}"; do
		if [ "$force" = 1 ] || [ ! -x "$BIN/$t" ]; then need+=("$t"); fi
	done
	[ ${#need[@]} -eq 0 ] && return 0
	krp_need_pkgs gcc make libc6-dev libnuma-dev binutils
	mkdir -p "$ST"
	st_unpack
	st_headers
	for t in "${need[@]}"; do st_build_one "$t"; done
	dpkg-query -W -f='linux-source-6.12 ${Version}\n' linux-source-6.12 >"$BIN/SOURCE"
}

st_build
for t in "${TESTS[@]}"; do echo "$BIN/$t"; done
[ "$run" = 1 ] || exit 0

# ---- --run: boot the stock kernel, three rounds, compare ----

# results FILE: the result lines of one round of one selftest, normalised.
# ksm_functional_tests: its TAP "ok"/"not ok" lines, "Bail out!", the
# totals, and the exit code.  ksm_tests (one test per invocation): one line
# per invocation, "OPTIONS: RESULT; exit RC".  Numbers with a fraction
# (times, speeds) become N.N, hex addresses 0xX.
results() {
	if [ ! -s "$1" ]; then
		echo "(no output: section ${1##*/} missing)"
		return
	fi
	awk '
		/^### exit / { print (args == "" ? "" : args ": " acc "; ") "exit " $3; next }
		/^### / { n = split(substr($0, 5), w, " "); args = ""; acc = ""
			for (i = 2; i <= n; i++) args = args (i > 2 ? " " : "") w[i]
			next }
		/^(not )?ok [0-9]+/ || /^Bail out!/ || /^# Totals:/ || /^# Planned tests/ {
			if (args == "") print
			else if ($0 !~ /^# Totals:/) acc = acc (acc == "" ? "" : "; ") $0 }' "$1" |
		sed -E 's/0x[0-9a-fA-F]+/0xX/g; s/[0-9]+\.[0-9]+/N.N/g; s/[[:space:]]+$//'
}

# compare3 WITHOUT WITH WITHOUT2 COUNTS: the results of the three rounds
# row by row, the first two side by side.  A row marked "~" is not the same
# in the two rounds without the module (the test varies by itself; the
# second round's row follows in parentheses), one marked "<>" differs with
# the module from both rounds without.  Writes "VARY ONLYWITH" to COUNTS.
compare3() {
	awk -v w=56 -v cf="$4" '
		FILENAME == ARGV[1] { a[FNR] = $0; if (FNR > n) n = FNR; next }
		FILENAME == ARGV[2] { b[FNR] = $0; if (FNR > n) n = FNR; next }
		{ c[FNR] = $0; if (FNR > n) n = FNR }
		END {
			printf "  %-" w "s | %s\n", "without module", "with module"
			for (i = 1; i <= n; i++) {
				m = ""
				if (b[i] != a[i] && b[i] != c[i]) { m = "   <>"; only++ }
				else if (a[i] != c[i]) { m = "   ~"; vary++ }
				if (a[i] != c[i]) m = m " (without again: " c[i] ")"
				printf "  %-" w "s | %s%s\n", a[i], b[i], m
			}
			print vary + 0, only + 0 > cf
		}' "$1" "$2" "$3"
}

krp_host_setup
read -r vmlinuz kdir root ver <<<"$(krp_stock_kernel stock-6.12)" || true
[ -n "${ver:-}" ] || krp_die "no stock 6.12 kernel to boot (see the messages above)"
ko=$(krp_build_module "$kdir" "$ST/build/$ver" "$root")
repro=$(krp_build_repro "$ST/repro")
initrd=$ST/initrd.cpio.gz
out=$ST/out
krp_initramfs_extra "$initrd" "$ko" "$repro" "$BIN/ksm_tests" "$BIN/ksm_functional_tests"
krp_log "booting $ver: selftests without, with and again without the module (results in $out)"
boot_rc=0
start=$SECONDS
krp_boot "$vmlinuz" "$initrd" "$out" 900 "krp.plan=selftests krp.ksm_size=$size" || boot_rc=$?
took=$((SECONDS - start))

status=0
echo
echo "KSM selftests from $(cat "$BIN/SOURCE") on $ver, guest $(cat "$out/uname" 2>/dev/null || echo '?')"
for t in "${TESTS[@]}"; do
	for r in without with without2; do
		results "$out/selftests.$r.$t" >"$out/results.$r.$t"
	done
	echo
	echo "== $t"
	compare3 "$out/results."{without,with,without2}".$t" "$out/counts.$t"
	read -r vary only <"$out/counts.$t"
	if [ "$only" != 0 ]; then
		echo "  with module: $only row(s) DIFFERENT from both rounds without (<>)"
		status=1
	elif [ "$vary" != 0 ]; then
		echo "  with module: no row differs from both rounds without; $vary row(s) differ" \
			"between the two rounds without the module too (~): not deterministic here"
	else
		echo "  identical in all three rounds (without, with, without again after rmmod)"
	fi
	if cat "$out/results.without.$t" "$out/results.without2.$t" | grep -q 'not ok\|Bail out!'; then
		echo "  note: failures without the module too"
	fi
done

echo
for r in without with without2; do
	echo "seconds in the guest, round $r: $(cat "$out/selftests.$r.seconds" 2>/dev/null || echo '?')"
done
echo "boot, three rounds: ${took}s (qemu exit status $boot_rc)"
if [ -s "$out/selftests.with.stats" ]; then
	echo "module stats after the round with it:$(awk '$1 ~ /^(walks|loops|iterations|hits|incomplete_walks|missed_mappings|probe_misses|anomalies|layout):$/ { printf " %s %s", $1, $2 }' "$out/selftests.with.stats")"
	if [ "$(krp_kv "$out/selftests.with.stats" walks)" != 0 ]; then
		echo "walks by caller: $(awk 'NR > 1 { n[$3]++ } END { for (c in n) printf "%s %d ", c, n[c] }' "$out/selftests.with.walks")"
	fi
else
	echo "module stats: missing (section selftests.with.stats)"
	status=1
fi
if [ -n "$(krp_splats "$out/console.log" "$out/dmesg")" ]; then
	echo "kernel splats:"
	krp_splats "$out/console.log" "$out/dmesg" | sed 's/^/  /'
	status=1
else
	echo "kernel splats in console and dmesg: none"
fi
if [ "$boot_rc" != 0 ]; then
	echo "error: the guest did not finish (qemu exit status $boot_rc; see $out/console.log)" >&2
	status=1
fi
exit "$status"
