/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version and architecture quirks of ksm_rmap_probe: everything
 * that depends on the kernel the module is built for, and nothing else
 * (the shared types are in ksm_rmap_probe.h).
 *
 * Here: the mirrored layout of the structures private to mm/ksm.c, the
 * functions that may be probed, how the interval-tree walk names its
 * anon_vma and keys its VMAs, and a few helpers over interfaces that
 * changed.  Kbuild's feature tests of the headers (KRP_HAVE_*) choose
 * among them; nothing tests a kernel version.  What differs between x86-64
 * and arm64 (how a direct call is decoded, where a kprobe on a function
 * sits) is chosen by the architecture Kbuild builds for (Kbuild refuses
 * any other).
 */
#ifndef _KSM_RMAP_PROBE_QUIRKS_H
#define _KSM_RMAP_PROBE_QUIRKS_H

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

/*
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

#endif /* _KSM_RMAP_PROBE_QUIRKS_H */
