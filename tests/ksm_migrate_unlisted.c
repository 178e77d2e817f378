// SPDX-License-Identifier: GPL-2.0
/*
 * ksm_migrate_unlisted.c - ksmd forgets a KSM page's mappings while a
 * migration has them as migration entries
 *
 * ksmd's scan takes the pages of a VM_MERGEABLE area address by address
 * (scan_get_next_rmap_item()); where it finds no present page it moves
 * on, and get_next_rmap_item() frees every rmap_item of the mm's list
 * below the next address that has one, taking it out of its stable node
 * (remove_rmap_item_from_tree()).  A migration makes every pte of the
 * page a migration entry from try_to_migrate() until
 * remove_migration_ptes().  If ksmd passes the page's addresses in that
 * window, it drops their rmap_items (it waits for the folio lock to do
 * so, and gets it once the migration is over), and the ptes come back
 * (to the new page, or to the old one if the migration failed): the KSM
 * page is mapped by ptes that no rmap_item names.  rmap_walk_ksm() then
 * cannot find them: the page can be neither migrated nor swapped out
 * until ksmd's scan comes by those addresses again and lists them anew.
 * How long that is depends on how much there is to scan: a full pass over
 * all mergeable memory at pages_to_scan per sleep_millisecs.
 *
 * The program: one VM_MERGEABLE area of N pages of the same bytes (they
 * merge into one KSM page) followed by C pages of distinct bytes (they
 * never merge: they keep ksmd's scan away from the N for a while), and
 * P other pages moved in the same move_pages(2) calls (padding: the
 * batch unmaps them all before it moves the first, so the KSM page's
 * ptes stay migration entries longer).  While ksmd runs (pages_to_scan,
 * sleep_millisecs as given) it migrates the KSM page and the padding back
 * and forth between NUMA nodes 0 and 1 and after each call reads
 * /proc/self/ksm_merging_pages (the mm's pages with an rmap_item in the
 * stable tree).  When that falls below N while all N ptes still map the
 * KSM page, it stops ksmd (run=0: this waits for ksmd's batch to end) and
 * checks that it is still so.  Then, ksmd stopped: move_pages(2) of the
 * page, --tries times (expected: it stays, every pte still on it); then
 * ksmd again until the mm has N merging pages, and once more (expected:
 * the page leaves, every pte follows).  KSM's tunables are put back at
 * the end (run last).
 *
 * Usage: ksm_migrate_unlisted [--budget S] [--pages N] [--others C]
 *                             [--padding P] [--scan PAGES] [--sleep MS]
 *                             [--tries T]
 *   defaults: --budget 120 (seconds of trying), --pages 16, --others 512,
 *   --padding 400, --scan 64, --sleep 5, --tries 3
 * Run as root with KSM and NUMA nodes 0 and 1; nothing else should be
 * merging (ksm_merging_pages is this process's own count).
 *
 * Output: one line "unlisted=reproduced|not-reproduced calls=K ..." with
 * what it saw, then (if reproduced) "verdict=stuck-then-moved" when the
 * page stayed while unlisted and left once listed again, else what
 * happened.  Exit status 0 when it ran (not-reproduced is a result), 1 on
 * an error, 2 on bad usage.
 *
 * Build: gcc -O2 -Wall -Wextra -o ksm_migrate_unlisted ksm_migrate_unlisted.c
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
#include <time.h>
#include <unistd.h>

#ifndef MPOL_MF_MOVE_ALL
#define MPOL_MF_MOVE_ALL (1 << 2)
#endif

#define KSM_DIR		"/sys/kernel/mm/ksm/"
#define PM_PRESENT	(1ULL << 63)
#define PM_PFN_MASK	((1ULL << 55) - 1)
#define RELIST_TIMEOUT_S 60

static long ps;
static long n_pages = 16, n_others = 512, n_pad = 400;
static long scan = 64, sleep_ms_ksm = 5, budget = 120, tries = 3;

/* KSM tunables changed here, and their values before */
static const char *const saved_names[] = {
	"pages_to_scan", "sleep_millisecs", "smart_scan", "run",
};
static char saved[4][32];
static int saved_ok[4];

static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ksm_migrate_unlisted: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ret = 0;
	ssize_t len = strlen(val);

	if (fd < 0)
		return -errno;
	if (write(fd, val, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

static int ksm_write(const char *name, long val)
{
	char path[128], buf[32];

	snprintf(path, sizeof(path), KSM_DIR "%s", name);
	snprintf(buf, sizeof(buf), "%ld", val);
	return write_str(path, buf);
}

static int read_str(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static long read_long(const char *path)
{
	char buf[32];

	return read_str(path, buf, sizeof(buf)) ? -1 : strtol(buf, NULL, 10);
}

static void ksm_save(void)
{
	char path[128];
	unsigned int i;

	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), KSM_DIR "%s", saved_names[i]);
		saved_ok[i] = !read_str(path, saved[i], sizeof(saved[i]));
	}
}

