// SPDX-License-Identifier: GPL-2.0
/*
 * Measure rmap_walk_ksm() (mm/ksm.c) on a running kernel.
 *
 * For every KSM reverse-map walk this module counts the anon_vma
 * interval-tree iterations, why each visited VMA was skipped (address
 * outside it, or the mm check of the pass), how many were handed to
 * rmap_one(), and how long the anon_vma lock was held; it flags walks that
 * completed but found fewer of the folio's mappings than lasted the whole
 * walk (see krp_judge()).
 *
 * usage: insmod ksm_rmap_probe.ko [enable=0|1] [max_walkers=N]
 *        cat /sys/kernel/debug/ksm_rmap/stats
 *        echo 1 > /sys/kernel/debug/ksm_rmap/reset
 *
 * The pipeline, in the order of this file:
 *  1. hooks: what is probed, and the switches (enable, count) that arm it.
 *     A kretprobe on rmap_walk_ksm() opens and closes a walk; kprobes on
 *     its calls (the call instructions inside rmap_walk_ksm(), found at
 *     load, not the functions called: nothing else pays) to
 *     anon_vma_interval_tree_iter_first() and _iter_next() see each loop
 *     and each visited VMA; those to down_read() and up_read() give the
 *     edges of the anon_vma lock.  Each handler is defined with the stage
 *     it feeds.
 *  2. per-task state: the walk lives in its kretprobe instance; a lock-free
 *     table maps the walking task to it, so the other probes find it.
 *     Walks run concurrently, from ksmd, kswapd, kcompactd and user tasks.
 *  3. victims: a second table holds the tasks that wait (lock tracepoints)
 *     for an anon_vma lock while a walk holds it.
 *  4. loop accounting: each iter_next() entry is one visited VMA, classified
 *     as the kernel does; up_read() ends the loop, and if the tree holds a
 *     further node the body left the walk on it (see krp_loop_end()).
 *  5. verdicts: at its return, did a walk find every mapping of the folio
 *     that lasted the whole walk (see krp_judge())?
 *  6. aggregation: the walk's totals go into per-CPU totals (every counter
 *     is a row of ksm_rmap_probe_stats.h) and a ring of recent walks; then
 *     the walk's entry and return handlers, which drive stages 2 to 6.
 *  7. presentation: /sys/kernel/debug/ksm_rmap/{stats,stats.json,walks,hist,
 *     reset,enable,count}
 *  8. init and exit: find the call sites, register, unregister.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kprobes.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/percpu.h>
#include <linux/hash.h>
#include <linux/uaccess.h>
#include <linux/rbtree.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/ktime.h>
#include <linux/kallsyms.h>
#include <linux/tracepoint.h>

#include "ksm_rmap_probe_quirks.h"
#include "ksm_rmap_probe.h"
#define CREATE_TRACE_POINTS
#include "ksm_rmap_probe_trace.h"

static bool enable = true;
module_param(enable, bool, 0400);
MODULE_PARM_DESC(enable, "Start counting at load (default 1); see debugfs enable");

static bool count = true;
module_param(count, bool, 0400);
MODULE_PARM_DESC(count, "Probe every tree iteration (default 1); 0 times the lock only");

static unsigned int max_walkers = 128;
module_param(max_walkers, uint, 0400);
MODULE_PARM_DESC(max_walkers, "Walks tracked at the same time (default 128)");

static unsigned int max_victims = 128;
module_param(max_victims, uint, 0400);
MODULE_PARM_DESC(max_victims, "Tasks tracked waiting for a walk's lock at the same time (default 128)");

/*
 * The functions probed.  Each parameter may name only a function whose
 * signature the module knows (KRP_SYMS_* in ksm_rmap_probe_quirks.h):
 * anything else is refused at insmod, a known name this kernel lacks fails
 * there too.
 */
static char *walk_sym = "rmap_walk_ksm";
module_param(walk_sym, charp, 0400);
MODULE_PARM_DESC(walk_sym, "Function walked (only rmap_walk_ksm)");
static char *first_sym = KRP_FIRST_DEFAULT;
module_param(first_sym, charp, 0400);
MODULE_PARM_DESC(first_sym, "Tree walk start: anon_vma_interval_tree_iter_first (to 7.2) or anon_rmap_tree_iter_first (7.3)");
static char *next_sym = KRP_NEXT_DEFAULT;
module_param(next_sym, charp, 0400);
MODULE_PARM_DESC(next_sym, "Tree walk step: anon_vma_interval_tree_iter_next or anon_rmap_tree_iter_next");
static char *lock_sym = "down_read";
module_param(lock_sym, charp, 0400);
MODULE_PARM_DESC(lock_sym, "Lock taken after a failed trylock (only down_read)");
static char *unlock_sym = "up_read";
module_param(unlock_sym, charp, 0400);
MODULE_PARM_DESC(unlock_sym, "Lock released (only up_read)");

/* What iter_first's first argument is, for the function probed. */
static enum krp_tree_arg krp_first_arg;

/*
 * Clock.  A kprobe on a call instruction is a breakpoint: its handler
 * runs in the breakpoint exception: int3 on x86-64, which the kernel
 * enters as an NMI; BRK on arm64, entered NMI-like (ct_nmi_enter(), not
 * in_nmi()).  So every clock read is the NMI-safe one (ktime_get() is
 * not: lockdep says so), in the other handlers too, so that all times
 * share one clock.
 */
static inline u64 krp_now(void)
{
	return ktime_get_mono_fast_ns();
}

NOKPROBE_SYMBOL(krp_now);

static inline unsigned int krp_bucket(u64 v)
{
	return min_t(unsigned int, fls64(v), KRP_HIST_BUCKETS - 1);
}

/* ------------------------------------------------------------------------
 * 1. Hooks
 * ------------------------------------------------------------------------
 *
 * What is probed, and where each handler is.  The kretprobe on
 * rmap_walk_ksm() opens a walk and closes it (krp_walk_entry(),
 * krp_walk_ret(): section 6); the kprobes on its call sites see the loops
 * (krp_first_pre() .. krp_unlock_pre(): section 4).  Tracepoints: an exiting
 * task that still holds a walk (section 2), and the lock's contention
 * (section 3).  Handlers are lean: no locks, no allocation.
 */

static int krp_walk_entry(struct kretprobe_instance *ri, struct pt_regs *regs);
static int krp_walk_ret(struct kretprobe_instance *ri, struct pt_regs *regs);
static int krp_first_pre(struct kprobe *p, struct pt_regs *regs);
static int krp_next_pre(struct kprobe *p, struct pt_regs *regs);
static int krp_lock_pre(struct kprobe *p, struct pt_regs *regs);
static int krp_unlock_pre(struct kprobe *p, struct pt_regs *regs);

static struct kretprobe krp_walk_probe = {
	.entry_handler	= krp_walk_entry,
	.handler	= krp_walk_ret,
	.data_size	= sizeof(struct krp_walk),
};

enum { KRP_P_FIRST, KRP_P_NEXT, KRP_P_LOCK, KRP_P_UNLOCK, KRP_P_NR };

static const kprobe_pre_handler_t krp_pre[KRP_P_NR] = {
	[KRP_P_FIRST]	= krp_first_pre,
	[KRP_P_NEXT]	= krp_next_pre,
	[KRP_P_LOCK]	= krp_lock_pre,
	[KRP_P_UNLOCK]	= krp_unlock_pre,
};

/*
 * One kprobe per call site in rmap_walk_ksm(): it calls each function
 * once or twice (up_read() also as a tail call on the way out).
 */
#define KRP_SITES_MAX	4
static struct kprobe krp_probes[KRP_P_NR][KRP_SITES_MAX];
static unsigned int krp_sites[KRP_P_NR];

/* kprobe misses are counters of their own; a reset remembers a baseline. */
static unsigned long krp_missed_base;

static unsigned long krp_missed_now(void)
{
	unsigned long n = krp_walk_probe.kp.nmissed + krp_walk_probe.nmissed;
	unsigned int k, i;

	for (k = 0; k < KRP_P_NR; k++)
		for (i = 0; i < krp_sites[k]; i++)
			n += krp_probes[k][i].nmissed;
	return n;
}

/*
 * Control: the switches "enable" and "count" (files of section 7, written
 * one at a time under krp_count_lock) arm and disarm these probes.
 */
static DEFINE_MUTEX(krp_count_lock);

/* Bumped whenever "count" changes; a loop that spans a change is uncounted. */
static unsigned long krp_count_gen;

/* Arm or disarm the call-site probes of kind @k. */
static int krp_arm_sites(unsigned int k, bool on)
{
	unsigned int i;
	int ret;

	for (i = 0; i < krp_sites[k]; i++) {
		ret = on ? enable_kprobe(&krp_probes[k][i]) :
			   disable_kprobe(&krp_probes[k][i]);
		if (ret)
			return ret;
	}
	return 0;
}

static int krp_next_sites(bool on)
{
	return krp_arm_sites(KRP_P_NEXT, on);
}

/*
 * count=1 probes every iter_next() call: exact iterations and skips, but
 * each iteration pays for the probe, inside the lock hold.  count=0 turns
 * that probe off (the call instruction is put back) and times the lock
 * and the walk only.  A loop that spans a switch is counted as neither.
 */
static int krp_set_count(bool on)
{
	int ret;

	if (!READ_ONCE(enable)) {	/* disarmed: armed as @on at enable */
		WRITE_ONCE(count, on);
		WRITE_ONCE(krp_count_gen, krp_count_gen + 1);
		return 0;
	}
	if (on) {
		ret = krp_next_sites(true);
		if (ret)
			return ret;
	}
	WRITE_ONCE(count, on);
	smp_wmb();	/* a loop that sees the new generation sees @count */
	WRITE_ONCE(krp_count_gen, krp_count_gen + 1);
	if (!on)
		return krp_next_sites(false);
	return 0;
}

/*
 * enable=0 disarms every probe (the call instructions and the walk's entry
 * are put back): a disabled module costs nothing, KSM walks included.  A
 * loop or walk that spans a switch is counted as uncounted, as for count.
 */
static int krp_set_enable(bool on)
{
	unsigned int k;
	int ret = 0;

	WRITE_ONCE(krp_count_gen, krp_count_gen + 1);
	if (!on) {
		WRITE_ONCE(enable, false);
		ret = disable_kretprobe(&krp_walk_probe);
		for (k = 0; k < KRP_P_NR && !ret; k++)
			ret = krp_arm_sites(k, false);
		return ret;
	}
	for (k = 0; k < KRP_P_NR && !ret; k++)
		if (k != KRP_P_NEXT || READ_ONCE(count))
			ret = krp_arm_sites(k, true);
	if (!ret)
		ret = enable_kretprobe(&krp_walk_probe);
	if (!ret)
		WRITE_ONCE(enable, true);
	return ret;
}

