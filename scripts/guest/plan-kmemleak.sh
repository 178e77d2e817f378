#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# plan-kmemleak.sh - the control for kmemleak on the debug kernel
# (scripts/build-kernel.sh debug): ksm_rmap_probe is never loaded.  With
# krp.work=1 (the default) the soak's two walkers (split on CPU 0, fork on
# CPU 1, krp.vmas VMAs each, as in under_fire) migrate KSM pages for
# krp.seconds seconds first; krp.work=0 scans right after boot.  Then two
# kmemleak scans 5 s apart, as plan-soak.sh does after its last rmmod.
# Whatever is reported here comes from the kernel and the workload, not
# from the module.
# shellcheck disable=SC1091 # /krp/lib.sh is scripts/guest/lib.sh in the guest
. /krp/lib.sh

section uname uname -r
if [ "$(param work 1)" = 1 ]; then
	vmas=$(param vmas 2000)
	"$REPRO" --cpu 0 --mode split --vmas "$vmas" --dups 2 --loop 7200 >/tmp/fire.a 2>&1 &
	a=$!
	wait_for /tmp/fire.a merged=
	"$REPRO" --cpu 1 --mode fork --forks 1 --vmas "$vmas" --dups 2 --loop 7200 >/tmp/fire.b 2>&1 &
	b=$!
	wait_for /tmp/fire.b merged=
	sleep "$(param seconds 120)"
	kill -TERM $a $b
	wait $a
	wait $b
	section walkers cat /tmp/fire.a /tmp/fire.b
fi
section loaded sh -c 'grep -c ksm_rmap_probe /proc/modules'
kmemleak_scan
lockdep_state
section dmesg dmesg
