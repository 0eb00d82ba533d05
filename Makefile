# SPDX-License-Identifier: GPL-2.0
#
# Corey on Linux 6.12: the two commands are `make check` and `make bench`;
# the rest are the steps they are made of.  Build trees, ccache and VM runs
# live in $(COREY_CACHE) (default ~/.cache/corey), never in the checkout.

SHELL := /bin/bash
# The steps share the kernel trees in the cache: one at a time.
.NOTPARALLEL:
S := scripts
FLAVOUR ?= corey-debug
CPUS ?=
SMP ?=
CMD ?= uname -a
export COREY_CACHE KSRC CPUS CMD

.PHONY: help check bench deps kernel kernels apply-series export-series \
	user initramfs vm plot host-checks clean insns

help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)

## make check            host checks, then the selftests in a corey-debug VM
check:
	@$(S)/check.sh

## make bench [CPUS="1 2"]  build stock and corey, run the benchmark matrix
bench:
	@$(S)/bench.sh

## make insns [N=n ROUNDS=r]  instructions per operation on stock and corey
insns:
	@$(S)/insns.sh

## make deps             install the Debian packages the pipeline needs
deps:
	@$(S)/deps.sh

## make kernel FLAVOUR=f build one flavour (stock, corey, corey-debug)
kernel: deps
	@$(S)/build-kernel.sh $(FLAVOUR)

## make kernels          build all three flavours
kernels: deps
	@for f in stock corey corey-debug; do $(S)/build-kernel.sh $$f || exit; done

## make apply-series [FORCE=1]  apply patches/ to the kernel branch "corey"
apply-series: deps
	@COREY_FORCE=$(FORCE) $(S)/apply-series.sh

## make export-series [FORCE=1] write the kernel branch "corey" back to patches/
export-series: deps
	@COREY_FORCE=$(FORCE) $(S)/export-series.sh

## make user             build the benchmarks, selftests, libcorey and corey-run
user: deps
	@$(S)/build-user.sh >/dev/null

## make vm FLAVOUR=f CMD="..." [SMP=n]  run a command in a VM
vm: deps
	@$(S)/vm-run.sh --flavour $(FLAVOUR) $(if $(SMP),--smp $(SMP)) -- "$$CMD"

## make plot [RESULTS=dir]  redraw the plots and summary of a results dir
plot:
	@$(S)/plot.sh $(or $(RESULTS),results/latest)

## make host-checks      shellcheck and the benchmarks' --help, on the host
host-checks: deps
	@$(S)/host-checks.sh

## make clean            remove this checkout's outputs (not the kernel builds)
clean:
	@$(S)/clean.sh
