// SPDX-License-Identifier: GPL-2.0
/*
 * krp_die.c - TEST ONLY: kill a task inside rmap_walk_ksm().
 *
 * A kprobe on try_to_migrate_one(), the rmap_one() of migration walks,
 * sends a task whose comm is @comm (default "krp_die") to a NULL pointer
 * write instead, in task context, with the walk's folio lock and anon_vma
 * lock held: the task oopses and exits inside the walk, as a walker hit by
 * a kernel bug would.  Boot with panic_on_oops=0.  ksm_rmap_probe's tests use it to
 * check that such a walk is reported lost and leaves nothing behind.
 * The locks stay held for good: the folio cannot be walked again.
 *
 * usage: insmod krp_die.ko [comm=NAME]
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kprobes.h>
#include <linux/sched.h>
#include <linux/string.h>

static char *comm = "krp_die";
module_param(comm, charp, 0400);
MODULE_PARM_DESC(comm, "Name of the task to kill inside the walk (default krp_die)");

/* Never set: the write through it is the kernel bug the walker dies of. */
static int *krp_die_target;

static void krp_die_now(void)
{
	pr_emerg("%s (%d): dying inside rmap_walk_ksm() on purpose\n",
		 current->comm, task_pid_nr(current));
	WRITE_ONCE(*krp_die_target, 1);
}

/* Entry of try_to_migrate_one(): resume the task in krp_die_now(). */
static int krp_die_pre(struct kprobe *p, struct pt_regs *regs)
{
	if (strcmp(current->comm, comm))
		return 0;
	instruction_pointer_set(regs, (unsigned long)krp_die_now);
	return 1;	/* regs->ip changed */
}

/* Present so that the kprobe may change regs->ip (FTRACE_OPS_FL_IPMODIFY). */
static void krp_die_post(struct kprobe *p, struct pt_regs *regs,
			 unsigned long flags)
{
}

static struct kprobe krp_die_probe = {
	.symbol_name	= "try_to_migrate_one",
	.pre_handler	= krp_die_pre,
	.post_handler	= krp_die_post,
};

static int __init krp_die_init(void)
{
	int ret = register_kprobe(&krp_die_probe);

	if (ret)
		pr_err("cannot probe try_to_migrate_one: error %d\n", ret);
	return ret;
}

static void __exit krp_die_exit(void)
{
	unregister_kprobe(&krp_die_probe);
}

module_init(krp_die_init);
module_exit(krp_die_exit);
MODULE_DESCRIPTION("TEST ONLY: oops a named task inside rmap_walk_ksm()");
MODULE_LICENSE("GPL");
