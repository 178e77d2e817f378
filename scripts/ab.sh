#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# ab.sh - A/B kernel runs: the kernels of scripts/kernels.tsv (our own
# unpatched kernel and the thread's patch variants built from linux-source,
# Debian's stock 7.2 and 7.3), each booted under QEMU, the same workloads
# with ksm_rmap_probe loaded, one table in the seed's shape with ratios
# against the first kernel, beside the what-if prediction the module made on
# the unpatched one.  Writes JSON and an SVG plot too.
#
# usage: scripts/ab.sh [-h] [-k KERNELS] [-n SWEEP] [-w WORKLOADS] [-s] [-o DIR]
#   -k KERNELS    comma list of scripts/kernels.tsv names (default: its "ab"
#                 set: stock-7.2,stock-7.3,base-7.2,v3-7.2,v4-7.2,
#                 v3-fallback-7.2), or paths of built kernel trees (with a
#                 /; scripts/build-kernel.sh --tree makes one)
#   -n SWEEP      split-mode VMA counts (default 1000,5000,20000,50000)
#   -w WORKLOADS  comma list of split,fork,mremap,victim (default all four;
#                 victim: split with 20,000 VMAs and a thread that keeps
#                 taking the anon_vma lock for write, the victim)
#   -s            add the table's "ab-s" set (the stock Debian 6.12 kernel)
#   -o DIR        where ab.json, ab.svg, ab.txt and the raw guest output go
#                 (default $KRP_CACHE/ab)
# Guests run with -icount shift=0 (hold times are instruction counts, the
# same from run to run); KRP_ICOUNT= (empty) uses host time instead.
# examples:
#   scripts/ab.sh                          # everything (cold: ~20 min)
#   scripts/ab.sh -k base-7.2,v3-7.2 -w mremap   # just Hugh Dickins's case
#   scripts/ab.sh -k stock-7.3,/src/linux/build -w split -n 20000
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
kernels=
sweep=1000,5000,20000,50000
workloads=split,fork,mremap,victim
stock=0
outdir=
while getopts "hk:n:w:so:" opt; do
	case $opt in
	h) usage; exit 0 ;;
	k) kernels=$OPTARG ;;
	n) sweep=$OPTARG ;;
	w) workloads=$OPTARG ;;
	s) stock=1 ;;
	o) outdir=$OPTARG ;;
	*) usage >&2; exit 2 ;;
	esac
done
if ! [[ $sweep =~ ^[0-9]+(,[0-9]+)*$ &&
	$workloads =~ ^(split|fork|mremap|victim)(,(split|fork|mremap|victim))*$ ]]; then
	echo "error: bad -n or -w value" >&2
	usage >&2
	exit 2
fi

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
outdir=${outdir:-$KRP_CACHE/ab}
[ -n "$kernels" ] || kernels=$(krp_kernels_in ab)
[ "$stock" = 0 ] || kernels="$kernels,$(krp_kernels_in ab-s)"
kernels=$(krp_kernel_ids "$kernels") || exit 1
mkdir -p "$outdir"

# guest time = instruction count (see krp_boot): repeatable hold times
export KRP_ICOUNT=${KRP_ICOUNT-0}
krp_host_setup
krp_need_pkgs gnuplot-nox jq
repro=$(krp_build_repro "$KRP_CACHE/bin")
rmapst=$("$KRP_TOP/scripts/rmap-selftest.sh") || krp_die "building upstream's rmap selftest failed"

# The kernels: "name bzImage kdir root" lines (own ones built together).
list=()
IFS=, read -r -a want <<<"$kernels"
own=()
for k in "${want[@]}"; do
	read -r _ kind _ <<<"$(krp_kernel_row "$k")"
	[ "$kind" != own ] || own+=("$k")
