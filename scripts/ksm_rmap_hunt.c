// SPDX-License-Identifier: GPL-2.0
/*
 * ksm_rmap_hunt.c - seeded scenarios that look for KSM pages whose
 * mappings rmap_walk_ksm() cannot find
 *
 * One run is one scenario.  A seed gives the same sequence of operations
 * every time (a splitmix64 generator; the operations' parameters are
 * abstract numbers that each worker interprets against its own regions,
 * so a failed operation changes nothing but its own line).  A scenario:
 *
 *   phase A   regions in worker 0: anonymous, or MAP_PRIVATE of a tmpfs
 *             file (memfd) at a random file offset whose written pages
 *             are anonymous CoW copies; then random operations
 *   merge     ksmd run=1 until it has made 4 more full scans, then run=0
 *   phase B   random operations (mremap moves to a free slot or over
 *             another region's pages, MREMAP_DONTUNMAP, grow in place,
 *             UFFDIO_MOVE, mprotect splits and re-merges, partial munmap,
 *             writes, fork, MADV_DONTFORK/WIPEONFORK, mlock,
 *             MADV_UNMERGEABLE + MADV_MERGEABLE, MADV_UNMERGEABLE alone,
 *             ksm run=2, worker exit)
 *   merge     again: what phase B unmerged (a mremap move unmerges the
 *             moved range) merges again at its new place
 *   phase C   random operations, mostly ones that keep KSM pages (fork,
 *             mprotect, munmap, grow, mlock, exit)
 *   walk      every KSM page (pagemap PFN, /proc/kpageflags KPF_KSM) of
 *             every live worker is migrated to the other NUMA node with
 *             move_pages(MPOL_MF_MOVE_ALL), up to 3 tries; then every one
 *             of its mappings is asked for its node (move_pages, no
 *             nodes).  A page still on its old node is "stuck": with
 *             ksmd stopped and every worker blocked on a pipe, nothing
 *             else holds it, so the kernel's rmap walk did not unmap all
 *             of its mappings: a confirmed miss.  Its class: unmergeable
 *             if one of its mappings lies in a VMA without VM_MERGEABLE
 *             (smaps VmFlags lacks "mg": no rmap_item there; known and
 *             kernel-wide), else new.
 *   or, with --reclaim DIR, by reclaim: every page of the scenario is
 *             charged to cgroup DIR; the workers' young bits are cleared
 *             (clear_refs) and 64M written to DIR/memory.reclaim, up to
 *             10 times; a KSM page still mapped at its PFN is stuck.
 *
 * Workers are processes: worker 0 is forked by the coordinator (this
 * process, which maps nothing), the others by a "fork" operation of a
 * worker; each executes the operations the coordinator sends it over a
 * pipe and answers on another, so everything happens in one order.
 *
 * Usage: ksm_rmap_hunt [--seed N | --fixed hugh|hugh-pre] [--list]
 *                      [--reclaim DIR]
 *   --seed N     the scenario of seed N (default 1)
 *   --fixed F    a fixed scenario: hugh (two identical pages merged, then
 *                the second moved by mremap, merged again: Hugh Dickins's
 *                case), hugh-pre (moved before the first merge)
 *   --list       print the operations only, run nothing
 *   --reclaim DIR  walk by reclaim (cgroup v2 DIR, swap on; mlock skipped)
 * Run as root on a machine with NUMA nodes 0 and 1 and KSM.
 *
 * Output: "hunt: ..." lines, the last one
 *   "hunt: result seed=S walk=W ops=N ksm_pages=P mappings=M migrated=X
 *    stuck=Y stuck_mappings=Z stuck_new=YN stuck_unmergeable=YU errors=E"
 *   (Y = YN + YU, the stuck pages by class; reclaim: migrated counts the
 *    pages swapped out of every mapping; reclaims=R follows)
 * Exit 0 when the scenario ran (stuck pages are a result, not an error).
 *
 * Build: gcc -O2 -static -Wall -Wextra -Werror -o ksm_rmap_hunt \
 *            ksm_rmap_hunt.c           (with krp_user.h next to it)
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <linux/userfaultfd.h>

#define KRP_PROG "hunt"
#include "krp_user.h"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif
/* UFFDIO_MOVE is Linux 6.8 uapi; older headers (Debian 12's) lack it */
#ifndef UFFDIO_MOVE
#define _UFFDIO_MOVE (0x05)
#define UFFDIO_MOVE _IOWR(UFFDIO, _UFFDIO_MOVE, struct uffdio_move)
#define UFFD_FEATURE_MOVE (1 << 16)
#define UFFDIO_MOVE_MODE_DONTWAKE ((__u64)1 << 0)
#define UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES ((__u64)1 << 1)
struct uffdio_move {
	__u64 dst;
	__u64 src;
	__u64 len;
	__u64 mode;
	__s64 move;
};
#endif

#define MAXW 8		/* workers */
#define MAXR 16		/* regions per worker */
#define SLOTS 48	/* arena slots */
#define SLOT_PAGES 32	/* pages per slot */
#define MAXN 12		/* pages of a new region */
#define FILE_PAGES 64	/* pages of the tmpfs file */
#define NCONTENT 5	/* shared page contents */
#define MAXOPS 64
#define KPF_KSM 21

enum op_type {
	OP_NEW_ANON, OP_NEW_FILE, OP_FORK, OP_EXIT, OP_MOVE, OP_DONTUNMAP,
	OP_GROW, OP_MPROTECT, OP_UNPROTECT, OP_MUNMAP, OP_WRITE,
	OP_DONTFORK, OP_WIPEONFORK, OP_MLOCK, OP_UNMERGE, OP_UNMERGEABLE,
	OP_UFFD_MOVE, OP_MOVE_OVER, OP_KSM_RUN2, OP_MERGE, OP_QUIT,
	OP_NR
};

static const char *const op_names[] = {
	"new-anon", "new-file", "fork", "exit", "mremap-move",
	"mremap-dontunmap", "mremap-grow", "mprotect-ro", "mprotect-rw",
	"munmap-page", "write", "dontfork", "wipeonfork", "mlock",
	"unmerge-remerge", "unmergeable", "uffd-move", "mremap-over",
	"ksm-run2", "merge", "quit",
};

struct op {
	int type;
	int w;			/* worker */
	uint32_t a, b, c, d;	/* abstract parameters */
	int pat;		/* new regions: 0 random, 1 all alike, 2 last unique */
};

struct region {
	unsigned long addr;
	int n;			/* pages */
	int file;		/* MAP_PRIVATE of the tmpfs file */
	long foff;		/* its file offset in pages */
	uint32_t ro;		/* pages made PROT_READ */
	uint32_t hole;		/* pages unmapped */
	int dontfork, live;
};

