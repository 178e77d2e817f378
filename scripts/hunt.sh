#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# hunt.sh - the missed-mapping hunt: seeded KSM scenarios (fork trees,
# mremap moves / DONTUNMAP / grow, mprotect splits, partial munmap,
# MAP_PRIVATE tmpfs CoW pages, DONTFORK / WIPEONFORK, mlock,
# unmerge/remerge, MADV_UNMERGEABLE, UFFDIO_MOVE, mremap over a live
# range, ksm run=2; scripts/ksm_rmap_hunt.c) in one guest per kernel with
# ksm_rmap_probe loaded.  After each scenario every KSM page is migrated
# to the other NUMA node: a page that stays (nothing pins it, ksmd is
# stopped) is a confirmed miss of rmap_walk_ksm(), of class unmergeable
# if one of its mappings lies in a VMA without VM_MERGEABLE (known,
# kernel-wide: tests/ksm_fork_unreachable.c), else of class new.  The
# module's verdict (incomplete_walks) is put beside it: incomplete walks
# in a scenario whose pages all migrated are the module's false positives.
#
# usage: scripts/hunt.sh [-h] [-k KERNELS] [-s FIRST_SEED] [-n SCENARIOS |
#                        -t SECONDS] [-f FIXED] [-w WALK]
#   -k KERNELS  comma list of scripts/kernels.tsv names (default its "hunt"
#               set: the pristine 7.2 build and v3, whose misses it finds)
#               or paths of built kernel trees (with a /)
#   -s SEED     first seed (default 1); seeds SEED, SEED+1, ...
#   -n N        random scenarios per kernel (default 20)
#   -t SECONDS  instead: as many as fit in SECONDS of guest time per kernel
#   -f FIXED    fixed scenarios run first, comma list (default hugh,hugh-pre;
#               '' for none): hugh = merge, mremap-move one of two identical
#               pages, merge again; hugh-pre = the move before the merge
#   -w WALK     migrate (default): move_pages every KSM page; reclaim: swap
#               them out instead (cgroup memory.reclaim, swap on a RAM
#               disk; mlock operations skipped): a page still mapped after
#               10 reclaims is stuck
# examples:
#   scripts/hunt.sh -k v3-7.2,base-7.2 -n 50
#   scripts/hunt.sh -k v4-7.2 -t 600
#   scripts/hunt.sh -k v3-7.2 -f '' -s 17 -n 1     # replay seed 17
# Output: a table (kernel, scenarios, module-incomplete scenarios,
# confirmed misses split by class, false positives, errors) and one line
# per miss and false positive with its class and a replay command (misses
# the module flagged: the first 10 of each class per kernel); per kernel,
# the guest's output in $KRP_CACHE/hunt-out-KERNEL (hunt.results,
# hunt.logs, console.log).
# Exit status: 0 if every guest ran its scenarios (finds are results).
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
kernels='' seed=1 n=20 t=0 fixed=hugh,hugh-pre walk=migrate
while getopts "hk:s:n:t:f:w:" opt; do
	case $opt in
	h) usage; exit 0 ;;
	k) kernels=$OPTARG ;;
	s) seed=$OPTARG ;;
	n) n=$OPTARG ;;
	t) t=$OPTARG ;;
	f) fixed=$OPTARG ;;
	w) walk=$OPTARG ;;
	*) usage >&2; exit 2 ;;
	esac
done
[[ $seed =~ ^[0-9]+$ && $n =~ ^[0-9]+$ && $t =~ ^[0-9]+$ &&
	$fixed =~ ^[a-z,-]*$ && $walk =~ ^(migrate|reclaim)$ ]] ||
	{ usage >&2; exit 2; }

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

[ -n "$kernels" ] || kernels=$(krp_kernels_in hunt)
kernels=$(krp_kernel_ids "$kernels") || exit 1
IFS=, read -r -a klist <<<"$kernels"
krp_host_setup

# guest time: boot, then about 15 s a scenario under TCG (generous)
nf=$(tr ',' '\n' <<<"$fixed" | grep -c . || true)
if [ "$t" -gt 0 ]; then tmo=$((t + 60 * nf + 600)); else tmo=$(((n + nf) * 30 + 600)); fi
append="krp.fixed=${fixed:--} krp.seed=$seed krp.n=$n krp.t=$t krp.walk=$walk"

