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
#        scripts/selftests.sh --repeat N [--cmd NAME[:ARG...]]
#                [--set TUNABLE=VALUE[,...]] [--phases LIST] [--trace]
#   -f         rebuild the two binaries even if they are cached
#   -r, --run  boot the stock kernel and compare, case by case (exit
#              status 1 if a case differs with the module from both rounds
#              without it, or a case measured stable differs between the
#              rounds without it, or the guest did not finish, or the kernel
#              logged a splat; the cases measured unstable by themselves are
#              shown as SKIP and never compared)
#   -s MIB     area of the ksm_tests -H/-P merge-time cases in the guest
#              (default 20; the kernel's run_vmtests.sh has 100, which
#              takes about 25 s per case and round under TCG)
#   --repeat N  measure instead of compare: one boot that runs one selftest
#              invocation N times per phase (scripts/guest/plan-ksmrepeat.sh)
#              and counts, per case, each result it gave; the runs where a
#              case gave another result than its most common one are
#              listed with the guest's NUMA/migration counters of that run.
#              Results in $KRP_CACHE/selftests/repeat/.  Exit status 1 only
#              if the guest did not finish or the kernel logged a splat.
#   --cmd NAME[:ARG...]  the invocation to repeat, colons for spaces
#              (default ksm_functional_tests; e.g. ksm_tests:-N:-m:1), or
#              ksm_tests_all / ksm_functional_all: the cases exactly as
#              --run runs them (scripts/guest/ksm.sh), -s applies
#   --set LIST KSM tunables (/sys/kernel/mm/ksm) to set before each run,
#              after the boot values are restored (e.g. smart_scan=0)
#   --phases LIST  without and/or with the module, in order (default
#              without,with)
#   --trace    record the ksm:* trace events; kept for the runs with a
#              result other than ok (repeat.PHASE.I.trace)
# env: KRP_STOCK_VERSION=6.12.NNN+deb12-amd64 to pin the kernel,
#      KRP_CACHE=dir for builds (default ~/.cache/ksm_rmap_probe)
set -euo pipefail

usage() { sed -n '4,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
bad_usage() { echo "error: $*; see scripts/selftests.sh -h" >&2; exit 2; }
force=0
run=0
size=20
repeat=0
rcmd=ksm_functional_tests
rset=
rphases=without,with
rtrace=0
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	-f) force=1 ;;
	-r | --run) run=1 ;;
	--repeat | --cmd | --set | --phases)
		[ $# -ge 2 ] || bad_usage "$1 needs a value"
		case $1 in
		--repeat) repeat=$2 ;;
		--cmd) rcmd=$2 ;;
		--set) rset=$2 ;;
		--phases) rphases=$2 ;;
		esac
		shift
		;;
	--trace) rtrace=1 ;;
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
[[ $repeat =~ ^[0-9]+$ ]] || bad_usage "--repeat wants a number of runs, not '$repeat'"
[[ $rcmd =~ ^((ksm_tests|ksm_functional_tests)(:[-a-zA-Z0-9]+)*|ksm_tests_all|ksm_functional_all)$ ]] ||
	bad_usage "--cmd wants ksm_tests or ksm_functional_tests and :ARGs, ksm_tests_all or ksm_functional_all, not '$rcmd'"
[[ $rset =~ ^([a-z_]+=[-a-z0-9]+(,[a-z_]+=[-a-z0-9]+)*)?$ ]] ||
	bad_usage "--set wants TUNABLE=VALUE[,...], not '$rset'"
[[ $rphases =~ ^(without|with)(,(without|with))*$ ]] ||
	bad_usage "--phases wants a comma list of without and with, not '$rphases'"

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

