# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# ksm.sh - guest-side KSM helpers for the selftest plans (busybox sh):
# save the KSM tunables at boot, put them back, run one selftest
# invocation framed for the host.  Source it after /krp/lib.sh.

K=/sys/kernel/mm/ksm
TUNABLES="pages_to_scan sleep_millisecs merge_across_nodes use_zero_pages
max_page_sharing stable_node_chains_prune_millisecs smart_scan advisor_mode"

# ksm_save: the KSM tunables at boot, as "NAME VALUE" lines (of a choice
# such as "[none] scan-time", the one chosen), in /tmp/ksm.boot.
ksm_save() {
	for _f in run $TUNABLES; do
		[ -r "$K/$_f" ] && echo "$_f $(sed 's/.*\[\(.*\)\].*/\1/' "$K/$_f")"
	done >/tmp/ksm.boot
}

# ksm_restore: unmerge everything, tunables back to boot values; show them.
ksm_restore() {
	echo 2 >"$K/run"
	while read -r _f _v; do
		[ "$_f" = run ] || echo "$_v" >"$K/$_f"
	done </tmp/ksm.boot
	sed -n 's/^run //p' /tmp/ksm.boot >"$K/run"
	grep . "$K"/* | sed "s|^$K/||"
}

# ksm_set NAME=VALUE...: set KSM tunables (a comma list is fine too);
# says which it set.  An unknown tunable is an error.
ksm_set() {
	for _a in $(echo "$*" | tr ',' ' '); do
		_f=${_a%%=*}
		[ -w "$K/$_f" ] || { echo "ksm_set: no tunable $K/$_f"; return 1; }
		echo "${_a#*=}" >"$K/$_f" || return 1
		echo "set $_f=${_a#*=}"
	done
}

# run_one NAME ARGS...: one invocation of /krp/NAME, framed as
# "### NAME ARGS" ... "### exit RC after Ns", within $limit seconds.
run_one() {
	echo "### $*"
	_p=$1
	shift
	_s=$(date +%s)
	timeout "${limit:-150}" "./$_p" "$@" 2>&1
	_rc=$?
	echo "### exit $_rc after $(($(date +%s) - _s))s"
}

# ksm_tunable NAME: the value of tunable NAME at boot.
ksm_tunable() {
	sed -n "s/^$1 //p" /tmp/ksm.boot
}

# ksm_tests_all: the ksm_tests cases of run_vmtests.sh (categories ksm and
# ksm_numa), -H/-P with an area of $size MiB.
ksm_tests_all() {
	run_one ksm_tests -H -s "${size:-20}"
	run_one ksm_tests -P -s "${size:-20}"
	run_one ksm_tests -M -p 10
	run_one ksm_tests -U
	run_one ksm_tests -Z -p 10 -z 0
	run_one ksm_tests -Z -p 10 -z 1
	# With smart_scan's page skipping this case failed 4 and 5 times in
	# 15 runs with no module loaded (ksmd skips pages the test waits for);
	# with smart_scan=0, 0 of 15.
	[ -w "$K/smart_scan" ] && echo 0 >"$K/smart_scan"
	run_one ksm_tests -N -m 1
	[ -w "$K/smart_scan" ] && ksm_tunable smart_scan >"$K/smart_scan"
	run_one ksm_tests -N -m 0
}

# ksm_functional_all: ksm_functional_tests, once (it runs all its tests).
ksm_functional_all() {
	run_one ksm_functional_tests
}
