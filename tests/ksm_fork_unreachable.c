// SPDX-License-Identifier: GPL-2.0
/*
 * ksm_fork_unreachable.c - a KSM page that no rmap walk can unmap
 *
 * KSM may turn a page that fork() shares between processes into a KSM
 * page in place, through the mapping of one process only: ksmd scans that
 * mapping, write_protect_page() checks only the page's reference count
 * against its mapcount, and the page becomes the stable tree's page with
 * an rmap_item for that one mapping (its anon_vma is the merging VMA's).
 * The other processes' mappings of the same page get rmap_items of their
 * own only if ksmd scans them, that is if their VMA is VM_MERGEABLE.
 * Otherwise rmap_walk_ksm() can reach them only through its second pass
 * ("forked from the original since ksmd passed"): a VMA of the rmap_item's
 * anon_vma tree that covers the rmap_item's address.  A mapping at another
 * address (mremap moved it before the merge) or outside that anon_vma
 * (the merging process is the child; the mapping is the parent's) is then
 * reached by no walk: the page can never be migrated or swapped out.
 *
 * Each case builds one such layout in a fresh parent/child pair: two
 * anonymous pages of the same bytes, written by the parent before it
 * forks (so the child shares both), one merge by ksmd, ksmd stopped, then
 * the KSM page is migrated to the other NUMA node with move_pages(2) (or,
 * with --reclaim, swapped out) and every one of its mappings is checked
 * (pagemap PFN; /proc/kpagecount says there is no other mapping):
 *
 *   parent          control: the parent madvises MERGEABLE after fork();
 *                   the child's copy stays at the same address: the second
 *                   pass finds it.  Expected: the page leaves.
 *   both-moved      control: MERGEABLE before fork(), so the child's VMA
 *                   is mergeable too; the child moves its copy by mremap.
 *                   ksmd gives the child's mappings rmap_items of their
 *                   own.  Expected: the page leaves.
 *   parent-moved    the child moves its copy by mremap before the merge;
 *                   the parent madvises MERGEABLE after fork().
 *   child-unmerged  MERGEABLE before fork(); the child moves its copy and
 *                   then madvises it UNMERGEABLE (nothing is merged yet,
 *                   so nothing is broken; its VMA loses VM_MERGEABLE).
 *   child           the child madvises MERGEABLE, the parent never does;
 *                   nothing is moved.  The rmap_items' anon_vma is the
 *                   child's own, whose tree does not hold the parent's VMA.
 * In the last three the page stays: on every kernel tried (Debian's 6.1,
 * 6.12, 7.2 and 7.3) no migration or reclaim can unmap the mapping that
 * has no rmap_item.
 *
 * Usage: ksm_fork_unreachable [--case NAME] [--tries N] [--reclaim DIR]
 *   --case NAME    one case (default: all five, in the order above)
 *   --tries N      move_pages(2) calls on the KSM page (default 3)
 *   --reclaim DIR  swap the page out instead of migrating it: join cgroup
 *                  v2 DIR (memory controller on; swap needed), then write
 *                  64M to DIR/memory.reclaim, the young bits cleared
 *                  (clear_refs) before each, up to 10 times
 * Run as root with KSM, and NUMA nodes 0 and 1 unless --reclaim.  It stops
 * ksmd (run=0) and leaves it stopped; nothing else should be merging.
 *
 * Output, per case: "case=NAME walk=migrate|reclaim ... verdict=V
 * expected=E" (V: migrated or swapped when every mapping left the page,
 * else stuck) with the mappings it checked.  Exit status 0 when every case
 * ran (stuck is a result), 1 on an error, 2 on bad usage.
 *
 * Build: gcc -O2 -Wall -Wextra -o ksm_fork_unreachable ksm_fork_unreachable.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MPOL_MF_MOVE_ALL
#define MPOL_MF_MOVE_ALL (1 << 2)
#endif

#define KSM_DIR		"/sys/kernel/mm/ksm/"
#define KPF_KSM		21
#define PM_PRESENT	(1ULL << 63)
#define PM_PFN_MASK	((1ULL << 55) - 1)
#define MERGE_TIMEOUT_S	60

enum flags {
	MERGE_BEFORE_FORK = 1,	/* parent: MADV_MERGEABLE before fork() */
	MERGE_PARENT	  = 2,	/* parent: MADV_MERGEABLE after fork() */
	MERGE_CHILD	  = 4,	/* child: MADV_MERGEABLE */
	CHILD_MOVES	  = 8,	/* child: mremap its copy elsewhere */
	CHILD_UNMERGES	  = 16,	/* child: MADV_UNMERGEABLE its copy */
};