/* ------------------------------------------------------------------------
 * 2. Per-task state
 * ------------------------------------------------------------------------
 *
 * An open-addressing table of max_walkers slots (rounded up to a power of
 * two), indexed by hash_ptr(task).  A walk claims the first free slot at or
 * after its hash with cmpxchg; krp_probe_len is the longest distance ever
 * used, which bounds every lookup.  Only the owning task ever matches a
 * slot, so no lock is needed.
 */
struct krp_slot {
	struct task_struct *task;
	struct krp_walk *walk;
};

static struct krp_slot *krp_slots;
static unsigned int krp_slot_bits;
static unsigned int krp_probe_len;
static atomic_t krp_active;

/* The slot the current task holds, or NULL. */
static struct krp_slot *krp_my_slot(void)
{
	unsigned int mask = (1U << krp_slot_bits) - 1;
	unsigned int i, h, n;

	if (!atomic_read(&krp_active))
		return NULL;
	h = hash_ptr(current, krp_slot_bits);
	n = READ_ONCE(krp_probe_len);
	for (i = 0; i <= n; i++) {
		struct krp_slot *s = &krp_slots[(h + i) & mask];

		if (READ_ONCE(s->task) == current)
			return s;
	}
	return NULL;
}

NOKPROBE_SYMBOL(krp_my_slot);

/* The walk of the current task, or NULL: every probe starts here. */
static struct krp_walk *krp_find(void)
{
	struct krp_slot *s = krp_my_slot();

	return s ? s->walk : NULL;
}

NOKPROBE_SYMBOL(krp_find);

static bool krp_attach(struct krp_walk *w)
{
	unsigned int i, h = hash_ptr(current, krp_slot_bits);
	unsigned int nr = 1U << krp_slot_bits;

	for (i = 0; i < nr; i++) {
		struct krp_slot *s = &krp_slots[(h + i) & (nr - 1)];
		unsigned int old;

		if (READ_ONCE(s->task) || cmpxchg(&s->task, NULL, current))
			continue;
		s->walk = w;
		while ((old = READ_ONCE(krp_probe_len)) < i &&
		       cmpxchg(&krp_probe_len, old, i) != old)
			;
		atomic_inc(&krp_active);
		return true;
	}
	return false;
}

NOKPROBE_SYMBOL(krp_attach);

static void krp_detach(void)
{
	struct krp_slot *s = krp_my_slot();

	if (!s)
		return;
	s->walk = NULL;
	WRITE_ONCE(s->task, NULL);
	atomic_dec(&krp_active);
}

NOKPROBE_SYMBOL(krp_detach);

/*
 * A walker that dies inside rmap_walk_ksm() (an oops in rmap_one(), say)
 * never returns through the kretprobe: its instance is recycled when the
 * task is freed, without our handler.  Its slot would keep the dead task,
 * which a new task_struct at the same address would match.  Every exiting
 * task passes the sched_process_exit tracepoint first (before exit_mm());
 * one that still holds a slot lost its walk: count it and free the slot.
 * Any other exiting task pays one atomic_read() while no walk is running.
 */
static atomic_long_t krp_walks_lost;

static void krp_task_exit(KRP_EXIT_PROBE_ARGS)
{
	if (p != current || !krp_my_slot())
		return;
	atomic_long_inc(&krp_walks_lost);
	krp_detach();
	pr_warn_ratelimited("walker %d (%s) died inside %s: its walk is lost (walks_lost)\n",
			    task_pid_nr(p), p->comm, walk_sym);
}

static struct tracepoint *krp_exit_tp;

/* ------------------------------------------------------------------------
 * 3. Victims
 * ------------------------------------------------------------------------
 *
 * A victim is a task that enters the slow path of an anon_vma's root
 * rwsem (lock:contention_begin: a writer, or a reader behind one) while a
 * KSM walk holds that lock; its wait lasts until lock:contention_end.
 * The walk holds it from iter_first() (the lock is taken a little before:
 * a wait that begins in between is not counted) until up_read() releases
 * it, which the walk's next iter_first() or its return bounds (a wait that
 * begins after the release, behind another holder, may be counted).
 * These tracepoints fire on contended slow paths only; while no walk is
 * running they cost one atomic_read().  A waiter claims an entry of its
 * own in a second table (max_victims), which only it releases.
 */
static struct krp_victim *krp_victims;
static unsigned int krp_victim_bits;
/* per-CPU, apart from krp_totals: a walk's totals live in its instance */
struct krp_hist {
	u64 b[KRP_HIST_BUCKETS];
};

static struct krp_hist __percpu *krp_victim_hist;
static atomic_t krp_waiting;
static unsigned long krp_gen;
static struct krp_totals __percpu *krp_stats;

/*
 * The walk holding @lock right now, or NULL; *@hseq: that walk's hold
 * count read before ->held, so at most the hold found.
 */
static struct krp_walk *krp_holder(void *lock, unsigned int *hseq)
{
	unsigned int i, nr = 1U << krp_slot_bits;

	for (i = 0; i < nr; i++) {
		struct krp_walk *w;

		if (!READ_ONCE(krp_slots[i].task))
			continue;
		w = READ_ONCE(krp_slots[i].walk);
		if (!w)
			continue;
		*hseq = READ_ONCE(w->hseq);
		smp_rmb();	/* ->hseq before ->held, as published */
		/* pairs with krp_first_pre(): ->held is published last */
		if (smp_load_acquire(&w->held) == lock)
			return w;
	}
	return NULL;
}

NOKPROBE_SYMBOL(krp_holder);

static void krp_contention_begin(void *data, void *lock, unsigned int flags)
{
	unsigned int i, h, mask = (1U << krp_victim_bits) - 1;
	struct krp_walk *w;
	unsigned int hseq;

	if (!atomic_read(&krp_active) || krp_my_slot())
		return;		/* no walk; or a walker waits (trylock_contended) */
	w = krp_holder(lock, &hseq);
	if (!w)
		return;
	h = hash_ptr(current, krp_victim_bits);
	for (i = 0; i <= mask; i++) {
		struct krp_victim *v = &krp_victims[(h + i) & mask];

		if (READ_ONCE(v->task) || cmpxchg(&v->task, NULL, current))
			continue;
		v->t_begin = krp_now();
		v->gen = READ_ONCE(krp_gen);
		v->pid = task_pid_nr(current);
		v->walker_pid = READ_ONCE(w->pid);
		v->walker_rmap_one = READ_ONCE(w->rmap_one);
		strscpy(v->comm, current->comm, sizeof(v->comm));
		/* the entry is complete once ->lock is: krp_tally_victims() */
		smp_store_release(&v->lock, lock);
		/*
		 * Pairs with the smp_mb() in krp_unlock_pre(): either the tally
		 * of the hold found sees this entry, or this sees that tally
		 * done and counts the wait late (a walk counts it in no hold).
		 */
		smp_mb();
		v->late = (int)(READ_ONCE(w->tallied) - hseq) >= 0;
		atomic_inc(&krp_waiting);
		return;
	}
	this_cpu_inc(krp_stats->probe_misses);	/* more waiters than entries */
}

NOKPROBE_SYMBOL(krp_contention_begin);

static void krp_contention_end(void *data, void *lock, int ret)
{
	unsigned int i, h, mask = (1U << krp_victim_bits) - 1;
	struct krp_totals *t;
	struct krp_victim *v;
	u64 wait;

	if (!atomic_read(&krp_waiting))
		return;
	h = hash_ptr(current, krp_victim_bits);
	for (i = 0; i <= mask; i++) {
		v = &krp_victims[(h + i) & mask];
		if (READ_ONCE(v->task) == current)
			break;
	}
	if (i > mask || READ_ONCE(v->lock) != lock)
		return;		/* not a victim, or another lock's wait */
	wait = krp_now() - v->t_begin;
	if (v->gen == READ_ONCE(krp_gen)) {
		t = this_cpu_ptr(krp_stats);
		t->victim_waits++;
		t->victim_late_waits += v->late;
		t->victim_total_wait_ns += wait;
		t->victim_max_wait_ns = max(t->victim_max_wait_ns, wait);
		this_cpu_inc(krp_victim_hist->b[krp_bucket(wait)]);
	}
	trace_ksm_rmap_victim(v, wait, ret);
	WRITE_ONCE(v->lock, NULL);
	/* ->lock is cleared before the entry can be claimed again */
	smp_store_release(&v->task, NULL);
	atomic_dec(&krp_waiting);
}

NOKPROBE_SYMBOL(krp_contention_end);

/*
 * A hold of @sem by @w ends (@now): the tasks queued on it were its
 * victims.  Only runs while some task waits behind a walk.
 */
static void krp_tally_victims(struct krp_walk *w, void *sem, u64 now)
{
	unsigned int i, nr = 1U << krp_victim_bits;

	for (i = 0; i < nr; i++) {
		struct krp_victim *v = &krp_victims[i];
		u64 begin, wait;

		/* pairs with krp_contention_begin(): ->lock last */
		if (!READ_ONCE(v->task) || smp_load_acquire(&v->lock) != sem)
			continue;
		begin = READ_ONCE(v->t_begin);
		wait = now > begin ? now - begin : 0;
		w->victims++;
		if (wait >= w->victim_max_ns) {
			w->victim_max_ns = wait;
			w->victim_pid = READ_ONCE(v->pid);
			strscpy(w->victim_comm, v->comm, sizeof(w->victim_comm));
		}
	}
}

NOKPROBE_SYMBOL(krp_tally_victims);

static struct tracepoint *krp_lock_tp[2];

static void __init krp_find_exit_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "sched_process_exit"))
		krp_exit_tp = tp;
	else if (!strcmp(tp->name, "contention_begin"))
		krp_lock_tp[0] = tp;
	else if (!strcmp(tp->name, "contention_end"))
		krp_lock_tp[1] = tp;
}

/* ------------------------------------------------------------------------
 * 4. Loop accounting
 * ------------------------------------------------------------------------
 */

/* rwc->invalid_vma callbacks known not to sleep, which we may call too. */
static const char * const krp_pure_invalid[] = {
	"invalid_folio_referenced_vma",
	"invalid_migration_vma",
	"invalid_mkclean_vma",
};

static unsigned long krp_pure_invalid_addr[ARRAY_SIZE(krp_pure_invalid)];

/* May the module repeat the walk's rwc->invalid_vma() (none: yes)? */
static bool krp_invalid_vma_known(void *fn)
{
	int i;

	if (!fn)
		return true;
	for (i = 0; i < ARRAY_SIZE(krp_pure_invalid_addr); i++)
		if (krp_pure_invalid_addr[i] == (unsigned long)fn)
			return true;
	return false;
}

