#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In the VM: bench-matrix.sh CPU_COUNT... runs every benchmark and mode at
# every CPU count and prints each result as "result: <csv>".  BENCHES (a
# space-separated list of name or name:mode) narrows the matrix; ROUNDS
# (default 3) repeats it, interleaved, so that a slow phase of the host
# hits every point alike rather than one of them.
# A mode that needs a kernel feature this kernel lacks (exit status 4, e.g.
# dupclose shares and corey-run on stock) is skipped, not failed: it prints
# "skip: benchmark,mode,reason" once and is not run again in this boot, so
# one matrix serves stock and Corey kernels.
# BENCH_DIR (default /bench) is where the binaries are.
# "bench-matrix.sh --list" prints the matrix, so the host checks BENCHES
# against this one definition.
set -eu
usage() {
	echo "usage: bench-matrix.sh --list | --help | CPU_COUNT..."
}
[ $# -gt 0 ] || { usage >&2; exit 2; }

MATRIX="dupclose:threads dupclose:processes dupclose:uring
dupclose:shares dupclose:corey-run
memclone:threads memclone:processes
mempass:threads mempass:processes
pfchurn:threads pfchurn:processes"
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

rounds=${ROUNDS:-3}
dir=${BENCH_DIR:-/bench}
failed=0
skipped=
errf=/tmp/bench-matrix.$$.err
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
			echo "bench: round $round/$rounds: $bench $mode cpus=$cpus"
			rc=0
			out=$("$dir/$bench" --mode "$mode" --cpus "$cpus" 2>"$errf") || rc=$?
			cat "$errf" >&2
			if [ "$rc" -eq "$EXIT_UNSUPPORTED" ]; then
				# The benchmark's own message, as one CSV field.
				why=$(head -n 1 "$errf" | tr ',' ';')
				why=${why#"$bench: "}
				echo "bench: $bench $mode SKIPPED on this kernel: ${why:-exit $rc}"
				echo "skip: $bench,$mode,${why:-exit $rc}"
				skipped="$skipped $entry"
				break
			fi
			if [ "$rc" -ne 0 ]; then
				echo "bench: $bench $mode cpus=$cpus FAILED (exit $rc)"
				failed=$((failed + 1))
				continue
			fi
			printf '%s\n' "$out" | sed 's/^/result: /'
		done
	done
	round=$((round + 1))
done
rm -f "$errf"
echo "bench: done, $failed failed, $(echo "$skipped" | wc -w) mode(s) skipped:${skipped:- none}"
[ "$failed" -eq 0 ]