static const struct kase {
	const char *name;
	int flags;
	int control;	/* expected to leave: every mapping has a way in */
} cases[] = {
	{ "parent", MERGE_PARENT, 1 },
	{ "both-moved", MERGE_BEFORE_FORK | CHILD_MOVES, 1 },
	{ "parent-moved", MERGE_PARENT | CHILD_MOVES, 0 },
	{ "child-unmerged", MERGE_BEFORE_FORK | CHILD_MOVES | CHILD_UNMERGES, 0 },
	{ "child", MERGE_CHILD, 0 },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NCASES ARRAY_SIZE(cases)

static long ps;
static const char *cgroup;	/* --reclaim DIR */

static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ksm_fork_unreachable: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

static int ksm_write(const char *name, long val)
{
	char path[128], buf[32];
	int fd, len, ret = 0;

	snprintf(path, sizeof(path), KSM_DIR "%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%ld", val);
	if (write(fd, buf, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

static long ksm_read(const char *name)
{
	char path[128], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), KSM_DIR "%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtol(buf, NULL, 10);
}

static int read_u64(const char *path, off_t off, uint64_t *val)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, val, sizeof(*val), off);
	close(fd);
	return n == sizeof(*val) ? 0 : -EIO;
}

/* The PFN mapped at @addr in @pid, 0 if none. */
static uint64_t pfn_of(pid_t pid, unsigned long addr)
{
	char path[64];
	uint64_t e;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	if (read_u64(path, addr / ps * 8, &e) || !(e & PM_PRESENT))
		return 0;
	return e & PM_PFN_MASK;
}

static int pfn_is_ksm(uint64_t pfn)
{
	uint64_t f;

	return pfn && !read_u64("/proc/kpageflags", pfn * 8, &f) &&
	       (f >> KPF_KSM & 1);
}

/* How many page tables map @pfn (the kernel's mapcount), -1 if unknown. */
static long pfn_mapcount(uint64_t pfn)
{
	uint64_t c;

	return read_u64("/proc/kpagecount", pfn * 8, &c) ? -1 : (long)c;
}

static int node_of(pid_t pid, unsigned long addr)
{
	void *p = (void *)addr;
	int status = -1;

	if (syscall(__NR_move_pages, pid, 1UL, &p, NULL, &status, 0))
		return -errno;
	return status;
}

/*
 * move_pages(2) of the page at @addr to @node: its return value (-errno,
 * or the number of pages not migrated); the page's status in @status.
 */
static long move_to(pid_t pid, unsigned long addr, int node, int *status)
{
	void *p = (void *)addr;
	long ret;

	*status = -1;
	ret = syscall(__NR_move_pages, pid, 1UL, &p, &node, status,
		      MPOL_MF_MOVE_ALL);
	return ret < 0 ? -errno : ret;
}

/* Two pages of the same bytes, unlike anything else on the machine. */
static void fill(char *p, int kase)
{
	int i;

	for (i = 0; i < 2; i++) {
		memset(p + i * ps, 0x5a, ps);
		snprintf(p + i * ps, 64, "ksm_fork_unreachable %d %d", getpid(),
			 kase);
	}
}

/* The child: change its copy as @flags say, report where it is, wait. */
static void child(char *region, int flags, int up, int down)
{
	unsigned long addr = (unsigned long)region;
	char c;

	if (flags & CHILD_MOVES) {
		/* a reservation elsewhere, for MREMAP_FIXED to land on */
		void *dst = mmap(NULL, 2 * ps, PROT_NONE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (dst == MAP_FAILED ||
		    mremap(region, 2 * ps, 2 * ps,
			   MREMAP_MAYMOVE | MREMAP_FIXED, dst) == MAP_FAILED)
			addr = 0;
		else
			addr = (unsigned long)dst;
	}
	if (addr && (flags & CHILD_UNMERGES) &&
	    madvise((void *)addr, 2 * ps, MADV_UNMERGEABLE))
		addr = 0;
	if (addr && (flags & MERGE_CHILD) &&
	    madvise((void *)addr, 2 * ps, MADV_MERGEABLE))
		addr = 0;
	if (write(up, &addr, sizeof(addr)) != sizeof(addr))
		_exit(1);
	while (read(down, &c, 1) > 0)
		;
	_exit(0);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000 };

	nanosleep(&ts, NULL);
}

/*
 * Let ksmd run until the merging process maps its two pages at one PFN
 * (only a merge does that to private anonymous pages; /proc/kpageflags'
 * KPF_KSM is not trusted for it, see main()), then two more full scans (a
 * mergeable child's mappings get their rmap_items), then stop it.  The
 * PFN, or 0 on a timeout.
 */
static uint64_t merge(pid_t pid, unsigned long addr)
{
	uint64_t pfn = 0;
	long scans = -1, t;

	if (ksm_write("run", 1))
		return 0;
	for (t = 0; t < MERGE_TIMEOUT_S * 100; t++) {
		if (scans < 0) {
			pfn = pfn_of(pid, addr);
			if (pfn && pfn == pfn_of(pid, addr + ps))
				scans = ksm_read("full_scans");
		}
		if (scans >= 0 && ksm_read("full_scans") >= scans + 2)
			break;
		sleep_ms(10);
	}
	ksm_write("run", 0);
	return scans >= 0 && pfn == pfn_of(pid, addr) &&
	       pfn == pfn_of(pid, addr + ps) ? pfn : 0;
}

struct mapping {
	pid_t pid;
	unsigned long addr;
	const char *who;
	int page;
};

/*
 * Migrate the KSM page to the other node from its first mapping (one with
 * an rmap_item: the merging process's own) with up to @tries move_pages(2)
 * calls; then ask every mapping where it is.  1 if every mapping left
 * @kpfn.
 */
static int walk_migrate(struct mapping **mine, int n, uint64_t kpfn,
			int tries)
{
	int i, t, node, status = -1, left = 0;
	long ret = 0;
	uint64_t now;

	node = node_of(mine[0]->pid, mine[0]->addr);
	for (t = 0; t < tries && !left; t++) {
		ret = move_to(mine[0]->pid, mine[0]->addr, !node, &status);
		left = pfn_of(mine[0]->pid, mine[0]->addr) != kpfn;
		if (!left)
			sleep_ms(10);
	}
	for (i = 0; i < n; i++) {
		now = pfn_of(mine[i]->pid, mine[i]->addr);
		printf(" %s+%d:node%d->%d%s", mine[i]->who, mine[i]->page,
		       node, node_of(mine[i]->pid, mine[i]->addr),
		       now == kpfn ? ":same-pfn" : "");
		if (now == kpfn)
			left = 0;
	}
	printf(" move_pages=%ld status=%d tries=%d", ret, status, t);
	return left;
}

static int clear_young(pid_t pid)
{
	char path[64];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/clear_refs", pid);
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, "1", 1) != 1)
		ret = -errno;
	if (fd >= 0)
		close(fd);
	return ret;
}