static size_t ps;
static uint64_t seed = 1;
static const char *fixed;
static char seed_name[32];
static int list_only;
static const char *cgroup;	/* --reclaim DIR: reclaim walks, not migration */
static int memfd = -1;
static int cmd[MAXW][2], rep[MAXW][2];

/* worker state (each worker has its own copy after fork) */
static int self;
static unsigned long arena;
static struct region reg[MAXR];
static uint64_t uniq;

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t rnd(uint64_t *s, uint32_t n)
{
	return n ? (uint32_t)(splitmix(s) % n) : 0;
}

/* ---- the generator: seed -> operations ---- */

static struct op ops[MAXOPS];
static int nops;

static void add(int type, int w, uint64_t *s)
{
	struct op *o = &ops[nops++];

	o->type = type;
	o->w = w;
	o->a = (uint32_t)splitmix(s);
	o->b = (uint32_t)splitmix(s);
	o->c = (uint32_t)splitmix(s);
	o->d = (uint32_t)splitmix(s);
	o->pat = 0;
}

/* weights of the random operations, per phase (A, B, C) */
static const int weight[3][OP_NR] = {
	[0] = { [OP_NEW_ANON] = 2, [OP_NEW_FILE] = 2, [OP_FORK] = 2,
		[OP_MOVE] = 4, [OP_DONTUNMAP] = 1, [OP_GROW] = 1,
		[OP_MPROTECT] = 2, [OP_WRITE] = 2, [OP_DONTFORK] = 1,
		[OP_WIPEONFORK] = 1, [OP_MLOCK] = 1, [OP_UNMERGEABLE] = 1,
		[OP_UFFD_MOVE] = 2, [OP_MOVE_OVER] = 1 },
	[1] = { [OP_NEW_FILE] = 1, [OP_FORK] = 3, [OP_EXIT] = 1,
		[OP_MOVE] = 6, [OP_DONTUNMAP] = 2, [OP_GROW] = 2,
		[OP_MPROTECT] = 3, [OP_UNPROTECT] = 2, [OP_MUNMAP] = 2,
		[OP_WRITE] = 2, [OP_DONTFORK] = 1, [OP_WIPEONFORK] = 1,
		[OP_MLOCK] = 1, [OP_UNMERGE] = 2, [OP_UNMERGEABLE] = 1,
		[OP_UFFD_MOVE] = 2, [OP_MOVE_OVER] = 2, [OP_KSM_RUN2] = 1 },
	[2] = { [OP_FORK] = 4, [OP_EXIT] = 1, [OP_MOVE] = 1, [OP_GROW] = 2,
		[OP_MPROTECT] = 3, [OP_UNPROTECT] = 2, [OP_MUNMAP] = 2,
		[OP_WRITE] = 1, [OP_DONTFORK] = 1, [OP_WIPEONFORK] = 1,
		[OP_MLOCK] = 2, [OP_UFFD_MOVE] = 1, [OP_MOVE_OVER] = 1 },
};

static void generate(void)
{
	uint64_t s = seed;
	int live[MAXW] = { 1 }, nw = 1, phase, i, j, k, t, total, pick, w;

	nops = 0;
	if (fixed) {
		/* hugh: [X X] merged, X moved by mremap, merged again */
		int pre = !strcmp(fixed, "hugh-pre");

		if (!pre && strcmp(fixed, "hugh"))
			die(EINVAL, "--fixed '%s': expected hugh or hugh-pre",
			    fixed);
		add(OP_NEW_ANON, 0, &s);
		ops[0].a = 1;		/* 3 pages */
		ops[0].b = 0;		/* slot 0 */
		ops[0].pat = 2;		/* X X U */
		if (!pre)
			add(OP_MERGE, 0, &s);
		add(OP_MOVE, 0, &s);
		ops[nops - 1].a = 0;	/* region 0 */
		ops[nops - 1].b = 3;	/* one inner page: */
		ops[nops - 1].c = 1;	/* the second */
		ops[nops - 1].d = 5;	/* to slot 5 */
		add(OP_MERGE, 0, &s);
		return;
	}
	for (phase = 0; phase < 3; phase++) {
		if (phase == 0) {
			k = 1 + rnd(&s, 3);
			for (i = 0; i < k; i++)
				add(rnd(&s, 3) ? OP_NEW_ANON : OP_NEW_FILE, 0,
				    &s);
		}
		k = phase == 2 ? 2 + rnd(&s, 4) : 3 + rnd(&s, 6);
		for (i = 0; i < k; i++) {
			for (total = 0, t = 0; t < OP_NR; t++)
				total += weight[phase][t];
			pick = rnd(&s, total);
			for (t = 0; pick >= weight[phase][t]; t++)
				pick -= weight[phase][t];
			/* a live worker, chosen among them */
			pick = rnd(&s, nw);
			for (w = 0; w < MAXW; w++)
				if (live[w] && !pick--)
					break;
			if (t == OP_EXIT && w == 0)
				continue;	/* worker 0 stays */
			if (t == OP_FORK && nw == MAXW)
				continue;
			add(t, w, &s);
			if (t == OP_FORK) {
				for (j = 0; live[j]; j++)
					;
				ops[nops - 1].c = j;
				live[j] = 1;
				nw++;
			}
			if (t == OP_EXIT) {
				live[w] = 0;
				nw--;
			}
		}
		if (phase < 2)
			add(OP_MERGE, 0, &s);
	}
}

/* ---- workers ---- */

static void fill_page(char *p, int cid, uint64_t salt)
{
	uint64_t *q = (uint64_t *)p, word;
	size_t i;

	if (cid < NCONTENT)
		word = 0x4b534d0000000000ULL | ((uint64_t)(seed & 0xffff) << 16) |
		       (uint64_t)cid << 1 | 1;
	else	/* unique to this write */
		word = salt;
	for (i = 0; i < ps / sizeof(*q); i++)
		q[i] = word + (cid < NCONTENT ? 0 : i);
}

static uint64_t unique_salt(void)
{
	return ((uint64_t)self << 56) ^ ((seed & 0xffffff) << 32) ^ ++uniq;
}

static unsigned long slot_addr(int s)
{
	return arena + (unsigned long)s * SLOT_PAGES * ps;
}

static int slot_of(unsigned long addr)
{
	return (addr - arena) / (SLOT_PAGES * ps);
}

/* the first slot from @start on that holds no live region */
static int free_slot(uint32_t start)
{
	int i, j, s;

	for (i = 0; i < SLOTS; i++) {
		s = (start + i) % SLOTS;
		for (j = 0; j < MAXR; j++)
			if (reg[j].live && slot_of(reg[j].addr) == s)
				break;
		if (j == MAXR)
			return s;
	}
	return -1;
}

