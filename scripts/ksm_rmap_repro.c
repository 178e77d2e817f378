// SPDX-License-Identifier: GPL-2.0
/*
 * ksm_rmap_repro.c - drive rmap_walk_ksm() over a large anon_vma tree
 *
 * Builds a memory layout in which one KSM page is reached through an
 * anon_vma whose interval tree holds many VMAs, lets ksmd merge the
 * identical pages, stops ksmd (run=0, which keeps the merged pages), and
 * then triggers rmap walks deterministically by migrating the KSM page
 * between NUMA nodes 0 and 1 with move_pages(2) + MPOL_MF_MOVE_ALL.
 *
 * Modes:
 *   split   one region of N pages, all pages written before it is split
 *           into N single-page VMAs (odd pages made PROT_READ), so all N
 *           VMAs share the one anon_vma created by the first write.
 *   fork    as split, then K children are forked after merging; each
 *           child VMA is linked into the parent's anon_vma tree too.
 *   mremap  Hugh Dickins's shape: two identical pages, the second one
 *           mremap()ed one page further on, so it keeps its old pgoff.
 *   swap    the mremap shape, walked by reclaim instead of migration, as
 *           Hugh Dickins ran it: the region's pages are charged to a
 *           memory cgroup (--cgroup DIR, cgroup v2, swap needed; the
 *           process goes back to its own cgroup after faulting them),
 *           and once the pages are merged and ksmd stopped, "64M" is
 *           written to DIR/memory.reclaim until the page is swapped out
 *           (at most --reclaims times); reports pages_shared and
 *           pages_sharing before and after, the region's swap (smaps)
 *           and whether both mappings of the KSM page were swapped out
 *           (pagemap).
 *
 * Options that make the kernel's walk harder to judge (tests of the
 * module's verdicts, see tests/run.sh):
 *   --early-forks K  fork K children before KSM merges: ksmd gives each
 *           child's mappings rmap_items of their own, so the second pass
 *           hands every VMA again, once per rmap_item of another mm.
 *   --child-cgroup DIR  the early children join cgroup DIR: a reclaim of
 *           the parent's cgroup refuses their VMAs (rwc->invalid_vma).
 *   --flat  mremap/swap modes: no mremap, the two pages stay in one VMA
 *           (one VMA maps the KSM page at two addresses).
 *   --race exit|munmap|cow|merge  fork mode: before every move, fork
 *           --forks fresh children that, after a random delay of at most
 *           --race-us, exit, munmap their copy of the region, write to
 *           every page (COW), or write the same bytes again for a running
 *           ksmd to merge back, while the parent migrates the KSM page.
 *   --race stranger  fork mode: --forks processes forked before the region
 *           exists map one page of the same bytes each, in an anon_vma of
 *           their own, and merge first: their rmap_items come last in a
 *           walk.  A DAMON kdamond (physical address space, sysfs) then
 *           walks the KSM page without end, and each stranger exits after
 *           a random delay: its mapping and its VMA go between a walk's
 *           entry and its own loop, which then finds an empty tree.  The
 *           walk has no done() and no rmap_one() that stops it: it runs to
 *           the end.  (A migration walk stops at done(), a reclaim walk
 *           when it found every mapping: neither reaches the empty loop.)
 *
 * Usage: ksm_rmap_repro [--mode split|fork|mremap] [--vmas N] [--dups M]
 *          [--unique U] [--forks K] [--moves R] [--loop SECONDS]
 *          [--merge-timeout SECONDS] [--quiet-ksm]     (see --help)
 * Run as root on a machine with NUMA nodes 0 and 1.
 *
 * Output: stdout lines "repro: key=value ...".  Errors: stderr line
 * "repro: error: <what> (<strerror>)" and exit 1.  A failed migration is
 * a measured result, not an error: exit is 0 once setup has succeeded.
 *
 * Build: gcc -O2 -static -Wall -Wextra -Werror -o ksm_rmap_repro \
 *            ksm_rmap_repro.c          (with krp_user.h next to it)
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define KRP_PROG "repro"
#include "krp_user.h"

enum mode {
	MODE_SPLIT, MODE_FORK, MODE_MREMAP, MODE_SWAP, MODE_MOVE, MODE_IDLE,
	MODE_NR
};
static const char *const mode_names[] = {
	"split", "fork", "mremap", "swap", "move", "idle"
};

static struct {
	enum mode mode;
	long vmas, dups, unique, forks, moves, loop, merge_timeout, cpu;
	long reclaims, pid, calls, victim_cpu, victim_rt, early_forks, race_us;
	unsigned long addr;
	int quiet_ksm, victim, flat, race;
	const char *start_file, *cgroup, *child_cgroup;
} opt = {
	.mode = MODE_SPLIT, .vmas = 1000, .dups = 2, .unique = 4, .forks = 2,
	.moves = 2, .merge_timeout = 120, .reclaims = 20,
	.cgroup = "/sys/fs/cgroup/krp", .calls = 2000, .victim_cpu = -1,
	.race_us = 200000,
};

enum race {
	RACE_NONE, RACE_EXIT, RACE_MUNMAP, RACE_COW, RACE_MERGE, RACE_STRANGER,
	RACE_NR
};
static const char *const race_names[] = {
	"none", "exit", "munmap", "cow", "merge", "stranger",
};

static long moves_done, migrated_count, failed_count;
static size_t page_size;

static volatile sig_atomic_t stop_loop;

static void on_sigterm(int sig)
{
	(void)sig;
	stop_loop = 1;
}

static void ksm_set(const char *name, const char *val)
{
	char path[128];

	if (opt.quiet_ksm)
		return;
	snprintf(path, sizeof(path), KSM_DIR "%s", name);
	write_file(path, val);
}

static void fill_page(char *page, uint64_t word)
{
	uint64_t *p = (uint64_t *)page;
	size_t i;

	for (i = 0; i < page_size / sizeof(*p); i++)
		p[i] = word;
}

/*
 * Count the VMAs lying entirely within [start, end) and print them with
 * the number of anon_vma interval tree nodes that the layout implies.
 */
