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
