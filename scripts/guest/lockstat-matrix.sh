#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In a corey-debug VM: lockstat-matrix.sh CPU_COUNT... runs dupclose in each
# mode of LOCKSTAT_MODES (default: threads processes uring shares corey-run
# kcore kcore-batch)
# once under lock_stat and prints, per mode and CPU count,
#   result: dupclose,MODE,N,file_lock_bounces_per_op,VALUE,0
#   result: dupclose,MODE,N,bounces_per_op:CLASS,VALUE,0
# the second for every lock class with any bounce in that run, largest
# first.  A bounce (lock_stat's acq-bounces) is an acquisition of a lock
# instance last taken on another CPU: the machine-independent cost of
# sharing a descriptor table, like the paper's L3 misses per dup+close.
# The spread is 0: each figure is one run's count.
#
# Per op means per dup+close pair, over the whole run: dupclose --ops-file
# gives the pairs done while lock_stat was on.  lock_stat sums bounces per
# class over all instances of the class, but decides "bounced" per
# instance (the CPU that last took that lock), so one class shared by many
# tables still gives a real figure: private shares' tables are instances
# of share 0's class (&newf->file_lock), and 0 bounces for them means no
# table was touched by two CPUs.  Classes ending in file_lock are summed
# into file_lock_bounces_per_op; every class is also reported on its own,
# so a lock other than the tables' (the share registry's, a file's
# reference, the scheduler's) that bounces per operation shows up too.
#
# A mode that needs a kernel feature this kernel lacks (dupclose exit 4) is
# skipped: "skip: dupclose,MODE,reason" once, as bench-matrix.sh does.
# The kernel-core modes need corey_kcore: it is loaded first when it is in
# the initramfs and not loaded yet.
set -eu
[ $# -gt 0 ] || { echo "usage: lockstat-matrix.sh CPU_COUNT..." >&2; exit 2; }
[ -w /proc/sys/kernel/lock_stat ] ||
	{ echo "lockstat-matrix: this kernel has no lock_stat (use corey-debug)" >&2; exit 1; }

EXIT_UNSUPPORTED=4
dir=${BENCH_DIR:-/bench}
ops_file=/tmp/lockstat-matrix.$$.ops
errf=/tmp/lockstat-matrix.$$.err
failed=0

# lockstat_rows MODE CPUS OPS: the result lines from /proc/lock_stat.
lockstat_rows() {
	# Class lines end in 12 numbers: con-bounces, contentions and 4 wait
	# times, acq-bounces, acquisitions and 4 hold times.  Names may hold
	# spaces, so they are taken from the left of those 12 fields; commas
	# would split the CSV field, so they become semicolons.
	awk -v mode="$1" -v cpus="$2" -v ops="$3" '
		NF >= 13 && $(NF - 12) ~ /:$/ && $(NF - 5) ~ /^[0-9]+$/ {
			name = $1
			for (i = 2; i <= NF - 12; i++)
				name = name " " $i
			sub(/:$/, "", name)
			gsub(/,/, ";", name)
			if (name ~ /file_lock$/) {
				fl_bounces += $(NF - 5)
				fl_acq += $(NF - 4)
			}
			if ($(NF - 5) > 0)
				bounces[name] += $(NF - 5)
		}
		END {
			if (fl_acq == 0) {
				print "lockstat-matrix: no file_lock acquisitions recorded" > "/dev/stderr"
				exit 1
			}
			printf "result: dupclose,%s,%s,file_lock_bounces_per_op,%.6f,0\n",
				mode, cpus, fl_bounces / ops
			for (name in bounces)
				printf "result: dupclose,%s,%s,bounces_per_op:%s,%.6f,0\n",
					mode, cpus, name, bounces[name] / ops | "sort -t, -k5,5nr"
		}' /proc/lock_stat
}

modes=${LOCKSTAT_MODES:-threads processes uring shares corey-run kcore kcore-batch}
kcore_module=/lib/modules/corey/corey_kcore.ko
case " $modes " in
*kcore*)
	if [ -e "$kcore_module" ] && [ ! -e /dev/corey_kcore ]; then
		insmod "$kcore_module" ||
			echo "lockstat-matrix: insmod $kcore_module failed; kcore modes will skip or fail"
	fi
	;;
esac

for mode in $modes; do
	for cpus in "$@"; do
		echo 0 >/proc/lock_stat
		echo 1 >/proc/sys/kernel/lock_stat
		rc=0
		"$dir/dupclose" --mode "$mode" --cpus "$cpus" --intervals 3 \
			--interval-ms 300 --warmup-ms 100 --ops-file "$ops_file" \
			>/dev/null 2>"$errf" || rc=$?
		echo 0 >/proc/sys/kernel/lock_stat
		cat "$errf" >&2
		if [ "$rc" -eq "$EXIT_UNSUPPORTED" ]; then
			why=$(head -n 1 "$errf" | tr ',' ';')
			why=${why#dupclose: }
			echo "lockstat-matrix: dupclose $mode SKIPPED on this kernel: $why"
			echo "skip: dupclose,$mode,$why"
			break
		fi
		if [ "$rc" -ne 0 ]; then
			echo "lockstat-matrix: dupclose $mode cpus=$cpus FAILED (exit $rc)"
			failed=$((failed + 1))
			continue
		fi
		ops=$(cat "$ops_file")
		echo "lockstat-matrix: dupclose $mode cpus=$cpus: $ops dup+close pairs under lock_stat"
		if [ "$ops" -le 0 ]; then
			echo "lockstat-matrix: dupclose $mode cpus=$cpus did no operations"
			failed=$((failed + 1))
			continue
		fi
		lockstat_rows "$mode" "$cpus" "$ops" || failed=$((failed + 1))
	done
done
rm -f "$ops_file" "$errf"
[ "$failed" -eq 0 ]