static void report_layout(char *start, char *end, long expected,
			  long tree_nodes)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long s, e;
	char *line = NULL;
	size_t cap = 0;
	long n = 0;

	if (!f)
		die(errno, "open /proc/self/maps");
	while (getline(&line, &cap, f) > 0)
		if (sscanf(line, "%lx-%lx", &s, &e) == 2 &&
		    s >= (unsigned long)start && e <= (unsigned long)end)
			n++;
	free(line);
	fclose(f);
	printf("repro: region_vmas=%ld anon_vma_tree_nodes=%ld\n",
	       n, tree_nodes);
	if (n != expected)
		die(EINVAL, "region has %ld VMAs, expected %ld", n, expected);
}

/*
 * Map @n RW + MADV_MERGEABLE pages between two PROT_NONE guard pages, so
 * that no neighbouring mapping can lend us its anon_vma.  Returns page 0.
 */
static char *map_region(long n)
{
	char *base = mmap(NULL, (n + 2) * page_size, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (base == MAP_FAILED)
		die(errno, "mmap %ld pages", n + 2);
	if (mprotect(base + page_size, n * page_size, PROT_READ | PROT_WRITE))
		die(errno, "mprotect inner region PROT_READ|PROT_WRITE");
	if (madvise(base + page_size, n * page_size, MADV_MERGEABLE))
		die(errno, "madvise MADV_MERGEABLE (CONFIG_KSM missing?)");
	return base + page_size;
}

/* split/fork layout; returns the first dup page (inner page 0) */
static char *setup_split(uint64_t seed)
{
	long n = opt.vmas, slots = opt.dups + opt.unique, stride, i;
	char *inner = map_region(n);

	/*
	 * Data goes on even pages only, slot i at page 2*i*stride; slot 0 is
	 * inner page 0, written first: that fault creates the anon_vma.
	 */
	stride = ((n + 1) / 2) / slots;
	for (i = 0; i < slots; i++)
		fill_page(inner + 2 * i * stride * page_size,
			  i < opt.dups ? (~seed | 1) :
			  seed + (uint64_t)(2 * i * stride) + 1);

	/* Odd pages PROT_READ: every page becomes its own VMA, same anon_vma */
	for (i = 1; i < n; i += 2)
		if (mprotect(inner + i * page_size, page_size, PROT_READ))
			die(errno, "mprotect inner page %ld PROT_READ", i);

	/* Each VMA of each process has one anon_vma_chain in the tree. */
	report_layout(inner, inner + n * page_size, n,
		      n * (opt.race == RACE_STRANGER ? 1 : opt.forks + 1));
	return inner;
}

/*
 * mremap layout: inner pages 0 and 1 identical, page 1 then moved onto
 * page 2's place.  The moved VMA keeps the pgoff of page 1, so it cannot
 * merge with page 0's VMA; both VMAs share one anon_vma (2 tree nodes).
 */
static char *setup_mremap(uint64_t seed)
{
	char *inner = map_region(3);

	fill_page(inner, ~seed | 1);
	fill_page(inner + page_size, ~seed | 1);
	if (opt.flat) {
		/* both pages stay in one VMA: it maps the KSM page twice */
		report_layout(inner, inner + 3 * page_size, 1, 1);
		return inner;
	}
	if (mremap(inner + page_size, page_size, page_size,
		   MREMAP_MAYMOVE | MREMAP_FIXED,
		   inner + 2 * page_size) == MAP_FAILED)
		die(errno, "mremap page 1 onto page 2");
	report_layout(inner, inner + 3 * page_size, 2, 2);
	return inner;
}

/* ksm_merging_pages of this mm, else the global shared + sharing count */
static long merged_pages(void)
{
	long v = read_long("/proc/self/ksm_merging_pages");
	long shared, sharing;

	if (v >= 0)
		return v;
	shared = read_long(KSM_DIR "pages_shared");
	sharing = read_long(KSM_DIR "pages_sharing");
	if (shared < 0 || sharing < 0)
		return -1;
	return shared + sharing;
}

static void wait_merge(long want)
{
	long t0 = now_ms(), m;

	for (;;) {
		/* early children merge in their own mms: count them all */
		m = opt.early_forks ? read_long(KSM_DIR "pages_shared") +
			read_long(KSM_DIR "pages_sharing") : merged_pages();
		if (m < 0)
			die(ENOENT, "cannot read ksm_merging_pages or %s",
			    KSM_DIR "pages_shared");
		if (m >= want)
			break;
		if (now_ms() - t0 >= opt.merge_timeout * 1000)
			die(ETIME, "KSM merged only %ld of %ld pages in %ld s (ksmd not running?)",
			    m, want, opt.merge_timeout);
		usleep(100000);
	}
	printf("repro: merged=%ld pages_shared=%ld pages_sharing=%ld merge_ms=%ld\n",
	       m, read_long(KSM_DIR "pages_shared"),
	       read_long(KSM_DIR "pages_sharing"), now_ms() - t0);
	/* 0 stops ksmd but keeps pages merged (2 would unmerge them) */
	if (opt.race != RACE_MERGE)
		ksm_set("run", "0");
}

/* Migrate the page at @addr of process @pid (0: this one) to the other node. */
static void do_move_pid(long pid, void *addr, int verbose)
{
	void *pages[1] = { addr };
	int from = page_node(pid, addr);
	int nodes[1] = { from == 0 ? 1 : 0 };
	int status[1] = { INT_MIN };	/* stays INT_MIN if not written */
	int err = 0, migrated;
	long ret, t0;

	t0 = now_us();
	ret = syscall(__NR_move_pages, pid, 1UL, pages, nodes, status,
		      MPOL_MF_MOVE_ALL);
	if (ret < 0)
		err = errno;
	t0 = now_us() - t0;
	migrated = page_node(pid, addr) == nodes[0];
	if (verbose) {
		printf("repro: move=%ld from=%d to=%d ret=%ld status=%d migrated=%s us=%ld",
		       moves_done, from, nodes[0], ret, status[0],
		       migrated ? "yes" : "no", t0);
		if (err)
			printf(" errno=%d", err);
		putchar('\n');
	}
	moves_done++;
	if (migrated)
		migrated_count++;
	else
		failed_count++;
}

static void do_move(void *addr, int verbose)
{
	do_move_pid(0, addr, verbose);
}

/*
 * swap mode: the cgroup this process was in (cgroup v2, "0::PATH" in
 * /proc/self/cgroup) as a directory under the cgroup2 mount.
 */
static void own_cgroup(char *dir, size_t len)
{
	char line[PATH_MAX], mnt[PATH_MAX] = "", type[64], rel[PATH_MAX] = "";
	FILE *f = fopen("/proc/self/mounts", "r");

	if (!f)
		die(errno, "open /proc/self/mounts");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %4095s %63s", mnt, type) == 2 &&
		    !strcmp(type, "cgroup2"))
			break;
		else
			mnt[0] = 0;
	fclose(f);
	f = fopen("/proc/self/cgroup", "r");
	if (!f)
		die(errno, "open /proc/self/cgroup");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "0::%4095s", rel) == 1)
			break;
	fclose(f);
	if (!mnt[0] || !rel[0])
		die(ENOENT, "no cgroup v2 mount or no v2 cgroup of this process");
	snprintf(dir, len, "%s%s", mnt, strcmp(rel, "/") ? rel : "");
}