/* Put back what ksm_save() read, run last (unmerging first). */
static void ksm_restore(void)
{
	char path[128];
	unsigned int i;

	ksm_write("run", 2);
	for (i = 0; i < 4; i++) {
		if (!saved_ok[i])
			continue;
		snprintf(path, sizeof(path), KSM_DIR "%s", saved_names[i]);
		write_str(path, saved[i]);
	}
}

/* The mm's pages that have an rmap_item in the stable tree. */
static long merging(void)
{
	return read_long("/proc/self/ksm_merging_pages");
}

/* The PFN mapped at @p, 0 if none. */
static uint64_t pfn_of(const char *p)
{
	uint64_t e;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = pread(fd, &e, sizeof(e), (unsigned long)p / ps * 8);
	close(fd);
	if (n != sizeof(e) || !(e & PM_PRESENT))
		return 0;
	return e & PM_PFN_MASK;
}

/* Do all @n pages at @p map the PFN of the first?  It, or 0. */
static uint64_t same_pfn(const char *p, long n)
{
	uint64_t pfn = pfn_of(p);
	long i;

	for (i = 1; pfn && i < n; i++)
		if (pfn_of(p + i * ps) != pfn)
			return 0;
	return pfn;
}

static int node_of(char *p)
{
	int status = -1;

	if (syscall(__NR_move_pages, 0, 1UL, &p, NULL, &status, 0))
		return -errno;
	return status;
}

/* move_pages(2) of the @n pages in @pages to @node: -errno or not moved. */
static long move_all(void **pages, int *nodes, int *status, long n, int node)
{
	long i, ret;

	for (i = 0; i < n; i++) {
		nodes[i] = node;
		status[i] = -1;
	}
	ret = syscall(__NR_move_pages, 0, n, pages, nodes, status,
		      MPOL_MF_MOVE_ALL);
	return ret < 0 ? -errno : ret;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Run ksmd until the mm lists all @n pages (or timeout): seconds, or -1. */
static double relist(long n)
{
	double t0 = now_s();

	if (ksm_write("run", 1))
		return -1;
	while (merging() < n) {
		if (now_s() - t0 > RELIST_TIMEOUT_S)
			return -1;
		pause_ms(5);
	}
	return now_s() - t0;
}

static long number(const char *opt, const char *arg, long min)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || end == arg || v < min) {
		fail("%s wants a number >= %ld, not '%s'", opt, min, arg);
		exit(2);
	}
	return v;
}

static void usage(int code)
{
	fprintf(code ? stderr : stdout,
		"usage: ksm_migrate_unlisted [--budget S] [--pages N] [--others C]\n"
		"         [--padding P] [--scan PAGES] [--sleep MS] [--tries T]\n");
	exit(code);
}

static void options(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "budget", required_argument, NULL, 'b' },
		{ "pages", required_argument, NULL, 'n' },
		{ "others", required_argument, NULL, 'c' },
		{ "padding", required_argument, NULL, 'p' },
		{ "scan", required_argument, NULL, 's' },
		{ "sleep", required_argument, NULL, 'z' },
		{ "tries", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'b': budget = number("--budget", optarg, 1); break;
		case 'n': n_pages = number("--pages", optarg, 2); break;
		case 'c': n_others = number("--others", optarg, 0); break;
		case 'p': n_pad = number("--padding", optarg, 0); break;
		case 's': scan = number("--scan", optarg, 1); break;
		case 'z': sleep_ms_ksm = number("--sleep", optarg, 0); break;
		case 't': tries = number("--tries", optarg, 1); break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (optind != argc)
		usage(2);
}

