#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make insns: count the guest instructions (kernel, user, locked) that each
# opcount operation takes, in a VM of each kernel under the insncount QEMU
# plugin (one vCPU unless SMP says otherwise), and write
# results/insns/<time>/ (each kernel's guest output, plugin log, System.map
# and module symbols, insns.csv, functions.csv, summary.md), pointed to by
# results/insns/latest.  docs/insns.md explains the method.  Environment:
#   KERNELS  kernels to measure (default "stock corey")
#   SMP      vCPUs (default 1; at most 16, and the host's CPUs).  Above 1,
#            each vCPU is counted apart (callbacks: several times slower)
#            and the guest loads the corey_kcore module before opcount
#   OPS      opcount operations (default with SMP=1: all that opcount --help
#            lists but the kernel-core ones, kcore-*, which need a CPU for
#            the kernel core; with SMP above 1: dup3close kcore-sync
#            kcore-batch).  A kcore-* operation loads corey_kcore too
#   N        operations per bracket (default 100000)
#   ROUNDS   brackets per operation, interleaved (default 5)
#   PROFILE  1 (default): also attribute instructions to kernel functions,
#            from the blocks that retired at least N/10 instructions in a
#            bracket (0.1 per operation); 0: counts only
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
COREY_PROG=insns

"$COREY_TOP/scripts/deps.sh"
require_tree

kernels=$(measured_kernels)
n=${N:-100000}
[[ $n =~ ^[1-9][0-9]*$ ]] || die "N '$n' is not a positive integer"
rounds=${ROUNDS:-5}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "ROUNDS '$rounds' is not a positive integer"
smp=${SMP:-1}
[[ $smp =~ ^[1-9][0-9]*$ ]] || die "SMP '$smp' is not a positive integer"
# MAX_VCPUS in bench/qemu-plugin/insncount.c.
((smp <= 16)) || die "SMP $smp: the insncount plugin counts up to 16 vCPUs"
((smp <= $(host_cpus))) || [ "${COREY_ALLOW_OVERCOMMIT:-0}" = 1 ] ||
	die "SMP $smp is beyond the $(host_cpus) CPUs the VM can have on this host"
profile=${PROFILE:-1}
case "$profile" in
0 | 1) ;;
*) die "PROFILE '$profile' must be 0 or 1" ;;
esac
# Only blocks that retire 0.1 instruction per operation or more are logged.
profile_min=$((n / 10 > 0 ? n / 10 : 1))

# The operations opcount knows: the two-space-indented names --help lists.
user=$("$COREY_TOP/scripts/build-user.sh")
known=$("$user/bench/opcount" --help | sed -n 's/^  \([a-z0-9][a-z0-9-]*\)  .*/\1/p')
[ -n "$known" ] || die "could not read the operations from opcount --help"
# The kernel-core operations put the kernel core on the last CPU: with one,
# it shares the client's and a count mixes both sides, so they run by
# default only with more (the report then splits the vCPUs).
if [ -n "${OPS:-}" ]; then
	ops=$OPS
elif ((smp > 1)); then
	ops="dup3close kcore-sync kcore-batch"
else
	ops=$(printf '%s\n' "$known" | sed '/^kcore-/d' | tr '\n' ' ')
fi
ops=$(printf '%s' "$ops" | xargs)
[ -n "$ops" ] || die "OPS is empty"
seen=" "
for op in $ops; do
	printf '%s\n' "$known" | grep -qxF -- "$op" ||
		die "OPS: unknown operation '$op' (opcount has: $(printf '%s' "$known" | tr '\n' ' '))"
	case "$seen" in
	*" $op "*) die "OPS: '$op' is listed twice" ;;
	esac
	seen+="$op "
done
# Load the kernel-core module first when an operation may use it; where the
# kernel has none (stock) the kcore-* operations skip by themselves.
kcore=0
((smp > 1)) && kcore=1
case " $ops " in
*" kcore-"*) kcore=1 ;;
esac

for k in $kernels; do
	step "kernel $k"
	"$COREY_TOP/scripts/build-kernel.sh" "$k"
done