PKG=$(krp_source_pkg selftests)
TARBALL=/usr/src/$PKG.tar.xz
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
# tarball of $PKG (the table's "selftests" source) into $SRC (once).
st_unpack() {
	local top=$PKG
	[ -e "$SRC/.unpacked" ] && return 0
	krp_need_pkgs "$PKG" xz-utils
	[ -r "$TARBALL" ] || krp_die "$TARBALL missing although $PKG is installed"
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
	krp_log "make headers (uapi headers of $PKG)"
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
	dpkg-query -W -f="$PKG \${Version}\n" "$PKG" >"$BIN/SOURCE"
}

st_build
for t in "${TESTS[@]}"; do echo "$BIN/$t"; done
[ "$run" = 1 ] || [ "$repeat" -gt 0 ] || exit 0

# ---- --run and --repeat: boot the stock kernel ----

# results FILE: the results of one round of one selftest (or of one run of
# --repeat), one "KEY: RESULT" line per case, normalised: numbers with a
# fraction (times, speeds) become N.N, hex addresses 0xX.
# ksm_tests (one case per invocation): KEY is the invocation's options,
# RESULT its TAP lines and exit code.
# ksm_functional_tests: KEY is the test each TAP result belongs to, the
# name of the "# [RUN] test_xxx" line before it, not its TAP number (the
# numbers shift when a test prints no result, which test_prctl_fork does
# when its child fails: the child exits -2, the parent sees 254 and
# test_child_ksm_err() prints nothing).  A test with no result line gets
# "no result" and its last message.  One more quirk of 6.12's test: the
# execv() of test_prctl_fork_exec has an argv without its NULL, fails, and
# the child goes on with the rest of main() (its own [RUN] lines, results
# and "# Totals:") before the parent prints the result of
# test_prctl_fork_exec.  A "# Totals:" line with output after it ends such
# a child: the [RUN]s just before it that the parent runs again after it
# were the child's, keyed "PARENT_TEST's child > TEST", and the next result
# is PARENT_TEST's again.  The exit code (0, or 1 if a test failed: it
# follows from the results) is a row only when it is something else.
results() {
	if [ ! -s "$1" ]; then
		echo "(no output): section ${1##*/} missing"
		return
	fi
	awk '
		# ft_lines: the lines of one ksm_functional_tests invocation, kept
		# as typ[] (R: [RUN], O: result, T: Totals, M: message), txt[].
		function ft_add(t, x) { m++; typ[m] = t; txt[m] = x }
		function ft_report(rc,   i, j, t, x, y, cur, nk, seen, S, seg, back, st, line, msg, res) {
			# a Totals line followed by more output ends a child
			for (t = 1; t <= m; t++) {
				if (typ[t] != "T") continue
				for (j = t + 1; j <= m; j++) if (typ[j] == "R" || typ[j] == "O") break
				if (j > m) continue
				split("", S)
				for (j = t + 1; j <= m; j++) if (typ[j] == "R") S[txt[j]] = 1
				for (j = t - 1; j >= 1; j--) if (typ[j] == "R" && !(txt[j] in S)) break
				if (j < 1) continue
				for (x = j + 1; x < t; x++) seg[x] = txt[j]
				back[t] = txt[j]
			}
			cur = ""; nk = 0
			for (i = 1; i <= m; i++) {
				if (typ[i] == "R") {
					cur = (i in seg ? seg[i] "\047s child > " : "") txt[i]
					if (!(cur in seen)) { seen[cur] = 1; key[++nk] = cur }
				} else if (typ[i] == "T") {
					if (i in back) cur = back[i]
				} else if (typ[i] == "M") {
					if (cur != "") msg[cur] = txt[i]
				} else {
					line = txt[i]
					st = (line ~ /^not ok/) ? "not ok" : "ok"
					sub(/^(not )?ok [0-9]+ */, "", line)
					if (line ~ /^# SKIP/) { st = "skip"; sub(/^# SKIP */, "", line) }
					sub(/^- */, "", line)
					y = cur == "" ? "(result outside a test)" : cur
					if (!(y in seen)) { seen[y] = 1; key[++nk] = y }
					x = (y in res) ? res[y] " + " : ""
					res[y] = x st (line == "" ? "" : " (" line ")")
				}
			}
			for (i = 1; i <= nk; i++) {
				y = key[i]
				if (y in res) print y ": " res[y]
				else print y ": no result" (y in msg ? " (last message: " msg[y] ")" : "")
			}
			if (!nk) print "(no test ran): " (lastmsg == "" ? "no message" : lastmsg)
			if (rc != 0 && rc != 1) print "exit: " rc
			m = 0; split("", typ); split("", txt); lastmsg = ""
		}
		/^### exit / {
			if (ft) ft_report($3)
			else print args ": " acc "; exit " $3
			next }
		/^### / { n = split(substr($0, 5), w, " "); args = ""; acc = ""
			ft = (w[1] == "ksm_functional_tests")
			for (i = 2; i <= n; i++) args = args (i > 2 ? " " : "") w[i]
			next }
		ft && /^# \[RUN\] / { ft_add("R", $3); next }
		ft && /^(not )?ok [0-9]+/ { ft_add("O", $0); next }
		ft && /^# Totals:/ { ft_add("T", $0); next }
		ft && /^# / && !/^# Planned tests/ { ft_add("M", substr($0, 3)); lastmsg = substr($0, 3); next }
		ft && /^Bail out!/ { lastmsg = $0; next }
		ft { next }
		/^(not )?ok [0-9]+/ || /^Bail out!/ || /^# Planned tests/ {
			acc = acc (acc == "" ? "" : "; ") $0 }' "$1" |
		sed -E 's/0x[0-9a-fA-F]+/0xX/g; s/[0-9]+\.[0-9]+/N.N/g; s/[[:space:]]+$//'
}