done
t0=$SECONDS
declare -A kbz=() kkdir=()
if [ ${#own[@]} -gt 0 ]; then
	krp_log "building kernels: ${own[*]} (cached after the first run)"
	while read -r name bz kdir; do
		kbz[$name]=$bz
		kkdir[$name]=$kdir
	done < <("$KRP_TOP/scripts/build-kernel.sh" "${own[@]}")
	krp_log "kernels ready after $((SECONDS - t0)) s"
fi
for k in "${want[@]}"; do
	if [ -n "${kbz[$k]:-}" ]; then
		list+=("$k ${kbz[$k]} ${kkdir[$k]} -")
	else
		read -r vmlinuz kdir root <<<"$(krp_kernel "$k")"
		[ -n "${root:-}" ] || krp_die "kernel $k is not available"
		list+=("$k $vmlinuz $kdir $root")
	fi
done

# Boot each kernel once; all workloads run in that boot.
for k in "${list[@]}"; do
	read -r name bz kdir root <<<"$k"
	ko=$(krp_build_module "$kdir" "$KRP_CACHE/build/ab-$name" "$root")
	initrd=$KRP_CACHE/ab-$name.cpio.gz
	brd=
	[ "$root" = - ] || brd=$(ls "$KRP_CACHE"/stock/"$(basename "$(dirname "$bz")")"/brd.ko 2>/dev/null || true)
	krp_initramfs_extra "$initrd" "$ko" "$repro" "$rmapst" ${brd:+"$brd"}
	krp_log "booting $name: workloads $workloads, sweep $sweep"
	t1=$SECONDS
	krp_boot "$bz" "$initrd" "$outdir/$name" 3600 \
		"krp.plan=ab krp.sweep=$sweep krp.workloads=$workloads" ||
		krp_die "$name: guest run failed; see $outdir/$name/console.log"
	[ -z "$(cat "$outdir/$name/insmod" 2>/dev/null)" ] ||
		krp_die "$name: insmod failed: $(cat "$outdir/$name/insmod")"
	splats=$(krp_splats "$outdir/$name/console.log" "$outdir/$name/dmesg")
	[ -z "$splats" ] || { echo "$splats" >&2; krp_die "$name: kernel splat"; }
	krp_log "$name done in $((SECONDS - t1)) s"
done

# The workloads run, in order.
runs=()
for w in ${workloads//,/ }; do
	case $w in
	split) for n in ${sweep//,/ }; do runs+=("split-$n"); done ;;
	fork) runs+=("fork-1000") ;;
	mremap) runs+=("mremap") ;;
	victim) runs+=("victim-20000") ;;
	esac
done
names=()
for k in "${list[@]}"; do names+=("${k%% *}"); done

v() { krp_kv "$outdir/$1/$2.stats" "$3"; }	# v KERNEL RUN.MODE KEY
ms() { awk -v v="$1" 'BEGIN { if (v ~ /^[0-9]+$/) printf "%.3f", v / 1e6; else print "-" }'; }
# victim KERNEL RUN: the longest victim wait (count=0 run), "none", or "-"
# for a run without a victim thread; own: the victim's own longest mprotect
victim() {
	[[ $2 == victim-* ]] || { echo -; return; }
	if [ "$(v "$1" "$2.time" victim_waits)" = 0 ]; then echo none; else ms "$(v "$1" "$2.time" victim_max_wait_ns)"; fi
}
own() {
	[[ $2 == victim-* ]] || { echo -; return; }
	ms "$(awk '/victim calls=/ { for (i = 1; i <= NF; i++) if ($i ~ /^max_ns=/) print substr($i, 8) }' "$outdir/$1/$2.time.repro" 2>/dev/null)"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b + 0 > 0) printf "%.3f", a / b; else print "-" }'; }

# The what-if reference: the first full-range kernel of this run.
ref=
for name in "${names[@]}"; do
	[ -n "$ref" ] || [ "$(krp_kernel_walk "$name")" != full ] || ref=$name
done
first=${names[0]}