NOKPROBE_SYMBOL(krp_invalid_vma_known);

static enum krp_layout krp_layout = KRP_LAYOUT_KNOWN ? KRP_LAYOUT_UNVERIFIED :
						       KRP_LAYOUT_UNSUPPORTED;

static void krp_layout_bad(struct krp_walk *w, const char *why)
{
	w->classify = false;
	if (xchg(&krp_layout, KRP_LAYOUT_MISMATCH) != KRP_LAYOUT_MISMATCH)
		pr_warn("ksm_rmap_item layout check failed (%s): skip classification disabled, counting continues\n",
			why);
}

NOKPROBE_SYMBOL(krp_layout_bad);

/*
 * Advance to the rmap_item the kernel is about to walk and check it.  The
 * stable node's hlist cannot change under us: the folio lock is held for
 * the whole walk.  Every read of the private structures goes through
 * get_kernel_nofault() and is checked before anything is derived from it:
 * the item must point back at this stable node, carry STABLE_FLAG, and name
 * the very anon_vma whose tree the kernel is about to walk.
 */
static void krp_item_next(struct krp_walk *w, struct krp_loop *l)
{
	unsigned long node = 0, item, head, anon_vma, address, pprev, index;
	unsigned long hlist = w->stable_node + KRP_STABLE_HLIST;
	struct mm_struct *mm;

	if (!w->classify)
		return;
	if (w->cursor && get_kernel_nofault(node, (unsigned long *)w->cursor))
		return krp_layout_bad(w, "rmap_item hlist unreadable");
	if (!node) {
		/*
		 * End of the hlist: the next pass starts.  rmap_walk_ksm() makes
		 * two (search_new_forks 0, 1); a kernel that walks again after a
		 * narrow walk fell short makes four.  More is not a KSM walk.
		 */
		if (w->cursor && w->wraps >= 3)
			return krp_layout_bad(w, "more loops than rmap_items");
		if (w->cursor) {
			w->wraps++;
			w->pass = w->wraps & 1;
		}
		if (get_kernel_nofault(node, (unsigned long *)hlist) || !node)
			return krp_layout_bad(w, "stable_node hlist empty or unreadable");
		if (get_kernel_nofault(pprev, (unsigned long *)(node + sizeof(void *))) ||
		    pprev != hlist)
			return krp_layout_bad(w, "stable_node hlist does not link back");
	}
	item = node - KRP_ITEM_HLIST;
	if (get_kernel_nofault(head, (unsigned long *)(item + KRP_ITEM_HEAD)) ||
	    get_kernel_nofault(anon_vma, (unsigned long *)(item + KRP_ITEM_ANON_VMA)) ||
	    get_kernel_nofault(mm, (struct mm_struct **)(item + KRP_ITEM_MM)) ||
	    get_kernel_nofault(address, (unsigned long *)(item + KRP_ITEM_ADDRESS)) ||
	    get_kernel_nofault(index, (unsigned long *)(item + KRP_ITEM_INDEX)))
		return krp_layout_bad(w, "rmap_item unreadable");
	if (head != w->stable_node)
		return krp_layout_bad(w, "rmap_item->head is not the stable node");
	if (anon_vma != (unsigned long)l->anon_vma)
		return krp_layout_bad(w, "rmap_item->anon_vma is not the tree walked");
	if (!(address & KRP_STABLE_FLAG))
		return krp_layout_bad(w, "rmap_item->address lacks STABLE_FLAG");
	/*
	 * A kernel that keeps the page's linear index in the rmap_item walks
	 * exactly [index, index]; elsewhere those bytes are stale checksum
	 * and age, and only a narrow walk of that very range shows that this
	 * kernel (a patched one) stores it too.
	 */
	l->index_walked = l->first == index && l->last == index;
	if (KRP_KERNEL_STORES_INDEX && !l->index_walked)
		return krp_layout_bad(w, "walked range is not rmap_item->linear_page_index");
	l->index = index;

	w->cursor = node;
	l->addr = address & PAGE_MASK;
	l->mm = mm;
	l->classify = true;
	if (READ_ONCE(krp_layout) == KRP_LAYOUT_UNVERIFIED)
		cmpxchg(&krp_layout, KRP_LAYOUT_UNVERIFIED, KRP_LAYOUT_OK);
}

NOKPROBE_SYMBOL(krp_item_next);

/*
 * The slot of (@vma, @addr) in @set: the pair itself, or the free slot
 * where it would go (NULL if the set is full and the pair is not in it).
 */
static struct krp_map *krp_mapset_slot(struct krp_mapset *set,
				       struct vm_area_struct *vma,
				       unsigned long addr)
{
	unsigned int i, h = hash_long((unsigned long)vma ^ addr,
				      ilog2(KRP_MAPSET_SLOTS));

	for (i = 0; i < KRP_MAPSET_SLOTS; i++) {
		struct krp_map *m = &set->slot[(h + i) & (KRP_MAPSET_SLOTS - 1)];

		if (!m->vma || (m->vma == vma && (m->addr & PAGE_MASK) == addr))
			return m;
	}
	return NULL;
}

NOKPROBE_SYMBOL(krp_mapset_slot);

/* Add (@vma, @addr) to @set with @flags; on overflow, remember that. */
static void krp_mapset_add(struct krp_mapset *set, struct vm_area_struct *vma,
			   unsigned long addr, unsigned long flags)
{
	struct krp_map *m = krp_mapset_slot(set, vma, addr);

	if (m && !m->vma) {
		if (set->nr >= KRP_MAPSET_MAX)
			m = NULL;
		else
			set->nr++;
	}
	if (!m) {
		set->overflow = true;
		return;
	}
	m->vma = vma;
	m->addr = addr | (m->addr & KRP_MAP_FLAGS) | flags;
}

NOKPROBE_SYMBOL(krp_mapset_add);

enum krp_verdict { KRP_SKIP_ADDR, KRP_SKIP_MM, KRP_SKIP_INVALID, KRP_HIT };

/* The checks of rmap_walk_ksm()'s loop body, in its order. */
static enum krp_verdict krp_check(struct krp_walk *w, struct krp_loop *l,
				  struct vm_area_struct *vma)
{
	struct rmap_walk_control *rwc = w->rwc;
	bool same_mm;

	if (l->addr < vma->vm_start || l->addr >= vma->vm_end)
		return KRP_SKIP_ADDR;
	/* first pass: this item's own mm; second: the forks of it */
	same_mm = l->mm == vma->vm_mm;
	if (w->pass ? same_mm : !same_mm)
		return KRP_SKIP_MM;
	if (rwc->invalid_vma && rwc->invalid_vma(vma, rwc->arg))
		return KRP_SKIP_INVALID;
	return KRP_HIT;
}

NOKPROBE_SYMBOL(krp_check);

/* Count one visited VMA; true if it was handed to rmap_one(). */
static bool krp_classify(struct krp_walk *w, struct krp_loop *l,
			 struct vm_area_struct *vma)
{
	enum krp_verdict v = krp_check(w, l, vma);

	switch (v) {
	case KRP_SKIP_ADDR:
		l->skip_addr++;
		return false;
	case KRP_SKIP_MM:
		l->skip_mm++;
		break;
	case KRP_SKIP_INVALID:
		l->skip_invalid++;
		/* a refused VMA maps the page all the same: found */
		krp_mapset_add(&w->found, vma, l->addr, KRP_MAP_REFUSED);
		break;
	case KRP_HIT:
		l->hits++;
		krp_mapset_add(&w->found, vma, l->addr, KRP_MAP_HANDED);
		break;
	}
	/*
	 * @vma contains the item's address.  Its linear page index is the
	 * range the v4 patch walks: the page's index when it was merged,
	 * which mremap() does not change.  Prefer the item's own VMA.
	 */
	if (!l->own_p4) {
		l->p4 = krp_vma_pgoff(vma) +
			((l->addr - vma->vm_start) >> PAGE_SHIFT);
		l->have_p4 = true;
		l->own_p4 = l->mm == vma->vm_mm;
	}
	return v == KRP_HIT;
}

NOKPROBE_SYMBOL(krp_classify);

static inline unsigned long krp_avc_start(struct anon_vma_chain *avc)
{
	return krp_vma_pgoff(avc->vma);
}

static inline unsigned long krp_avc_last(struct anon_vma_chain *avc)
{
	return krp_vma_pgoff(avc->vma) + vma_pages(avc->vma) - 1;
}

static inline struct anon_vma_chain *krp_avc(struct rb_node *rb)
{
	return rb ? rb_entry(rb, struct anon_vma_chain, rb) : NULL;
}

/*
 * Leftmost node overlapping [first, last] in the subtree of @avc, whose
 * rb_subtree_last is >= @first: one descent, as the kernel's interval tree
 * does it (the largest last pgoff of a subtree is kept in its root).
 */
static struct anon_vma_chain *krp_avc_search(struct anon_vma_chain *avc,
					     unsigned long first,
					     unsigned long last)
{
	while (avc) {
		struct anon_vma_chain *left = krp_avc(avc->rb.rb_left);

		if (left && left->rb_subtree_last >= first) {
			avc = left;
			continue;
		}
		if (krp_avc_start(avc) > last)
			return NULL;
		if (krp_avc_last(avc) >= first)
			return avc;
		/* then the right subtree holds the largest last pgoff */
		avc = krp_avc(avc->rb.rb_right);
	}
	return NULL;
}

NOKPROBE_SYMBOL(krp_avc_search);

/* Leftmost node of the tree overlapping [first, last], or NULL. */
static struct anon_vma_chain *krp_avc_first(struct rb_root_cached *root,
					    unsigned long first,
					    unsigned long last)
{
	struct anon_vma_chain *top = krp_avc(root->rb_root.rb_node);

	if (!top || top->rb_subtree_last < first)
		return NULL;
	return krp_avc_search(top, first, last);
}

NOKPROBE_SYMBOL(krp_avc_first);

/*
 * The node after @avc (in tree order) overlapping [first, last], or NULL:
 * the right subtree if it can hold one, else up to the first ancestor
 * reached from its left.  O(height), whatever the range.
 */
static struct anon_vma_chain *krp_avc_next(struct anon_vma_chain *avc,
					   unsigned long first,
					   unsigned long last)
{
	struct rb_node *rb = avc->rb.rb_right, *from;

	for (;;) {
		if (rb && krp_avc(rb)->rb_subtree_last >= first)
			return krp_avc_search(krp_avc(rb), first, last);
		do {
			from = &avc->rb;
			rb = rb_parent(from);
			if (!rb)
				return NULL;
			avc = krp_avc(rb);
			rb = avc->rb.rb_right;
		} while (rb == from);
		if (krp_avc_start(avc) > last)
			return NULL;
		if (krp_avc_last(avc) >= first)
			return avc;
	}
}