/* the (@pick mod count)-th live region, or NULL */
static struct region *pick_region(uint32_t pick)
{
	int i, n = 0;

	for (i = 0; i < MAXR; i++)
		n += reg[i].live;
	if (!n)
		return NULL;
	pick %= n;
	for (i = 0; i < MAXR; i++)
		if (reg[i].live && !pick--)
			return &reg[i];
	return NULL;
}

static struct region *new_region(void)
{
	int i;

	for (i = 0; i < MAXR; i++)
		if (!reg[i].live) {
			memset(&reg[i], 0, sizeof(reg[i]));
			reg[i].live = 1;
			return &reg[i];
		}
	return NULL;
}

static char *page(struct region *r, int i)
{
	return (char *)(r->addr + i * ps);
}

/* make page @i writable if it was made read-only; then write @cid */
static int write_page(struct region *r, int i, int cid)
{
	if (r->hole & (1U << i))
		return 0;
	if (r->ro & (1U << i)) {
		if (mprotect(page(r, i), ps, PROT_READ | PROT_WRITE))
			return -errno;
		r->ro &= ~(1U << i);
	}
	fill_page(page(r, i), cid, unique_salt());
	return 0;
}

/* the low @n bits */
static uint32_t low_bits(int n)
{
	return n >= 32 ? ~0U : (1U << n) - 1;
}

/*
 * @fn (mprotect or madvise) with @arg on each mapped run of [i, i + k):
 * over a hole the call would fail with ENOMEM after doing the runs before
 * it, and the caller would not know how far it got.  Returns the first
 * error, after trying every run.
 */
static int each_run(struct region *r, int i, int k,
		    int (*fn)(void *, size_t, int), int arg)
{
	int j, start = -1, err = 0;

	for (j = i; j <= i + k; j++) {
		int mapped = j < i + k && !(r->hole & (1U << j));

		if (mapped && start < 0)
			start = j;
		if (!mapped && start >= 0) {
			if (fn(page(r, start), (j - start) * ps, arg) && !err)
				err = -errno;
			start = -1;
		}
	}
	return err;
}

/* does [addr, addr + k pages) overlap a live region other than @skip? */
static int overlaps(unsigned long addr, int k, struct region *skip)
{
	int j;

	for (j = 0; j < MAXR; j++)
		if (reg[j].live && &reg[j] != skip &&
		    addr < reg[j].addr + reg[j].n * ps &&
		    reg[j].addr < addr + k * ps)
			return 1;
	return 0;
}

