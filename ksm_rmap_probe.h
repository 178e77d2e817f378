/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version and architecture quirks and shared data of ksm_rmap_probe.
 *
 * Everything that depends on the kernel the module is built for lives in the
 * first part of this file: the mirrored layout of the structures private to
 * mm/ksm.c, the functions that may be probed and how the interval-tree walk
 * names its anon_vma and keys its VMAs.  Kbuild's feature tests of the
 * headers (KRP_HAVE_*) choose among them; nothing tests a kernel version.
 * What differs between x86-64 and arm64 (how a direct call is decoded,
 * where a kprobe on a function sits) is chosen by the architecture Kbuild
 * builds for (Kbuild refuses any other).
 */
#ifndef _KSM_RMAP_PROBE_H
#define _KSM_RMAP_PROBE_H

#include <linux/types.h>
#include <linux/mm_types.h>
#include <linux/rmap.h>
#include <linux/sched.h>
#include <linux/mm.h>
#include <linux/uaccess.h>
#ifdef CONFIG_X86_KERNEL_IBT
#include <asm/ibt.h>
#endif
#ifdef CONFIG_ARM64
#include <asm/insn.h>
#endif

/* ------------------------------------------------------------------------
 * Version quirks
 * ------------------------------------------------------------------------
 *
 * struct ksm_rmap_item and struct ksm_stable_node are private to mm/ksm.c.
 * Their 64-bit layout has been the same from v5.x (as rmap_item and
 * stable_node) through 7.2 and 7.3, whose linear_page_index only overlays
 * fields after @address (checked in the 6.1, 6.12, 7.2 and 7.3 sources):
 *
 *   ksm_rmap_item:   rmap_list @0, anon_vma @8, mm @16, address @24
 *                    (low bits are flags, STABLE_FLAG 0x200 while the item
 *                    hangs off a stable node; mm/ksm.c fixes them below
 *                    0x400, under any page size: PAGE_MASK strips them
 *                    on 4 KiB and 16 KiB pages alike), [linear_page_index @32,
 *                    7.3 and later], head @40, hlist @48
 *   ksm_stable_node: a 40-byte union, then hlist (the rmap_items) @40
 *
 * The module never trusts these numbers: every rmap_item it reads is checked
 * (see krp_item_next() in ksm_rmap_probe.c) and a single failed check turns
 * classification off for good ("layout: mismatch" in the stats).
 */
#if BITS_PER_LONG == 64
#define KRP_LAYOUT_KNOWN	1
#define KRP_ITEM_ANON_VMA	8
#define KRP_ITEM_MM		16
#define KRP_ITEM_ADDRESS	24
#define KRP_ITEM_HEAD		40
#define KRP_ITEM_HLIST		48
#define KRP_STABLE_HLIST	40
#define KRP_STABLE_FLAG		0x200UL
#else
/* Unknown layout: count what does not need it, classify nothing. */
#define KRP_LAYOUT_KNOWN	0
#define KRP_ITEM_ANON_VMA	0
#define KRP_ITEM_MM		0
#define KRP_ITEM_ADDRESS	0
#define KRP_ITEM_HEAD		0
#define KRP_ITEM_HLIST		0
#define KRP_STABLE_HLIST	0
#define KRP_STABLE_FLAG		0UL
#endif

/*
 * The stable rmap_item's linear page index: upstream (7.3 and later) and
 * our v4 test patch keep the page's linear index at merge time in a union
 * with oldchecksum/age, at offset 32, and walk only [index, index].  On
 * other kernels those bytes are stale unstable-tree fields: the module reads
 * them on every kernel but trusts them only where the walked range says so
 * (see krp_item_next()).  Kernels with the anonymous pgoff (below) are known
 * to store it, so there a narrow walk of another range is a layout error.
 */
#if BITS_PER_LONG == 64
#define KRP_ITEM_INDEX		32
#else
#define KRP_ITEM_INDEX		0
#endif

/* How a tree iterator's first argument names the anon_vma walked. */
enum krp_tree_arg {
	KRP_ARG_ROOT,		/* &anon_vma->rb_root (up to 7.2) */
	KRP_ARG_ANON_VMA,	/* the anon_vma itself (7.3 and later) */
};

