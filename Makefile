# SPDX-License-Identifier: GPL-2.0
#
# make                      build ksm_rmap_probe.ko for the running kernel
# make KDIR=<build dir>     ... for another kernel (e.g. /usr/src/linux-headers-<ver>)
# make repro                build the static reproducer scripts/ksm_rmap_repro
# make hunt                 build the scenario generator scripts/ksm_rmap_hunt
# make clean

KDIR ?= /lib/modules/$(shell uname -r)/build
CC_USER ?= gcc

all: module

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

repro: scripts/ksm_rmap_repro

scripts/ksm_rmap_repro: scripts/ksm_rmap_repro.c scripts/krp_user.h
	$(CC_USER) -O2 -static -Wall -Wextra -Werror -o $@ $<

hunt: scripts/ksm_rmap_hunt

scripts/ksm_rmap_hunt: scripts/ksm_rmap_hunt.c scripts/krp_user.h
	$(CC_USER) -O2 -static -Wall -Wextra -Werror -o $@ $<

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -f scripts/ksm_rmap_repro scripts/ksm_rmap_hunt

.PHONY: all module repro hunt clean