/*
 * Reclaim the cgroup (every page of this program is charged to it) up to
 * 10 times, young bits cleared before each (a young pte would have
 * folio_referenced() keep the page active: that is aging, not the walk),
 * until no mapping maps @kpfn any more.  1 if none does.
 */
static int walk_reclaim(struct mapping **mine, int n, uint64_t kpfn,
			pid_t parent, pid_t kid)
{
	int i, r, still = n, fd;
	char path[256];

	snprintf(path, sizeof(path), "%s/memory.reclaim", cgroup);
	for (r = 0; r < 10 && still; r++) {
		if (clear_young(parent) || clear_young(kid))
			return 0;
		fd = open(path, O_WRONLY);
		if (fd < 0)
			return 0;
		/* EAGAIN: less than asked was reclaimed; the check decides */
		if (write(fd, "64M", 3) < 0 && errno != EAGAIN)
			fail("%s: %s", path, strerror(errno));
		close(fd);
		for (still = 0, i = 0; i < n; i++)
			still += pfn_of(mine[i]->pid, mine[i]->addr) == kpfn;
	}
	for (i = 0; i < n; i++)
		printf(" %s+%d:%s", mine[i]->who, mine[i]->page,
		       pfn_of(mine[i]->pid, mine[i]->addr) == kpfn ?
		       "still-mapped" : "unmapped");
	printf(" reclaims=%d", r);
	return !still;
}

