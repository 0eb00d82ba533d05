#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In the VM: bench-matrix.sh CPU_COUNT... runs every benchmark and mode at
# every CPU count and prints each result as "result: <csv>".  BENCHES (a
# space-separated list of name or name:mode) narrows the matrix; ROUNDS
# (default 3) repeats it, interleaved, so that a slow phase of the host
# hits every point alike rather than one of them.
# "bench-matrix.sh --list" prints the matrix, so the host checks BENCHES
# against this one definition.
set -eu
[ $# -gt 0 ] || { echo "usage: bench-matrix.sh --list | CPU_COUNT..." >&2; exit 2; }

MATRIX="dupclose:threads dupclose:processes dupclose:uring
memclone:threads memclone:processes
mempass:threads mempass:processes
pfchurn:threads pfchurn:processes"
if [ "$1" = --list ]; then
	printf '%s\n' "$MATRIX" | tr '\n' ' '
	echo
	exit 0
fi

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
failed=0
round=1
while [ "$round" -le "$rounds" ]; do
	for entry in $MATRIX; do
		bench=${entry%%:*}
		mode=${entry#*:}
		selected "$bench" "$mode" || continue
		for cpus in "$@"; do
			echo "bench: round $round/$rounds: $bench $mode cpus=$cpus"
			if ! out=$("/bench/$bench" --mode "$mode" --cpus "$cpus"); then
				echo "bench: $bench $mode cpus=$cpus FAILED"
				failed=$((failed + 1))
				continue
			fi
			printf '%s\n' "$out" | sed 's/^/result: /'
		done
	done
	round=$((round + 1))
done
[ "$failed" -eq 0 ]