/* move this process into the cgroup v2 directory @dir */
static void join_cgroup(const char *dir, int verbose)
{
	char path[PATH_MAX], pid[32];

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	snprintf(pid, sizeof(pid), "%d", getpid());
	write_file(path, pid);
	if (verbose)
		printf("repro: cgroup=%s\n", dir);
}

/* Swap kB of the VMAs within [start, end), from /proc/self/smaps. */
static long region_swap_kb(char *start, char *end)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	unsigned long s, e;
	char *line = NULL;
	size_t cap = 0;
	long kb, sum = 0;
	int in = 0;

	if (!f)
		die(errno, "open /proc/self/smaps");
	while (getline(&line, &cap, f) > 0) {
		if (sscanf(line, "%lx-%lx ", &s, &e) == 2)
			in = s >= (unsigned long)start && e <= (unsigned long)end;
		else if (in && sscanf(line, "Swap: %ld kB", &kb) == 1)
			sum += kb;
	}
	free(line);
	fclose(f);
	return sum;
}

/* Is the page at @addr swapped out (pagemap bit 62)?  -1 if unknown. */
static int page_swapped(void *addr)
{
	int fd = open("/proc/self/pagemap", O_RDONLY), n;
	uint64_t ent;

	if (fd < 0)
		return -1;
	n = pagemap_entry(fd, (unsigned long)addr, page_size, &ent);
	close(fd);
	if (n)
		return -1;
	return !!(ent & PM_SWAP);
}

static void print_swap_state(const char *when, char *addr)
{
	printf("repro: %s pages_shared=%ld pages_sharing=%ld swap_kb=%ld page_kb=%zu\n",
	       when, read_long(KSM_DIR "pages_shared"),
	       read_long(KSM_DIR "pages_sharing"),
	       region_swap_kb(addr, addr + 3 * page_size), page_size / 1024);
}

/*
 * swap mode: reclaim the cgroup's memory with the KSM page merged and
 * ksmd stopped.  Inner page 0 and page 2 (the mremap-moved page 1) map the
 * KSM page; it is swapped out only if reclaim's rmap walks find both.
 */
static void do_reclaim(char *addr)
{
	char *second = addr + (opt.flat ? 1 : 2) * page_size;
	char path[PATH_MAX];
	long i, failed = 0;
	int fd, s0, s2;

	snprintf(path, sizeof(path), "%s/memory.reclaim", opt.cgroup);
	print_swap_state("before", addr);
	/*
	 * Reclaim until both mappings are swap entries, at most --reclaims
	 * times.  With nothing but the KSM page in the cgroup one write does
	 * it: the first scan finds the page referenced (merging left its
	 * PTEs young) and activates it; having reclaimed nothing, the same
	 * pass deactivates it (clearing the young bits) and then unmaps it.
	 * The page may first sit in a per-CPU LRU batch, which the write
	 * drains before its last attempt.
	 */
	for (i = 0; i < opt.reclaims; i++) {
		fd = open(path, O_WRONLY);
		if (fd < 0)
			die(errno, "open %s", path);
		/* EAGAIN: less than asked for could be reclaimed */
		if (write(fd, "64M", 3) != 3)
			failed++;
		close(fd);
		if (page_swapped(addr) == 1 && page_swapped(second) == 1) {
			i++;
			break;
		}
	}
	s0 = page_swapped(addr);
	s2 = page_swapped(second);
	print_swap_state("after", addr);
	printf("repro: reclaims=%ld reclaims_short=%ld page0_swapped=%d page2_swapped=%d swapped=%s\n",
	       i, failed, s0, s2, s0 == 1 && s2 == 1 ? "yes" : "no");
}

/*
 * --victim: a thread on the other CPU keeps taking the region's anon_vma
 * lock for write while the walks run: mprotect() of one PROT_READ page to
 * read-write merges it with its neighbours' VMAs, and back splits them
 * again, both under anon_vma_lock_write().  It reports what it felt: its
 * longest mprotect() call.
 */
static struct {
	char *page;
	int stop;
	long calls, max_ns, min_ns, total_ns;
	pthread_t thread;
} victim;

