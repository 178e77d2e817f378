# SPDX-License-Identifier: GPL-2.0
#
# oracle.awk - count rmap_walk_ksm() loops and iterations from the raw
# ftrace of the krp_oracle kprobe events (see lib.sh: oracle_on).
#
# A loop starts at each iter_first return to rmap_walk_ksm; each non-NULL
# return of iter_first/iter_next is one node the loop body ran on.  Hits
# are rmap_one callback entries by a task inside a walk.

function bucket(v,   b) { b = 0; while (v >= 1) { b++; v = int(v / 2) }; return b }
function close_loop(p) {
	if (!inloop[p]) return
	inloop[p] = 0
	iters += cur[p]
	if (cur[p] > maxiter) maxiter = cur[p]
	hist[bucket(cur[p])]++
}
/^#/ { next }
{
	ev = ""; pid = ""; ret = ""; caller = ""
	for (i = 1; i <= NF; i++) {
		if ($i ~ /^\[[0-9]+\]$/ && pid == "") {
			n = split($(i - 1), a, "-"); pid = a[n]
		}
		if ($i ~ /^[0-9]+\.[0-9]+:$/ && ev == "") {
			ev = $(i + 1); sub(/:$/, "", ev)
			caller = $(i + 2); sub(/^\(/, "", caller)
		}
		if ($i ~ /^ret=/) ret = substr($i, 5)
	}
	if (ev == "walk") { close_loop(pid); inwalk[pid] = 1; walks++; next }
	if (ev == "walk_ret") { close_loop(pid); inwalk[pid] = 0; next }
	if (ev ~ /^hit_/) { if (inwalk[pid]) hits++; next }
	if (caller !~ /^rmap_walk_ksm\+/) next
	if (ev == "first") {
		close_loop(pid); inloop[pid] = 1; loops++
		cur[pid] = (ret != "0x0")
	} else if (ev == "next" && inloop[pid]) {
		cur[pid] += (ret != "0x0")
	}
}
END {
	for (p in inloop) close_loop(p)
	printf "oracle_walks: %d\noracle_loops: %d\noracle_iterations: %d\n", walks, loops, iters
	printf "oracle_hits: %d\noracle_max_loop_iterations: %d\n", hits, maxiter
	# busybox awk has no "^": build the powers of two by doubling
	for (b = 0, p2 = 1; b < 64; b++) {
		if (hist[b])
			printf "oracle_hist iterations %d %d %d\n", b ? p2 / 2 : 0, b ? p2 - 1 : 0, hist[b]
		p2 *= 2
	}
}
