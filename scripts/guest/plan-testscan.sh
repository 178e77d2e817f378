#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# plan-testscan.sh - plan-test.sh (krp.phases as there), then, if the
# kernel has kmemleak, two scans 5 s apart after its final rmmod (as
# plan-soak.sh does), lockdep's state and dmesg once more (sections
# kmemleak, lockdep_stats, dmesg_after_scan).
# For the debug kernel (scripts/build-kernel.sh debug).
# shellcheck disable=SC1091 # /krp/lib.sh is scripts/guest/lib.sh in the guest
. /krp/lib.sh

/krp/plan-test.sh
rc=$?
kmemleak_scan
lockdep_state
section dmesg_after_scan dmesg
exit $rc