# The table people read.
{
	printf '%-12s %-16s %9s %10s %9s %9s %7s %5s %6s %6s %9s %9s %8s  %s\n' \
		workload kernel "hold ms" "x $first" "max iter" "addr skp" "mm skp" \
		walks incompl missed migrated "victim ms" mprotect \
		"what-if on ${ref:-(none)}: iter, miss"
	for r in "${runs[@]}"; do
		base_hold=$(v "$first" "$r.time" max_hold_ns)
		for name in "${names[@]}"; do
			hold=$(v "$name" "$r.time" max_hold_ns)
			# the what-if of a range: v3's, or v4's for the stored index
			case $(krp_kernel_walk "$name") in
			v3) wi=v3 ;; index) wi=v4 ;; *) wi= ;;
			esac
			pred=-
			if [ -n "$ref" ] && [ -n "$wi" ]; then
				pred="$(v "$ref" "$r.count" "whatif_${wi}_max_loop_iterations"), $(v "$ref" "$r.count" "whatif_${wi}_missed_walks") walks"
			fi
			printf '%-12s %-16s %9s %10s %9s %9s %7s %5s %6s %6s %9s %9s %8s  %s\n' \
				"$r" "$name" "$(ms "$hold")" "$(ratio "$hold" "$base_hold")" \
				"$(v "$name" "$r.count" max_loop_iterations)" \
				"$(v "$name" "$r.count" max_loop_skip_addr)" \
				"$(v "$name" "$r.count" max_loop_skip_mm)" \
				"$(v "$name" "$r.count" walks)" \
				"$(v "$name" "$r.count" incomplete_walks)" \
				"$(v "$name" "$r.count" missed_mappings)" \
				"$(krp_kv "$outdir/$name/$r.count.repro" migrated_count)/$(krp_kv "$outdir/$name/$r.count.repro" moves)" \
				"$(victim "$name" "$r")" "$(own "$name" "$r")" \
				"$pred"
		done
	done
	echo
	echo "hold ms: longest anon_vma lock hold of one loop, measured with count=0 (no per-iteration"
	echo "probe); the other columns with count=1. max iter / addr skp / mm skp: maxima over loops."
	echo "incompl: walks that went through everything and still found fewer mappings than lasted"
	echo "the whole walk (README); missed: mappings so missed. migrated: moves that moved the KSM page."
	echo "victim ms: in the victim run (split, 20,000 VMAs, a real-time thread on the walker's CPU toggling a"
	echo "page's protection), the longest wait of a task for an anon_vma lock a KSM walk held (count=0;"
	echo "none: nobody waited); mprotect: that thread's own longest mprotect() (the wait is inside it)."
	echo "what-if: what the module on ${ref:-a full-range kernel} predicts for that range: max iterations per loop, and"
	echo "walks in which the narrowed range would have missed a mapping (compare incompl)."
	if [ -n "$KRP_ICOUNT" ]; then
		echo "Times are guest instruction counts (QEMU -icount shift=$KRP_ICOUNT: $((1 << KRP_ICOUNT)) ns per instruction),"
		echo "the same from run to run; compare within this table, not with hardware."
	else
		echo "Times are QEMU TCG times: compare within this table, not with hardware."
	fi
	echo
	echo "Upstream's rmap selftest (tools/testing/selftests/mm/rmap.c of $(krp_source_pkg rmapst),"
	echo "migrate fixture) in the same boot, module loaded, beside the module's verdict:"
	printf '%-16s %-22s %-12s %-15s %6s %6s   %-8s %8s %6s\n' kernel release "migrate.ksm" "ksm_and_mremap" incompl missed swapped "swap kB" incompl
	for name in "${names[@]}"; do
		sv() { awk -v t="migrate.$1" '$1 == t {print $2}' "$outdir/$name/rmapst.times" 2>/dev/null; }
		sw=$(krp_kv "$outdir/$name/swap.count.repro" swapped)
		printf '%-16s %-22s %-12s %-15s %6s %6s   %-8s %8s %6s\n' "$name" "$(cat "$outdir/$name/uname")" \
			"$(sv ksm)" "$(sv ksm_and_mremap)" \
			"$(v "$name" rmapst incomplete_walks)" "$(v "$name" rmapst missed_mappings)" \
			"${sw:--}" "$(awk '/ after / {for (i = 1; i <= NF; i++) if ($i ~ /^swap_kb=/) print substr($i, 9)}' "$outdir/$name/swap.count.repro" 2>/dev/null)" \
			"$(if [ -n "$sw" ]; then v "$name" swap.count incomplete_walks; else echo -; fi)"
	done
	echo "migrate.*, incompl, missed: upstream's selftest and the module's incomplete walks and missed"
	echo "mappings during it: they must agree (a kernel that fails ksm_and_mremap misses a mapping)."
	echo "swapped: Hugh Dickins's test as he ran it: the mremap shape, merged, ksmd stopped, then"
	echo "cgroup memory.reclaim; yes = both mappings of the KSM page became swap entries (pagemap),"
	echo "swap kB from smaps (4: one mapping swapped, the other still maps the page); incompl: the"
	echo "module's incomplete reclaim walks.  '-': no swap device in that guest."
} | tee "$outdir/ab.txt"

