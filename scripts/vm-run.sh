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
#   --out DIR      where console.log and guest.out go (default: a new
#                  directory under the cache's runs/, printed at boot)
#   --insncount    count guest instructions with the insncount QEMU plugin
#                  (bench/qemu-plugin), into insncount.log beside
#                  console.log; each vCPU apart with --smp above 1
#   --insncount-profile MIN  the same, and after each marker the blocks that
#                  retired at least MIN instructions since the previous one
#   --put FILE[:PATH]  copy a host file into the guest at PATH (default
#                  /tmp/<name>), e.g. a test program being developed;
#                  repeatable
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
puts=()
insncount=0
profile=
while (($#)); do
	case "$1" in
	--flavour) flavour=${2:?}; shift 2 ;;
	--smp) smp=${2:?}; shift 2 ;;
	--mem) mem=${2:?}; shift 2 ;;
	--timeout) timeout=${2:?}; shift 2 ;;
	--append) append=${2?}; shift 2 ;;
	--out) out=${2:?}; shift 2 ;;
	--put) puts+=("${2:?}"); shift 2 ;;
	--insncount) insncount=1; shift ;;
	--insncount-profile) insncount=1; profile=${2:?}; shift 2 ;;
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
((smp <= COREY_MAX_VCPUS)) ||
	die "$smp CPUs requested; the VM kernel is built with NR_CPUS=$COREY_MAX_VCPUS"
if ((smp > $(nproc))) && [ "${COREY_ALLOW_OVERCOMMIT:-0}" != 1 ]; then
	die "$smp CPUs requested but the host has $(nproc) (COREY_ALLOW_OVERCOMMIT=1 to allow)"
fi
mem=${mem:-$((1024 + 256 * smp))}
# Above one vCPU the plugin counts each apart, through callbacks: exact,
# but several times slower than the inline counting of one vCPU.
((!insncount || smp <= 16)) ||
	die "--insncount counts up to 16 vCPUs, not $smp"

kdir=$(build_dir "$flavour")
bzimage=$kdir/arch/x86/boot/bzImage
[ -r "$bzimage" ] || die "flavour $flavour is not built ($bzimage missing; run 'make kernel FLAVOUR=$flavour')"
base_cpio=$("$COREY_TOP/scripts/mkinitramfs.sh" "$flavour")

if [ -z "$out" ]; then
	# One directory per run, so concurrent runs never share logs; keep
	# the last few.
	runs=$(work_dir)/runs
	mkdir -p "$runs"
	out=$(mktemp -d "$runs/$flavour.$(date -u +%Y%m%dT%H%M%S).XXXX")
	find "$runs" -mindepth 1 -maxdepth 1 -type d -name "$flavour.*" |
		sort | head -n -10 | xargs -r rm -rf
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out/console.log" "$out/guest.out" "$out/qemu.log" "$out/insncount.log"

# The command travels as a second cpio archive appended to the base one
# (the kernel unpacks concatenated archives in order).
extra=$(mktemp -d)
qemu=
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
	if [ -n "$qemu" ] && kill -0 "$qemu" 2>/dev/null; then
		kill "$qemu" 2>/dev/null || true
		sleep 2
		kill -9 "$qemu" 2>/dev/null || true
	fi
	rm -rf "$extra"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
mkdir -p "$extra/etc/corey"
printf '%s\n' "$*" >"$extra/etc/corey/cmd"
printf 'COREY_KERNEL=%s\nCOREY_SMP=%s\nexport COREY_KERNEL COREY_SMP\n' \
	"$flavour" "$smp" >"$extra/etc/corey/env"
mkdir -p "$extra/root"
mv "$extra/etc" "$extra/root/etc"
for put in "${puts[@]}"; do
	src=${put%%:*}
	dest=${put#"$src"}
	dest=${dest#:}
	dest=${dest:-/tmp/$(basename "$src")}
	[[ $dest == /* ]] || die "--put $put: the guest path must be absolute"
	[ -f "$src" ] || die "--put $put: $src is not a file"
	mkdir -p "$extra/root$(dirname "$dest")"
	cp -p "$src" "$extra/root$dest"
done
(cd "$extra/root" && find . -mindepth 1 | cpio -o -H newc --owner=0:0 --quiet) >"$extra/cmd.cpio"
cat "$base_cpio" "$extra/cmd.cpio" >"$out/initrd.cpio"

if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	# QEMU falls back to the next accelerator if KVM cannot be opened.
	accel=(-accel kvm -accel "tcg,thread=multi" -cpu max)
	accel_name=kvm
else
	accel=(-accel "tcg,thread=multi" -cpu max)
	accel_name=tcg
fi
# Emulation is slow: give the hang and stall detectors room so that only
# a real hang trips them.
cmdline="console=ttyS0,115200 panic=-1 corey.smp=$smp hung_task_timeout_secs=300"
cmdline+=" rcupdate.rcu_cpu_stall_timeout=120 watchdog_thresh=60 $append"

plugin=()
if ((insncount)); then
	so=$(work_dir)/user/qemu-plugin/insncount.so
	[ -r "$so" ] || die "$so is missing (scripts/build-user.sh builds it)"
	[ -z "$profile" ] || [[ $profile =~ ^[1-9][0-9]*$ ]] ||
		die "--insncount-profile '$profile' is not a positive integer"
	plugin=(-plugin "$so${profile:+,profile=$profile}" -d plugin -D "$out/insncount.log")
	# One vCPU would make the kernel patch its LOCK prefixes out (UP
	# alternatives); keep the SMP code that every real machine runs.
	# Without ASLR, a program's mappings land at the same addresses in
	# every boot: where a mapping falls against page tables its
	# neighbours filled changes how many entries munmap walks.
	cmdline+=" noreplace-smp norandmaps"
fi

step "boot $flavour, $smp CPUs, $accel_name, limit ${timeout}s (logs: $out)"
qemu-system-x86_64 "${accel[@]}" "${plugin[@]}" -smp "$smp" -m "$mem" \
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
qemu=
stream

# A splat is a failure whatever the command said.
splat_re='BUG:|WARNING:|Oops|KASAN|UBSAN|general protection fault|possible recursive locking|possible circular locking|inconsistent lock state|blocked for more than|detected stalls|self-detected stall|soft lockup|hard LOCKUP|suspected memory leak|Kernel panic'
splats=$(grep -a -E -m 20 "$splat_re" "$out/console.log" || true)

if ((timed_out)); then
	tail -n 20 "$out/console.log" >&2 || true
	die "guest did not finish within ${timeout}s and was killed (hang?); console: $out/console.log"
fi
status=$(tr -d '\r' <"$out/guest.out" | sed -n 's/^COREY-EXIT-STATUS=\([0-9]*\)$/\1/p' | tail -n 1)
if [ -z "$status" ]; then
	panic=$(grep -a -m 1 'Kernel panic' "$out/console.log" || true)
	tail -n 30 "$out/console.log" >&2 || true
	[ -z "$panic" ] || die "guest kernel panicked: ${panic#*] }; console: $out/console.log"
	die "guest stopped without reporting an exit status (qemu exit $qemu_rc: $(tail -n 1 "$out/qemu.log")); console: $out/console.log"
fi
if [ -n "$splats" ]; then
	printf '%s\n' "$splats" >&2
	die "kernel splat on the guest console (command exit status $status); console: $out/console.log"
fi
exit "$status"