static int do_new(struct op *o, char *desc, size_t len)
{
	struct region *r = new_region();
	int n = 2 + o->a % (MAXN - 1), s = free_slot(o->b), i, cid, file;
	uint64_t ps_seed = o->d;
	void *p;

	file = o->type == OP_NEW_FILE;
	if (o->pat)
		n = 2 + o->a;
	if (!r || s < 0) {
		if (r)
			r->live = 0;
		snprintf(desc, len, "no room");
		return 0;
	}
	r->n = n;
	r->file = file;
	r->addr = slot_addr(s) + (o->pat ? 0 : (o->c % 4) * ps);
	r->foff = file ? o->c % (FILE_PAGES - 32) : 0;
	if (file)
		p = mmap((void *)r->addr, n * ps, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_FIXED, memfd, r->foff * ps);
	else
		p = mmap((void *)r->addr, n * ps, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (p == MAP_FAILED) {
		r->live = 0;
		return -errno;
	}
	if (madvise(p, n * ps, MADV_MERGEABLE)) {
		r->live = 0;
		return -errno;
	}
	snprintf(desc, len, "r%ld at slot %d+%lu, %d pages%s", r - reg, s,
		 (r->addr - slot_addr(s)) / ps, n, file ? ", file" : "");
	for (i = 0; i < n; i++) {
		if (o->pat)
			cid = o->pat == 2 && i == n - 1 ? NCONTENT : 0;
		else
			cid = rnd(&ps_seed, NCONTENT + 2);
		/* file pages: some stay the file's own (not CoW'd) */
		if (file && !o->pat && !rnd(&ps_seed, 4))
			continue;
		fill_page(page(r, i), cid, unique_salt());
	}
	return 0;
}

/*
 * The pages of @r a move takes (@o's b, c): mode 0 the whole region, 1 a
 * prefix, 2 a suffix, 3 one inner page (@whole: mode 0 only).  Sets
 * *@src and *@k (pages); returns the mode.
 */
static int pick_run(struct region *r, struct op *o, int whole,
		    unsigned long *src, int *k)
{
	int mode = whole || r->n < 2 ? 0 : o->b % 4;

	*k = r->n;
	*src = r->addr;
	if (mode == 1) {		/* a prefix */
		*k = 1 + o->c % (r->n - 1);
	} else if (mode == 2) {		/* a suffix */
		*k = 1 + o->c % (r->n - 1);
		*src = r->addr + (r->n - *k) * ps;
	} else if (mode == 3) {		/* one inner page */
		*k = 1;
		*src = r->addr + (o->c % r->n) * ps;
	}
	return mode;
}

/* drop the first @k pages of @r (@k < r->n) */
static void trim_front(struct region *r, int k)
{
	r->addr += k * ps;
	r->foff += k;
	r->n -= k;
	r->ro >>= k;
	r->hole >>= k;
}

/* keep the first @k pages of @r (0 < @k) */
static void trim_back(struct region *r, int k)
{
	r->n = k;
	r->ro &= low_bits(k);	/* no stale bits past the end */
	r->hole &= low_bits(k);
}

/* the pages a move (mode, see pick_run) took out of @r, k from @i, left */
static void moved_out(struct region *r, int mode, int i, int k)
{
	if (k == r->n)
		r->live = 0;
	else if (mode == 1)
		trim_front(r, k);
	else if (mode == 2)
		trim_back(r, r->n - k);
	else
		r->hole |= 1U << i;
}

/*
 * A new region for @k pages at @dst, pages @i.. of @from (a copy).  Holes
 * go with them: mremap moves a range across VMA gaps where the kernel
 * allows it (7.3 does), and the gap stays a gap at the new place.
 */
static void moved_in(struct region *from, unsigned long dst, int i, int k)
{
	struct region *nr = new_region();

	if (!nr)
		return;
	*nr = *from;
	nr->addr = dst;
	nr->n = k;
	nr->foff = from->foff + i;
	nr->ro = (from->ro >> i) & low_bits(k);
	nr->hole = (from->hole >> i) & low_bits(k);
}

static int do_move(struct op *o, int flags, char *desc, size_t len)
{
	struct region *r = pick_region(o->a), old;
	int s = free_slot(o->d), mode, k, i;
	unsigned long src, dst;

	if (!r || s < 0) {
		snprintf(desc, len, "nothing to move");
		return 0;
	}
	mode = pick_run(r, o, flags & MREMAP_DONTUNMAP, &src, &k);
	dst = slot_addr(s);
	i = (src - r->addr) / ps;
	snprintf(desc, len, "r%ld pages %d-%d -> slot %d", r - reg, i,
		 i + k - 1, s);
	if (mremap((void *)src, k * ps, k * ps,
		   MREMAP_MAYMOVE | MREMAP_FIXED | flags,
		   (void *)dst) == MAP_FAILED)
		return -errno;
	old = *r;
	if (!(flags & MREMAP_DONTUNMAP))	/* else: the old range stays, emptied */
		moved_out(r, mode, i, k);
	moved_in(&old, dst, i, k);
	return 0;
}

/* the (@pick mod count)-th live region other than @r, or NULL */
static struct region *pick_other(struct region *r, uint32_t pick)
{
	int i, n = 0;

	for (i = 0; i < MAXR; i++)
		n += reg[i].live && &reg[i] != r;
	if (!n)
		return NULL;
	pick %= n;
	for (i = 0; i < MAXR; i++)
		if (reg[i].live && &reg[i] != r && !pick--)
			return &reg[i];
	return NULL;
}

/*
 * mremap-over: move pages of one region (as mremap-move) with
 * MREMAP_FIXED onto pages of another live region, which the move unmaps
 * (the KSM pages and rmap_items there lose that mapping).  The target
 * range starts at page j of r2 and stays in r2's slot, clear of every
 * other region; what it covers of r2 is dropped: r2 is trimmed, split in
 * two, or gone.
 */
static int do_move_over(struct op *o, char *desc, size_t len)
{
	struct region *r = pick_region(o->a), *r2, old, *r3;
	int mode, k, i, j, e;
	unsigned long src, dst, end;

	r2 = r ? pick_other(r, o->d) : NULL;
	if (!r2) {
		snprintf(desc, len, "no two regions");
		return 0;
	}
	mode = pick_run(r, o, 0, &src, &k);
	i = (src - r->addr) / ps;
	j = (o->d >> 16) % r2->n;
	end = slot_addr(slot_of(r2->addr) + 1);
	if (r2->addr + (j + k) * ps > end)
		j = (long)(end - r2->addr) / (long)ps - k;
	dst = r2->addr + j * ps;
	if (j < 0 || overlaps(dst, k, r2)) {
		snprintf(desc, len, "r%ld pages %d-%d onto r%ld: no room",
			 r - reg, i, i + k - 1, r2 - reg);
		return 0;
	}
	snprintf(desc, len, "r%ld pages %d-%d -> r%ld pages %d-%d", r - reg,
		 i, i + k - 1, r2 - reg, j, j + k - 1);
	if (mremap((void *)src, k * ps, k * ps,
		   MREMAP_MAYMOVE | MREMAP_FIXED, (void *)dst) == MAP_FAILED)
		return -errno;
	old = *r;
	moved_out(r, mode, i, k);
	e = j + k < r2->n ? j + k : r2->n;	/* r2's pages [j, e) are gone */
	if (j == 0 && e == r2->n) {
		r2->live = 0;
	} else if (j == 0) {
		trim_front(r2, e);
	} else if (e == r2->n) {
		trim_back(r2, j);
	} else {
		r3 = new_region();
		if (r3) {
			*r3 = *r2;
			trim_front(r3, e);
		}
		trim_back(r2, j);
	}
	moved_in(&old, dst, i, k);
	return 0;
}

/*
 * uffd-move: UFFDIO_MOVE (Linux >= 6.8) of pages of a region to a new
 * anonymous mapping in a free slot, registered with a userfaultfd (the
 * ioctl wants its destination registered, and empty).  It moves page
 * table entries only: the folio gets the destination VMA's anon_vma and
 * index, the source VMA stays, with those ptes now empty (no hole: the
 * pages read as zero again).  The kernel refuses (EBUSY) a page not
 * exclusive to this process: a KSM page, one shared since a fork; an
 * anonymous VMA only (a file region: EINVAL), writable (mprotect-ro:
 * EINVAL).  A refusal after some pages leaves those moved: the new
 * region is them.  No userfaultfd or no UFFDIO_MOVE: unsupported.
 */
static int do_uffd_move(struct op *o, char *desc, size_t len)
{
	struct region *r = pick_region(o->a), old;
	int s = free_slot(o->d), k, i, uffd, err = 0, tries = 0;
	struct uffdio_api api = { .api = UFFD_API,
				  .features = UFFD_FEATURE_MOVE };
	struct uffdio_register ureg;
	struct uffdio_move mv;
	unsigned long src, dst, moved = 0;
	size_t l;

	if (!r || s < 0) {
		snprintf(desc, len, "nothing to move");
		return 0;
	}
	pick_run(r, o, 0, &src, &k);
	dst = slot_addr(s);
	i = (src - r->addr) / ps;
	snprintf(desc, len, "r%ld pages %d-%d -> slot %d", r - reg, i,
		 i + k - 1, s);
	l = strlen(desc);
	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0) {
		err = errno;
		snprintf(desc + l, len - l, " (userfaultfd: %s)",
			 strerror(err));
		/* ENOSYS: a kernel built without CONFIG_USERFAULTFD */
		return err == ENOSYS ? -EOPNOTSUPP : -err;
	}
	/* a kernel that does not know UFFD_FEATURE_MOVE refuses it: EINVAL */
	if (ioctl(uffd, UFFDIO_API, &api)) {
		err = errno;
		close(uffd);
		snprintf(desc + l, len - l, " (UFFDIO_API with UFFD_FEATURE_MOVE: %s)",
			 strerror(err));
		return err == EINVAL || err == ENOTTY ? -EOPNOTSUPP : -err;
	}
	if (mmap((void *)dst, k * ps, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED ||
	    madvise((void *)dst, k * ps, MADV_MERGEABLE)) {
		err = errno;
		goto out;
	}
	ureg.range.start = dst;
	ureg.range.len = k * ps;
	ureg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(uffd, UFFDIO_REGISTER, &ureg)) {
		err = errno;
		goto out;
	}
	if (!(ureg.ioctls & (1ULL << _UFFDIO_MOVE))) {
		err = EOPNOTSUPP;
		snprintf(desc + l, len - l, " (no UFFDIO_MOVE on this range)");
		goto out;
	}
	while (moved < k * ps) {
		mv.dst = dst + moved;
		mv.src = src + moved;
		mv.len = k * ps - moved;
		mv.mode = UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES;
		mv.move = 0;
		if (!ioctl(uffd, UFFDIO_MOVE, &mv)) {
			moved = k * ps;
			break;
		}
		err = errno;
		if (mv.move > 0)
			moved += mv.move;
		/* EAGAIN: a part moved, or a pte changed under it: go on */
		if (err != EAGAIN || ++tries > 10)
			break;
		err = 0;
	}
out:
	close(uffd);			/* unregisters the range */
	if (moved < k * ps) {		/* the rest: the arena's reservation */
		mmap((void *)(dst + moved), k * ps - moved, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
		     -1, 0);
	}
	if (moved) {
		old = *r;
		old.file = 0;
		old.foff = 0;
		old.dontfork = 0;	/* a new VMA: no VM_DONTCOPY */
		old.hole = 0;		/* all of it mapped */
		moved_in(&old, dst, i, moved / ps);
		if (moved < k * ps) {
			l = strlen(desc);
			snprintf(desc + l, len - l, ", %lu of %d pages moved",
				 moved / ps, k);
		}
	}
	return err ? -err : 0;
}

