/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The types ksm_rmap_probe.c and its trace events share: a walk, its loops
 * and the sets of mappings it found; the totals they add up to; the
 * victims and the records of recent walks.  The same on every kernel:
 * what depends on the kernel is in ksm_rmap_probe_quirks.h.
 */
#ifndef _KSM_RMAP_PROBE_H
#define _KSM_RMAP_PROBE_H

#include <linux/types.h>
#include <linux/mm_types.h>
#include <linux/rmap.h>
#include <linux/sched.h>

/*
 * The mappings a walk found: distinct (VMA, address) pairs handed to
 * rmap_one() or refused by rwc->invalid_vma(), in an open-addressing set
 * (KRP_MAPSET_SLOTS, a power of two, filled to at most KRP_MAPSET_MAX).
 * A KSM page is mapped at most once per (VMA, address): the same VMA may
 * map it at several addresses (one rmap_item each), and the second pass
 * hands a VMA again for every rmap_item of another mm at that address.
 * The flags live in the low bits of @addr (page aligned).
 */
#define KRP_MAPSET_SLOTS	128
#define KRP_MAPSET_MAX		96
#define KRP_MAP_HANDED		0x1UL	/* handed to rmap_one() */
#define KRP_MAP_REFUSED		0x2UL	/* refused by rwc->invalid_vma() */
#define KRP_MAP_FLAGS		0x3UL

struct krp_map {
	struct vm_area_struct *vma;	/* compared, never dereferenced */
	unsigned long addr;		/* page address | KRP_MAP_* flags */
};

struct krp_mapset {
	u16 nr;
	bool overflow;			/* a mapping did not fit: no verdict */
	struct krp_map slot[KRP_MAPSET_SLOTS];
};

/* What the walk's rmap_one() does to the folio's mappings. */
enum krp_kind {
	KRP_KIND_OTHER,		/* leaves them (folio_referenced_one, ...) */
	KRP_KIND_UNMAP,		/* removes each it finds (try_to_unmap_one) */
	KRP_KIND_MIGRATE,	/* the same, leaving migration entries */
	KRP_KIND_REMOVE,	/* remove_migration_pte: restores them */
	KRP_KIND_NR
};

/*
 * The mappings a try_to_migrate() walk found, kept for the same task's
 * remove_migration_ptes() walk of the same stable node (see krp_judge()).
 */
#define KRP_PENDING		8
#define KRP_PENDING_TTL_NS	(10ULL * NSEC_PER_SEC)

struct krp_pending {
	struct task_struct *task;	/* owner; NULL: free */
	unsigned long stable_node;
	u64 t;				/* when stored */
	struct krp_mapset set;
};

#define KRP_HIST_BUCKETS	64	/* log2 buckets: fls64(value) */
#define KRP_RECENT_WALKS	64	/* lines kept for the "walks" file */

/* How a walk ended. */
enum krp_end {
	KRP_END_COMPLETE,	/* both passes over every rmap_item */
	KRP_END_STOP,		/* rmap_one() returned false */
	KRP_END_DONE,		/* rwc->done() said the folio is finished */
	KRP_END_CONTENDED,	/* rwc->try_lock and the anon_vma lock busy */
	KRP_END_EMPTY,		/* folio had no stable node: nothing walked */
	KRP_END_UNCOUNTED,	/* a loop ran uncounted: end not known */
	KRP_END_NR
};

/* State of the mirrored layout, shown as "layout:" in the stats. */
enum krp_layout {
	KRP_LAYOUT_UNVERIFIED,	/* no rmap_item checked yet */
	KRP_LAYOUT_OK,		/* every rmap_item read so far passed */
	KRP_LAYOUT_MISMATCH,	/* a check failed: classification is off */
	KRP_LAYOUT_UNSUPPORTED,	/* no layout for this kernel at all */
};

