/* SPDX-License-Identifier: GPL-2.0 */
/*
 * krp_user.h - what the userspace programs of scripts/ share
 * (ksm_rmap_repro.c, ksm_rmap_hunt.c): fatal errors, clocks, one-number
 * sysfs and procfs files, and where a page is (its NUMA node, its pagemap
 * entry).  Static inline and stateless, so that each program still builds
 * from its one .c file (gcc finds this header next to it).  A program
 * defines KRP_PROG, the word its output lines start with, before including
 * it.  The reproducers in tests/ stay standalone: they do not use it.
 */
#ifndef KRP_USER_H
#define KRP_USER_H

#ifndef KRP_PROG
#error "define KRP_PROG (the programs' output prefix) before including krp_user.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef MPOL_MF_MOVE_ALL
#define MPOL_MF_MOVE_ALL (1 << 2)
#endif

#define KSM_DIR "/sys/kernel/mm/ksm/"

/* /proc/PID/pagemap entries (Documentation/admin-guide/mm/pagemap.rst) */
#define PM_PRESENT	(1ULL << 63)
#define PM_SWAP		(1ULL << 62)
#define PM_PFN_MASK	((1ULL << 55) - 1)	/* 0 unless root */

/* "KRP_PROG: error: <what> (<strerror(err)>)" on stderr, and exit 1. */
static inline void __attribute__((noreturn, format(printf, 2, 3)))
die(int err, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs(KRP_PROG ": error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (%s)\n", strerror(err));
	exit(1);
}

/* CLOCK_MONOTONIC in ns, us, ms */
static inline long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static inline long now_us(void)
{
	return now_ns() / 1000L;
}

static inline long now_ms(void)
{
	return now_ns() / 1000000L;
}

/* Write @val to the file @path (sysfs, procfs, cgroupfs), or die. */
static inline void write_file(const char *path, const char *val)
{
	ssize_t len = strlen(val), ret;
	int fd = open(path, O_WRONLY);

	if (fd < 0)
		die(errno, "open %s", path);
	ret = write(fd, val, len);
	if (ret != len)
		die(ret < 0 ? errno : EIO, "write '%s' to %s", val, path);
	close(fd);
}

/* Returns the first number in @path, or -1 if it cannot be read. */
static inline long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/*
 * NUMA node of the page at @addr of process @pid (0: this one), from
 * move_pages() without nodes, which moves nothing; or -errno.
 */
static inline int page_node(long pid, void *addr)
{
	void *pages[1] = { addr };
	int status = INT_MIN;

	if (syscall(__NR_move_pages, pid, 1UL, pages, NULL, &status, 0) < 0)
		return -errno;
	return status;
}

/*
 * The pagemap entry of the page at @addr, from @fd (an open
 * /proc/PID/pagemap), pages of @page_size bytes: 0, or -1 if unreadable.
 */
static inline int pagemap_entry(int fd, unsigned long addr, size_t page_size,
				uint64_t *ent)
{
	off_t off = (off_t)(addr / page_size) * sizeof(*ent);

	return pread(fd, ent, sizeof(*ent), off) == sizeof(*ent) ? 0 : -1;
}

#endif /* KRP_USER_H */
