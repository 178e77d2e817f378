#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# plan-soak.sh - the guest half of scripts/soak.sh: krp.cycles insmod/rmmod
# cycles under fire (see under_fire in lib.sh), then, if the kernel has
# kmemleak, a scan after the last rmmod.
# shellcheck disable=SC1091 # /krp/lib.sh is scripts/guest/lib.sh in the guest
. /krp/lib.sh

section uname uname -r
section fire under_fire "$(param cycles 100)" "$(param vmas 2000)"
section walkers cat /tmp/fire.a /tmp/fire.b
kmemleak_scan
section dmesg dmesg
