#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In a corey-debug VM: lockstat-matrix.sh CPU_COUNT... runs dupclose in each
# mode under lock_stat and prints "result: dupclose,MODE,N,
# file_lock_bounces_per_op,VALUE,0".  A bounce is an acquisition of a lock
# instance last taken on another CPU: the machine-independent cost of
# sharing a descriptor table, like the paper's L3 misses per dup+close.
# dup and close each take the table's file_lock once, so an operation is
# two acquisitions; every lock class named *file_lock counts.
set -eu
[ $# -gt 0 ] || { echo "usage: lockstat-matrix.sh CPU_COUNT..." >&2; exit 2; }
[ -w /proc/sys/kernel/lock_stat ] ||
	{ echo "lockstat-matrix: this kernel has no lock_stat (use corey-debug)" >&2; exit 1; }

for mode in ${LOCKSTAT_MODES:-threads processes}; do
	for cpus in "$@"; do
		echo 0 >/proc/lock_stat
		echo 1 >/proc/sys/kernel/lock_stat
		/bench/dupclose --mode "$mode" --cpus "$cpus" \
			--intervals 3 --interval-ms 300 --warmup-ms 100 >/dev/null
		echo 0 >/proc/sys/kernel/lock_stat
		# Class lines: "name: con-bounces contentions 4 x waittime
		# acq-bounces acquisitions 4 x holdtime".
		awk -v mode="$mode" -v cpus="$cpus" '
			$1 ~ /file_lock:$/ { bounces += $8; acq += $9 }
			END {
				if (acq == 0) { print "lockstat-matrix: no file_lock acquisitions" > "/dev/stderr"; exit 1 }
				printf "result: dupclose,%s,%s,file_lock_bounces_per_op,%.4f,0\n",
					mode, cpus, bounces / (acq / 2)
			}' /proc/lock_stat
	done
done