# unstable T KEY: why case KEY of selftest T is never compared (it gives
# different results by itself, measured with --repeat), or nothing.  Every
# case not named here was measured stable without the module.
unstable() {
	case "$1: $2" in
	"ksm_tests: -U")
		echo "fails by itself: 3 and 6 times in 15 runs without the module (7 with); 3 of 15 with smart_scan=0 too" ;;
	esac
}

# compare3 T WITHOUT WITH WITHOUT2 VERDICTS: the results of selftest T in
# the three rounds, by case (the KEY before the first ": "), in the order
# the cases first appear; the first two rounds side by side.  A case
# missing from a round is "KEY: (missing)".  Writes one line per case to
# VERDICTS: "VERDICT<TAB>KEY<TAB>WITHOUT<TAB>WITH<TAB>WITHOUT2<TAB>WHY":
#   same     the three rounds agree
#   differs  the round with the module differs from the two without, which
#            agree: a finding (marked "<>")
#   varies   the two rounds without disagree, for a case measured stable:
#            the measurement no longer holds (marked "~")
#   skip     a case that varies by itself (unstable): shown, not compared
compare3() {
	local t=$1 k why
	awk '
		{ k = index($0, ": ") ? substr($0, 1, index($0, ": ") - 1) : $0
		  if (!(k in seen)) { seen[k] = 1; key[++n] = k }
		  r[FILENAME == ARGV[1] ? 1 : FILENAME == ARGV[2] ? 2 : 3, k] = $0 }
		END {
			for (i = 1; i <= n; i++) {
				k = key[i]
				for (j = 1; j <= 3; j++) v[j] = ((j, k) in r) ? r[j, k] : k ": (missing)"
				vd = v[1] != v[3] ? "varies" : v[2] != v[1] ? "differs" : "same"
				printf "%s\t%s\t%s\t%s\t%s\n", vd, k, v[1], v[2], v[3]
			}
		}' "$2" "$3" "$4" |
		while IFS=$'\t' read -r v k a b c; do
			why=$(unstable "$t" "$k")
			[ -z "$why" ] || v=skip
			printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$v" "$k" "$a" "$b" "$c" "$why"
		done >"$5"
	awk -F '\t' -v w=56 '
		BEGIN { printf "  %-" w "s | %s\n", "without module", "with module" }
		{ m = $1 == "differs" ? "   <>" : $1 == "varies" ? "   ~ (without again: " $5 ")" : \
			$1 == "skip" ? "   SKIP: " $6 : ""
		  printf "  %-" w "s | %s%s\n", $3, $4, m }' "$5"
}