NOKPROBE_SYMBOL(krp_avc_next);

/*
 * What-if, on a kernel that walks [0, ULONG_MAX]: the loop just walked
 * the whole tree; which nodes would a walk over [p, p] have visited, and
 * would it have handed rmap_one() every VMA the full walk did?  Called
 * with the lock held, so its cost extends the real hold: a descent per
 * node found, and at most KRP_WHATIF_MAX_NODES nodes (as many VMAs at one
 * index as a process has forks); a loop with more is not predicted.
 */
static void krp_whatif(struct krp_walk *w, struct krp_loop *l, int kind,
		       unsigned long p)
{
	struct krp_whatif *wi = &w->sum.whatif[kind];
	struct anon_vma_chain *avc;
	u64 iterations = 0, hits = 0;

	for (avc = krp_avc_first(l->root, p, p); avc;
	     avc = krp_avc_next(avc, p, p)) {
		if (++iterations > KRP_WHATIF_MAX_NODES) {
			wi->truncated_loops++;
			return;
		}
		if (krp_check(w, l, avc->vma) == KRP_HIT)
			hits++;
	}
	wi->loops++;
	wi->iterations += iterations;
	wi->max_loop_iterations = max(wi->max_loop_iterations, iterations);
	if (hits < l->hits) {
		wi->missed += l->hits - hits;
		w->whatif_miss[kind] = true;
	}
}

NOKPROBE_SYMBOL(krp_whatif);

/*
 * End of one loop: called at up_read() entry with the lock still held
 * (@locked), or when a loop's up_read() was never seen.
 *
 * iter_next(node) is entered once for every node whose loop body finished
 * with "continue"; a loop that ran out of tree then unlocks.  A body that
 * left the walk instead (rmap_one() said stop, or done()) ran on one more
 * node that iter_next() never saw: the next node of the range after the
 * last one it saw.  So that node exists exactly when the loop ended early,
 * and it was a hit.  Finding it costs one rb_next() for a full-range walk,
 * a descent of the tree otherwise.
 */
static void krp_loop_end(struct krp_walk *w, u64 now, bool locked)
{
	struct krp_loop *l = &w->loop;
	struct krp_totals *s = &w->sum;
	u64 hold = now > l->t_hold ? now - l->t_hold : 0;
	struct anon_vma_chain *tail = NULL;
	bool full = l->first == 0 && l->last == ULONG_MAX;

	WRITE_ONCE(w->in_loop, false);
	w->early = false;
	s->loops++;
	s->total_hold_ns += hold;
	s->max_hold_ns = max(s->max_hold_ns, hold);
	s->hist_hold[krp_bucket(hold)]++;
	if (full)
		s->range_full_loops++;
	else
		s->range_narrow_loops++;
	if (!l->counted || l->count_gen != READ_ONCE(krp_count_gen)) {
		s->uncounted_loops++;
		w->all_counted = false;
		goto out;
	}

	if (locked) {
		if (l->prev)
			tail = krp_avc_next(l->prev, l->first, l->last);
		else
			tail = krp_avc_first(l->root, l->first, l->last);
	}
	if (tail) {
		w->early = true;
		l->iterations++;
		if (l->classify && !krp_classify(w, l, tail->vma))
			s->anomalies++;
	}
	s->iterations += l->iterations;
	s->max_loop_iterations = max_t(u64, s->max_loop_iterations, l->iterations);
	/* a full-range loop that ran to the end visited the whole tree */
	if (full && !tail && l->iterations > w->tree_vmas) {
		w->tree_vmas = l->iterations;
		w->tree_mm = l->classify ? l->mm : NULL;
		s->max_tree_vmas = w->tree_vmas;
	}
	s->hist_iter[krp_bucket(l->iterations)]++;
	if (!l->classify) {
		s->unclassified_loops++;
		w->items_unknown = true;
		goto out;
	}
	if (!(w->wraps & 1)) {		/* a traversal of the items' own mms */
		if (!w->wraps)
			w->listed++;
		if (l->hits || l->skip_invalid)
			w->own_found[w->wraps >> 1]++;
	}
	s->skip_addr += l->skip_addr;
	s->skip_mm += l->skip_mm;
	s->skip_invalid += l->skip_invalid;
	s->hits += l->hits;
	s->max_loop_skip_addr = max_t(u64, s->max_loop_skip_addr, l->skip_addr);
	s->max_loop_skip_mm = max_t(u64, s->max_loop_skip_mm, l->skip_mm);
	if (l->index_walked)
		s->range_index_loops++;
	if (locked && full) {
		krp_whatif(w, l, KRP_WHATIF_V3, l->addr >> PAGE_SHIFT);
		if (l->have_p4)
			krp_whatif(w, l, KRP_WHATIF_V4, l->p4);
	}
out:
	trace_ksm_rmap_loop(w, l, hold);
}

NOKPROBE_SYMBOL(krp_loop_end);

/* The loop's hooks: the kprobes on rmap_walk_ksm()'s call sites. */

/* iter_first(root, first, last): the lock is held, a loop starts. */
static int krp_first_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct krp_walk *w = krp_find();
	struct krp_loop *l;
	u64 now;

	if (!w)
		return 0;
	now = krp_now();
	if (w->in_loop) {
		w->sum.probe_misses++;	/* the last loop's up_read() */
		krp_loop_end(w, now, false);
	}
	l = &w->loop;
	memset(l, 0, sizeof(*l));
	l->anon_vma = krp_tree_anon_vma(krp_first_arg,
					regs_get_kernel_argument(regs, 0));
	l->root = &l->anon_vma->rb_root;
	l->sem = &l->anon_vma->root->rwsem;
	l->first = regs_get_kernel_argument(regs, 1);
	l->last = regs_get_kernel_argument(regs, 2);
	if (w->waiting) {
		w->waiting = false;
		if (w->wait_sem == l->sem) {
			u64 wait = now - w->t_wait;

			w->sum.trylock_contended++;
			w->sum.total_wait_ns += wait;
			w->sum.max_wait_ns = max(w->sum.max_wait_ns, wait);
		}
	}
	l->count_gen = READ_ONCE(krp_count_gen);
	smp_rmb();	/* pairs with smp_wmb() in krp_set_count() */
	l->counted = READ_ONCE(count);
	krp_item_next(w, l);
	w->in_loop = true;
	WRITE_ONCE(w->hseq, w->hseq + 1);
	/* the loop is set up before krp_holder() can find it */
	smp_store_release(&w->held, l->sem);
	l->t_hold = krp_now();
	l->mod_ns = l->t_hold - now;
	return 0;
}

NOKPROBE_SYMBOL(krp_first_pre);

/* iter_next(node, first, last): the body has finished with @node. */
static int krp_next_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct anon_vma_chain *avc;
	struct krp_walk *w = krp_find();

	if (!w || !w->in_loop)
		return 0;
	avc = (struct anon_vma_chain *)regs_get_kernel_argument(regs, 0);
	if (avc->anon_vma != w->loop.anon_vma)
		return 0;	/* not the tree of this loop: cannot happen */
	w->loop.prev = avc;
	w->loop.iterations++;
	if (w->loop.classify)
		krp_classify(w, &w->loop, avc->vma);
	return 0;
}

NOKPROBE_SYMBOL(krp_next_pre);

/* down_read() between loops: the trylock failed and the walker waits. */
static int krp_lock_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct krp_walk *w = krp_find();

	if (!w || w->in_loop)
		return 0;
	w->waiting = true;
	w->wait_sem = (struct rw_semaphore *)regs_get_kernel_argument(regs, 0);
	w->t_wait = krp_now();
	return 0;
}

NOKPROBE_SYMBOL(krp_lock_pre);

/* up_read() of the walked anon_vma: the loop ends, the lock is still held. */
static int krp_unlock_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct krp_walk *w = krp_find();
	u64 now, mod;

	if (!w || !w->in_loop ||
	    (struct rw_semaphore *)regs_get_kernel_argument(regs, 0) != w->loop.sem)
		return 0;
	now = krp_now();
	WRITE_ONCE(w->tallied, w->hseq);
	smp_mb();	/* pairs with krp_contention_begin() */
	if (atomic_read(&krp_waiting))
		krp_tally_victims(w, w->loop.sem, now);
	krp_loop_end(w, now, true);
	/*
	 * The hold time stops at @now, but the lock is held until we return:
	 * our work here (tail search, what-if) and in iter_first lengthen the
	 * real hold by this much, reported on its own.
	 */
	mod = w->loop.mod_ns + (krp_now() - now);
	w->sum.module_hold_ns += mod;
	w->sum.max_module_hold_ns = max(w->sum.max_module_hold_ns, mod);
	return 0;
}

NOKPROBE_SYMBOL(krp_unlock_pre);

/* ------------------------------------------------------------------------
 * 5. Verdicts
 * ------------------------------------------------------------------------
 *
 * What the walk's rmap_one() does to the mappings, the mappings a migration
 * walk leaves for the walk that restores them, and at the walk's return,
 * what it certainly missed.
 */

/*
 * rmap_one() callbacks whose effect on the folio's mappings the verdict
 * must know (enum krp_kind); any other leaves the mappings as they are.
 */
static const struct {
	const char *name;
	enum krp_kind kind;
} krp_kinds[] = {
	{ "try_to_unmap_one", KRP_KIND_UNMAP },
	{ "try_to_migrate_one", KRP_KIND_MIGRATE },
	{ "remove_migration_pte", KRP_KIND_REMOVE },
};

static unsigned long krp_kind_addr[ARRAY_SIZE(krp_kinds)];

static enum krp_kind krp_kind_of(void *rmap_one)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(krp_kind_addr); i++)
		if (krp_kind_addr[i] && krp_kind_addr[i] == (unsigned long)rmap_one)
			return krp_kinds[i].kind;
	return KRP_KIND_OTHER;
}

NOKPROBE_SYMBOL(krp_kind_of);

/*
 * Migration hands its found mappings from the try_to_migrate() walk to
 * the remove_migration_ptes() walk of the same task and stable node
 * (dst carries src's stable node; on failure dst is src).  A slot belongs
 * to its task while ->task is set; one left behind (its remove walk was
 * not tracked) is taken over after KRP_PENDING_TTL_NS.
 */
static struct krp_pending krp_pending[KRP_PENDING];

static struct krp_pending *krp_pending_find(unsigned long stable_node)
{
	int i;

	for (i = 0; i < KRP_PENDING; i++)
		if (READ_ONCE(krp_pending[i].task) == current &&
		    krp_pending[i].stable_node == stable_node)
			return &krp_pending[i];
	return NULL;
}

