#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# plan-debugcheck.sh - positive controls for the debug kernel
# (scripts/build-kernel.sh debug): make each detector fire once on purpose
# with the kernel's own test modules, built with it and packed into /krp/
# by the host (krp_initramfs_extra), so that the host can check that the
# reports reach the console and dmesg and that krp_splats sees them.
# ksm_rmap_probe is never loaded.  Lockdep first: after its first report
# lockdep turns itself off.
#   test_lockup.ko: down_write(/bin/busybox's i_mmap_rwsem), then
#     mmap_write_lock(): the reverse of mmap()'s order -> lockdep
#   kasan_test_module.ko: out-of-bounds copy_to/from_user -> KASAN
#   kmemleak-test.ko: kmalloc/vmalloc whose pointers are dropped -> kmemleak
# shellcheck disable=SC1091 # /krp/lib.sh is scripts/guest/lib.sh in the guest
. /krp/lib.sh

# try NAME MODULE ARGS...: insmod /krp/MODULE.ko ARGS, framed as NAME.
try() {
	_name=$1
	_ko=/krp/$2.ko
	shift 2
	if [ -f "$_ko" ]; then
		section "$_name" sh -c "insmod $_ko $*; echo rc=\$?"
	else
		section "$_name" echo "no $_ko"
	fi
}

section uname uname -r
try lockdep test_lockup file_path=/bin/busybox lock_mapping=1 lock_mmap_sem=1
try kasan kasan_test_module
try kmemleak.insmod kmemleak-test
rmmod kmemleak_test 2>/dev/null
kmemleak_scan
section dmesg dmesg