krp_host_setup
k=$(krp_kernels_in selftests)
read -r vmlinuz kdir root ver <<<"$(krp_stock_kernel "$k")" || true
[ -n "${ver:-}" ] || krp_die "no $k kernel to boot (see the messages above)"
ko=$(krp_build_module "$kdir" "$ST/build/$ver" "$root")
repro=$(krp_build_repro "$ST/repro")
initrd=$ST/initrd.cpio.gz
krp_initramfs_extra "$initrd" "$ko" "$repro" "$BIN/ksm_tests" "$BIN/ksm_functional_tests"

# tabulate OUT PHASES: --repeat's report from the sections in OUT.
tabulate() {
	local out=$1 p i f
	local -a phases
	IFS=, read -r -a phases <<<"$2"
	for p in "${phases[@]}"; do
		for f in "$out/repeat.$p."[0-9]*; do
			case $f in *.vmstat | *.trace) continue ;; esac
			i=${f##*.}
			results "$f" | sed "s/^/$p $i /"
		done
	done >"$out/results.all"
	for p in "${phases[@]}"; do
		for f in "$out/repeat.$p."[0-9]*.vmstat; do
			i=${f%.vmstat}
			i=${i##*.}
			awk -v p="$p" -v i="$i" '{ printf "%s %s %s %s\n", p, i, $1, $2 }' "$f"
		done
	done >"$out/vmstat.all"
	# results.all: "PHASE RUN KEY: RESULT".  Per case and result: how many
	# runs of each phase gave it; then the runs that gave a case another
	# result than its most common one, with that run's counters.
	awk -v phases="$2" -v vmf="$out/vmstat.all" '
		BEGIN { np = split(phases, ph, ",")
			while ((getline l < vmf) > 0) { split(l, w, " ")
				vm[w[1], w[2]] = vm[w[1], w[2]] " " w[3] "=" w[4]
				vt[w[1], w[3]] += w[4]; if (!(w[3] in vs)) { vs[w[3]] = 1; vo[++nv] = w[3] } } }
		{ p = $1; i = $2; line = substr($0, length(p) + length(i) + 3)
		  x = index(line, ": "); k = x ? substr(line, 1, x - 1) : line
		  if (!(k in ks)) { ks[k] = 1; ko[++nk] = k }
		  if (!((k, line) in seen)) { seen[k, line] = 1; nr[k]++; rl[k, nr[k]] = line }
		  c[p, line]++; tot[k, line]++; runs[p, line] = runs[p, line] " " i
		  if (!((p, i) in counted)) { counted[p, i] = 1; nruns[p]++ } }
		END {
			printf "  %-70s", "case: result"
			for (j = 1; j <= np; j++) printf " %8s", ph[j]
			printf "\n"
			for (a = 1; a <= nk; a++) {
				k = ko[a]; best = ""
				for (b = 1; b <= nr[k]; b++) {
					line = rl[k, b]
					if (best == "" || tot[k, line] > tot[k, best]) best = line
					printf "  %-70s", line
					for (j = 1; j <= np; j++) printf " %5d/%-2d", c[ph[j], line], nruns[ph[j]]
					printf "\n"
				}
				# a run where the case is missing altogether
				for (j = 1; j <= np; j++) {
					miss = nruns[ph[j]]
					for (b = 1; b <= nr[k]; b++) miss -= c[ph[j], rl[k, b]]
					if (miss > 0) printf "  %-70s (missing in %d %s runs)\n", k ": (missing)", miss, ph[j]
				}
				for (b = 1; b <= nr[k]; b++) if (rl[k, b] != best) other[++no] = rl[k, b]
			}
			if (no) print "\n  runs with a less common result:"
			for (b = 1; b <= no; b++) for (j = 1; j <= np; j++) {
				if (!((ph[j], other[b]) in runs)) continue
				n = split(runs[ph[j], other[b]], rr, " ")
				for (x = 1; x <= n; x++)
					printf "  %s run %s: %s;%s\n", ph[j], rr[x], other[b], vm[ph[j], rr[x]]
			}
			print "\n  counters summed over the runs of a phase:"
			for (j = 1; j <= np; j++) {
				printf "  %s:", ph[j]
				for (x = 1; x <= nv; x++) printf " %s=%d", vo[x], vt[ph[j], vo[x]]
				printf "\n"
			}
		}' "$out/results.all"
}

if [ "$repeat" -gt 0 ]; then
	out=$ST/repeat
	krp_log "booting $ver: ${rcmd//:/ } $repeat times per phase ($rphases)${rset:+, KSM: $rset} (results in $out)"
	boot_rc=0
	start=$SECONDS
	krp_boot "$vmlinuz" "$initrd" "$out" 20000 "krp.plan=ksmrepeat krp.repeat=$repeat krp.phases=$rphases krp.repeat_cmd=$rcmd krp.ksm_size=$size krp.ksm_trace=$rtrace${rset:+ krp.ksm_set=$rset}" || boot_rc=$?
	took=$((SECONDS - start))
	echo
	echo "${rcmd//:/ } from $(cat "$BIN/SOURCE"), $repeat runs per phase, on $ver, guest $(cat "$out/uname" 2>/dev/null || echo '?')"
	echo "KSM tunables set before each run: ${rset:-none (boot values)}; numa_balancing $(cat "$out/numa_balancing" 2>/dev/null || echo '?')"
	tabulate "$out" "$rphases"
	echo
	IFS=, read -r -a ph <<<"$rphases"
	for p in "${ph[@]}"; do
		echo "seconds in the guest, phase $p: $(cat "$out/repeat.$p.seconds" 2>/dev/null || echo '?')"
	done
	echo "boot: ${took}s (qemu exit status $boot_rc)"
	status=0
	if [ -n "$(krp_splats "$out/console.log" "$out/dmesg")" ]; then
		echo "kernel splats:"
		krp_splats "$out/console.log" "$out/dmesg" | sed 's/^/  /'
		status=1
	fi
	if [ "$boot_rc" != 0 ] || [ ! -s "$out/dmesg" ]; then
		echo "error: the guest did not finish (qemu exit status $boot_rc; see $out/console.log)" >&2
		status=1
	fi
	exit "$status"
fi

# ---- --run: three rounds, compare ----
out=$ST/out
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
	compare3 "$t" "$out/results."{without,with,without2}".$t" "$out/verdicts.$t"
	differs=$(grep -c '^differs' "$out/verdicts.$t" || true)
	varies=$(grep -c '^varies' "$out/verdicts.$t" || true)
	skips=$(grep -c '^skip' "$out/verdicts.$t" || true)
	same=$(grep -c '^same' "$out/verdicts.$t" || true)
	echo "  $same case(s) the same in all three rounds, $skips not compared (SKIP: unstable" \
		"by itself, measured)"
	if [ "$differs" != 0 ]; then
		echo "  with module: $differs case(s) DIFFERENT from both rounds without (<>)"
		status=1
	fi
	if [ "$varies" != 0 ]; then
		echo "  $varies case(s) measured stable differ between the two rounds without the" \
			"module (~): re-measure with scripts/selftests.sh --repeat"
		status=1
	fi
	if grep -v '^skip' "$out/verdicts.$t" | cut -f3,5 | grep -q 'not ok\|Bail out!\|no result\|(missing)'; then
		echo "  note: a compared case failed without the module too"
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