static int do_grow(struct op *o, char *desc, size_t len)
{
	struct region *r = pick_region(o->a);
	int g = 1 + o->b % 4, i;
	unsigned long end;
	uint32_t ro;

	if (!r) {
		snprintf(desc, len, "no region");
		return 0;
	}
	end = r->addr + r->n * ps;
	/* a file region stays inside the file: no SIGBUS past its end */
	if (slot_of(end + g * ps - 1) != slot_of(r->addr) || r->n + g > 31 ||
	    overlaps(end, g, r) ||
	    (r->file && r->foff + r->n + g > FILE_PAGES)) {
		snprintf(desc, len, "r%ld: no room", r - reg);
		return 0;
	}
	snprintf(desc, len, "r%ld by %d pages", r - reg, g);
	/* the arena's PROT_NONE reservation is in the way: unmap it */
	if (munmap((void *)end, g * ps))
		return -errno;
	if (mremap((void *)r->addr, r->n * ps, (r->n + g) * ps, 0) ==
	    MAP_FAILED)
		return -errno;
	/* the last VMA grew: the new pages have its protection */
	ro = r->ro >> (r->n - 1) & 1;
	r->n += g;
	for (i = r->n - g; i < r->n; i++)
		r->ro |= ro << i;
	if (o->c & 1)
		for (i = r->n - g; i < r->n; i++)
			write_page(r, i, o->d % (NCONTENT + 1));
	return 0;
}

static int run_op(struct op *o, char *desc, size_t len)
{
	struct region *r;
	int i, k, err = 0, adv;
	pid_t pid;

	*desc = 0;
	switch (o->type) {
	case OP_NEW_ANON:
	case OP_NEW_FILE:
		return do_new(o, desc, len);
	case OP_MOVE:
		return do_move(o, 0, desc, len);
	case OP_DONTUNMAP:
		return do_move(o, MREMAP_DONTUNMAP, desc, len);
	case OP_GROW:
		return do_grow(o, desc, len);
	case OP_UFFD_MOVE:
		return do_uffd_move(o, desc, len);
	case OP_MOVE_OVER:
		return do_move_over(o, desc, len);
	case OP_FORK:
		snprintf(desc, len, "child w%u", o->c);
		fflush(stdout);
		pid = fork();
		if (pid < 0)
			return -errno;
		if (pid == 0) {
			self = o->c;
			for (i = 0; i < MAXR; i++) {
				if (reg[i].dontfork)
					reg[i].live = 0;
			}
			return 1;	/* the child: serve worker c */
		}
		return pid;
	case OP_EXIT:
		snprintf(desc, len, "w%d exits", self);
		return 0;
	case OP_QUIT:
	case OP_MERGE:
	case OP_KSM_RUN2:
	case OP_NR:
		return 0;
	}
	r = pick_region(o->a);
	if (!r) {
		snprintf(desc, len, "no region");
		return 0;
	}
	i = o->b % r->n;
	switch (o->type) {
	case OP_MPROTECT:
		k = 1 + o->c % (r->n - i);
		snprintf(desc, len, "r%ld pages %d-%d", r - reg, i, i + k - 1);
		err = each_run(r, i, k, mprotect, PROT_READ);
		if (!err)
			r->ro |= ((1U << k) - 1) << i;
		break;
	case OP_UNPROTECT:
		snprintf(desc, len, "r%ld", r - reg);
		err = each_run(r, 0, r->n, mprotect, PROT_READ | PROT_WRITE);
		if (!err)
			r->ro = 0;
		break;
	case OP_MUNMAP:
		snprintf(desc, len, "r%ld page %d", r - reg, i);
		if (munmap(page(r, i), ps))
			err = -errno;
		else
			r->hole |= 1U << i;
		break;
	case OP_WRITE:
		k = o->c % (NCONTENT + 2);
		snprintf(desc, len, "r%ld page %d content %d", r - reg, i, k);
		err = write_page(r, i, k);
		break;
	case OP_DONTFORK:
	case OP_WIPEONFORK:
		adv = o->type == OP_DONTFORK ? MADV_DONTFORK : MADV_WIPEONFORK;
		snprintf(desc, len, "r%ld", r - reg);
		if (madvise((void *)r->addr, r->n * ps, adv))
			err = -errno;
		if (o->type == OP_DONTFORK)
			r->dontfork = 1;
		break;
	case OP_MLOCK:
		/* reclaim never takes an mlocked page: not a miss */
		snprintf(desc, len, "r%ld%s", r - reg,
			 cgroup ? ": skipped (reclaim walk)" : "");
		if (!cgroup && mlock((void *)r->addr, r->n * ps))
			err = -errno;
		break;
	case OP_UNMERGE:
		/* both, run by run: mergeable again even if unmerging failed */
		snprintf(desc, len, "r%ld", r - reg);
		err = each_run(r, 0, r->n, madvise, MADV_UNMERGEABLE);
		adv = each_run(r, 0, r->n, madvise, MADV_MERGEABLE);
		err = err ? err : adv;
		break;
	case OP_UNMERGEABLE:
		/*
		 * Left off: the region's VMAs lose VM_MERGEABLE for good (their
		 * KSM pages are unmerged now; a fork copies the flag).
		 */
		snprintf(desc, len, "r%ld", r - reg);
		err = each_run(r, 0, r->n, madvise, MADV_UNMERGEABLE);
		break;
	default:
		break;
	}
	return err;
}

/* a worker's fatal fault: say what and where, for the record */
static void on_fault(int sig, siginfo_t *si, void *uc)
{
	char msg[128];
	int len;

	(void)uc;
	len = snprintf(msg, sizeof(msg), "hunt: w%d: signal %d at %p\n",
		       self, sig, si->si_addr);
	if (write(2, msg, len) < 0)
		_exit(3);
	_exit(2);
}

