#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In the VM: bench-matrix.sh CPU_COUNT... runs every benchmark and mode at
# every CPU count and prints each result as "result: <csv>".  BENCHES (a
# space-separated list of name or name:mode) narrows the matrix; ROUNDS
# (default 3) repeats it, interleaved, so that a slow phase of the host
# hits every point alike rather than one of them.
# A mode that needs a kernel feature this kernel lacks (exit status 4, e.g.
# dupclose shares and corey-run, and the address-range modes memclone,
# mempass and pfchurn corey, on stock) is skipped, not failed: it prints
# "skip: benchmark,mode,reason" once and is not run again in this boot, so
# one matrix serves stock and Corey kernels.
# shmupdate runs once per count of shared lines in SHM_LINES (default
# "1 2 4 8", Barrelfish's), each a result line of its own.
# The kernel-core modes (kcore in the name) need the corey_kcore module:
# when one is selected, the module is loaded from the initramfs if it is
# there and not loaded yet.  On stock it is not there, and those modes skip.
# BENCH_DIR (default /bench) is where the binaries are.
# "bench-matrix.sh --list" prints the matrix, so the host checks BENCHES
# against this one definition.
set -eu
usage() {
	echo "usage: bench-matrix.sh --list | --help | CPU_COUNT..."
}
[ $# -gt 0 ] || { usage >&2; exit 2; }

MATRIX="dupclose:threads dupclose:processes dupclose:uring
dupclose:shares dupclose:corey-run dupclose:kcore dupclose:kcore-batch
memclone:threads memclone:threads-shm memclone:processes memclone:corey
mempass:threads mempass:threads-shm mempass:processes mempass:corey
pfchurn:threads pfchurn:threads-shm pfchurn:processes pfchurn:corey
nullcall:syscall nullcall:uring nullcall:kcore nullcall:kcore-idle
shmupdate:direct shmupdate:pwrite shmupdate:kcore"
case "$1" in
--list)
	printf '%s\n' "$MATRIX" | tr '\n' ' '
	echo
	exit 0
	;;
--help)
	usage
	cat <<'HELP'
Runs each benchmark:mode of the matrix at each CPU count, ROUNDS times
(default 3) interleaved, and prints "result: <csv>" per result line.
BENCHES="name name:mode ..." narrows the matrix.  A mode exiting with 4
(needs a kernel feature this kernel lacks) prints "skip: bench,mode,reason"
once and is not run again; any other failure is counted and fails the run.
shmupdate runs at each line count of SHM_LINES (default "1 2 4 8").  If a
kcore mode is selected, /lib/modules/corey/corey_kcore.ko is loaded first
when it exists and /dev/corey_kcore does not.
Matrix:
HELP
	printf '%s\n' "$MATRIX" | tr ' ' '\n' | sed 's/^/  /'
	exit 0
	;;
esac

# The benchmarks' exit status for "this kernel lacks a feature the mode needs".
EXIT_UNSUPPORTED=4

selected() {
	[ -z "${BENCHES:-}" ] && return 0
	for want in $BENCHES; do
		case "$want" in
		"$1" | "$1:$2") return 0 ;;
		esac
	done
	return 1
}

# variants BENCH: the extra arguments of each run of BENCH, one word per
# run ("-" for none): shmupdate's shared lines.
variants() {
	case "$1" in
	shmupdate)
		for lines in ${SHM_LINES:-1 2 4 8}; do
			echo "--lines=$lines"
		done
		;;
	*) echo - ;;
	esac
}

# Load the kernel-core module once if a selected mode needs it.  Quietly:
# on stock there is no module file and those modes skip by themselves; a
# failing insmod is reported, and they skip or fail as the kernel lets them.
KCORE_MODULE=/lib/modules/corey/corey_kcore.ko
kcore_selected() {
	for entry in $MATRIX; do
		case "$entry" in
		*:*kcore*) selected "${entry%%:*}" "${entry#*:}" && return 0 ;;
		esac
	done
	return 1
}
load_kcore() {
	kcore_selected && [ -e "$KCORE_MODULE" ] && [ ! -e /dev/corey_kcore ] ||
		return 0
	insmod "$KCORE_MODULE" ||
		echo "bench: insmod $KCORE_MODULE failed; kcore modes will skip or fail"
}

rounds=${ROUNDS:-3}
dir=${BENCH_DIR:-/bench}
failed=0
skipped=
errf=/tmp/bench-matrix.$$.err
load_kcore
round=1
while [ "$round" -le "$rounds" ]; do
	for entry in $MATRIX; do
		bench=${entry%%:*}
		mode=${entry#*:}
		selected "$bench" "$mode" || continue
		case " $skipped " in
		*" $entry "*) continue ;;
		esac
		for cpus in "$@"; do
			for extra in $(variants "$bench"); do
				[ "$extra" = - ] && extra=
				what="$bench $mode cpus=$cpus${extra:+ $extra}"
				echo "bench: round $round/$rounds: $what"
				rc=0
				# $extra is one word or none: unquoted on purpose.
				# shellcheck disable=SC2086
				out=$("$dir/$bench" --mode "$mode" --cpus "$cpus" $extra 2>"$errf") || rc=$?
				cat "$errf" >&2
				if [ "$rc" -eq "$EXIT_UNSUPPORTED" ]; then
					# The benchmark's own message, as one CSV field.
					why=$(head -n 1 "$errf" | tr ',' ';')
					why=${why#"$bench: "}
					echo "bench: $bench $mode SKIPPED on this kernel: ${why:-exit $rc}"
					echo "skip: $bench,$mode,${why:-exit $rc}"
					skipped="$skipped $entry"
					break 2
				fi
				if [ "$rc" -ne 0 ]; then
					echo "bench: $what FAILED (exit $rc)"
					failed=$((failed + 1))
					continue
				fi
				printf '%s\n' "$out" | sed 's/^/result: /'
			done
		done
	done
	round=$((round + 1))
done
rm -f "$errf"
echo "bench: done, $failed failed, $(echo "$skipped" | wc -w) mode(s) skipped:${skipped:- none}"
[ "$failed" -eq 0 ]