# replay ID KERNEL: the one-line command that runs scenario ID again
replay() {
	if [[ $1 =~ ^[0-9]+$ ]]; then
		echo "scripts/hunt.sh -k $2 -w $walk -f '' -s $1 -n 1"
	else
		echo "scripts/hunt.sh -k $2 -w $walk -f $1 -n 0"
	fi
}

rows=()
finds=()
rc=0
for k in "${klist[@]}"; do
	out=$KRP_CACHE/hunt-out-$k
	krp_log "$k: booting; scenarios: fixed ${fixed:-none}, $([ "$t" -gt 0 ] && echo "$t s of random ones from seed $seed" || echo "$n random from seed $seed")"
	boot_rc=0
	krp_hunt_boot "$k" "$out" "$tmo" "$append" || boot_rc=$?
	res=$out/hunt.results
	if [ "$boot_rc" != 0 ] || [ "$(cat "$out/exit" 2>/dev/null)" != 0 ] ||
		[ ! -f "$res" ] || [ -n "$(cat "$out/insmod" 2>/dev/null)" ]; then
		krp_log "$k: the guest did not finish its plan (boot $boot_rc, insmod '$(cat "$out/insmod" 2>/dev/null)'); see $out/console.log"
		rows+=("$(printf '%-16s %9s' "$k" "failed")")
		rc=1
		continue
	fi
	splats=$(krp_splats "$out/console.log" "$out/dmesg")
	if [ -n "$splats" ]; then
		echo "$splats" >&2
		krp_log "$k: kernel splat during the hunt"
		rc=1
	fi
	read -r total pages inc miss fp err flagged new unm _ < <(krp_hunt_summary "$res")
	rows+=("$(printf '%-16s %9s %9s %11s %9s %9s %9s %9s %9s %9s' "$k" "$total" "$pages" \
		"$inc" "$miss" "$new" "$unm" "$flagged" "$fp" "$err")")
	while read -r id v cl st sn su sm inc mis; do
		[ "$cl" = - ] || v="$v/$cl"
		finds+=("$(printf '%-22s %-14s %-8s stuck pages %s (new %s, unmergeable %s; mappings %s), module: incomplete %s, missed %s; replay: %s' \
			"$v" "$k" "$id" "$st" "$sn" "$su" "$sm" "$inc" "$mis" "$(replay "$id" "$k")")")
	done < <(awk '
		{ delete v; for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
		{ cl = "-"; if (v["verdict"] == "miss") cl = v["stuck_new"] + 0 > 0 ? "new" : "unmergeable" }
		# flagged misses: the first 10 of each class on a kernel; every other find
		v["verdict"] == "miss" && v["incomplete_walks"] + 0 > 0 && ++fl[cl] > 10 { more[cl]++; next }
		v["verdict"] != "clean" && v["verdict"] != "empty" {
			print v["scenario"], v["verdict"], cl, v["stuck"] + 0, v["stuck_new"] + 0,
				v["stuck_unmergeable"] + 0, v["stuck_mappings"] + 0,
				v["incomplete_walks"], v["missed_mappings"] }
		END { for (c in more) print "more", c, more[c] > "/dev/stderr" }' "$res" 2>"$out/hunt.more")
	while read -r _ cl cnt; do
		finds+=("... and $cnt more misses of class $cl on $k that the module flagged: $res")
	done <"$out/hunt.more"
done

echo
echo "missed-mapping hunt ($walk walks): fixed scenarios '${fixed:-none}', random from seed $seed ($([ "$t" -gt 0 ] && echo "$t s a kernel" || echo "$n a kernel"))"
printf '%-16s %9s %9s %11s %9s %9s %9s %9s %9s %9s\n' kernel scenarios ksm_pages incomplete misses new unmerg flagged false_pos errors
printf '%s\n' "${rows[@]}"
echo
echo "scenarios: run; ksm_pages: KSM pages $walk walks were tried on, all scenarios;"
echo "incomplete: scenarios where the module counted an incomplete walk; misses:"
echo "scenarios with a KSM page that stayed (did not migrate, or stayed mapped after"
echo "10 reclaims): the kernel's outcome, split by class: new (a stuck page whose"
echo "mappings all lie in VM_MERGEABLE VMAs) and unmerg (every stuck page has a"
echo "mapping in a VMA without VM_MERGEABLE: known, kernel-wide); flagged: misses"
echo "the module also called incomplete; false_pos: incomplete walks but every KSM"
echo "page left"
[ ${#finds[@]} = 0 ] || { echo; printf '%s\n' "${finds[@]}"; }
exit "$rc"