static void __attribute__((noreturn)) worker(void)
{
	struct sigaction sa = { .sa_sigaction = on_fault,
				.sa_flags = SA_SIGINFO };
	char desc[160];
	struct op o;
	int ret;

	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	signal(SIGCHLD, SIG_IGN);	/* exited children are reaped */
	for (;;) {
		if (read(cmd[self][0], &o, sizeof(o)) != sizeof(o))
			_exit(0);
		if (o.type == OP_QUIT)
			_exit(0);
		ret = run_op(&o, desc, sizeof(desc));
		if (o.type == OP_FORK && ret == 1)
			continue;	/* the new worker: its parent answers */
		printf("hunt: op w%d %s %s: %s\n", self, op_names[o.type],
		       desc, ret == -EOPNOTSUPP ? "unsupported" :
		       ret < 0 ? strerror(-ret) : "ok");
		fflush(stdout);
		if (write(rep[self][1], &ret, sizeof(ret)) != sizeof(ret))
			_exit(1);
		if (o.type == OP_EXIT)
			_exit(0);
	}
}

/* ---- the coordinator ---- */

static pid_t pids[MAXW];

static int live[MAXW];

/* kill every live worker; exit 1 */
static void __attribute__((noreturn)) abandon(void)
{
	int i;

	for (i = 0; i < MAXW; i++)
		if (live[i])
			kill(pids[i], SIGKILL);
	exit(1);
}

/* has worker @w died?  (worker 0 is this process's child) */
static int dead(int w)
{
	int st;

	if (w == 0)
		return waitpid(pids[0], &st, WNOHANG) == pids[0];
	return kill(pids[w], 0) && errno == ESRCH;
}

static int send_op(struct op *o)
{
	struct pollfd pfd = { .fd = rep[o->w][0], .events = POLLIN };
	long t0 = now_ms();
	int ret;

	if (write(cmd[o->w][1], o, sizeof(*o)) != sizeof(*o))
		die(errno, "send to w%d", o->w);
	/* every worker holds every pipe: a dead one is seen by its pid */
	while (poll(&pfd, 1, 100) == 0) {
		int gone = dead(o->w);

		if (gone || now_ms() - t0 > 60000) {
			fflush(stdout);
			fprintf(stderr, "hunt: error: w%d %s, in %s\n", o->w,
				gone ? "died" : "gave no answer in 60 s",
				op_names[o->type]);
			live[o->w] = 0;
			abandon();
		}
	}
	if (read(rep[o->w][0], &ret, sizeof(ret)) != sizeof(ret))
		die(EPIPE, "no answer from w%d", o->w);
	return ret;
}

/* wait until @pid has exited (its mm torn down): reaped by its parent */
static void gone(pid_t pid)
{
	long t0 = now_ms();

	if (pid == pids[0])
		waitpid(pid, NULL, 0);
	while (kill(pid, 0) == 0 && now_ms() - t0 < 10000)
		usleep(1000);
}

/* VMAs with VM_MERGEABLE (smaps VmFlags "mg") in the live workers */
static int mergeable_vmas(void)
{
	char path[64], line[512];
	int w, n = 0;
	FILE *f;

	for (w = 0; w < MAXW; w++) {
		if (!live[w])
			continue;
		snprintf(path, sizeof(path), "/proc/%d/smaps", pids[w]);
		f = fopen(path, "r");
		if (!f)
			die(errno, "open %s", path);
		while (fgets(line, sizeof(line), f))
			n += !strncmp(line, "VmFlags:", 8) && strstr(line, " mg");
		fclose(f);
	}
	return n;
}

static void merge(void)
{
	long start = read_long(KSM_DIR "full_scans"), t0 = now_ms();

	if (start < 0)
		die(ENOENT, "cannot read " KSM_DIR "full_scans");
	/*
	 * ksmd drops an mm with no VM_MERGEABLE VMA from its list at its next
	 * scan of it; with none left it stops counting full scans.
	 */
	if (!mergeable_vmas()) {
		printf("hunt: ksmd not run: no VM_MERGEABLE VMA in any worker\n");
		return;
	}
	write_file(KSM_DIR "run", "1");
	while (read_long(KSM_DIR "full_scans") < start + 4) {
		if (now_ms() - t0 > 120000)
			die(ETIME, "ksmd made no 4 full scans in 120 s");
		usleep(20000);
	}
	write_file(KSM_DIR "run", "0");
	printf("hunt: ksmd pages_shared=%ld pages_sharing=%ld ms=%ld\n",
	       read_long(KSM_DIR "pages_shared"),
	       read_long(KSM_DIR "pages_sharing"), now_ms() - t0);
}

/*
 * ksm-run2: run=2 unmerges every KSM page of every process and drops
 * every rmap_item (ksmd stays stopped); the next merge sets run=1.
 */
static void unmerge_all(void)
{
	int fd = open(KSM_DIR "run", O_WRONLY), err = 0;

	if (fd < 0 || write(fd, "2", 1) != 1)
		err = errno;
	if (fd >= 0)
		close(fd);
	printf("hunt: op ksm-run2 run=2: %s, pages_shared=%ld pages_sharing=%ld\n",
	       err ? strerror(err) : "ok", read_long(KSM_DIR "pages_shared"),
	       read_long(KSM_DIR "pages_sharing"));
}

struct mapping {
	uint64_t pfn;
	int w;
	unsigned long addr;
};

static struct mapping *maps;
static int nmaps, capmaps;

static void collect(int w, int pm, int kpf)
{
	char path[64], line[512];
	unsigned long s, e, a;
	uint64_t ent, flags;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pids[w]);
	f = fopen(path, "r");
	if (!f)
		die(errno, "open %s", path);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx", &s, &e) != 2)
			continue;
		if (s < arena || e > slot_addr(SLOTS))
			continue;
		for (a = s; a < e; a += ps) {
			if (pagemap_entry(pm, a, ps, &ent))
				die(errno, "read pagemap of w%d", w);
			if (!(ent & PM_PRESENT))
				continue;	/* not present */
			ent &= PM_PFN_MASK;
			if (!ent)
				die(EPERM, "no PFN in pagemap (not root?)");
			if (pread(kpf, &flags, 8, ent * 8) != 8)
				die(errno, "read /proc/kpageflags");
			if (!(flags >> KPF_KSM & 1))
				continue;
			if (nmaps == capmaps) {
				capmaps = capmaps ? 2 * capmaps : 256;
				maps = realloc(maps, capmaps * sizeof(*maps));
				if (!maps)
					die(ENOMEM, "realloc");
			}
			maps[nmaps++] = (struct mapping){ ent, w, a };
		}
	}
	fclose(f);
}