/**
 * struct krp_sym - a function the module may probe, and how to read it
 * @name: the symbol
 * @arg: for the tree iterators' first function: what its first argument is
 */
struct krp_sym {
	const char *name;
	enum krp_tree_arg arg;
};

/*
 * The functions each probe may be pointed at with a module parameter:
 * every name whose signature the module knows, whatever kernel it runs on
 * (a name this kernel lacks fails with -ENOENT at insmod).  Anything else
 * is refused: the handlers would read arguments they do not understand.
 */
#define KRP_SYMS_WALK	{ { "rmap_walk_ksm" } }
#define KRP_SYMS_FIRST	{ { "anon_vma_interval_tree_iter_first", KRP_ARG_ROOT }, \
			  { "anon_rmap_tree_iter_first", KRP_ARG_ANON_VMA } }
#define KRP_SYMS_NEXT	{ { "anon_vma_interval_tree_iter_next" }, \
			  { "anon_rmap_tree_iter_next" } }
#define KRP_SYMS_LOCK	{ { "down_read" } }
#define KRP_SYMS_UNLOCK	{ { "up_read" } }

/* The defaults: what the headers built against call the tree iterators. */
#ifdef KRP_HAVE_ANON_RMAP_TREE
#define KRP_FIRST_DEFAULT	"anon_rmap_tree_iter_first"
#define KRP_NEXT_DEFAULT	"anon_rmap_tree_iter_next"
#else
#define KRP_FIRST_DEFAULT	"anon_vma_interval_tree_iter_first"
#define KRP_NEXT_DEFAULT	"anon_vma_interval_tree_iter_next"
#endif

static inline struct anon_vma *krp_tree_anon_vma(enum krp_tree_arg kind,
						 unsigned long arg0)
{
	if (kind == KRP_ARG_ANON_VMA)
		return (struct anon_vma *)arg0;
	return container_of((struct rb_root_cached *)arg0, struct anon_vma,
			    rb_root);
}

/*
 * The pgoff under which a VMA sits in the anon_vma tree: from 7.3 its
 * anonymous pgoff (differs from vm_pgoff for MAP_PRIVATE file mappings),
 * before that vm_pgoff.  The rmap_item's stored index is counted the same
 * way.
 */
#ifdef KRP_HAVE_ANON_PGOFF
#define KRP_KERNEL_STORES_INDEX	1
static inline unsigned long krp_vma_pgoff(const struct vm_area_struct *vma)
{
	return vma_start_anon_pgoff(vma);
}
#else
#define KRP_KERNEL_STORES_INDEX	0
static inline unsigned long krp_vma_pgoff(const struct vm_area_struct *vma)
{
	return vma->vm_pgoff;
}
#endif

/*
 * Architecture quirks: how the module finds rmap_walk_ksm()'s calls to the
 * functions it probes (krp_probe_sites() in ksm_rmap_probe.c).
 *
 * krp_func_entry(addr): the entry of a function whose kprobe sits at
 * @addr, as a function pointer (rwc->invalid_vma, rwc->rmap_one) and a
 * direct call hold it.
 *
 * krp_branch_dest(p, n, ip): if the @n bytes at @p (a copy of the code at
 * address @ip) start a direct call or jump, its target; else 0.  The module
 * probes the call sites of the tree iterators and the lock inside
 * rmap_walk_ksm() this way, not the functions themselves, which every
 * other caller would pay for.
 *
 * KRP_INSN_STEP: where the next instruction may start.
 *
 * KRP_CALL_PAD: how far before its function a direct call may land.
 */
#if defined(CONFIG_X86_64)

/*
 * With IBT (Debian's 6.12 and 7.x) a kprobe on a function is placed after
 * its leading ENDBR64 (arch_adjust_kprobe_addr()), while a function
 * pointer holds the ENDBR's address: step back over it, or over the NOP
 * that replaces a sealed one.
 */