# JSON for scripts: the module's stats.json of every run, both modes.
{
	echo "{"
	echo "  \"sweep\": [${sweep}],"
	echo "  \"runs\": ["
	sep=
	for name in "${names[@]}"; do
		for r in "${runs[@]}"; do
			[ -f "$outdir/$name/$r.count.json" ] || continue
			printf '%s    {"kernel": "%s", "release": "%s", "workload": "%s", "vmas": %s, "moves": %s, "migrated": %s,\n' \
				"$sep" "$name" "$(cat "$outdir/$name/uname")" "$r" \
				"$(krp_kv "$outdir/$name/$r.count.repro" anon_vma_tree_nodes)" \
				"$(krp_kv "$outdir/$name/$r.count.repro" moves)" \
				"$(krp_kv "$outdir/$name/$r.count.repro" migrated_count)"
			printf '     "count": %s,\n     "time": %s}' \
				"$(jq -c . "$outdir/$name/$r.count.json")" \
				"$(jq -c . "$outdir/$name/$r.time.json")"
			sep=$',\n'
		done
	done
	echo
	echo "  ]"
	echo "}"
} >"$outdir/ab.json"
jq -e '.runs | length > 0' "$outdir/ab.json" >/dev/null ||
	krp_die "ab.json did not come out as JSON; see $outdir"

# The plot: hold time and iterations against N, one line per kernel.
if [[ $workloads == *split* ]]; then
	plot=()
	for name in "${names[@]}"; do
		for n in ${sweep//,/ }; do
			echo "$n $(v "$name" "split-$n.time" max_hold_ns) $(v "$name" "split-$n.count" max_loop_iterations)"
		done >"$outdir/$name.dat"
		plot+=("$name")
	done
	{
		echo "set terminal svg size 1000,420 dynamic font 'sans,11'"
		echo "set output '$outdir/ab.svg'"
		echo "set multiplot layout 1,2 title 'rmap\\_walk\\_ksm(), split workload, QEMU TCG'"
		echo "set logscale xy; set grid; set key left top; set xlabel 'VMAs on the anon\\_vma'"
		echo "set ylabel 'max anon\\_vma lock hold (ms)'"
		printf 'plot '
		for name in "${plot[@]}"; do
			printf "'%s' using 1:(\$2/1e6) with linespoints title '%s', " "$outdir/$name.dat" "$name"
		done | sed 's/, $/\n/'
		echo "set ylabel 'max tree iterations per loop'; set yrange [0.5:*]"
		printf 'plot '
		for name in "${plot[@]}"; do
			printf "'%s' using 1:3 with linespoints title '%s', " "$outdir/$name.dat" "$name"
		done | sed 's/, $/\n/'
		echo "unset multiplot"
	} >"$outdir/ab.gp"
	gnuplot "$outdir/ab.gp" || krp_log "gnuplot failed; data in $outdir/*.dat"
fi
krp_log "wrote $outdir/ab.txt, $outdir/ab.json, $outdir/ab.svg ($((SECONDS - t0)) s in all)"