static int run_case(int k, int tries)
{
	const struct kase *c = &cases[k];
	struct mapping m[4], *mine[4];
	unsigned long kid = 0;
	uint64_t kpfn = 0;
	int up[2], down[2], i, n = 0, err = 0, left;
	long mapcount;
	char *region;
	pid_t cpid;

	region = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED) {
		fail("mmap: %s", strerror(errno));
		return -1;
	}
	fill(region, k);
	if ((c->flags & MERGE_BEFORE_FORK) &&
	    madvise(region, 2 * ps, MADV_MERGEABLE)) {
		fail("madvise: %s", strerror(errno));
		return -1;
	}
	if (pipe(up) || pipe(down)) {
		fail("pipe: %s", strerror(errno));
		return -1;
	}
	fflush(stdout);
	cpid = fork();
	if (cpid < 0) {
		fail("fork: %s", strerror(errno));
		return -1;
	}
	if (cpid == 0) {
		close(up[0]);
		close(down[1]);
		child(region, c->flags, up[1], down[0]);
	}
	close(up[1]);
	close(down[0]);
	if (read(up[0], &kid, sizeof(kid)) != sizeof(kid) || !kid) {
		fail("%s: the child could not set up its copy", c->name);
		err = -1;
		goto out;
	}
	if ((c->flags & MERGE_PARENT) &&
	    madvise(region, 2 * ps, MADV_MERGEABLE)) {
		fail("madvise: %s", strerror(errno));
		err = -1;
		goto out;
	}
	kpfn = c->flags & MERGE_CHILD ? merge(cpid, kid) :
					merge(getpid(), (unsigned long)region);
	if (!kpfn) {
		fail("%s: ksmd merged nothing in %d s", c->name,
		     MERGE_TIMEOUT_S);
		err = -1;
		goto out;
	}

	/*
	 * every one of the KSM page's mappings, of the four there can be,
	 * the merging process's (which have rmap_items) first
	 */
	for (i = 0; i < 4; i++) {
		int kid_side = (i < 2) == !!(c->flags & MERGE_CHILD);

		m[i].pid = kid_side ? cpid : getpid();
		m[i].addr = (kid_side ? kid : (unsigned long)region) +
			    (i & 1) * ps;
		m[i].who = kid_side ? "child" : "parent";
		m[i].page = i & 1;
		if (pfn_of(m[i].pid, m[i].addr) == kpfn)
			mine[n++] = &m[i];
	}
	mapcount = kpfn ? pfn_mapcount(kpfn) : -1;
	printf("case=%s walk=%s merged_by=%s ksm_pages_shared=%ld kpf_ksm=%d mappings=%d kpagecount=%ld",
	       c->name, cgroup ? "reclaim" : "migrate", c->flags & MERGE_CHILD ? "child" : "parent",
	       ksm_read("pages_shared"), pfn_is_ksm(kpfn), n, mapcount);
	if (mapcount != n) {
		printf(" verdict=error\n");
		fail("%s: the KSM page has mappings this program did not make",
		     c->name);
		err = -1;
		goto out;
	}

	left = cgroup ? walk_reclaim(mine, n, kpfn, getpid(), cpid) :
			walk_migrate(mine, n, kpfn, tries);
	printf(" verdict=%s expected=%s\n",
	       left ? (cgroup ? "swapped" : "migrated") : "stuck",
	       c->control ? (cgroup ? "swapped" : "migrated") : "stuck");
