# SPDX-License-Identifier: GPL-2.0
#
# victim.awk - the victims of KSM holds, from the raw ftrace of the
# krp_oracle events (see lib.sh: victim_oracle_on), not from the module.
#
# A hold: from a walker's iter_first() (inside rmap_walk_ksm, pid P) to its
# next up_read(), whose argument is the lock.  A victim: another task's
# lock:contention_begin on that lock inside the hold; its wait ends at its
# contention_end.  Timestamps have microsecond resolution, and the module
# marks a hold a little earlier and later than these events: a begin
# within 2 us of either edge may go either way, so the oracle gives bounds.
# The lock itself is taken before iter_first(), and released inside
# up_read(), at times no event here shows: after the walker's previous
# event (its walk entry or previous up_read()), and before its next loop
# or walk (the module stops counting a hold there, or in its own return
# handler, which runs after ftrace's walk_ret event).  A begin in either
# stretch is a victim if the lock was held then: the upper bound counts
# it, the lower one does not.

function us(ts) { sub(/:$/, "", ts); return ts * 1000000 }
/^#/ { next }
{
	ev = ""; pid = ""; lock = ""; t = 0
	for (i = 1; i <= NF; i++) {
		if ($i ~ /^\[[0-9]+\]$/ && pid == "") {
			n = split($(i - 1), a, "-"); pid = a[n]
		}
		if ($i ~ /^[0-9]+\.[0-9]+:$/ && ev == "") {
			t = us($i); ev = $(i + 1); sub(/:$/, "", ev)
		}
		if ($i ~ /^(sem|lock)=/) { lock = $i; sub(/^[a-z]+=/, "", lock) }
	}
	# the walker's next loop or walk bounds the end of its last hold
	if ((ev == "walk" || ev == "lfirst") && (pid in pend)) {
		hn[pend[pid]] = t; delete pend[pid]
	}
	if (ev == "walk") { inwalk[pid] = 1; inloop[pid] = 0; last[pid] = t; next }
	if (ev == "walk_ret") { inwalk[pid] = 0; inloop[pid] = 0; next }
	if (ev == "lfirst" && inwalk[pid]) { inloop[pid] = 1; start[pid] = t; next }
	if (ev == "unlock" && inloop[pid]) {
		inloop[pid] = 0
		nh++; hlock[nh] = lock; hs[nh] = start[pid]; he[nh] = t; hp[nh] = pid
		hl[nh] = last[pid]; last[pid] = t; pend[pid] = nh
		next
	}
	if (ev == "cbegin") {
		nb++; block[nb] = lock; bt[nb] = t; bp[nb] = pid; open[pid "," lock] = nb
		next
	}
	if (ev == "cend" && (pid "," lock) in open) {
		bend[open[pid "," lock]] = t; delete open[pid "," lock]
	}
}
END {
	for (b = 1; b <= nb; b++) {
		strict = loose = 0
		for (h = 1; h <= nh; h++) {
			if (hlock[h] != block[b] || hp[h] == bp[b]) continue
			if (bt[b] >= hs[h] + 2 && bt[b] <= he[h] - 2) strict = 1
			if (bt[b] >= hl[h] - 2 && (!(h in hn) || bt[b] <= hn[h] + 2)) loose = 1
		}
		vmin += strict; vmax += loose
		if (strict && (b in bend) && bend[b] - bt[b] > wmax) wmax = bend[b] - bt[b]
	}
	printf "oracle_holds: %d\noracle_waits: %d\n", nh, nb
	printf "oracle_victims_min: %d\noracle_victims_max: %d\n", vmin, vmax
	printf "oracle_victim_max_wait_us: %d\n", wmax
}
