/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trace events of ksm_rmap_probe: one per rmap_walk_ksm() walk, one per
 * loop and one per victim wait, with the fields of the "walks" file, for perf, trace-cmd, bpftrace
 * and ftrace filters.  A loop's item_index is the rmap_item's stored linear
 * page index where the kernel walked exactly that (7.3), else -1:
 *
 *   echo 1 > /sys/kernel/tracing/events/ksm_rmap_probe/enable
 *   perf record -e ksm_rmap_probe:ksm_rmap_walk -a
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM ksm_rmap_probe

#if !defined(_KSM_RMAP_PROBE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _KSM_RMAP_PROBE_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(ksm_rmap_walk,
	    TP_PROTO(const struct krp_record *r),
	    TP_ARGS(r),
	    TP_STRUCT__entry(__field(void *, rmap_one)
			     __field(int, mapcount)
			     __field(u8, passes)
			     __field(bool, classified)
			     __field(int, end)
			     __field(u64, loops)
			     __field(u64, iterations)
			     __field(u64, skip_addr)
			     __field(u64, skip_mm)
			     __field(u64, hits)
			     __field(u64, missed)
			     __field(u64, max_hold_ns)
			     __field(u64, walk_ns)),
	    TP_fast_assign(__entry->rmap_one = r->rmap_one;
			   __entry->mapcount = r->mapcount;
			   __entry->passes = r->passes;
			   __entry->classified = r->classify;
			   __entry->end = r->end;
			   __entry->loops = r->loops;
			   __entry->iterations = r->iterations;
			   __entry->skip_addr = r->skip_addr;
			   __entry->skip_mm = r->skip_mm;
			   __entry->hits = r->hits;
			   __entry->missed = r->missed;
			   __entry->max_hold_ns = r->max_hold_ns;
			   __entry->walk_ns = r->walk_ns;),
	    TP_printk("caller=%ps mapcount=%d passes=%u loops=%llu iterations=%llu skip_addr=%llu skip_mm=%llu hits=%llu missed=%llu max_hold_ns=%llu walk_ns=%llu end=%s classified=%d",
		      __entry->rmap_one, __entry->mapcount, __entry->passes,
		      __entry->loops, __entry->iterations, __entry->skip_addr,
		      __entry->skip_mm, __entry->hits, __entry->missed,
		      __entry->max_hold_ns, __entry->walk_ns,
		      __print_symbolic(__entry->end,
				       { KRP_END_COMPLETE, "complete" },
				       { KRP_END_STOP, "stop" },
				       { KRP_END_DONE, "done" },
				       { KRP_END_CONTENDED, "contended" },
				       { KRP_END_EMPTY, "empty" },
				       { KRP_END_UNCOUNTED, "uncounted" }),
		      __entry->classified)
);

TRACE_EVENT(ksm_rmap_loop,
	    TP_PROTO(const struct krp_walk *w, const struct krp_loop *l,
		     u64 hold_ns),
	    TP_ARGS(w, l, hold_ns),
	    TP_STRUCT__entry(__field(u8, pass)
			     __field(bool, counted)
			     __field(bool, classified)
			     __field(unsigned long, first)
			     __field(unsigned long, last)
			     __field(long, index)
			     __field(u32, iterations)
			     __field(u32, skip_addr)
			     __field(u32, skip_mm)
			     __field(u32, hits)
			     __field(u64, hold_ns)),
	    TP_fast_assign(__entry->pass = w->pass;
			   __entry->counted = l->counted;
			   __entry->classified = l->classify;
			   __entry->first = l->first;
			   __entry->last = l->last;
			   __entry->index = l->index_walked ? (long)l->index : -1;
			   __entry->iterations = l->iterations;
			   __entry->skip_addr = l->skip_addr;
			   __entry->skip_mm = l->skip_mm;
			   __entry->hits = l->hits;
			   __entry->hold_ns = hold_ns;),
	    TP_printk("pass=%u range=%lu-%lu item_index=%ld iterations=%u skip_addr=%u skip_mm=%u hits=%u hold_ns=%llu counted=%d classified=%d",
		      __entry->pass, __entry->first, __entry->last,
		      __entry->index,
		      __entry->iterations, __entry->skip_addr, __entry->skip_mm,
		      __entry->hits, __entry->hold_ns, __entry->counted,
		      __entry->classified)
);

/* A task waited for an anon_vma lock that a KSM walk held when it began. */
TRACE_EVENT(ksm_rmap_victim,
	    TP_PROTO(const struct krp_victim *v, u64 wait_ns, int ret),
	    TP_ARGS(v, wait_ns, ret),
	    TP_STRUCT__entry(__field(void *, lock)
			     __field(void *, walker_rmap_one)
			     __field(u64, wait_ns)
			     __field(pid_t, pid)
			     __field(pid_t, walker_pid)
			     __field(int, ret)
			     __array(char, comm, TASK_COMM_LEN)),
	    TP_fast_assign(__entry->lock = v->lock;
			   __entry->walker_rmap_one = v->walker_rmap_one;
			   __entry->wait_ns = wait_ns;
			   __entry->pid = v->pid;
			   __entry->walker_pid = v->walker_pid;
			   __entry->ret = ret;
			   memcpy(__entry->comm, v->comm, TASK_COMM_LEN);),
	    TP_printk("waiter=%d/%s wait_ns=%llu walker=%d caller=%ps lock=%p ret=%d",
		      __entry->pid, __entry->comm, __entry->wait_ns,
		      __entry->walker_pid, __entry->walker_rmap_one,
		      __entry->lock, __entry->ret)
);

#endif /* _KSM_RMAP_PROBE_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE ksm_rmap_probe_trace
#include <trace/define_trace.h>
