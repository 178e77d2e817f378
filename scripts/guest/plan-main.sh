#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# plan-main.sh - the guest half of scripts/run-stock.sh: run the reproducer
# once without the module (the reference walk time) and once with it, and
# send back the reproducer's output and the module's stats.
# shellcheck disable=SC1091 # /krp/lib.sh is scripts/guest/lib.sh in the guest
. /krp/lib.sh

args="--mode $(param mode split) --vmas $(param n 20000) --dups $(param dups 2)"
args="$args --forks $(param forks 2) --moves $(param moves 2)"

section uname uname -r
# shellcheck disable=SC2086 # $args is a word list on purpose
section bare.repro "$REPRO" $args
section insmod module_load
# shellcheck disable=SC2086
section probe.repro "$REPRO" $args
section probe.stats cat "$D/stats"
section probe.walks cat "$D/walks"
section probe.hist cat "$D/hist"
section rmmod module_unload
section dmesg dmesg