int main(int argc, char **argv)
{
	long i, calls = 0, listed = -1, stuck = 0, moved_after = 0, m;
	char *area, *pad;
	void **pages;
	int *nodes, *status, node, rc = 1;
	uint64_t kpfn = 0, pfn;
	double t0, t_relist = -1;

	options(argc, argv);
	ps = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (merging() < 0) {
		fail("/proc/self/ksm_merging_pages: %s (KSM, 5.19+)", strerror(errno));
		return 1;
	}
	ksm_save();
	if (!saved_ok[0] || !saved_ok[1] || !saved_ok[3]) {
		fail("cannot read %s: KSM is needed", KSM_DIR);
		return 1;
	}
	area = mmap(NULL, (n_pages + n_others) * ps, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pad = mmap(NULL, (n_pad ? n_pad : 1) * ps, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pages = calloc(n_pad + 1, sizeof(*pages));
	nodes = calloc(n_pad + n_pages, sizeof(*nodes));
	status = calloc(n_pad + n_pages, sizeof(*status));
	if (area == MAP_FAILED || pad == MAP_FAILED || !pages || !nodes || !status) {
		fail("out of memory");
		return 1;
	}
	/* the same bytes, unlike anything else on the machine */
	for (i = 0; i < n_pages; i++) {
		memset(area + i * ps, 0x6b, ps);
		snprintf(area + i * ps, 64, "ksm_migrate_unlisted %d", getpid());
	}
	for (i = 0; i < n_others; i++)
		snprintf(area + (n_pages + i) * ps, 64, "other %ld of %d", i, getpid());
	for (i = 0; i < n_pad; i++)
		snprintf(pad + i * ps, 64, "padding %ld of %d", i, getpid());
	if (madvise(area, (n_pages + n_others) * ps, MADV_MERGEABLE)) {
		fail("MADV_MERGEABLE: %s", strerror(errno));
		return 1;
	}
	if (ksm_write("run", 2) || ksm_write("pages_to_scan", scan) ||
	    ksm_write("sleep_millisecs", sleep_ms_ksm)) {
		fail("writing %s: %s", KSM_DIR, strerror(errno));
		goto out;
	}
	/* smart_scan would skip the other pages: keep ksmd's pass long */
	if (saved_ok[2])
		ksm_write("smart_scan", 0);
	if (relist(n_pages) < 0 || !(kpfn = same_pfn(area, n_pages))) {
		fail("the %ld pages did not merge into one KSM page in %d s",
		     n_pages, RELIST_TIMEOUT_S);
		goto out;
	}
	if (node_of(area) < 0) {
		fail("move_pages: %s (NUMA needed)", strerror(-node_of(area)));
		goto out;
	}
	pages[0] = area;
	for (i = 0; i < n_pad; i++)
		pages[i + 1] = pad + i * ps;

	/* migrate back and forth until ksmd drops rmap_items of mapped ptes */
	t0 = now_s();
	while (now_s() - t0 < budget) {
		node = node_of(area);
		if (node < 0 || move_all(pages, nodes, status, n_pad + 1, !node) < 0) {
			fail("move_pages: %s", strerror(errno));
			goto out;
		}
		calls++;
		m = merging();
		if (m >= n_pages || !same_pfn(area, n_pages))
			continue;
		/* caught: stop ksmd (waits for its batch), look again */
		ksm_write("run", 0);
		m = merging();
		kpfn = same_pfn(area, n_pages);
		if (m < n_pages && kpfn) {
			listed = m;
			break;
		}
		ksm_write("run", 1);
	}
	if (listed < 0) {
		printf("unlisted=not-reproduced calls=%ld budget=%lds pages=%ld others=%ld padding=%ld scan=%ld sleep_ms=%ld\n",
		       calls, budget, n_pages, n_others, n_pad, scan, sleep_ms_ksm);
		rc = 0;
		goto out;
	}

	/* ksmd stopped, the page mapped n_pages times, fewer listed */
	for (i = 0; i < tries; i++) {
		node = node_of(area);
		if (node < 0 || move_all(pages, nodes, status, 1, !node) < 0) {
			fail("move_pages: %s", strerror(errno));
			goto out;
		}
		pfn = same_pfn(area, n_pages);
		if (pfn == kpfn)
			stuck++;
	}
	m = merging();
	/* ksmd again: it lists the pages anew; then the page must leave */
	t_relist = relist(n_pages);
	ksm_write("run", 0);
	if (t_relist >= 0) {
		node = node_of(area);
		if (node >= 0 && move_all(pages, nodes, status, 1, !node) >= 0) {
			pfn = same_pfn(area, n_pages);
			moved_after = pfn && pfn != kpfn;
		}
	}
	printf("unlisted=reproduced calls=%ld secs=%.1f mapped=%ld listed=%ld listed_after_tries=%ld stuck=%ld/%ld relisted_after_s=%.2f moved_after_relist=%s verdict=%s\n",
	       calls, now_s() - t0, n_pages, listed, m, stuck, tries, t_relist,
	       moved_after ? "yes" : "no",
	       stuck == tries && moved_after ? "stuck-then-moved" : "other");
	rc = 0;
out:
	ksm_restore();
	return rc;
}
