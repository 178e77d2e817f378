#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# plan-tcgcheck.sh - is the emulator safe for live code patching?  Without
# ksm_rmap_probe: keep rmap_walk_ksm() busy on one CPU and switch a plain
# ftrace kprobe event on anon_vma_interval_tree_iter_next on and off from
# the other.  Under multi-threaded TCG this alone has oopsed with "int3"
# (see docs/how-it-works.md, "QEMU"); scripts boot with
# -accel tcg,thread=single.
# shellcheck disable=SC1091 # /krp/lib.sh is scripts/guest/lib.sh in the guest
. /krp/lib.sh

"$REPRO" --mode split --vmas 3000 --dups 2 --loop 20 >/tmp/loop.out 2>&1 &
lp=$!
sleep 8
echo 'p:tcgcheck/next anon_vma_interval_tree_iter_next' >"$T/kprobe_events"
i=0
while [ $i -lt 20 ]; do
	echo 1 >"$T/events/tcgcheck/enable"
	sleep 0.2
	echo 0 >"$T/events/tcgcheck/enable"
	sleep 0.2
	i=$((i + 1))
done
wait $lp
section tcgcheck.cycles echo "toggles=$i"
section tcgcheck.repro cat /tmp/loop.out
section dmesg dmesg