static int cmp_map(const void *x, const void *y)
{
	const struct mapping *p = x, *q = y;

	if (p->pfn != q->pfn)
		return p->pfn < q->pfn ? -1 : 1;
	if (p->w != q->w)
		return p->w - q->w;
	return p->addr < q->addr ? -1 : p->addr > q->addr;
}

/* NUMA node of worker @w's page at @addr, or -errno */
static int node_of(int w, unsigned long addr)
{
	return page_node(pids[w], (void *)addr);
}

/*
 * The VMA of @addr in worker @w: its maps line and its smaps VmFlags (for
 * the record).  Returns 1 if the VMA has VM_MERGEABLE (flag "mg"), 0 if
 * not, -1 if it was not found.
 */
static int print_vma(int w, unsigned long addr)
{
	char path[64], line[512], head[512] = "";
	unsigned long s, e;
	int found = 0, mg = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pids[w]);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!found) {
			/* a VMA's first line: "start-end perms offset ..." */
			if (sscanf(line, "%lx-%lx ", &s, &e) == 2 &&
			    strchr(line, '-') == line + strspn(line, "0123456789abcdef") &&
			    addr >= s && addr < e) {
				found = 1;
				snprintf(head, sizeof(head), "%s", line);
			}
			continue;
		}
		if (!strncmp(line, "VmFlags:", 8)) {
			line[strcspn(line, "\n")] = 0;
			mg = !!strstr(line, " mg");
			printf("hunt:   w%d %#lx, page %lu of %shunt:     %s\n",
			       w, addr, (addr - s) / ps, head, line);
			break;
		}
	}
	fclose(f);
	return mg;
}

/*
 * The class of a stuck page whose mappings maps[@i, @j) were just printed:
 * "unmergeable" if one of them lies in a VMA without VM_MERGEABLE (known,
 * kernel-wide: such a VMA never gets an rmap_item; see
 * docs/findings/unreachable.md and tests/ksm_fork_unreachable.c), else
 * "new".  Prints the mappings.
 */
static int stuck_class_unmergeable(int i, int j)
{
	int k, unm = 0;

	for (k = i; k < j; k++)
		unm |= print_vma(maps[k].w, maps[k].addr) == 0;
	printf("hunt:   class %s\n", unm ? "unmergeable" : "new");
	return unm;
}

static int walk_reclaim(void);

static int walk_pages(void)
{
	int w, pm, kpf, i, j, k, from, to, tries, stuck = 0, stuck_maps = 0;
	int migrated = 0, pages = 0, errors = 0, ok, stuck_unm = 0;
	char path[64];
	long ret;

	kpf = open("/proc/kpageflags", O_RDONLY);
	if (kpf < 0)
		die(errno, "open /proc/kpageflags");
	for (w = 0; w < MAXW; w++) {
		if (!live[w])
			continue;
		snprintf(path, sizeof(path), "/proc/%d/pagemap", pids[w]);
		pm = open(path, O_RDONLY);
		if (pm < 0)
			die(errno, "open %s", path);
		collect(w, pm, kpf);
		close(pm);
	}
	close(kpf);
	qsort(maps, nmaps, sizeof(*maps), cmp_map);
	if (cgroup)
		return walk_reclaim();
	for (i = 0; i < nmaps; i = j) {
		for (j = i; j < nmaps && maps[j].pfn == maps[i].pfn; j++)
			;
		pages++;
		from = node_of(maps[i].w, maps[i].addr);
		if (from < 0) {
			errors++;
			continue;
		}
		to = !from;
		for (tries = 0; tries < 3; tries++) {
			void *pg[1] = { (void *)maps[i].addr };
			int node[1] = { to }, status[1] = { INT_MIN };

			ret = syscall(__NR_move_pages, pids[maps[i].w], 1UL,
				      pg, node, status, MPOL_MF_MOVE_ALL);
			(void)ret;
			if (node_of(maps[i].w, maps[i].addr) == to)
				break;
			usleep(10000);
		}
		for (ok = 0, k = i; k < j; k++)
			ok += node_of(maps[k].w, maps[k].addr) == to;
		if (ok == j - i) {
			migrated++;
			continue;
		}
		stuck++;
		stuck_maps += j - i - ok;
		printf("hunt: stuck page %d: %d mappings, %d moved to node %d, tries %d\n",
		       pages - 1, j - i, ok, to, tries);
		stuck_unm += stuck_class_unmergeable(i, j);
	}
	printf("hunt: result seed=%s walk=migrate ops=%d ksm_pages=%d mappings=%d migrated=%d stuck=%d stuck_mappings=%d stuck_new=%d stuck_unmergeable=%d errors=%d\n",
	       seed_name, nops, pages, nmaps, migrated, stuck, stuck_maps,
	       stuck - stuck_unm, stuck_unm, errors);
	return 0;
}

/* is the page of mapping @m still mapped at its PFN?  -1: unknown */
static int still_mapped(struct mapping *m)
{
	char path[64];
	uint64_t ent;
	int fd, ret = -1;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pids[m->w]);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	if (!pagemap_entry(fd, m->addr, ps, &ent))
		ret = (ent & PM_PRESENT) && (ent & PM_PFN_MASK) == m->pfn;
	close(fd);
	return ret;
}

/* clear the young bits of every live worker's ptes (clear_refs 1) */
static void clear_young(void)
{
	char path[64];
	int w, fd;

	for (w = 0; w < MAXW; w++) {
		if (!live[w])
			continue;
		snprintf(path, sizeof(path), "/proc/%d/clear_refs", pids[w]);
		fd = open(path, O_WRONLY);
		if (fd < 0)
			continue;
		if (write(fd, "1", 1) != 1)
			perror("hunt: clear_refs");
		close(fd);
	}
}

/*
 * The reclaim walk: every worker's pages are charged to the cgroup @cgroup
 * (this process joined it before forking worker 0).  "64M" is written to
 * its memory.reclaim up to 10 times, until no mapping of a KSM page maps
 * it any more (swapped out: folio_referenced and try_to_unmap walks).  A
 * KSM page still mapped at its PFN after that is stuck.
 */