static inline unsigned long krp_func_entry(unsigned long addr)
{
#ifdef CONFIG_X86_KERNEL_IBT
	u32 insn;

	/* the poison differs: osp nopl (%rax) to 6.x, nopl -42(%rax) in 7.x */
	if (!get_kernel_nofault(insn, (u32 *)(addr - 4)) &&
	    (insn == gen_endbr() || insn == gen_endbr_poison()))
		return addr - 4;
#endif
	return addr;
}

/*
 * call or jmp rel32, or jcc rel32 (a conditional tail call), relative to
 * the next instruction.  Instructions have any length, so every byte may
 * start one: a match that is not really an instruction boundary is
 * refused by register_kprobe() (-EILSEQ).
 */
static inline unsigned long krp_branch_dest(const u8 *p, size_t n,
					    unsigned long ip)
{
	s32 rel;

	if (n >= 5 && (p[0] == 0xe8 || p[0] == 0xe9)) {	/* call, jmp rel32 */
		memcpy(&rel, p + 1, sizeof(rel));
		return ip + 5 + rel;
	}
	if (n >= 6 && p[0] == 0x0f && (p[1] & 0xf0) == 0x80) {	/* jcc rel32 */
		memcpy(&rel, p + 2, sizeof(rel));
		return ip + 6 + rel;
	}
	return 0;
}

#define KRP_INSN_STEP	1

/*
 * On call-depth-tracking kernels (retbleed=stuff) call sites are patched
 * to the accounting thunk in the padding before a function.  No other
 * function's code lies in between.
 */
#ifdef CONFIG_FUNCTION_PADDING_BYTES
#define KRP_CALL_PAD	CONFIG_FUNCTION_PADDING_BYTES
#else
#define KRP_CALL_PAD	0
#endif

#elif defined(CONFIG_ARM64)

/*
 * arm64 has no arch_adjust_kprobe_addr(): a kprobe on a function sits at
 * its symbol (checked in 7.3: kernel/kprobes.c, arch/arm64/kernel/probes/),
 * on whatever starts it: the NOP that ftrace patches to "mov x9, lr"
 * (-fpatchable-function-entry=4,2 with DYNAMIC_FTRACE_WITH_CALL_OPS puts
 * the other two NOPs, ftrace's ops literal, before the symbol), a PACIASP,
 * or a BTI landing pad where ARM64_BTI_KERNEL is set (never with GCC in
 * 7.3).  Function pointers and direct calls hold the symbol too: nothing
 * to step over.
 */
static inline unsigned long krp_func_entry(unsigned long addr)
{
	return addr;
}

/*
 * BL (a call) or B (a tail call): imm26 words, signed, relative to the
 * instruction itself.  Instructions are 4 bytes, aligned, and always
 * little-endian.  GCC emits no conditional tail calls here.
 */
static inline unsigned long krp_branch_dest(const u8 *p, size_t n,
					    unsigned long ip)
{
	__le32 raw;
	u32 insn;

	if (n < AARCH64_INSN_SIZE)
		return 0;
	memcpy(&raw, p, sizeof(raw));
	insn = le32_to_cpu(raw);
	if (!aarch64_insn_is_bl(insn) && !aarch64_insn_is_b(insn))
		return 0;
	return ip + sign_extend64((u64)(insn & 0x03ffffff) << 2, 27);
}

#define KRP_INSN_STEP	AARCH64_INSN_SIZE

/* A direct call lands on its function's symbol, never before it. */
#define KRP_CALL_PAD	0

#endif

/*
 * pid and comm of @mm's owner (CONFIG_MEMCG keeps mm->owner), else 0.
 * The mm of a stable rmap_item stays valid while its folio is locked.
 */
static inline void krp_mm_owner(struct mm_struct *mm, pid_t *pid, char *comm)
{
	*pid = 0;
#ifdef CONFIG_MEMCG
	if (mm) {
		struct task_struct *t;

		rcu_read_lock();
		t = rcu_dereference(mm->owner);
		if (t) {
			*pid = task_pid_nr(t);
			strscpy(comm, t->comm, TASK_COMM_LEN);
		}
		rcu_read_unlock();
	}
#endif
}