out:
	close(down[1]);
	close(up[0]);
	waitpid(cpid, NULL, 0);
	munmap(region, 2 * ps);
	return err;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "case", required_argument, NULL, 'c' },
		{ "tries", required_argument, NULL, 't' },
		{ "reclaim", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	int opt, k, only = -1, tries = 3, err = 0;
	struct utsname u;
	char *plain;
	FILE *out;

	ps = sysconf(_SC_PAGESIZE);
	while ((opt = getopt_long(argc, argv, "c:t:r:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			for (k = 0; k < (int)NCASES; k++)
				if (!strcmp(optarg, cases[k].name))
					only = k;
			if (only < 0) {
				fail("unknown case '%s'", optarg);
				return 2;
			}
			break;
		case 't':
			tries = atoi(optarg);
			if (tries < 1) {
				fail("--tries wants a number >= 1");
				return 2;
			}
			break;
		case 'r':
			cgroup = optarg;
			break;
		default:
			out = opt == 'h' ? stdout : stderr;
			fprintf(out, "usage: %s [--case NAME] [--tries N] [--reclaim DIR]\ncases:",
				argv[0]);
			for (k = 0; k < (int)NCASES; k++)
				fprintf(out, " %s", cases[k].name);
			fprintf(out, "\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (access(KSM_DIR "run", W_OK) || access("/proc/kpageflags", R_OK)) {
		fail("needs root and CONFIG_KSM (%s)", strerror(errno));
		return 1;
	}
	if (cgroup) {
		char path[256];
		int fd;

		/* every page this program faults is charged to @cgroup */
		snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup);
		fd = open(path, O_WRONLY);
		if (fd < 0 || dprintf(fd, "%d", getpid()) < 0) {
			fail("cannot join cgroup %s: %s", cgroup,
			     strerror(errno));
			return 1;
		}
		close(fd);
	} else if (node_of(getpid(), (unsigned long)&u) < 0 ||
		   access("/sys/devices/system/node/node1", F_OK)) {
		fail("needs NUMA nodes 0 and 1 (move_pages), or --reclaim");
		return 1;
	}
	uname(&u);
	/*
	 * Some kernels (Debian's 6.12) set KPF_KSM on every anonymous page:
	 * stable_page_flags() tests mapping & PAGE_MAPPING_KSM, which any
	 * anonymous mapping value satisfies.  Say so; KSM pages are found by
	 * their PFN here, never by that flag.
	 */
	plain = mmap(NULL, ps, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (plain == MAP_FAILED) {
		fail("mmap: %s", strerror(errno));
		return 1;
	}
	*plain = 1;
	printf("kernel=%s kpf_ksm_on_plain_anon_page=%d\n", u.release,
	       pfn_is_ksm(pfn_of(getpid(), (unsigned long)plain)));
	munmap(plain, ps);
	/* one page per 10 ms at most: a merge is two scans of two pages */
	if (ksm_write("run", 0) || ksm_write("pages_to_scan", 100) ||
	    ksm_write("sleep_millisecs", 10)) {
		fail("cannot set up ksmd");
		return 1;
	}
	ksm_write("smart_scan", 0);	/* 6.7+: scan every page each time */
	for (k = 0; k < (int)NCASES; k++)
		if (only < 0 || only == k)
			err |= run_case(k, tries);
	return err ? 1 : 0;
}