static int walk_reclaim(void)
{
	int i, j, k, r, left, pages = 0, gone_pages = 0, stuck = 0;
	int stuck_maps = 0, errors = 0, m, stuck_unm = 0;
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/memory.reclaim", cgroup);
	for (r = 0; r < 10; r++) {
		for (left = 0, i = 0; i < nmaps; i++)
			left += still_mapped(&maps[i]) != 0;
		if (!left)
			break;
		/*
		 * Young ptes make reclaim activate a page (folio_referenced
		 * stops early, nothing is unmapped): clear them first, as a
		 * workload that stopped touching its pages would have.
		 */
		clear_young();
		fd = open(path, O_WRONLY);
		if (fd < 0)
			die(errno, "open %s", path);
		/* EAGAIN: less than asked could be reclaimed; go on */
		if (write(fd, "64M", 3) < 0 && errno != EAGAIN)
			die(errno, "write %s", path);
		close(fd);
	}
	for (i = 0; i < nmaps; i = j) {
		for (j = i; j < nmaps && maps[j].pfn == maps[i].pfn; j++)
			;
		pages++;
		for (m = 0, k = i; k < j; k++) {
			int v = still_mapped(&maps[k]);

			errors += v < 0;
			m += v > 0;
		}
		if (!m) {
			gone_pages++;
			continue;
		}
		stuck++;
		stuck_maps += m;
		printf("hunt: stuck page %d: %d mappings, %d still mapped after %d reclaims\n",
		       pages - 1, j - i, m, r);
		stuck_unm += stuck_class_unmergeable(i, j);
	}
	printf("hunt: result seed=%s walk=reclaim ops=%d ksm_pages=%d mappings=%d migrated=%d stuck=%d stuck_mappings=%d stuck_new=%d stuck_unmergeable=%d errors=%d reclaims=%d\n",
	       seed_name, nops, pages, nmaps, gone_pages, stuck, stuck_maps,
	       stuck - stuck_unm, stuck_unm, errors, r);
	return 0;
}

static void print_op(int i)
{
	printf("hunt: gen %d %s w%d a=%u b=%u c=%u d=%u%s\n", i,
	       op_names[ops[i].type], ops[i].w, ops[i].a, ops[i].b, ops[i].c,
	       ops[i].d, ops[i].pat ? " fixed" : "");
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ksm_rmap_hunt [--seed N | --fixed hugh|hugh-pre] [--list] [--reclaim DIR]\n"
"Run one seeded KSM scenario (fork trees, mremap, UFFDIO_MOVE, mprotect,\n"
"munmap, file-private CoW, DONTFORK/WIPEONFORK, mlock, unmerge, ksm run=2),\n"
"then migrate every KSM page to the other NUMA node and report the pages\n"
"that stayed, each classed new or unmergeable.\n"
"  --seed N     scenario seed (default 1)\n"
"  --fixed F    hugh: merge, mremap-move one of two identical pages, merge;\n"
"               hugh-pre: the move before the first merge\n"
"  --list       print the generated operations, run nothing\n"
"  --reclaim DIR  walk by reclaim instead: join cgroup v2 DIR (memory on,\n"
"               swap needed), write 64M to DIR/memory.reclaim up to 10\n"
"               times; a KSM page still mapped then is stuck (mlock ops\n"
"               are skipped in this mode)\n");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "fixed", required_argument, NULL, 'f' },
		{ "list", no_argument, NULL, 'l' },
		{ "reclaim", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c, i, ret;
	char *end;
	void *p;

	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case 's':
			errno = 0;
			seed = strtoull(optarg, &end, 0);
			if (errno || end == optarg || *end)
				die(EINVAL, "--seed '%s'", optarg);
			break;
		case 'f':
			fixed = optarg;
			break;
		case 'l':
			list_only = 1;
			break;
		case 'r':
			cgroup = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	ps = sysconf(_SC_PAGESIZE);
	if (fixed)
		snprintf(seed_name, sizeof(seed_name), "%s", fixed);
	else
		snprintf(seed_name, sizeof(seed_name), "%llu",
			 (unsigned long long)seed);
	generate();
	for (i = 0; i < nops; i++)
		print_op(i);
	if (list_only)
		return 0;

	if (read_long(KSM_DIR "run") < 0)
		die(ENOENT, "no " KSM_DIR "run (CONFIG_KSM?)");
	write_file(KSM_DIR "run", "0");
	write_file(KSM_DIR "pages_to_scan", "2000");
	write_file(KSM_DIR "sleep_millisecs", "5");
	if (access(KSM_DIR "smart_scan", W_OK) == 0)
		write_file(KSM_DIR "smart_scan", "0");

	if (cgroup) {
		/* every worker's pages are charged to it: they inherit it */
		char path[PATH_MAX], pid[16];

		snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup);
		snprintf(pid, sizeof(pid), "%d", getpid());
		write_file(path, pid);
	}
	memfd = memfd_create("ksm_rmap_hunt", 0);
	if (memfd < 0)
		die(errno, "memfd_create");
	if (ftruncate(memfd, FILE_PAGES * ps))
		die(errno, "ftruncate");
	p = mmap(NULL, FILE_PAGES * ps, PROT_READ | PROT_WRITE, MAP_SHARED,
		 memfd, 0);
	if (p == MAP_FAILED)
		die(errno, "mmap the file");
	for (i = 0; i < FILE_PAGES; i++)
		fill_page((char *)p + i * ps, NCONTENT,
			  0x66696c6500000000ULL | (uint64_t)i << 20);
	munmap(p, FILE_PAGES * ps);

	/* the arena, at the same address in every worker */
	p = mmap(NULL, SLOTS * SLOT_PAGES * ps, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		die(errno, "mmap the arena");
	arena = (unsigned long)p;
	for (i = 0; i < MAXW; i++)
		if (pipe(cmd[i]) || pipe(rep[i]))
			die(errno, "pipe");
	fflush(stdout);
	pids[0] = fork();
	if (pids[0] < 0)
		die(errno, "fork");
	if (pids[0] == 0) {
		self = 0;
		worker();
	}
	/* the coordinator maps nothing of the scenario */
	munmap(p, SLOTS * SLOT_PAGES * ps);
	live[0] = 1;

	for (i = 0; i < nops; i++) {
		struct op *o = &ops[i];

		if (o->type == OP_MERGE) {
			merge();
			continue;
		}
		if (o->type == OP_KSM_RUN2) {
			unmerge_all();
			continue;
		}
		if (!live[o->w]) {
			printf("hunt: op w%d %s: skipped, worker gone\n", o->w,
			       op_names[o->type]);
			continue;
		}
		ret = send_op(o);
		if (o->type == OP_FORK && ret > 0) {
			pids[o->c] = ret;
			live[o->c] = 1;
		}
		if (o->type == OP_EXIT) {
			gone(pids[o->w]);
			live[o->w] = 0;
		}
	}
	fflush(stdout);
	walk_pages();
	for (i = 0; i < MAXW; i++) {
		struct op q = { .type = OP_QUIT, .w = i };

		if (live[i] && write(cmd[i][1], &q, sizeof(q)) != sizeof(q))
			kill(pids[i], SIGKILL);
	}
	waitpid(pids[0], NULL, 0);
	return 0;
}