static void *victim_main(void *arg)
{
	cpu_set_t cpus;
	long i, t;

	(void)arg;
	CPU_ZERO(&cpus);
	CPU_SET(opt.victim_cpu >= 0 ? opt.victim_cpu : !opt.cpu, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	if (opt.victim_rt &&
	    pthread_setschedparam(pthread_self(), SCHED_FIFO,
				  &(struct sched_param){ .sched_priority = 1 }))
		die(EPERM, "victim: SCHED_FIFO");
	for (i = 0; !__atomic_load_n(&victim.stop, __ATOMIC_ACQUIRE); i++) {
		if (opt.victim_rt)
			usleep(opt.victim_rt);
		t = now_ns();
		if (mprotect(victim.page, page_size,
			     i & 1 ? PROT_READ : PROT_READ | PROT_WRITE))
			die(errno, "victim mprotect");
		t = now_ns() - t;
		victim.calls++;
		victim.total_ns += t;
		if (t > victim.max_ns)
			victim.max_ns = t;
		if (!victim.min_ns || t < victim.min_ns)
			victim.min_ns = t;
	}
	/* leave the page as it was: PROT_READ */
	if (!(i & 1) && mprotect(victim.page, page_size, PROT_READ))
		die(errno, "victim mprotect");
	return NULL;
}

static void victim_start(char *region)
{
	/* the region's last PROT_READ (odd) page */
	long last = opt.vmas - 1;

	if (!(last & 1))
		last--;
	victim.page = region + last * page_size;
	if (pthread_create(&victim.thread, NULL, victim_main, NULL))
		die(EAGAIN, "victim thread");
}

static void victim_stop(void)
{
	__atomic_store_n(&victim.stop, 1, __ATOMIC_RELEASE);
	pthread_join(victim.thread, NULL);
	printf("repro: victim calls=%ld max_ns=%ld min_ns=%ld mean_ns=%ld rt_sleep_us=%ld\n",
	       victim.calls, victim.max_ns, victim.min_ns,
	       victim.calls ? victim.total_ns / victim.calls : 0,
	       opt.victim_rt);
}

static char *map_pages(long n)
{
	char *p = mmap(NULL, n * page_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die(errno, "mmap %ld pages", n);
	return p;
}

/*
 * idle mode: what ordinary memory work costs per call, with no KSM page
 * anywhere: the system calls and faults that take an mm's or an anon_vma's
 * rwsem, and rmap_walk_anon() (migrating a plain anonymous page).  Under
 * QEMU -icount shift=0 one guest ns is one instruction, so the per-call
 * figures of runs with and without ksm_rmap_probe loaded compare exactly.
 */
/*
 * One call's cost: every call is timed alone; the mean over all calls
 * and the least of them are kept.  Under QEMU -icount the least is the
 * call's own instruction count: interrupts and the other vCPU's work
 * (which advances the same clock) only add to some calls.
 */
struct idle_cost {
	long total, min, n;
};

static void idle_add(struct idle_cost *c, long t0)
{
	long t = now_ns() - t0;

	c->total += t;
	c->n++;
	if (!c->min || t < c->min)
		c->min = t;
}

static void do_idle(void)
{
	struct idle_cost mincore_c = { 0 }, mprotect_c = { 0 }, mmap_c = { 0 };
	struct idle_cost fault_c = { 0 }, move_c = { 0 };
	unsigned char vec[1];
	char *a = map_pages(3), *p;
	long i, n = opt.calls, t;

	memset(a, 1, 3 * page_size);	/* an anon_vma, and 3 pages */
	for (i = 0; i < n; i++) {
		t = now_ns();
		if (mincore(a, page_size, vec))
			die(errno, "mincore");
		idle_add(&mincore_c, t);
	}
	/* split the middle page off and merge it back: the anon_vma lock */
	for (i = 0; i < n; i++) {
		t = now_ns();
		if (mprotect(a + page_size, page_size,
			     i & 1 ? PROT_READ | PROT_WRITE : PROT_READ))
			die(errno, "mprotect");
		idle_add(&mprotect_c, t);
	}
	if (mprotect(a + page_size, page_size, PROT_READ | PROT_WRITE))
		die(errno, "mprotect");
	for (i = 0; i < n; i++) {
		t = now_ns();
		p = map_pages(1);
		munmap(p, page_size);
		idle_add(&mmap_c, t);
	}
	for (i = 0; i < n; i++) {
		t = now_ns();
		p = map_pages(1);
		p[0] = 1;	/* fault a page in, then zap it */
		munmap(p, page_size);
		idle_add(&fault_c, t);
	}
	/* migrations of a plain anonymous page: rmap_walk_anon() twice */
	for (i = 0; i < n / 10 + 1; i++) {
		t = now_ns();
		do_move(a, 0);
		idle_add(&move_c, t);
	}
	printf("repro: idle calls=%ld mincore_ns=%ld mprotect_ns=%ld mmap_munmap_ns=%ld fault_ns=%ld move_anon_ns=%ld moves_migrated=%ld\n",
	       n, mincore_c.total / n, mprotect_c.total / n, mmap_c.total / n,
	       fault_c.total / n, move_c.total / move_c.n, migrated_count);
	printf("repro: idle_least mincore_ns=%ld mprotect_ns=%ld mmap_munmap_ns=%ld fault_ns=%ld move_anon_ns=%ld\n",
	       mincore_c.min, mprotect_c.min, mmap_c.min, fault_c.min,
	       move_c.min);
	munmap(a, 3 * page_size);
}

/* Hold the mappings until the parent closes @fd's other end, then exit. */
static void __attribute__((noreturn)) child_hold(int fd)
{
	char c;

	while (read(fd, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

/*
 * --race merge keeps ksmd running while the parent migrates.  ksmd's scan
 * skips ptes that are migration entries and frees the rmap_items of the
 * addresses it skipped (tests/ksm_migrate_unlisted.c): the parent's
 * mappings are then named by no rmap_item until ksmd's next pass, and a
 * walk that misses them is truly incomplete.  A thread watches the
 * kernel's count of the parent's listed pages (ksm_merging_pages) every
 * millisecond during each move; its lowest value is reported.  ksmd lists
 * dropped items again only on its next pass over the whole region (some
 * 20000 pages at 5000 per 10 ms here), far longer than that.
 */
static long listed_min = LONG_MAX;
static int listed_stop;

static void *listed_watch(void *unused __attribute__((unused)))
{
	long m;

	while (!__atomic_load_n(&listed_stop, __ATOMIC_ACQUIRE)) {
		m = merged_pages();
		if (m >= 0 && m < listed_min)
			listed_min = m;
		usleep(1000);
	}
	return NULL;
}

/*
 * --race: fork opt.forks children that share the KSM page's mappings and,
 * after a random delay, do opt.race to them while the parent migrates.
 */
static void race_move(char *inner)
{
	long slots = opt.dups + opt.unique, stride = ((opt.vmas + 1) / 2) / slots;
	pid_t pids[64];
	int pfd[2], i, j, n = opt.forks < 64 ? opt.forks : 64;

	if (pipe(pfd))
		die(errno, "pipe");
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			die(errno, "fork racing child %d", i);
		if (pids[i])
			continue;
		close(pfd[1]);
		srand(getpid() ^ (unsigned int)now_us());
		usleep(rand() % opt.race_us);
		if (opt.race == RACE_EXIT)
			_exit(0);
		if (opt.race == RACE_MUNMAP)
			munmap(inner, opt.vmas * page_size);
		else	/* cow, merge: the same bytes, in a page of its own */
			for (j = 0; j < opt.dups; j++) {
				volatile uint64_t *p = (uint64_t *)(inner +
					2 * j * stride * page_size);

				*p = *p;
			}
		child_hold(pfd[0]);
	}
	close(pfd[0]);
	if (opt.race == RACE_MERGE) {
		pthread_t t;

		__atomic_store_n(&listed_stop, 0, __ATOMIC_RELEASE);
		if (pthread_create(&t, NULL, listed_watch, NULL))
			die(EAGAIN, "start the ksm_merging_pages watcher");
		do_move(inner, 1);
		__atomic_store_n(&listed_stop, 1, __ATOMIC_RELEASE);
		pthread_join(t, NULL);
	} else {
		do_move(inner, 1);
	}
	close(pfd[1]);
	for (i = 0; i < n; i++)
		while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
			;
}

/*
 * --race stranger, before the region exists: opt.forks unrelated
 * processes, on another CPU, each with one page of the dup bytes in an
 * anon_vma of its own.  Returns once KSM merged them (among themselves:
 * the parent's rmap_items, merged later, go in front of theirs).  Each
 * waits for @go[0] to close, sleeps up to opt.race_us and exits.
 */
static void strangers_start(uint64_t seed, int go[2], pid_t *pids)
{
	long i, tries = 0, cpu = (opt.cpu + 1) % sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t cpus;
	char c;

	if (pipe(go))
		die(errno, "pipe");
	for (i = 0; i < opt.forks; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			die(errno, "fork stranger %ld", i);
		if (pids[i])
			continue;
		close(go[1]);
		CPU_ZERO(&cpus);
		CPU_SET(cpu, &cpus);
		sched_setaffinity(0, sizeof(cpus), &cpus);
		fill_page(map_region(1), ~seed | 1);
		while (read(go[0], &c, 1) < 0 && errno == EINTR)
			;
		srand(getpid() ^ (unsigned int)now_us());
		usleep(rand() % opt.race_us);
		_exit(0);
	}
	close(go[0]);
	ksm_set("run", "1");
	while (read_long(KSM_DIR "pages_shared") +
	       read_long(KSM_DIR "pages_sharing") < opt.forks) {
		if (++tries > opt.merge_timeout * 10)
			die(ETIME, "KSM did not merge the %ld strangers' pages in %ld s",
			    opt.forks, opt.merge_timeout);
		usleep(100000);
	}
	printf("repro: strangers=%ld merged\n", opt.forks);
}

/* Physical address of the page at @addr of this process, or die. */
static unsigned long phys_addr(void *addr)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t e = 0;

	if (fd < 0 || pagemap_entry(fd, (unsigned long)addr, page_size, &e))
		die(errno, "read /proc/self/pagemap");
	close(fd);
	if (!(e & PM_PRESENT) || !(e & PM_PFN_MASK))
		die(EPERM, "no PFN for %p in /proc/self/pagemap (not root?)", addr);
	return (e & PM_PFN_MASK) * page_size;
}

#define DAMON_DIR "/sys/kernel/mm/damon/admin/kdamonds/"
#define DAMON_CTX DAMON_DIR "0/contexts/0/"

/* DAMON_STAT runs an exclusive kdamond (its own) while it is enabled */
#define DAMON_STAT "/sys/module/damon_stat/parameters/enabled"

/*
 * A kdamond sampling only the page at @addr, every millisecond: or off.
 * DAMON_STAT, if enabled, is paused meanwhile (other kdamonds get EBUSY).
 */
static void damon_walker(void *addr, int on)
{
	static int stat_was_on;
	char buf[32];
	FILE *f;

	if (!on) {
		write_file(DAMON_DIR "0/state", "off");
		write_file(DAMON_DIR "nr_kdamonds", "0");
		if (stat_was_on)
			write_file(DAMON_STAT, "Y");
		return;
	}
	f = fopen(DAMON_STAT, "r");
	if (f) {
		stat_was_on = fgetc(f) == 'Y';
		fclose(f);
	}
	if (stat_was_on) {
		write_file(DAMON_STAT, "N");
		printf("repro: damon_stat paused (other kdamonds are refused while it runs)\n");
	}
	if (access(DAMON_DIR "nr_kdamonds", W_OK))
		die(errno, "%snr_kdamonds (CONFIG_DAMON_SYSFS, CONFIG_DAMON_PADDR)",
		    DAMON_DIR);
	write_file(DAMON_DIR "nr_kdamonds", "1");
	write_file(DAMON_DIR "0/contexts/nr_contexts", "1");
	write_file(DAMON_CTX "operations", "paddr");
	write_file(DAMON_CTX "monitoring_attrs/intervals/sample_us", "1000");
	write_file(DAMON_CTX "targets/nr_targets", "1");
	write_file(DAMON_CTX "targets/0/regions/nr_regions", "1");
	snprintf(buf, sizeof(buf), "%lu", phys_addr(addr));
	write_file(DAMON_CTX "targets/0/regions/0/start", buf);
	snprintf(buf, sizeof(buf), "%lu", phys_addr(addr) + page_size);
	write_file(DAMON_CTX "targets/0/regions/0/end", buf);
	write_file(DAMON_DIR "0/state", "on");
	printf("repro: walker=damon phys=%lx\n", phys_addr(addr));
}

/*
 * Start the walker, let the strangers go and wait for the last to exit;
 * the walker stops a tenth of a second later.
 */
static void strangers_race(char *addr, int go[2], pid_t *pids)
{
	long i;

	damon_walker(addr, 1);
	usleep(100000);
	close(go[1]);
	for (i = 0; i < opt.forks; i++)
		while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
			;
	usleep(100000);
	damon_walker(addr, 0);
	printf("repro: race=stranger strangers=%ld race_us=%ld exited\n",
	       opt.forks, opt.race_us);
	free(pids);
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ksm_rmap_repro [options]\n"
"Make KSM merge pages reachable through a big anon_vma tree, stop ksmd and\n"
"migrate the KSM page between NUMA nodes 0 and 1 to run rmap_walk_ksm().\n"
"\n"
"  --mode split|fork|mremap|swap|move  layout to build (default split)\n"
"  --vmas N             VMAs sharing one anon_vma, split/fork (default 1000)\n"
"  --dups M             identical pages merged by KSM (default 2)\n"
"  --unique U           pages with unique content (default 4)\n"
"  --forks K            children forked after merging, fork mode (default 2)\n"
"  --moves R            move_pages() calls on the KSM page (default 2)\n"
"  --loop SECONDS       then keep moving it for SECONDS (default 0)\n"
"  --cpu C              run on CPU C (default 0)\n"
"  --start-file PATH    once merged, wait until PATH exists, then move\n"
"  --merge-timeout SECONDS  give up waiting for KSM (default 120)\n"
"  --quiet-ksm          do not write to " KSM_DIR "\n"
"  --cgroup DIR         swap mode: cgroup v2 directory to join and reclaim\n"
"                       (default /sys/fs/cgroup/krp; must exist, memory on)\n"
"  --reclaims R         swap mode: at most R writes of 64M to DIR/memory.reclaim,\n"
"                       until both mappings are swapped out (default 20)\n"
"  --pid P --addr HEX   move mode: build nothing, migrate page HEX of process\n"
"                       P once (another process's KSM page: its ksm_addr line)\n"
"  --victim             split/fork: a thread on the other CPU toggles one page's\n"
"                       protection (anon_vma lock for write) during the moves\n"
"                       and reports its longest mprotect() (max_ns)\n"
"  --victim-cpu C       run that thread on CPU C instead (C = --cpu: it waits\n"
"                       when the scheduler lets it preempt the walker)\n"
"  --victim-rt US       that thread is SCHED_FIFO and sleeps US microseconds\n"
"                       between calls: each wake-up preempts the walker, and\n"
"                       the walker's unlock lets it run at once\n"
"  --calls N            idle mode: no KSM; time N mincore, mprotect, mmap+munmap\n"
"                       and fault calls and N/10+1 migrations of a plain anon\n"
"                       page, per call (default 2000)\n"
"  --early-forks K      fork K children before merging (they get rmap_items)\n"
"  --child-cgroup DIR   the early children join cgroup DIR\n"
"  --flat               mremap/swap modes: no mremap, one VMA maps both pages\n"
"  --race exit|munmap|cow|merge  fork mode: fresh children do this while the\n"
"                       parent migrates (after a random delay, see --race-us)\n"
"  --race stranger      fork mode: --forks unrelated processes holding the\n"
"                       KSM page exit while DAMON walks it (no migration)\n"
"  --race-us US         longest delay of a racing child (default 200000)\n"
"  -h, --help           show this help\n"
"\n"
"mremap and swap modes use 2 identical pages and ignore --vmas/--dups/--unique;\n"
"swap mode makes no move_pages() call (--moves is ignored).\n"
"Needs N >= 2*(M+U)-1.  Run as root.  Examples:\n"
"  ksm_rmap_repro\n"
"  ksm_rmap_repro --mode split --vmas 20000 --dups 256 --moves 10\n"
"  ksm_rmap_repro --mode fork --vmas 5000 --forks 8\n"
"  ksm_rmap_repro --mode mremap --loop 60\n"
"  ksm_rmap_repro --mode swap --cgroup /sys/fs/cgroup/krp\n"
"  ksm_rmap_repro --mode move --pid 1234 --addr 7f12a4c00000\n");
}

static long parse_num(const char *s, const char *name, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end || v < min || v > max)
		die(EINVAL, "--%s '%s': expected a number in [%ld, %ld]",
		    name, s, min, max);
	return v;
}

static void parse_args(int argc, char **argv)
{
	const long big = INT_MAX / 4;
	const struct {
		const char *name;
		long *var, min, max;
	} num[] = {
		{ "vmas", &opt.vmas, 1, big },
		{ "dups", &opt.dups, 2, big },
		{ "unique", &opt.unique, 0, big },
		{ "forks", &opt.forks, 0, 4096 },
		{ "moves", &opt.moves, 0, LONG_MAX },
		{ "loop", &opt.loop, 0, big },
		{ "merge-timeout", &opt.merge_timeout, 1, big },
		{ "cpu", &opt.cpu, 0, 4095 },
		{ "reclaims", &opt.reclaims, 1, 1000 },
		{ "pid", &opt.pid, 1, INT_MAX },
		{ "calls", &opt.calls, 1, big },
		{ "victim-cpu", &opt.victim_cpu, 0, 4095 },
		{ "victim-rt", &opt.victim_rt, 1, 1000000 },
		{ "early-forks", &opt.early_forks, 0, 64 },
		{ "race-us", &opt.race_us, 1, 10000000 },
	};
	const int nnum = sizeof(num) / sizeof(num[0]);
	struct option lopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "quiet-ksm", no_argument, NULL, 'q' },
		{ "victim", no_argument, NULL, 'v' },
		{ "start-file", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "cgroup", required_argument, NULL, 'g' },
		{ "addr", required_argument, NULL, 'a' },
		{ "child-cgroup", required_argument, NULL, 'C' },
		{ "flat", no_argument, NULL, 'F' },
		{ "race", required_argument, NULL, 'r' },
		[10 + sizeof(num) / sizeof(num[0])] = { NULL, 0, NULL, 0 }
	};
	char *end;
	int c, m;

	/* numeric options: getopt_long() returns their index in num[] */
	for (c = 0; c < nnum; c++)
		lopts[10 + c] = (struct option){ num[c].name, required_argument,
						NULL, c };
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		if (c >= 0 && c < nnum) {
			*num[c].var = parse_num(optarg, num[c].name,
						num[c].min, num[c].max);
		} else if (c == 'm') {
			for (m = 0; m < MODE_NR; m++)
				if (!strcmp(optarg, mode_names[m]))
					break;
			if (m == MODE_NR)
				die(EINVAL, "--mode '%s': expected split, fork, mremap, swap, move or idle",
				    optarg);
			opt.mode = m;
		} else if (c == 'q') {
			opt.quiet_ksm = 1;
		} else if (c == 'v') {
			opt.victim = 1;
		} else if (c == 's') {
			opt.start_file = optarg;
		} else if (c == 'g') {
			opt.cgroup = optarg;
		} else if (c == 'a') {
			errno = 0;
			opt.addr = strtoul(optarg, &end, 16);
			if (errno || *end || !opt.addr)
				die(EINVAL, "--addr '%s': expected a hex address", optarg);
		} else if (c == 'C') {
			opt.child_cgroup = optarg;
		} else if (c == 'F') {
			opt.flat = 1;
		} else if (c == 'r') {
			for (m = 1; m < RACE_NR; m++)
				if (!strcmp(optarg, race_names[m]))
					break;
			if (m == RACE_NR)
				die(EINVAL, "--race '%s': expected exit, munmap, cow, merge or stranger",
				    optarg);
			opt.race = m;
		} else if (c == 'h') {
			usage(stdout);
			exit(0);
		} else {
			usage(stderr);
			die(EINVAL, "invalid command line");
		}
	}
	if (optind < argc)
		die(EINVAL, "unexpected argument '%s'", argv[optind]);
	if (opt.race && opt.mode != MODE_FORK)
		die(EINVAL, "--race needs --mode fork");
	if (opt.race == RACE_STRANGER) {
		if (opt.forks < 2)
			die(EINVAL, "--race stranger: needs --forks 2 or more (they merge among themselves first)");
		opt.moves = 0;	/* DAMON watches one physical page */
	}
	if (opt.early_forks && opt.mode == MODE_FORK)
		die(EINVAL, "--early-forks: not with --mode fork");

	if (opt.mode == MODE_MOVE ? !opt.pid || !opt.addr : opt.pid || opt.addr)
		die(EINVAL, "--pid and --addr go with --mode move, and it needs both");
	if (opt.victim_rt && !opt.victim)
		die(EINVAL, "--victim-rt goes with --victim");
	if (opt.victim && opt.mode != MODE_SPLIT && opt.mode != MODE_FORK)
		die(EINVAL, "--victim goes with --mode split or fork");
	/* Print the effective values: forks only apply to fork mode. */
	if (opt.mode != MODE_FORK)
		opt.forks = 0;
	if (opt.mode == MODE_SWAP)
		opt.moves = 0;
	if (opt.mode == MODE_MREMAP || opt.mode == MODE_SWAP) {
		opt.vmas = 2;
		opt.dups = 2;
		opt.unique = 0;
	} else if ((opt.vmas + 1) / 2 < opt.dups + opt.unique) {
		die(EINVAL, "--vmas %ld too small for %ld dup + %ld unique pages (need >= %ld)",
		    opt.vmas, opt.dups, opt.unique,
		    2 * (opt.dups + opt.unique) - 1);
	}
}

