#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: build the stock and corey kernels, run the benchmark matrix in
# a VM of each at every CPU count in CPUS (default 1 up to the host's CPUs),
# and write results/<time>/ (results.csv, one plot per benchmark,
# summary.md), pointed to by results/latest.
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
COREY_PROG=bench

"$COREY_TOP/scripts/deps.sh"
max_cpus=$(host_cpus)
cpus=${CPUS:-$(seq -s ' ' 1 "$max_cpus")}
top=0
for c in $cpus; do
	[[ $c =~ ^[1-9][0-9]*$ ]] || die "CPUS value '$c' is not a positive integer"
	((c <= max_cpus)) || [ "${COREY_ALLOW_OVERCOMMIT:-0}" = 1 ] ||
		die "CPUS value $c is beyond the $max_cpus CPUs the VM can have on this host"
	((c > top)) && top=$c
done
((top > 0)) || die "CPUS is empty"
matrix=$(sh "$COREY_TOP/scripts/guest/bench-matrix.sh" --list)
for want in ${BENCHES:-}; do
	found=0
	for entry in $matrix; do
		case "$want" in
		"${entry%%:*}" | "$entry") found=1 ;;
		esac
	done
	((found)) || die "BENCHES: '$want' is not in the matrix ($matrix)"
done
kernels=$(measured_kernels)

# LOCKSTAT=1: also count lock bounces per dup+close on corey-debug, which
# has lock_stat (a machine-independent figure, unlike times).  The dupclose
# modes are those BENCHES selects, all of lockstat-matrix.sh's by default.
lockstat=${LOCKSTAT:-0}
case "$lockstat" in
0 | 1) ;;
*) die "LOCKSTAT '$lockstat' must be 0 or 1" ;;
esac
lockstat_modes=
for want in ${BENCHES:-}; do
	case "$want" in
	dupclose) lockstat_modes= && break ;;
	dupclose:*) lockstat_modes+=" ${want#dupclose:}" ;;
	esac
done
builds=$kernels
((lockstat)) && builds+=" corey-debug"
for k in $builds; do
	step "kernel $k"
	"$COREY_TOP/scripts/build-kernel.sh" "$k"
done

stamp=$(date -u +%Y%m%dT%H%M%SZ)
res=$COREY_TOP/results/$stamp
mkdir -p "$res"
rounds=${ROUNDS:-3}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "ROUNDS '$rounds' is not a positive integer"
# Comparing two kernels means comparing two boots: alternate them, BOOTS
# times each, so that a slow phase of the host does not favour one kernel.
boots=${BOOTS:-1}
[[ $boots =~ ^[1-9][0-9]*$ ]] || die "BOOTS '$boots' is not a positive integer"
csv=$res/results.csv
raw=$res/rounds.csv
skips=$res/skipped.csv
echo 'kernel,benchmark,mode,cpus,metric,value,spread' >"$raw"
echo 'kernel,benchmark,mode,reason' >"$skips"

# in_vm FLAVOUR LABEL LOG COMMAND: run a guest command, keep its output in
# LOG and append its "result: " lines to rounds.csv and its "skip: " lines
# (modes the kernel lacks a feature for) to skipped.csv, as kernel LABEL.
in_vm() {
	local flavour=$1 label=$2 log=$3 rc=0

	"$COREY_TOP/scripts/vm-run.sh" --flavour "$flavour" --smp "$top" \
		--timeout "${COREY_BENCH_TIMEOUT:-5400}" --out "$(work_dir)/runs/bench-$label" \
		-- "$4" | tee "$log" || rc=$?
	sed -n "s/^result: /$label,/p" "$log" >>"$raw"
	sed -n "s/^skip: /$label,/p" "$log" | sort -u >>"$skips"
	((rc == 0)) || die "$flavour: '$4' failed (exit $rc); partial results in $res"
}
for ((boot = 1; boot <= boots; boot++)); do
	for k in $kernels; do
		step "benchmarks on $k, boot $boot/$boots, CPUS=\"$cpus\", $rounds round(s)"
		in_vm "$k" "$k" "$res/$k.boot$boot.log" \
			"BENCHES='${BENCHES:-}' ROUNDS=$rounds bench-matrix.sh $cpus"
	done
done
if ((lockstat)); then
	step "lock bounces per dup+close on corey-debug, CPUS=\"$cpus\""
	cmd="lockstat-matrix.sh $cpus"
	[ -n "$lockstat_modes" ] && cmd="LOCKSTAT_MODES='${lockstat_modes# }' $cmd"
	in_vm corey-debug corey-debug "$res/corey-debug.lockstat.log" "$cmd"
fi
# Modes a kernel lacks a feature for are skipped, not failed: say which.
while IFS=, read -r k b m why; do
	step "skipped on $k: $b $m ($why)"
done < <(tail -n +2 "$skips" | sort -u)
python3 "$COREY_TOP/scripts/report.py" --aggregate "$raw" "$csv"
"$COREY_TOP/scripts/plot.sh" "$res"
ln -sfn "$stamp" "$COREY_TOP/results/latest"
step "results: results/latest/ ($(($(wc -l <"$csv") - 1)) rows)"
