#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vm-run.sh [options] -- COMMAND...: boot a built flavour in QEMU, run a shell
# command inside, stream its output, and exit with the command's status.
#   --flavour F    stock, corey or corey-debug (default corey-debug)
#   --smp N        virtual CPUs (default: the host's CPUs)
#   --mem MIB      guest memory (default 1024 + 256 per CPU)
#   --timeout S    wall-clock limit; the guest is killed after it (default 600)
#   --append ARGS  extra kernel command line
#   --out DIR      where console.log and guest.out go (default in the cache)
# Any kernel splat on the console (BUG, WARNING, KASAN, lockdep, ...) fails
# the run even when the command succeeded.
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
require_tree

flavour=corey-debug
smp=$(host_cpus)
mem=
timeout=600
append=
out=
while (($#)); do
	case "$1" in
	--flavour) flavour=${2:?}; shift 2 ;;
	--smp) smp=${2:?}; shift 2 ;;
	--mem) mem=${2:?}; shift 2 ;;
	--timeout) timeout=${2:?}; shift 2 ;;
	--append) append=${2?}; shift 2 ;;
	--out) out=${2:?}; shift 2 ;;
	--) shift; break ;;
	*) die "unknown option '$1' (see the header of $0)" ;;
	esac
done
(($#)) || die "no command to run in the guest (usage: vm-run.sh [options] -- COMMAND...)"
check_flavour "$flavour"
COREY_PROG="vm-run $flavour"

[[ $smp =~ ^[1-9][0-9]*$ ]] || die "--smp '$smp' is not a positive integer"
[[ $timeout =~ ^[1-9][0-9]*$ ]] || die "--timeout '$timeout' is not a positive integer"
# More vCPUs than host CPUs would time-slice the "cores" we measure; allow it
# only on request (functional tests of a bigger topology, say).
if ((smp > $(host_cpus))) && [ "${COREY_ALLOW_OVERCOMMIT:-0}" != 1 ]; then
	die "$smp CPUs requested but the host has $(host_cpus) (COREY_ALLOW_OVERCOMMIT=1 to allow)"
fi
((smp <= 64)) || die "$smp CPUs requested; the VM kernel is built with NR_CPUS=64"
mem=${mem:-$((1024 + 256 * smp))}

kdir=$(build_dir "$flavour")
bzimage=$kdir/arch/x86/boot/bzImage
[ -r "$bzimage" ] || die "flavour $flavour is not built ($bzimage missing; run 'make kernel FLAVOUR=$flavour')"
base_cpio=$("$COREY_TOP/scripts/mkinitramfs.sh" "$flavour")

out=${out:-$(work_dir)/runs/$flavour}
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out/console.log" "$out/guest.out" "$out/qemu.log"

# The command travels as a second cpio archive appended to the base one
# (the kernel unpacks concatenated archives in order).
extra=$(mktemp -d)
trap 'rm -rf "$extra"' EXIT
mkdir -p "$extra/etc/corey"
printf '%s\n' "$*" >"$extra/etc/corey/cmd"
printf 'COREY_KERNEL=%s\nCOREY_SMP=%s\nexport COREY_KERNEL COREY_SMP\n' \
	"$flavour" "$smp" >"$extra/etc/corey/env"
(cd "$extra" && find etc | cpio -o -H newc --owner=0:0 --quiet) >"$extra/cmd.cpio"
cat "$base_cpio" "$extra/cmd.cpio" >"$out/initrd.cpio"

if [ -w /dev/kvm ]; then
	accel=(-accel kvm -cpu host)
else
	accel=(-accel "tcg,thread=multi" -cpu max)
fi
cmdline="console=ttyS0,115200 panic=-1 corey.smp=$smp $append"

step "boot $flavour, $smp CPUs, ${accel[1]%%,*}, limit ${timeout}s (logs: $out)"
qemu-system-x86_64 "${accel[@]}" -smp "$smp" -m "$mem" \
	-nodefaults -display none -no-reboot \
	-kernel "$bzimage" -initrd "$out/initrd.cpio" -append "$cmdline" \
	-serial "file:$out/console.log" -serial "file:$out/guest.out" \
	>"$out/qemu.log" 2>&1 &
qemu=$!
touch "$out/guest.out"

# Stream the guest's output as it arrives: print every complete line not yet
# shown.  Polling (rather than tail -F in the background) leaves no process
# behind to hold our stdout open.
shown=0
stream() {
	local total

	total=$(wc -l <"$out/guest.out")
	((total > shown)) || return 0
	sed -n "$((shown + 1)),${total}p" "$out/guest.out" | tr -d '\r' |
		grep -v '^COREY-EXIT-STATUS=' || true
	shown=$total
}

deadline=$((SECONDS + timeout))
timed_out=0
while kill -0 "$qemu" 2>/dev/null; do
	stream
	if ((SECONDS >= deadline)); then
		timed_out=1
		kill "$qemu" 2>/dev/null || true
		break
	fi
	sleep 1
done
qemu_rc=0
wait "$qemu" || qemu_rc=$?
stream

# A splat is a failure whatever the command said.
splat_re='BUG:|WARNING:|Oops|KASAN|UBSAN|general protection fault|possible recursive locking|possible circular locking|inconsistent lock state|INFO: task .* blocked|suspected memory leak|Kernel panic'
splats=$(grep -E -m 20 "$splat_re" "$out/console.log" || true)

if ((timed_out)); then
	tail -n 20 "$out/console.log" >&2 || true
	die "guest did not finish within ${timeout}s and was killed (hang?); console: $out/console.log"
fi
status=$(tr -d '\r' <"$out/guest.out" | sed -n 's/^COREY-EXIT-STATUS=\([0-9]*\)$/\1/p' | tail -n 1)
if [ -z "$status" ]; then
	panic=$(grep -m 1 'Kernel panic' "$out/console.log" || true)
	tail -n 30 "$out/console.log" >&2 || true
	[ -z "$panic" ] || die "guest kernel panicked: ${panic#*] }; console: $out/console.log"
	die "guest stopped without reporting an exit status (qemu exit $qemu_rc; see $out/qemu.log and $out/console.log)"
fi
if [ -n "$splats" ]; then
	printf '%s\n' "$splats" >&2
	die "kernel splat on the guest console (command exit status $status); console: $out/console.log"
fi
exit "$status"