NOKPROBE_SYMBOL(krp_pending_find);

static void krp_pending_store(struct krp_walk *w, u64 now)
{
	struct krp_pending *p = krp_pending_find(w->stable_node);
	int i;

	for (i = 0; !p && i < KRP_PENDING; i++) {
		struct krp_pending *q = &krp_pending[i];
		struct task_struct *t = READ_ONCE(q->task);

		if (t && now - READ_ONCE(q->t) < KRP_PENDING_TTL_NS)
			continue;
		if (cmpxchg(&q->task, t, current) == t)
			p = q;
	}
	if (!p)
		return;		/* the remove walk counts as unpaired */
	p->stable_node = w->stable_node;
	WRITE_ONCE(p->t, now);
	p->set = w->found;
}

NOKPROBE_SYMBOL(krp_pending_store);

/*
 * Did every rmap_item of the stable node lead the walk to its own mapping?
 * Then what it missed is a mapping no rmap_item names (ksmd dropped the
 * item, or a fork's mapping that the second traversal cannot reach): no
 * range walked from these items would find it.  A kernel that traverses
 * twice more (a narrow walk that fell short) counts if either own-mm
 * traversal found them all; the later one is the wider.
 */
static bool krp_all_items_found(struct krp_walk *w)
{
	return !w->items_unknown &&
	       max(w->own_found[0], w->own_found[1]) == w->listed;
}

NOKPROBE_SYMBOL(krp_all_items_found);

/*
 * The verdicts of a walk, at its return (the folio is still locked).
 *
 * incomplete: the walk ended complete, yet fewer of the folio's mappings
 * that existed for the whole walk were found than there were.  Each
 * distinct (VMA, address) found (handed to rmap_one() or refused by
 * invalid_vma()) accounts for at most one mapping.  The mappings present
 * from entry to return are at most min(entry, return) of the mapcount,
 * and exactly that many when others only add mappings (a fork, a merge)
 * or only remove them (munmap, exit, COW, zap) during the walk.  A walk
 * that unmaps what it finds (try_to_unmap/try_to_migrate) took its found
 * mappings out itself: at most "handed" of the entry mapcount; what is
 * still mapped at return was never unmapped by it, and only the refused
 * ones among them were found.  Not judged: a set that overflowed, and a
 * folio whose lock someone waits for (a KSM merge maps the page before it
 * takes the lock to add its rmap_item: that mapping cannot be found yet).
 *
 * A remove_migration_ptes() walk starts with the migration entries, not
 * mappings, so it has its own verdict: see krp_judge_remove().
 */
static void krp_judge(struct krp_walk *w, enum krp_end end, u64 now)
{
	struct krp_totals *s = &w->sum;
	int e = w->mapcount, r = krp_folio_mapcount(w->folio);
	int i, handed = 0, refused = 0, lb;

	if (!w->classify || e < 0 || r < 0 ||
	    (end != KRP_END_COMPLETE && end != KRP_END_DONE &&
	     end != KRP_END_STOP))
		return;
	for (i = 0; i < KRP_MAPSET_SLOTS; i++) {
		unsigned long f = w->found.slot[i].addr & KRP_MAP_FLAGS;

		if (!w->found.slot[i].vma)
			continue;
		if (f & KRP_MAP_HANDED)
			handed++;
		else if (f & KRP_MAP_REFUSED)
			refused++;
	}
	if (!w->found.overflow)
		s->found_mappings = handed + refused;
	if (w->kind == KRP_KIND_MIGRATE && !w->found.overflow)
		krp_pending_store(w, now);
	if (w->kind == KRP_KIND_REMOVE)
		return;
	/* something else mapped or unmapped the page during the walk */
	if (w->kind == KRP_KIND_OTHER ? r != e : (r > e || r < e - handed))
		s->raced_walks = 1;
	if (end != KRP_END_COMPLETE)
		return;
	if (w->found.overflow) {
		s->unknown_overflow_walks = 1;
		return;
	}
	if (folio_test_waiters(w->folio)) {
		s->unknown_waiter_walks = 1;
		return;
	}
	if (w->kind == KRP_KIND_OTHER)
		lb = min(e, r) - handed - refused;
	else
		lb = min(e - handed, r) - refused;
	if (lb > 0) {
		s->incomplete_walks = 1;
		s->missed_mappings = lb;
		if (krp_all_items_found(w)) {
			s->unlisted_walks = 1;
			s->unlisted_missed = lb;
		}
	}
}

NOKPROBE_SYMBOL(krp_judge);

/*
 * A remove_migration_ptes() walk must hand remove_migration_pte() every
 * (VMA, address) where the try_to_migrate() walk before it left a
 * migration entry, a subset of what that walk handed (recorded by the same
 * task for the same stable node).  No verdict here can be certain:
 * migration entries hold no mapcount, and a munmap() or exit() between or
 * during the walks removes them (and unlinks the VMA between two loops,
 * even after the first pass came by it) without a trace in any count.  So
 * a pair not handed is "unconfirmed": left behind, or gone.
 */
static void krp_judge_remove(struct krp_walk *w, enum krp_end end)
{
	struct krp_totals *s = &w->sum;
	struct krp_pending *p = w->pending;
	int i;

	if (w->kind != KRP_KIND_REMOVE)
		return;
	if (!p) {
		if (w->classify && end == KRP_END_COMPLETE)
			s->remove_unpaired = 1;
		return;
	}
	if (w->classify && end == KRP_END_COMPLETE && !w->found.overflow) {
		s->remove_walks = 1;
		for (i = 0; i < KRP_MAPSET_SLOTS; i++) {
			struct krp_map *m = &p->set.slot[i], *f;

			if (!m->vma || !(m->addr & KRP_MAP_HANDED))
				continue;
			f = krp_mapset_slot(&w->found, m->vma,
					    m->addr & PAGE_MASK);
			if (!f || !f->vma || !(f->addr & KRP_MAP_HANDED))
				s->remove_unconfirmed++;
		}
	}
	WRITE_ONCE(p->task, NULL);
}

NOKPROBE_SYMBOL(krp_judge_remove);

/* ------------------------------------------------------------------------
 * 6. Aggregation
 * ------------------------------------------------------------------------
 *
 * krp_gen is even while counting; a reset makes it odd, waits for every
 * handler to finish (synchronize_rcu(): they run with preemption off),
 * clears, and makes it even again.  A walk whose generation is not the
 * current one is dropped, so a reset never leaves half a walk behind.
 */
static DEFINE_MUTEX(krp_reset_lock);

static DEFINE_RAW_SPINLOCK(krp_ring_lock);
static struct krp_record krp_ring[KRP_RECENT_WALKS];
static u64 krp_ring_seq;

/*
 * Adding up, by the kind of each row of ksm_rmap_probe_stats.h: the
 * counter at offset @off of @from into the same one of @to.
 */
static void krp_sum(u64 *to, const u64 *from, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		to[i] += from[i];
}

NOKPROBE_SYMBOL(krp_sum);

static void krp_add_sum(void *to, const void *from, size_t off)
{
	krp_sum(to + off, from + off, 1);
}

NOKPROBE_SYMBOL(krp_add_sum);

static void krp_add_max(void *to, const void *from, size_t off)
{
	u64 *t = to + off;
	const u64 *f = from + off;

	*t = max(*t, *f);
}

NOKPROBE_SYMBOL(krp_add_max);

static void krp_add_ends(void *to, const void *from, size_t off)
{
	krp_sum(to + off, from + off, KRP_END_NR);
}

NOKPROBE_SYMBOL(krp_add_ends);

static void krp_add_hist(void *to, const void *from, size_t off)
{
	krp_sum(to + off, from + off, KRP_HIST_BUCKETS);
}

NOKPROBE_SYMBOL(krp_add_hist);

/* Not counted by walks: krp_snapshot() reads it. */
static void krp_add_now(void *to, const void *from, size_t off)
{
}

NOKPROBE_SYMBOL(krp_add_now);

static void krp_add_whatif(void *to, const void *from, size_t off)
{
	struct krp_whatif *t = to + off;
	const struct krp_whatif *f = from + off;
	int i;

	for (i = 0; i < KRP_WHATIF_NR; i++, t++, f++) {
#define KRP_WHATIF_STAT(key, kind, ...) \
		krp_add_##kind(t, f, offsetof(struct krp_whatif, key))
#include "ksm_rmap_probe_stats.h"
#undef KRP_WHATIF_STAT
	}
}

NOKPROBE_SYMBOL(krp_add_whatif);

/* Add one set of totals into another, every counter as its row says. */
static void krp_add(struct krp_totals *to, const struct krp_totals *from)
{
#define KRP_STAT(key, kind, ...) \
	krp_add_##kind(to, from, offsetof(struct krp_totals, key))
#include "ksm_rmap_probe_stats.h"
#undef KRP_STAT
}

NOKPROBE_SYMBOL(krp_add);

/* One walk as the "walks" file and the ksm_rmap_walk event show it. */
static void krp_fill_record(struct krp_record *r, struct krp_walk *w,
			    enum krp_end end)
{
	struct krp_totals *s = &w->sum;

	r->pid = task_pid_nr(current);
	strscpy(r->comm, current->comm, sizeof(r->comm));
	r->rmap_one = w->rmap_one;
	r->mapcount = w->mapcount;
	r->passes = w->loop.anon_vma ? w->wraps + 1 : 0;
	r->end = end;
	r->classify = w->classify;
	r->loops = s->loops;
	r->iterations = s->iterations;
	r->skip_addr = s->skip_addr;
	r->skip_mm = s->skip_mm;
	r->hits = s->hits;
	r->missed = s->missed_mappings;
	r->max_hold_ns = s->max_hold_ns;
	r->walk_ns = s->total_walk_ns;
	r->victims = w->victims;
	r->victim_max_ns = w->victim_max_ns;
	r->victim_pid = w->victim_pid;
	strscpy(r->victim_comm, w->victim_comm, sizeof(r->victim_comm));
	r->tree_vmas = w->tree_vmas;
	krp_mm_owner(w->tree_mm, &r->tree_pid, r->tree_comm);
}

NOKPROBE_SYMBOL(krp_fill_record);

static void krp_record(const struct krp_record *r)
{
	unsigned long flags;
	u64 seq;

	raw_spin_lock_irqsave(&krp_ring_lock, flags);
	seq = ++krp_ring_seq;
	krp_ring[(seq - 1) % KRP_RECENT_WALKS] = *r;
	krp_ring[(seq - 1) % KRP_RECENT_WALKS].seq = seq;
	raw_spin_unlock_irqrestore(&krp_ring_lock, flags);
}

NOKPROBE_SYMBOL(krp_record);