stamp=$(date -u +%Y%m%dT%H%M%SZ)
res=$COREY_TOP/results/insns/$stamp
mkdir -p "$res"
{
	printf 'KERNELS=%s\nSMP=%s\nOPS=%s\nN=%s\nROUNDS=%s\nPROFILE=%s\n' \
		"$kernels" "$smp" "$ops" "$n" "$rounds" "$profile"
	((profile)) && printf 'PROFILE_MIN=%s\n' "$profile_min"
	printf 'commit=%s\n' "$(GIT_OPTIONAL_LOCKS=0 git -C "$COREY_TOP" describe --always --dirty 2>/dev/null || echo unknown)"
	for k in $kernels; do
		printf 'tree.%s=%s\n' "$k" \
			"$(GIT_OPTIONAL_LOCKS=0 git -C "$(flavour_src_dir "$k")" describe --always --dirty 2>/dev/null || echo unknown)"
		printf 'release.%s=%s\n' "$k" "$(cat "$(build_dir "$k")/include/config/kernel.release")"
	done
} >"$res/params.txt"

plugin=(--insncount)
((profile)) && plugin=(--insncount-profile "$profile_min")
cmd="/bench/opcount --ops $n --rounds $rounds $ops"
ko=/lib/modules/corey/corey_kcore.ko
if ((kcore)); then
	# In the guest: load the module unless it is absent (stock) or loaded,
	# stop if insmod fails, and print the addresses of its text sections,
	# for the report to name the profile's blocks in it.
	load="{ [ ! -e $ko ] || [ -e /dev/corey_kcore ] || insmod $ko || exit; }"
	# shellcheck disable=SC2016 # expanded by the guest's shell
	show='for f in /sys/module/corey_kcore/sections/.*text*; do [ ! -e "$f" ] || echo "insns-module: corey_kcore ${f##*/} $(cat "$f")"; done'
	cmd="$load; $show; $cmd"
fi
for k in $kernels; do
	kdir=$(build_dir "$k")
	# The System.map must be that of the kernel QEMU boots: another user
	# of the cache may rebuild the flavour meanwhile, which the checksums
	# before and after the run catch.
	sums=$(cat "$kdir/System.map" "$kdir/arch/x86/boot/bzImage" | sha1sum)
	cp "$kdir/System.map" "$res/$k.System.map"
	run=$(work_dir)/runs/insns-$k
	step "opcount on $k, $smp vCPU(s): $ops; N=$n, $rounds round(s)${plugin[1]:+, profile >= ${plugin[1]} instructions}"
	rc=0
	"$COREY_TOP/scripts/vm-run.sh" --flavour "$k" --smp "$smp" "${plugin[@]}" \
		--timeout "${COREY_INSNS_TIMEOUT:-3600}" --out "$run" -- "$cmd" |
		tee "$res/$k.guest.log" || rc=$?
	[ ! -f "$run/insncount.log" ] || cp "$run/insncount.log" "$res/$k.insncount.log"
	((rc == 0)) || die "$k: '$cmd' failed (exit $rc); logs in $run, partial results in $res"
	# What the report's caveats rest on (noreplace-smp, norandmaps).
	cmdline=$(grep -a -m 1 -o 'Kernel command line: .*' "$run/console.log" | tr -d '\r' || true)
	printf 'cmdline.%s=%s\n' "$k" "${cmdline#Kernel command line: }" >>"$res/params.txt"
	[ "$(cat "$kdir/System.map" "$kdir/arch/x86/boot/bzImage" | sha1sum)" = "$sums" ] ||
		die "kernel $k was rebuilt while it ran: its System.map may not be the one that booted; run again"
	if grep -q '^insns-module: corey_kcore ' "$res/$k.guest.log"; then
		# The symbols of the module that ran: the copy in the initramfs
		# that booted (the build's, $(work_dir)/modules/$k/src/kcore/,
		# may have been rebuilt since).  sysv format: a symbol's value
		# is an offset in its section, which it names.
		cpio -i --quiet --to-stdout "${ko#/}" <"$run/initrd.cpio" >"$run/corey_kcore.ko"
		[ -s "$run/corey_kcore.ko" ] || die "$k: ${ko#/} is not in $run/initrd.cpio"
		nm -f sysv --defined-only "$run/corey_kcore.ko" >"$res/$k.corey_kcore.nm"
	fi
	while IFS= read -r line; do
		line=${line#insns-skip: }
		step "skipped on $k: ${line%%,*} (${line#*,})"
	done < <(grep -a '^insns-skip: ' "$res/$k.guest.log" || true)
done
step "report"
python3 "$COREY_TOP/scripts/insns_report.py" "$res"
ln -sfn "$stamp" "$COREY_TOP/results/insns/latest"
step "results: results/insns/latest/summary.md"
