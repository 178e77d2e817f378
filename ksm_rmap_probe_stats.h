/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The counters of ksm_rmap_probe, each named once: one row per key of the
 * "stats" and "stats.json" files, in their order (docs/stats.md says what
 * each means).  No include guard: this table is included wherever its rows
 * are wanted, with the row's macro defined for that place:
 *
 *   struct krp_totals, struct krp_whatif   a field per row (ksm_rmap_probe.h)
 *   krp_add()                              how two totals add up
 *   krp_stats_show()                       the key and its value, or n/a
 *
 * KRP_STAT(key, kind, shown): a field of struct krp_totals.
 *   kind   how it is kept and added up (krp_add_<kind>(), krp_show_<kind>()):
 *          sum     u64, summed over walks and CPUs
 *          max     u64, the largest
 *          ends    a u64 per enum krp_end, summed: keys walks_<end>
 *          whatif  a struct krp_whatif per range predicted, summed by its
 *                  own rows (below): keys whatif_<v3|v4>_<key>
 *          now     u64 no walk counts: read when shown (krp_snapshot())
 *          hist    a u64 per log2 bucket, summed: no key, the "hist" file
 *   shown  when its value means something; otherwise it reads n/a (JSON
 *          null) rather than a number (enum krp_shown):
 *          ALWAYS, CLASSIFIED (skips are classified: layout ok or
 *          unverified), VICTIMS (the lock tracepoints are attached),
 *          NONZERO (not 0), PREDICTED (some loop was predicted)
 *
 * KRP_WHATIF_STAT(key, kind, shown): a field of struct krp_whatif, the
 * same way.
 *
 * A new key is a row here and its line in docs/stats.md; the code that
 * counts it writes the field of that name.
 */
#ifdef KRP_STAT
KRP_STAT(walks,				sum,	ALWAYS);
KRP_STAT(loops,				sum,	ALWAYS);
KRP_STAT(iterations,			sum,	ALWAYS);
KRP_STAT(skip_addr,			sum,	CLASSIFIED);
KRP_STAT(skip_mm,			sum,	CLASSIFIED);
KRP_STAT(skip_invalid,			sum,	CLASSIFIED);
KRP_STAT(hits,				sum,	CLASSIFIED);
KRP_STAT(max_loop_iterations,		max,	ALWAYS);
KRP_STAT(max_loop_skip_addr,		max,	CLASSIFIED);
KRP_STAT(max_loop_skip_mm,		max,	CLASSIFIED);
KRP_STAT(max_hold_ns,			max,	ALWAYS);
KRP_STAT(total_hold_ns,			sum,	ALWAYS);
/* our work inside holds */
KRP_STAT(module_hold_ns,		sum,	ALWAYS);
KRP_STAT(max_module_hold_ns,		max,	ALWAYS);
KRP_STAT(max_walk_ns,			max,	ALWAYS);
KRP_STAT(total_walk_ns,			sum,	ALWAYS);
KRP_STAT(range_full_loops,		sum,	ALWAYS);
KRP_STAT(range_narrow_loops,		sum,	ALWAYS);
KRP_STAT(range_index_loops,		sum,	CLASSIFIED);
/* loops whose trylock failed */
KRP_STAT(trylock_contended,		sum,	ALWAYS);
KRP_STAT(max_wait_ns,			max,	ALWAYS);
KRP_STAT(total_wait_ns,			sum,	ALWAYS);
KRP_STAT(victim_waits,			sum,	VICTIMS);
/* began after the hold's up_read() call */
KRP_STAT(victim_late_waits,		sum,	VICTIMS);
KRP_STAT(victim_max_wait_ns,		max,	VICTIMS);
KRP_STAT(victim_total_wait_ns,		sum,	VICTIMS);
/* most VMAs in one tree a full-range loop walked */
KRP_STAT(max_tree_vmas,			max,	NONZERO);
KRP_STAT(incomplete_walks,		sum,	CLASSIFIED);
KRP_STAT(missed_mappings,		sum,	CLASSIFIED);
/* no rmap_item names what they missed */
KRP_STAT(unlisted_walks,		sum,	CLASSIFIED);
KRP_STAT(unlisted_missed,		sum,	CLASSIFIED);
/* distinct (VMA, address) found */
KRP_STAT(found_mappings,		sum,	CLASSIFIED);
/* too many mappings to judge */
KRP_STAT(unknown_overflow_walks,	sum,	CLASSIFIED);
/* folio lock wanted: a merge pending */
KRP_STAT(unknown_waiter_walks,		sum,	CLASSIFIED);
/* mapcount changed by others */
KRP_STAT(raced_walks,			sum,	CLASSIFIED);
KRP_STAT(remove_walks,			sum,	CLASSIFIED);
KRP_STAT(remove_unconfirmed,		sum,	CLASSIFIED);
/* no try_to_migrate walk recorded */
KRP_STAT(remove_unpaired,		sum,	CLASSIFIED);
KRP_STAT(ends,				ends,	ALWAYS);
KRP_STAT(unclassified_loops,		sum,	ALWAYS);
/* loops timed with iter_next() unprobed */
KRP_STAT(uncounted_loops,		sum,	ALWAYS);
KRP_STAT(whatif,			whatif,	CLASSIFIED);
KRP_STAT(walks_lost,			now,	ALWAYS);
KRP_STAT(walks_in_flight,		now,	ALWAYS);
/* internal cross-checks that failed */
KRP_STAT(anomalies,			sum,	ALWAYS);
/* events lost by this module's own design (and, shown, kprobe misses) */
KRP_STAT(probe_misses,			sum,	ALWAYS);
KRP_STAT(hist_hold,			hist,	ALWAYS);
KRP_STAT(hist_iter,			hist,	ALWAYS);
#endif

/* What a narrowed walk would have done, for one range kind (v3 or v4). */
#ifdef KRP_WHATIF_STAT
KRP_WHATIF_STAT(loops,			sum,	ALWAYS);
KRP_WHATIF_STAT(iterations,		sum,	PREDICTED);
KRP_WHATIF_STAT(max_loop_iterations,	max,	PREDICTED);
KRP_WHATIF_STAT(missed,			sum,	PREDICTED);
KRP_WHATIF_STAT(missed_walks,		sum,	PREDICTED);
/* not predicted: too many VMAs at the index */
KRP_WHATIF_STAT(truncated_loops,	sum,	ALWAYS);
#endif