int main(int argc, char **argv)
{
	char home[PATH_MAX];
	int pfd[2] = { -1, -1 };
	pid_t *pids = NULL;
	uint64_t seed;
	cpu_set_t cpus;
	char buf[32];
	char *addr;
	long i, listed;

	/* Line buffered: keep output up to a kernel hang or crash. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	page_size = sysconf(_SC_PAGESIZE);
	parse_args(argc, argv);
	printf("repro: mode=%s vmas=%ld dups=%ld unique=%ld forks=%ld moves=%ld loop=%ld merge_timeout=%ld\n",
	       mode_names[opt.mode], opt.vmas, opt.dups, opt.unique,
	       opt.forks, opt.moves, opt.loop, opt.merge_timeout);

	if (opt.mode == MODE_MOVE) {
		/* the page's own process built it; this one only walks it */
		do_move_pid(opt.pid, (void *)opt.addr, 1);
		printf("repro: done\n");
		return 0;
	}

	/* Run on one CPU (0: pages start out on node 0). */
	CPU_ZERO(&cpus);
	CPU_SET(opt.cpu, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		fprintf(stderr, "repro: warning: sched_setaffinity(CPU %ld): %s\n",
			opt.cpu, strerror(errno));
	if (access("/sys/devices/system/node/node1", F_OK))
		fprintf(stderr, "repro: warning: no NUMA node 1, migrations will fail\n");

	if (opt.mode == MODE_IDLE) {
		do_idle();
		printf("repro: done\n");
		return 0;
	}

	/* read_long() gives -1 on failure: then write_file() says why */
	if (opt.mode != MODE_MREMAP && opt.mode != MODE_SWAP &&
	    opt.vmas + 64 > read_long("/proc/sys/vm/max_map_count")) {
		snprintf(buf, sizeof(buf), "%ld", opt.vmas + 1024);
		write_file("/proc/sys/vm/max_map_count", buf);
	}
	ksm_set("pages_to_scan", "5000");
	ksm_set("sleep_millisecs", "10");
	ksm_set("run", "1");

	seed = (uint64_t)now_ms() * 0x9e3779b97f4a7c15ULL ^
	       ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL);
	if (opt.race == RACE_STRANGER) {
		pids = calloc(opt.forks + 1, sizeof(*pids));
		if (!pids)
			die(ENOMEM, "allocate pids");
		strangers_start(seed, pfd, pids);
	}
	if (opt.mode == MODE_SWAP) {
		/*
		 * Only the region's pages are charged to the cgroup: this
		 * process's own stack and heap, faulted back in as soon as
		 * reclaim takes them, would be reclaimed in every pass, and
		 * a pass that reclaims something never deactivates: the KSM
		 * page, activated by its first (referenced) walk, would stay
		 * on the active list for good, by chance of timing.  With the
		 * KSM page alone in the cgroup one write to memory.reclaim
		 * ages it and swaps it out (or shows that it cannot be).
		 */
		own_cgroup(home, sizeof(home));
		join_cgroup(opt.cgroup, 0);
		addr = setup_mremap(seed);
		join_cgroup(home, 0);
		printf("repro: cgroup=%s (region charged there, then back to %s)\n",
		       opt.cgroup, home);
	} else if (opt.mode == MODE_MREMAP) {
		addr = setup_mremap(seed);
	} else {
		addr = setup_split(seed);
	}
	if (opt.early_forks) {
		/* children from before the merge: ksmd merges theirs too */
		if (pipe(pfd))
			die(errno, "pipe");
		for (i = 0; i < opt.early_forks; i++) {
			pid_t pid = fork();

			if (pid < 0)
				die(errno, "fork early child %ld", i);
			if (pid)
				continue;
			close(pfd[1]);
			if (opt.child_cgroup)
				join_cgroup(opt.child_cgroup, 0);
			child_hold(pfd[0]);
		}
		close(pfd[0]);
		printf("repro: early_forks=%ld child_cgroup=%s\n", opt.early_forks,
		       opt.child_cgroup ? opt.child_cgroup : "-");
	}
	wait_merge(opt.dups * (opt.early_forks + 1));
	printf("repro: pid=%d ksm_addr=%lx\n", getpid(), (unsigned long)addr);
	if (opt.mode == MODE_SWAP)
		do_reclaim(addr);

	if (opt.mode == MODE_FORK && !opt.race) {
		pids = calloc(opt.forks + 1, sizeof(*pids));
		if (!pids || pipe(pfd))
			die(errno, "allocate pids / pipe");
		for (i = 0; i < opt.forks; i++) {
			pids[i] = fork();
			if (pids[i] < 0)
				die(errno, "fork child %ld", i);
			if (pids[i])
				continue;
			/* child: hold the mappings until the pipe closes */
			close(pfd[1]);
			while (read(pfd[0], buf, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
		close(pfd[0]);
		printf("repro: forks=%ld\n", opt.forks);
	}

	/* several reproducers can be lined up to move at the same time */
	if (opt.start_file) {
		printf("repro: waiting for %s\n", opt.start_file);
		while (access(opt.start_file, F_OK))
			usleep(20000);
	}
	if (opt.victim)
		victim_start(addr);
	if (opt.race && opt.race != RACE_STRANGER)
		printf("repro: race=%s children_per_move=%ld race_us=%ld\n",
		       race_names[opt.race], opt.forks, opt.race_us);
	if (opt.race == RACE_STRANGER)
		strangers_race(addr, pfd, pids);
	listed = merged_pages();
	for (i = 0; i < opt.moves; i++)
		if (opt.race && opt.race != RACE_STRANGER)
			race_move(addr);
		else
			do_move(addr, 1);
	if (opt.race == RACE_MERGE)
		printf("repro: race=merge parent_listed=%ld parent_listed_min=%ld\n",
		       listed, listed_min == LONG_MAX ? -1 : listed_min);
	if (opt.loop > 0) {
		long t0 = now_ms(), n0 = moves_done;

		/* SIGTERM ends the loop early, with the summary still printed */
		signal(SIGTERM, on_sigterm);
		while (now_ms() - t0 < opt.loop * 1000 && !stop_loop)
			do_move(addr, 0);
		printf("repro: loop_seconds=%ld loop_moves=%ld\n",
		       (now_ms() - t0) / 1000, moves_done - n0);
	}
	if (opt.victim)
		victim_stop();

	if (opt.mode == MODE_FORK && !opt.race) {
		close(pfd[1]);
		for (i = 0; i < opt.forks; i++)
			while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
				;
		free(pids);
	}
	if (opt.early_forks) {
		close(pfd[1]);
		while (wait(NULL) > 0 || errno == EINTR)
			;
	}
	printf("repro: moves_done=%ld migrated_count=%ld failed_count=%ld\n",
	       moves_done, migrated_count, failed_count);
	printf("repro: done\n");
	return 0;
}