/**
 * struct krp_loop - one anon_vma_interval_tree_foreach() of rmap_walk_ksm()
 * @anon_vma: the tree walked (from iter_first's root argument)
 * @sem: &anon_vma->root->rwsem, whose up_read() ends the loop
 * @root: tree root handed to iter_first
 * @first: first pgoff of the walked range
 * @last: last pgoff of the walked range
 * @prev: node most recently handed to iter_next(), NULL before the first
 * @addr: rmap_item->address & PAGE_MASK (valid if @classify)
 * @mm: rmap_item->mm (compared, never dereferenced; valid if @classify)
 * @t_hold: when the lock was found held (iter_first entry)
 * @mod_ns: this module's work in the hold before @t_hold (iter_first)
 * @p4: linear page index of @addr in its own VMA (the v4 walk range)
 * @index: the rmap_item's stored linear page index (valid if
 *	@index_walked: the kernel walked exactly [@index, @index])
 * @iterations: nodes the loop body ran on
 * @skip_addr: nodes skipped because @addr is outside [vm_start, vm_end)
 * @skip_mm: nodes skipped by the mm check of this pass
 * @skip_invalid: nodes skipped by rwc->invalid_vma()
 * @hits: nodes handed to rwc->rmap_one()
 * @classify: rmap_item validated, the skip counters mean something
 * @counted: iter_next() was probed when the loop began (count mode)
 * @count_gen: krp_count_gen then; a switch during the loop uncounts it
 * @have_p4: @p4 was found (a visited VMA contains @addr)
 * @own_p4: @p4 comes from the item's own VMA (else from another mm's)
 * @index_walked: the walked range is the item's stored linear page index
 */
struct krp_loop {
	struct anon_vma *anon_vma;
	struct rw_semaphore *sem;
	struct rb_root_cached *root;
	unsigned long first, last;
	struct anon_vma_chain *prev;
	unsigned long addr;
	struct mm_struct *mm;
	u64 t_hold, mod_ns;
	unsigned long p4, count_gen, index;
	u32 iterations, skip_addr, skip_mm, skip_invalid, hits;
	bool classify, counted, have_p4, own_p4, index_walked;
};

/* Most tree nodes one what-if scan visits under the lock. */
#define KRP_WHATIF_MAX_NODES	64

enum { KRP_WHATIF_V3, KRP_WHATIF_V4, KRP_WHATIF_NR };

/*
 * The counters' fields, from the table in ksm_rmap_probe_stats.h: one per
 * row, of the type its kind keeps.
 */
#define KRP_FIELD_sum(key)	u64 key
#define KRP_FIELD_max(key)	u64 key
#define KRP_FIELD_now(key)	u64 key
#define KRP_FIELD_ends(key)	u64 key[KRP_END_NR]
#define KRP_FIELD_hist(key)	u64 key[KRP_HIST_BUCKETS]
#define KRP_FIELD_whatif(key)	struct krp_whatif key[KRP_WHATIF_NR]

/* What a narrowed walk would have done, for one range kind (v3 or v4). */
struct krp_whatif {
#define KRP_WHATIF_STAT(key, kind, ...)	KRP_FIELD_##kind(key)
#include "ksm_rmap_probe_stats.h"
#undef KRP_WHATIF_STAT
};

/**
 * struct krp_totals - counters summed over loops (of a walk, or of all walks)
 *
 * The same structure accumulates one walk (task-private, no atomics) and is
 * then added into a per-CPU copy; readers sum the per-CPU copies.  Its
 * fields are the rows of ksm_rmap_probe_stats.h, in the order of the stats.
 */
struct krp_totals {
#define KRP_STAT(key, kind, ...)	KRP_FIELD_##kind(key)
#include "ksm_rmap_probe_stats.h"
#undef KRP_STAT
};