/* The "reset" file: zero every total and the ring, as krp_gen says above. */
static void krp_reset(void)
{
	int cpu;

	mutex_lock(&krp_reset_lock);
	WRITE_ONCE(krp_gen, krp_gen + 1);	/* odd: new walks are dropped */
	synchronize_rcu();			/* handlers in flight finish */
	for_each_possible_cpu(cpu) {
		memset(per_cpu_ptr(krp_stats, cpu), 0, sizeof(struct krp_totals));
		memset(per_cpu_ptr(krp_victim_hist, cpu), 0, sizeof(struct krp_hist));
	}
	raw_spin_lock_irq(&krp_ring_lock);
	memset(krp_ring, 0, sizeof(krp_ring));
	krp_ring_seq = 0;
	raw_spin_unlock_irq(&krp_ring_lock);
	WRITE_ONCE(krp_missed_base, krp_missed_now());
	atomic_long_set(&krp_walks_lost, 0);
	WRITE_ONCE(krp_gen, krp_gen + 1);
	mutex_unlock(&krp_reset_lock);
}

/* The walk's own hooks: it begins, and at its return is judged and added up. */

/* rmap_walk_ksm(folio, rwc) entry: claim the instance for this task. */
static int krp_walk_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct krp_walk *w = (struct krp_walk *)ri->data;
	struct folio *folio;
	struct rmap_walk_control *rwc;
	unsigned long gen = READ_ONCE(krp_gen);

	if (!READ_ONCE(enable) || (gen & 1))
		return 1;
	if (krp_find()) {		/* a walk inside a walk: not ours */
		this_cpu_inc(krp_stats->probe_misses);
		return 1;
	}
	folio = (struct folio *)regs_get_kernel_argument(regs, 0);
	rwc = (struct rmap_walk_control *)regs_get_kernel_argument(regs, 1);

	memset(w, 0, sizeof(*w));
	w->task = current;
	w->pid = task_pid_nr(current);
	w->gen = gen;
	w->folio = folio;
	w->rwc = rwc;
	w->rmap_one = rwc->rmap_one;
	w->mapcount = krp_folio_mapcount(folio);
	w->stable_node = krp_folio_stable_node(folio);
	w->all_counted = true;
	w->kind = krp_kind_of(w->rmap_one);
	if (w->kind == KRP_KIND_REMOVE && w->stable_node)
		w->pending = krp_pending_find(w->stable_node);
	/*
	 * Classify only with a layout not known to be wrong, and only if the
	 * kernel's own invalid_vma() check is one we can repeat safely.
	 */
	w->classify = KRP_LAYOUT_KNOWN &&
		      READ_ONCE(krp_layout) != KRP_LAYOUT_MISMATCH &&
		      krp_invalid_vma_known(rwc->invalid_vma);
	if (!krp_attach(w)) {
		this_cpu_inc(krp_stats->probe_misses);
		return 1;
	}
	w->t_start = krp_now();
	return 0;
}

NOKPROBE_SYMBOL(krp_walk_entry);

/* rmap_walk_ksm() return: how did it end, what did it miss; publish. */
static int krp_walk_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct krp_walk *w = (struct krp_walk *)ri->data;
	struct krp_totals *s = &w->sum;
	u64 now = krp_now();
	struct krp_record r;
	enum krp_end end;
	int i;

	if (w->in_loop) {
		s->probe_misses++;	/* the last loop's up_read() */
		krp_loop_end(w, now, false);
	}
	WRITE_ONCE(w->held, NULL);	/* up_read() has returned */
	krp_detach();

	if (READ_ONCE(w->rwc->contended)) {
		end = KRP_END_CONTENDED;
		s->trylock_contended++;
	} else if (!w->stable_node) {
		end = KRP_END_EMPTY;
	} else if (!w->all_counted) {
		end = KRP_END_UNCOUNTED;
	} else if (w->early) {
		/* every done() in the kernel is folio_not_mapped() */
		end = w->rwc->done && !krp_folio_mapcount(w->folio) ?
			KRP_END_DONE : KRP_END_STOP;
	} else {
		end = KRP_END_COMPLETE;
	}
	s->walks = 1;
	s->ends[end] = 1;
	s->total_walk_ns = now - w->t_start;
	s->max_walk_ns = s->total_walk_ns;
	krp_judge(w, end, now);
	krp_judge_remove(w, end);
	for (i = 0; i < KRP_WHATIF_NR; i++)
		s->whatif[i].missed_walks = w->whatif_miss[i];
	krp_fill_record(&r, w, end);
	trace_ksm_rmap_walk(&r);

	if (w->gen != READ_ONCE(krp_gen))
		return 0;	/* a reset happened meanwhile */
	krp_add(this_cpu_ptr(krp_stats), s);
	krp_record(&r);
	return 0;
}

NOKPROBE_SYMBOL(krp_walk_ret);

/* ------------------------------------------------------------------------
 * 7. Presentation
 * ------------------------------------------------------------------------
 */
static struct dentry *krp_dir;

static const char * const krp_layout_names[] = {
	[KRP_LAYOUT_UNVERIFIED]	= "unverified",
	[KRP_LAYOUT_OK]		= "ok",
	[KRP_LAYOUT_MISMATCH]	= "mismatch",
	[KRP_LAYOUT_UNSUPPORTED] = "unsupported",
};

/*
 * What the stats files show: the per-CPU totals added up, the counters
 * read when shown (kind "now"), and the kprobes' own misses since the
 * last reset in probe_misses.
 */
static struct krp_totals *krp_snapshot(void)
{
	struct krp_totals *t = kzalloc(sizeof(*t), GFP_KERNEL);
	int cpu;

	if (!t)
		return NULL;
	for_each_possible_cpu(cpu)
		krp_add(t, per_cpu_ptr(krp_stats, cpu));
	t->walks_lost = atomic_long_read(&krp_walks_lost);
	t->walks_in_flight = atomic_read(&krp_active);
	t->probe_misses += krp_missed_now() - READ_ONCE(krp_missed_base);
	return t;
}

static bool krp_classified(void)
{
	enum krp_layout l = READ_ONCE(krp_layout);

	return l == KRP_LAYOUT_OK || l == KRP_LAYOUT_UNVERIFIED;
}

/*
 * One emitter for "stats" (key: value lines) and "stats.json" (one JSON
 * object, same keys, null for n/a): the file's i_private says which.
 * @prefix: put before the keys of a group (walks_, whatif_v3_, ...)
 * @classified, @victims: the conditions CLASSIFIED, VICTIMS of krp_shown
 * @predicted: PREDICTED: in a what-if group, some loop was predicted
 * @group_shown: the group's own row is shown (else its keys read n/a)
 */
struct krp_out {
	struct seq_file *m;
	bool json;
	bool first;
	const char *prefix;
	bool classified, victims, predicted, group_shown;
};

/* When a counter's value means something (the "shown" of its row). */
enum krp_shown {
	KRP_SHOWN_ALWAYS,
	KRP_SHOWN_CLASSIFIED,
	KRP_SHOWN_VICTIMS,
	KRP_SHOWN_NONZERO,
	KRP_SHOWN_PREDICTED,
};

static bool krp_shown(const struct krp_out *o, enum krp_shown s, u64 v)
{
	switch (s) {
	case KRP_SHOWN_CLASSIFIED:
		return o->group_shown && o->classified;
	case KRP_SHOWN_VICTIMS:
		return o->group_shown && o->victims;
	case KRP_SHOWN_NONZERO:
		return o->group_shown && v;
	case KRP_SHOWN_PREDICTED:
		return o->group_shown && o->predicted;
	default:
		return o->group_shown;
	}
}

static void krp_key(struct krp_out *o, const char *key)
{
	if (o->json)
		seq_printf(o->m, "%s\"%s%s\": ", o->first ? "{\n  " : ",\n  ",
			   o->prefix, key);
	else
		seq_printf(o->m, "%s%s: ", o->prefix, key);
	o->first = false;
}

static void krp_show_u64(struct krp_out *o, const char *key, u64 v, bool ok)
{
	krp_key(o, key);
	if (ok)
		seq_printf(o->m, "%llu", v);
	else
		seq_puts(o->m, o->json ? "null" : "n/a");
	if (!o->json)
		seq_putc(o->m, '\n');
}

static void krp_show_str(struct krp_out *o, const char *key, const char *v)
{
	krp_key(o, key);
	seq_printf(o->m, o->json ? "\"%s\"" : "%s\n", v);
}

/*
 * Showing, by the kind of each row of ksm_rmap_probe_stats.h: the key
 * (or keys) of the counter at @c, a field of the totals shown.
 */
static void krp_show_sum(struct krp_out *o, const char *key, const u64 *c,
			 enum krp_shown s)
{
	krp_show_u64(o, key, *c, krp_shown(o, s, *c));
}

static void krp_show_max(struct krp_out *o, const char *key, const u64 *c,
			 enum krp_shown s)
{
	krp_show_sum(o, key, c, s);
}

static void krp_show_now(struct krp_out *o, const char *key, const u64 *c,
			 enum krp_shown s)
{
	krp_show_sum(o, key, c, s);
}

/* in the "hist" file, not here */
static void krp_show_hist(struct krp_out *o, const char *key, const u64 *c,
			  enum krp_shown s)
{
}

static const char * const krp_end_names[] = {
	[KRP_END_COMPLETE]	= "complete",
	[KRP_END_STOP]		= "stop",
	[KRP_END_DONE]		= "done",
	[KRP_END_CONTENDED]	= "contended",
	[KRP_END_EMPTY]		= "empty",
	[KRP_END_UNCOUNTED]	= "uncounted",
};

/* walks_complete, walks_stop, ...: how many walks ended each way */
static void krp_show_ends(struct krp_out *o, const char *key, const u64 *c,
			  enum krp_shown s)
{
	int i;

	o->prefix = "walks_";
	for (i = 0; i < KRP_END_NR; i++)
		krp_show_sum(o, krp_end_names[i], &c[i], s);
	o->prefix = "";
}

/*
 * whatif_v3_loops, ...: only loops over [0, ULONG_MAX] are predicted.
 * Where none was (a kernel that already walks a narrow range, or no walk
 * yet), there is no prediction, and a 0 must not pose as one; the loop
 * counts (predicted, truncated) are counts either way.
 */
static void krp_show_whatif(struct krp_out *o, const char *key,
			    const struct krp_whatif *c, enum krp_shown s)
{
	static const char * const prefix[KRP_WHATIF_NR] = {
		[KRP_WHATIF_V3] = "whatif_v3_",
		[KRP_WHATIF_V4] = "whatif_v4_",
	};
	bool shown = krp_shown(o, s, 0);
	const struct krp_whatif *wi;
	int i;

	for (i = 0; i < KRP_WHATIF_NR; i++) {
		wi = &c[i];
		o->group_shown = shown;
		o->predicted = wi->loops;
		o->prefix = prefix[i];
#define KRP_WHATIF_STAT(key, kind, shown) \
		krp_show_##kind(o, #key, (const void *)wi + \
				offsetof(struct krp_whatif, key), KRP_SHOWN_##shown)
#include "ksm_rmap_probe_stats.h"
#undef KRP_WHATIF_STAT
	}
	o->group_shown = true;
	o->prefix = "";
}