/* The arguments of a probe on the sched_process_exit tracepoint. */
#ifdef KRP_HAVE_EXIT_GROUP_DEAD
#define KRP_EXIT_PROBE_ARGS	void *data, struct task_struct *p, bool group_dead
#else
#define KRP_EXIT_PROBE_ARGS	void *data, struct task_struct *p
#endif

#ifdef KRP_HAVE_FOLIO_MAPPING_FLAGS
#define KRP_MAPPING_FLAGS	FOLIO_MAPPING_FLAGS
#else
#define KRP_MAPPING_FLAGS	PAGE_MAPPING_FLAGS
#endif

/*
 * Mappings of a KSM folio.  KSM folios are order-0 (through 7.3 at
 * least), whose count is _mapcount + 1; folio_mapcount() is not exported
 * to modules on 6.1.  -1 for a large folio: unknown, never compared.
 */
static inline int krp_folio_mapcount(struct folio *folio)
{
	if (folio_test_large(folio))
		return -1;
	return atomic_read(&folio->_mapcount) + 1;
}

/* The stable node of a KSM folio: folio->mapping without its flag bits. */
static inline unsigned long krp_folio_stable_node(struct folio *folio)
{
	if (!folio_test_ksm(folio))
		return 0;
	return (unsigned long)READ_ONCE(folio->mapping) & ~KRP_MAPPING_FLAGS;
}

/* ------------------------------------------------------------------------
 * Shared data
 * ------------------------------------------------------------------------
 */

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

/* What a narrowed walk would have done, for one range kind (v3 or v4). */
struct krp_whatif {
	u64 loops, iterations, max_loop_iterations, missed, missed_walks;
	u64 truncated_loops;	/* not predicted: too many VMAs at the index */
};

/* Most tree nodes one what-if scan visits under the lock. */
#define KRP_WHATIF_MAX_NODES	64

enum { KRP_WHATIF_V3, KRP_WHATIF_V4, KRP_WHATIF_NR };

/**
 * struct krp_totals - counters summed over loops (of a walk, or of all walks)
 *
 * The same structure accumulates one walk (task-private, no atomics) and is
 * then added into a per-CPU copy; readers sum the per-CPU copies.
 */
struct krp_totals {
	u64 walks, loops, iterations;
	u64 skip_addr, skip_mm, skip_invalid, hits;
	u64 max_loop_iterations, max_loop_skip_addr, max_loop_skip_mm;
	u64 max_hold_ns, total_hold_ns, max_wait_ns, total_wait_ns;
	u64 module_hold_ns, max_module_hold_ns;	/* our work inside holds */
	u64 max_walk_ns, total_walk_ns;
	u64 range_full_loops, range_narrow_loops, range_index_loops;
	u64 trylock_contended;	/* loops whose trylock failed */
	u64 unclassified_loops;
	u64 uncounted_loops;	/* loops timed with iter_next() unprobed */
	u64 incomplete_walks, missed_mappings;
	u64 unlisted_walks, unlisted_missed;	/* no rmap_item names them */
	u64 found_mappings;		/* distinct (VMA, address) found */
	u64 unknown_overflow_walks;	/* too many mappings to judge */
	u64 unknown_waiter_walks;	/* folio lock wanted: a merge pending */
	u64 raced_walks;		/* mapcount changed by others */
	u64 remove_walks, remove_unconfirmed;
	u64 remove_unpaired;		/* no try_to_migrate walk recorded */
	u64 ends[KRP_END_NR];
	u64 anomalies;		/* internal cross-checks that failed */
	u64 probe_misses;	/* events lost by this module's own design */
	u64 victim_waits, victim_max_wait_ns, victim_total_wait_ns;
	u64 victim_late_waits;	/* began after the hold's up_read() call */
	u64 max_tree_vmas;	/* most VMAs in one tree a full-range loop walked */
	u64 hist_hold[KRP_HIST_BUCKETS];
	u64 hist_iter[KRP_HIST_BUCKETS];
	struct krp_whatif whatif[KRP_WHATIF_NR];
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

/* One line of the "walks" file. */
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