/**
 * struct krp_walk - one rmap_walk_ksm() call, kept in the kretprobe instance
 * @task: the walker
 * @pid: its pid (read by other tasks: never through @task)
 * @victims: waiters found queued on this walk's lock when a hold ended
 * @victim_max_ns: the longest of their waits up to that release
 * @victim_pid: that waiter
 * @victim_comm: its comm
 * @tree_vmas: VMAs in the largest tree a full-range loop walked (count=1)
 * @tree_mm: that loop's rmap_item mm
 * @gen: stats generation at entry; a reset in between discards the walk
 * @folio: the KSM folio walked
 * @rwc: its rmap_walk_control (caller's stack, alive until return)
 * @rmap_one: rwc->rmap_one, names the caller ("try_to_migrate_one", ...)
 * @stable_node: folio's stable node (address only, read with nofault)
 * @cursor: hlist node of the current rmap_item, 0 before the first
 * @t_start: walk entry time
 * @t_wait: when the walker started to wait in down_read()
 * @wait_sem: the semaphore it waited for
 * @mapcount: folio_mapcount() at entry
 * @kind: what rmap_one() does to the mappings
 * @pending: remove walk: the try_to_migrate walk's mappings it must find
 * @found: the mappings this walk found (see struct krp_mapset)
 * @pass: 0 for the first hlist traversal, 1 for search_new_forks
 * @wraps: hlist traversals started after the first
 * @in_loop: between iter_first and the matching up_read
 * @held: the lock victims are counted against: set at iter_first, kept
 *	past up_read (which releases it somewhere inside, where no probe of
 *	ours is) until the next loop's iter_first or the walk's return
 * @waiting: down_read() seen between loops
 * @early: the last loop ended after rmap_one (stop or done)
 * @classify: every rmap_item of this walk so far passed validation
 * @all_counted: every loop so far was counted (count mode throughout)
 * @whatif_miss: a narrowed range would have missed a hit in some loop
 * @listed: rmap_items on the stable node (loops of the first traversal)
 * @own_found: per own-mm traversal (@wraps 0 and 2), the loops that found
 *	their item's own mapping (handed or refused: the only VMA of that mm
 *	covering the item's address)
 * @items_unknown: some loop was not classified: @listed, @own_found unknown
 * @hseq: holds begun (iter_first), published before @held
 * @tallied: the hold whose victims were tallied last (at its up_read() call)
 * @loop: the loop in progress
 * @sum: this walk's totals
 */
struct krp_walk {
	struct task_struct *task;
	pid_t pid;
	u64 victims, victim_max_ns;
	pid_t victim_pid;
	char victim_comm[TASK_COMM_LEN];
	u64 tree_vmas;
	struct mm_struct *tree_mm;
	unsigned long gen;
	struct folio *folio;
	struct rmap_walk_control *rwc;
	void *rmap_one;
	unsigned long stable_node;
	unsigned long cursor;
	u64 t_start, t_wait;
	struct rw_semaphore *wait_sem;
	struct rw_semaphore *held;
	int mapcount;
	unsigned int listed, own_found[2];
	u8 pass, wraps;
	bool in_loop, waiting, early, classify, all_counted, items_unknown;
	unsigned int hseq, tallied;
	bool whatif_miss[KRP_WHATIF_NR];
	enum krp_kind kind;
	struct krp_pending *pending;
	struct krp_loop loop;
	struct krp_totals sum;
	struct krp_mapset found;
};

/**
 * struct krp_victim - a task waiting for an anon_vma lock a KSM walk holds
 * @task: the waiter (NULL: the entry is free); only it releases the entry
 * @lock: the rwsem it waits for
 * @t_begin: when it started to wait (lock:contention_begin)
 * @gen: stats generation then
 * @pid: its pid
 * @walker_pid: the walker holding @lock then
 * @walker_rmap_one: that walk's rmap_one (its caller)
 * @comm: its comm
 * @late: the wait began after the walker's up_read() call (the hold's
 *	per-walk tally may not see it)
 */
struct krp_victim {
	struct task_struct *task;
	void *lock;
	u64 t_begin;
	unsigned long gen;
	pid_t pid, walker_pid;
	void *walker_rmap_one;
	char comm[TASK_COMM_LEN];
	bool late;
};

/* One line of the "walks" file, and the ksm_rmap_walk event. */
struct krp_record {
	u64 seq;
	pid_t pid;
	char comm[TASK_COMM_LEN];
	u64 victims, victim_max_ns;	/* waiters on this walk's holds */
	pid_t victim_pid;
	char victim_comm[TASK_COMM_LEN];
	u64 tree_vmas;			/* largest full-range tree walked */
	pid_t tree_pid;			/* owner of that loop's mm */
	char tree_comm[TASK_COMM_LEN];
	void *rmap_one;
	int mapcount;
	u8 passes;
	enum krp_end end;
	bool classify;
	u64 loops, iterations, skip_addr, skip_mm, hits, missed;
	u64 max_hold_ns, walk_ns;
};

#endif /* _KSM_RMAP_PROBE_H */