static int krp_stats_show(struct seq_file *m, void *v)
{
	struct krp_totals *t = krp_snapshot();
	struct krp_out o = {
		.m = m, .json = !!m->private, .first = true, .prefix = "",
		.classified = krp_classified(), .victims = !!krp_lock_tp[1],
		.group_shown = true,
	};

	if (!t)
		return -ENOMEM;
#define KRP_STAT(key, kind, shown) \
	krp_show_##kind(&o, #key, (const void *)t + offsetof(struct krp_totals, key), \
			KRP_SHOWN_##shown)
#include "ksm_rmap_probe_stats.h"
#undef KRP_STAT
	/* the module's state, after the counters */
	krp_show_str(&o, "layout", krp_layout_names[READ_ONCE(krp_layout)]);
	krp_show_u64(&o, "enabled", READ_ONCE(enable), true);
	krp_show_u64(&o, "count", READ_ONCE(count), true);
	if (o.json)
		seq_puts(m, "\n}\n");
	kfree(t);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(krp_stats);

static void krp_hist_lines(struct seq_file *m, const char *name, const u64 *h)
{
	int i;

	for (i = 0; i < KRP_HIST_BUCKETS; i++) {
		u64 lo = i ? 1ULL << (i - 1) : 0;
		u64 hi = i ? (1ULL << i) - 1 : 0;

		if (h[i])
			seq_printf(m, "%s %llu %llu %llu\n", name, lo, hi, h[i]);
	}
}

static int krp_hist_show(struct seq_file *m, void *v)
{
	struct krp_totals *t = krp_snapshot();
	int cpu, i;

	if (!t)
		return -ENOMEM;
	seq_puts(m, "# log2 histograms (per loop; victim waits: per wait): name low high count\n");
	krp_hist_lines(m, "hold_ns", t->hist_hold);
	krp_hist_lines(m, "iterations", t->hist_iter);
	/* the victim waits' buckets, summed into a spare array */
	memset(t->hist_hold, 0, sizeof(t->hist_hold));
	for_each_possible_cpu(cpu)
		for (i = 0; i < KRP_HIST_BUCKETS; i++)
			t->hist_hold[i] += per_cpu_ptr(krp_victim_hist, cpu)->b[i];
	krp_hist_lines(m, "victim_wait_ns", t->hist_hold);
	kfree(t);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(krp_hist);

static int krp_walks_show(struct seq_file *m, void *v)
{
	struct krp_record *r = kmalloc_array(KRP_RECENT_WALKS, sizeof(*r),
					     GFP_KERNEL);
	u64 seq, i, n;

	if (!r)
		return -ENOMEM;
	raw_spin_lock_irq(&krp_ring_lock);
	memcpy(r, krp_ring, sizeof(krp_ring));
	seq = krp_ring_seq;
	raw_spin_unlock_irq(&krp_ring_lock);

	seq_puts(m, "seq pid caller mapcount passes loops iterations skip_addr skip_mm hits missed max_hold_ns walk_ns victims victim_max_ns victim tree_vmas tree_owner end comm\n");
	n = min_t(u64, seq, KRP_RECENT_WALKS);
	for (i = seq - n; i < seq; i++) {
		struct krp_record *e = &r[i % KRP_RECENT_WALKS];

		seq_printf(m, "%llu %d %ps %d %u %llu %llu ", e->seq, e->pid,
			   e->rmap_one, e->mapcount, e->passes, e->loops,
			   e->iterations);
		if (e->classify)
			seq_printf(m, "%llu %llu %llu %llu ", e->skip_addr,
				   e->skip_mm, e->hits, e->missed);
		else
			seq_puts(m, "- - - - ");
		seq_printf(m, "%llu %llu %llu %llu ", e->max_hold_ns, e->walk_ns,
			   e->victims, e->victim_max_ns);
		if (e->victims)
			seq_printf(m, "%d/%s ", e->victim_pid, e->victim_comm);
		else
			seq_puts(m, "- ");
		if (e->tree_vmas)
			seq_printf(m, "%llu ", e->tree_vmas);
		else
			seq_puts(m, "- ");
		if (e->tree_pid)
			seq_printf(m, "%d/%s ", e->tree_pid, e->tree_comm);
		else
			seq_puts(m, "- ");
		seq_printf(m, "%s %s\n", krp_end_names[e->end], e->comm);
	}
	kfree(r);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(krp_walks);

/*
 * Writable files take one small decimal number and nothing else: anything
 * longer, at an offset, or out of range is -EINVAL and changes nothing.
 */
static int krp_parse(const char __user *ubuf, size_t len, loff_t *ppos,
		     unsigned int max, unsigned int *val)
{
	char buf[8];

	if (*ppos || !len || len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	if (memchr(buf, '\0', len))
		return -EINVAL;
	buf[len] = '\0';
	if (kstrtouint(buf, 10, val) || *val > max)
		return -EINVAL;
	return 0;
}

static ssize_t krp_reset_write(struct file *file, const char __user *ubuf,
			       size_t len, loff_t *ppos)
{
	unsigned int val;
	int ret = krp_parse(ubuf, len, ppos, 1, &val);

	if (ret)
		return ret;
	if (val != 1)
		return -EINVAL;
	krp_reset();
	return len;
}

static const struct file_operations krp_reset_fops = {
	.owner	= THIS_MODULE,
	.write	= krp_reset_write,
	.llseek	= default_llseek,	/* so that a write at an offset is seen */
};

/* "enable" and "count" read back their flag: i_private points at it. */
static int krp_flag_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%d\n", READ_ONCE(*(bool *)m->private));
	return 0;
}

static int krp_flag_open(struct inode *inode, struct file *file)
{
	return single_open(file, krp_flag_show, inode->i_private);
}

/* A write of 0 or 1 to "count" or "enable": @set switches @flag. */
static ssize_t krp_switch_write(const char __user *ubuf, size_t len,
				loff_t *ppos, bool *flag, int (*set)(bool on))
{
	unsigned int val;
	int ret = krp_parse(ubuf, len, ppos, 1, &val);

	if (ret)
		return ret;
	mutex_lock(&krp_count_lock);
	if (val != READ_ONCE(*flag))
		ret = set(val);
	mutex_unlock(&krp_count_lock);
	return ret ? ret : len;
}

static ssize_t krp_count_write(struct file *file, const char __user *ubuf,
			       size_t len, loff_t *ppos)
{
	return krp_switch_write(ubuf, len, ppos, &count, krp_set_count);
}

static ssize_t krp_enable_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *ppos)
{
	return krp_switch_write(ubuf, len, ppos, &enable, krp_set_enable);
}

static const struct file_operations krp_enable_fops = {
	.owner		= THIS_MODULE,
	.open		= krp_flag_open,
	.read		= seq_read,
	.write		= krp_enable_write,
	.llseek		= seq_lseek,
	.release	= single_release,
};

static const struct file_operations krp_count_fops = {
	.owner		= THIS_MODULE,
	.open		= krp_flag_open,
	.read		= seq_read,
	.write		= krp_count_write,
	.llseek		= seq_lseek,
	.release	= single_release,
};

/* ------------------------------------------------------------------------
 * 8. Init and exit
 * ------------------------------------------------------------------------
 */

/*
 * Entry address of a kernel function, as a function pointer holds it,
 * through the kprobe lookup (0 if none).
 */
static unsigned long krp_symbol_addr(const char *name)
{
	struct kprobe kp = { .symbol_name = name };
	unsigned long addr;

	if (register_kprobe(&kp))
		return 0;
	addr = krp_func_entry((unsigned long)kp.addr);
	unregister_kprobe(&kp);
	return addr;
}

/*
 * The entry of @known named @name, or NULL and a message that says which
 * names this module knows for parameter @param.
 */
static const struct krp_sym *krp_sym_known(const char *param, const char *name,
					   const struct krp_sym *known, int nr)
{
	char list[160] = "";
	int i;

	for (i = 0; i < nr; i++)
		if (name && !strcmp(name, known[i].name))
			return &known[i];
	for (i = 0; i < nr; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 "%s%s", i ? ", " : "", known[i].name);
	pr_err("%s=%s: not a function this module knows how to probe (known: %s)\n",
	       param, name ? name : "(null)", list);
	return NULL;
}

/* Check every *_sym parameter against the names the module knows. */
static int __init krp_check_syms(void)
{
	static const struct krp_sym walk[] = KRP_SYMS_WALK;
	static const struct krp_sym first[] = KRP_SYMS_FIRST;
	static const struct krp_sym next[] = KRP_SYMS_NEXT;
	static const struct krp_sym lock[] = KRP_SYMS_LOCK;
	static const struct krp_sym unlock[] = KRP_SYMS_UNLOCK;
	const struct krp_sym *f;

	f = krp_sym_known("first_sym", first_sym, first, ARRAY_SIZE(first));
	if (!f ||
	    !krp_sym_known("walk_sym", walk_sym, walk, ARRAY_SIZE(walk)) ||
	    !krp_sym_known("next_sym", next_sym, next, ARRAY_SIZE(next)) ||
	    !krp_sym_known("lock_sym", lock_sym, lock, ARRAY_SIZE(lock)) ||
	    !krp_sym_known("unlock_sym", unlock_sym, unlock, ARRAY_SIZE(unlock)))
		return -EINVAL;
	krp_first_arg = f->arg;
	return 0;
}

/* What kallsyms says of an address (init only, off the stack). */
static char krp_said[KSYM_SYMBOL_LEN] __initdata;

/*
 * Size of the function that starts at @entry, from kallsyms; 0 if unknown
 * (then @buf holds what kallsyms said).
 */
static unsigned long __init krp_func_size(unsigned long entry, char *buf)
{
	unsigned long off, size;
	char *p;

	sprint_symbol(buf, entry);
	p = strrchr(buf, '+');
	if (!p || sscanf(p, "+%lx/%lx", &off, &size) != 2 || off)
		return 0;
	return size;
}

/*
 * Probe every direct call (or jump) to @target in @text, a copy of the
 * code at @start: the call instruction runs with the arguments in place
 * and, for up_read(), the lock still held, just as the callee's entry.
 */
static int __init krp_probe_sites(unsigned int k, const u8 *text,
				  unsigned long start, unsigned long size,
				  unsigned long target)
{
	unsigned long off, dest;
	struct kprobe *p;
	int ret;

	for (off = 0; off < size; off += KRP_INSN_STEP) {
		dest = krp_branch_dest(text + off, size - off, start + off);
		if (!dest || dest > target || dest + KRP_CALL_PAD < target)
			continue;
		if (krp_sites[k] == KRP_SITES_MAX)
			return -E2BIG;
		p = &krp_probes[k][krp_sites[k]];
		memset(p, 0, sizeof(*p));
		p->addr = (kprobe_opcode_t *)(start + off);
		p->pre_handler = krp_pre[k];
		if (!enable || (k == KRP_P_NEXT && !count))
			p->flags |= KPROBE_FLAG_DISABLED;
		ret = register_kprobe(p);
		if (ret == -EILSEQ)
			continue;	/* the bytes are inside another instruction */
		if (ret)
			return ret;
		krp_sites[k]++;
	}
	return 0;
}

static void krp_unprobe_sites(void)
{
	struct kprobe *kps[KRP_P_NR * KRP_SITES_MAX];
	unsigned int k, i, n = 0;

	for (k = 0; k < KRP_P_NR; k++)
		for (i = 0; i < krp_sites[k]; i++)
			kps[n++] = &krp_probes[k][i];
	if (n)
		unregister_kprobes(kps, n);
	memset(krp_sites, 0, sizeof(krp_sites));
}

/*
 * Find and probe the calls rmap_walk_ksm() makes to the four functions,
 * in its own code and in its out-of-line ".cold" part if it has one.  The
 * code is copied first: a registered kprobe may rewrite the bytes.
 */
static int __init krp_probe_walk(void)
{
	const char *syms[KRP_P_NR] = {
		[KRP_P_FIRST] = first_sym, [KRP_P_NEXT] = next_sym,
		[KRP_P_LOCK] = lock_sym, [KRP_P_UNLOCK] = unlock_sym,
	};
	unsigned long target[KRP_P_NR], start[2], size[2] = { 0, 0 };
	char cold[KSYM_NAME_LEN];
	u8 *text[2] = { NULL, NULL };
	unsigned int k, r;
	int ret = 0;

	for (k = 0; k < KRP_P_NR; k++) {
		target[k] = krp_symbol_addr(syms[k]);
		if (!target[k]) {
			pr_err("cannot probe %s: error %d (no such symbol in this kernel)\n",
			       syms[k], -ENOENT);
			return -ENOENT;
		}
	}
	start[0] = krp_symbol_addr(walk_sym);
	if (start[0])
		size[0] = krp_func_size(start[0], krp_said);
	if (!size[0]) {
		pr_err("cannot probe %s: error %d (%s)\n", walk_sym, -ENOENT,
		       start[0] ? "no size from kallsyms" : "no such symbol in this kernel");
		if (start[0])
			pr_err("kallsyms says %pS is '%s'\n", (void *)start[0], krp_said);
		return -ENOENT;
	}
	snprintf(cold, sizeof(cold), "%s.cold", walk_sym);
	start[1] = krp_symbol_addr(cold);
	if (start[1])
		size[1] = krp_func_size(start[1], krp_said);
	for (r = 0; r < 2 && size[r]; r++) {
		text[r] = kmalloc(size[r], GFP_KERNEL);
		if (!text[r]) {
			ret = -ENOMEM;
			goto out;
		}
		if (copy_from_kernel_nofault(text[r], (void *)start[r], size[r])) {
			ret = -EFAULT;
			goto out;
		}
	}
	for (k = 0; k < KRP_P_NR; k++) {
		for (r = 0; r < 2 && text[r] && !ret; r++)
			ret = krp_probe_sites(k, text[r], start[r], size[r],
					      target[k]);
		if (ret) {
			pr_err("cannot probe the calls to %s in %s: error %d\n",
			       syms[k], walk_sym, ret);
			break;
		}
		if (!krp_sites[k]) {
			pr_err("cannot probe %s: %s never calls it (error %d)\n",
			       syms[k], walk_sym, -ENOENT);
			ret = -ENOENT;
			break;
		}
	}
	if (ret)
		krp_unprobe_sites();
	else
		pr_info("call sites probed in %s: %u %s, %u %s, %u %s, %u %s\n",
			walk_sym, krp_sites[KRP_P_FIRST], first_sym,
			krp_sites[KRP_P_NEXT], next_sym,
			krp_sites[KRP_P_LOCK], lock_sym,
			krp_sites[KRP_P_UNLOCK], unlock_sym);
out:
	kfree(text[0]);
	kfree(text[1]);
	return ret;
}

/* krp_contention_begin() reads other tasks' walks: it goes first */
static void krp_unregister_lock_tps(void)
{
	if (krp_lock_tp[1]) {
		tracepoint_probe_unregister(krp_lock_tp[0], (void *)krp_contention_begin, NULL);
		tracepoint_probe_unregister(krp_lock_tp[1], (void *)krp_contention_end, NULL);
		krp_lock_tp[1] = NULL;
	}
	tracepoint_synchronize_unregister();
}

static void krp_unregister_tps(void)
{
	krp_unregister_lock_tps();
	tracepoint_probe_unregister(krp_exit_tp, (void *)krp_task_exit, NULL);
	tracepoint_synchronize_unregister();
}

static int __init krp_init(void)
{
	int i, ret;

	/* a walk lives in its kretprobe instance, whose data has a limit */
	BUILD_BUG_ON(sizeof(struct krp_walk) > KRETPROBE_MAX_DATA_SIZE);

	ret = krp_check_syms();
	if (ret)
		return ret;
	if (!max_walkers || max_walkers > 65536) {
		pr_err("max_walkers=%u: must be 1..65536\n", max_walkers);
		return -EINVAL;
	}
	if (!max_victims || max_victims > 65536) {
		pr_err("max_victims=%u: must be 1..65536\n", max_victims);
		return -EINVAL;
	}
	krp_slot_bits = order_base_2(max_walkers) + 1;	/* half empty */
	krp_slots = kcalloc(1U << krp_slot_bits, sizeof(*krp_slots), GFP_KERNEL);
	krp_victim_bits = order_base_2(max_victims) + 1;
	krp_victims = kcalloc(1U << krp_victim_bits, sizeof(*krp_victims),
			      GFP_KERNEL);
	krp_stats = alloc_percpu(struct krp_totals);
	krp_victim_hist = alloc_percpu(struct krp_hist);
	if (!krp_slots || !krp_victims || !krp_stats || !krp_victim_hist) {
		ret = -ENOMEM;
		goto err_free;
	}
	for (i = 0; i < ARRAY_SIZE(krp_pure_invalid); i++)
		krp_pure_invalid_addr[i] = krp_symbol_addr(krp_pure_invalid[i]);
	for (i = 0; i < ARRAY_SIZE(krp_kinds); i++)
		krp_kind_addr[i] = krp_symbol_addr(krp_kinds[i].name);

	for_each_kernel_tracepoint(krp_find_exit_tp, NULL);
	ret = -ENOENT;
	if (krp_exit_tp)
		ret = tracepoint_probe_register(krp_exit_tp,
						(void *)krp_task_exit, NULL);
	if (ret) {
		pr_err("cannot attach to the sched_process_exit tracepoint: error %d\n", ret);
		goto err_free;
	}
	/* victims: without the lock tracepoints, their keys read n/a */
	if (krp_lock_tp[0] && krp_lock_tp[1] &&
	    (tracepoint_probe_register(krp_lock_tp[0], (void *)krp_contention_begin, NULL) ||
	     tracepoint_probe_register(krp_lock_tp[1], (void *)krp_contention_end, NULL))) {
		tracepoint_probe_unregister(krp_lock_tp[0], (void *)krp_contention_begin, NULL);
		krp_lock_tp[1] = NULL;
	}
	if (!krp_lock_tp[0] || !krp_lock_tp[1]) {
		krp_lock_tp[1] = NULL;
		pr_info("no lock:contention_begin/end tracepoints: victims not counted\n");
	}
	ret = krp_probe_walk();
	if (ret)
		goto err_tp;
	krp_walk_probe.kp.symbol_name = walk_sym;
	if (!enable)
		krp_walk_probe.kp.flags |= KPROBE_FLAG_DISABLED;
	krp_walk_probe.maxactive = max_walkers;
	ret = register_kretprobe(&krp_walk_probe);
	if (ret) {
		pr_err("cannot probe %s: error %d%s\n", walk_sym, ret,
		       ret == -ENOENT ? " (no such symbol in this kernel)" : "");
		goto err_probes;
	}

	krp_dir = debugfs_create_dir("ksm_rmap", NULL);
	debugfs_create_file("stats", 0400, krp_dir, NULL, &krp_stats_fops);
	debugfs_create_file("stats.json", 0400, krp_dir, (void *)1, &krp_stats_fops);
	debugfs_create_file("walks", 0400, krp_dir, NULL, &krp_walks_fops);
	debugfs_create_file("hist", 0400, krp_dir, NULL, &krp_hist_fops);
	debugfs_create_file("reset", 0200, krp_dir, NULL, &krp_reset_fops);
	debugfs_create_file("enable", 0600, krp_dir, &enable, &krp_enable_fops);
	debugfs_create_file("count", 0600, krp_dir, &count, &krp_count_fops);

	pr_info("probing %s; layout %s; stats in /sys/kernel/debug/ksm_rmap\n",
		walk_sym, krp_layout_names[krp_layout]);
	return 0;

err_probes:
	krp_unprobe_sites();
err_tp:
	krp_unregister_tps();
err_free:
	free_percpu(krp_victim_hist);
	free_percpu(krp_stats);
	kfree(krp_victims);
	kfree(krp_slots);
	return ret;
}

static void __exit krp_exit(void)
{
	debugfs_remove_recursive(krp_dir);
	/*
	 * Everything that reads a walk goes before the kretprobe: once it is
	 * gone, a walk in flight frees its instance on return without our
	 * handler, and its slot still points there.  The loop probes read
	 * their own task's walk; krp_contention_begin() reads any slot's.
	 */
	krp_unprobe_sites();
	krp_unregister_lock_tps();
	unregister_kretprobe(&krp_walk_probe);
	krp_unregister_tps();
	pr_info("unloaded; %lu probe hits missed\n", krp_missed_now());
	free_percpu(krp_victim_hist);
	free_percpu(krp_stats);
	kfree(krp_victims);
	kfree(krp_slots);
}

module_init(krp_init);
module_exit(krp_exit);
MODULE_VERSION("0.1");
MODULE_DESCRIPTION("Measure rmap_walk_ksm(): tree iterations, skips, anon_vma lock hold");
MODULE_AUTHOR("ksm_rmap_probe developers");
MODULE_LICENSE("GPL");
