#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: host checks, then the selftests in a VM running the corey-debug
# kernel (KASAN, lockdep, kmemleak).  A kernel splat fails the run.  The last
# line is "check: P passed, F failed, S skipped" over both.
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
COREY_PROG=check

"$COREY_TOP/scripts/deps.sh"
log=$(work_dir)/check
mkdir -p "$log"

step "host checks"
host_rc=0
"$COREY_TOP/scripts/host-checks.sh" | tee "$log/host.tap" || host_rc=$?

# A handful of vCPUs is enough to exercise SMP paths; more only slows
# emulation down.
smp=${COREY_CHECK_SMP:-$(host_cpus)}
((smp <= 4)) || smp=4
vm_rc=0 built=0
: >"$log/vm.tap"
step "kernel corey-debug"
series_rc=0
: >"$log/series.tap"
if "$COREY_TOP/scripts/build-kernel.sh" corey-debug; then
	built=1
	step "series checks"
	"$COREY_TOP/scripts/series-checks.sh" | tee "$log/series.tap" || series_rc=$?
	step "selftests in the corey-debug VM ($smp CPUs)"
	"$COREY_TOP/scripts/vm-run.sh" --flavour corey-debug --smp "$smp" \
		--timeout "${COREY_CHECK_TIMEOUT:-1800}" --append "numa=fake=2" \
		-- guest-check.sh | tee "$log/vm.tap" || vm_rc=$?
else
	vm_rc=1
fi

# The runner's own failure detection must be able to fail: a guest exit
# status comes back as ours, and a splat fails a command that succeeded (the
# kernel echoes its command line, so a planted "BUG:" there is a splat the
# scan must catch).
runner_n=0 runner_fail=0
runner_check() {
	local desc=$1 want=$2 rc=0

	shift 2
	runner_n=$((runner_n + 1))
	"$COREY_TOP/scripts/vm-run.sh" --flavour corey-debug --smp 1 --timeout 300 "$@" \
		>"$log/runner-$runner_n.log" 2>&1 || rc=$?
	if ((rc == want)); then
		printf 'ok %d runner: %s\n' "$runner_n" "$desc"
	else
		runner_fail=$((runner_fail + 1))
		printf 'not ok %d runner: %s (exit %d, expected %d)\n' "$runner_n" "$desc" "$rc" "$want"
		sed 's/^/# /' "$log/runner-$runner_n.log" | tail -n 5
	fi
}
# Boot corey-debug with $2 vCPUs under the insncount plugin, run the guest
# command $3, and run make insns' report over the logs in $1.  Returns the
# first failure's status.
insns_run() {
	local d=$1 smp=$2 cmd=$3 rc=0

	rm -rf "$d" && mkdir -p "$d"
	"$COREY_TOP/scripts/vm-run.sh" --flavour corey-debug --smp "$smp" --timeout 300 \
		--insncount --out "$d/vm" -- "$cmd" >"$d/vm.log" 2>&1 || rc=$?
	((rc == 0)) || return "$rc"
	tr -d '\r' <"$d/vm/guest.out" >"$d/corey.guest.log"
	cp "$d/vm/insncount.log" "$d/corey.insncount.log"
	printf 'KERNELS=corey\nSMP=%s\n' "$smp" >"$d/params.txt"
	python3 "$COREY_TOP/scripts/insns_report.py" "$d" >>"$d/vm.log" 2>&1
}

# Print test $runner_n + 1, described as $2 and, if given, $4: ok if $1
# is 0, else not ok with the status and the tail of the log in $3.
insns_result() {
	local rc=$1 desc=$2 d=$3 detail=${4:-}

	if ((rc == 0)); then
		printf 'ok %d insncount: %s%s\n' "$((runner_n + 1))" "$desc" "${detail:+ ($detail)}"
	else
		runner_fail=$((runner_fail + 1))
		printf 'not ok %d insncount: %s (exit %d%s)\n' "$((runner_n + 1))" "$desc" "$rc" "${detail:+, $detail}"
		sed 's/^/# /' "$d/vm.log" | tail -n 5
	fi
	runner_n=$((runner_n + 1))
}

# make insns end to end, small: the plugin loads into this QEMU (its ABI is
# declared by hand), the guest's brackets pair with the plugin's marks, the
# report reads them, and a private share's dup+close was counted.
insns_check() {
	local d=$log/insns rc=0

	insns_run "$d" 1 "/bench/opcount --ops 2000 --rounds 2 getppid dupclose dupclose-share" || rc=$?
	((rc != 0)) || grep -q '^corey,dupclose-share,total_per_op,' "$d/insns.csv" || rc=1
	insns_result "$rc" "opcount brackets counted and reported" "$d"
}

# The same with two vCPUs, counted apart: a kernel core's dup3+close pairs
# must show up on its own vCPU (1), not on the client's.
insns_smp_check() {
	local d=$log/insns-smp rc=0 server='' client=''

	insns_run "$d" 2 "insmod /lib/modules/corey/corey_kcore.ko && /bench/opcount --ops 2000 --rounds 1 dup3close kcore-batch" || rc=$?
	if ((rc == 0)); then
		server=$(awk -F, '$1 == "corey" && $2 == "kcore-batch" && $3 == "1" &&
			$4 == "kernel_per_op" { print $5 }' "$d/insns.csv")
		client=$(awk -F, '$1 == "corey" && $2 == "kcore-batch" && $3 == "0" &&
			$4 == "kernel_per_op" { print $5 }' "$d/insns.csv")
		# The calls run in the kernel on vCPU 1; the client only posts
		# and reaps in user mode on vCPU 0.
		[ -n "$server" ] && [ -n "$client" ] &&
			awk -v s="$server" -v c="$client" 'BEGIN { exit !(s > 100 && s > 2 * c) }' ||
			rc=1
	fi
	insns_result "$rc" "a kernel core counted on its own vCPU" "$d" \
		"kernel instructions per pair: vCPU 0 ${client:-none}, vCPU 1 ${server:-none}"
}
if ((built)); then
	step "runner self-tests"
	runner_check "guest exit status is returned" 3 -- 'exit 3'
	runner_check "a kernel splat fails a successful command" 1 --append "corey.planted=BUG:" -- true
	step "instruction counting"
	insns_check
	insns_smp_check
fi

count() {
	sed -n "s/^$1: .*\b\([0-9][0-9]*\) $2.*/\1/p" "$3" | tail -n 1
}
hp=$(count host passed "$log/host.tap")
hf=$(count host failed "$log/host.tap")
sp=$(count series passed "$log/series.tap")
sf=$(count series failed "$log/series.tap")
if ((built)) && [ -z "$sf" ]; then
	sf=1 # the series checks never reached their summary
fi
vp=$(count selftests passed "$log/vm.tap")
vf=$(count selftests failed "$log/vm.tap")
vs=$(count selftests skipped "$log/vm.tap")
if [ -z "$vp" ] || [ -z "$vf" ]; then
	# The VM never got to its summary (build, boot or runner failure).
	vp=0 vf=1 vs=0
fi
pass=$((${hp:-0} + ${sp:-0} + vp + runner_n - runner_fail))
fail=$((${hf:-1} + ${sf:-0} + vf + runner_fail))
if ((fail == 0)) && ((host_rc != 0 || series_rc != 0 || vm_rc != 0)); then
	fail=1 # e.g. a splat after every test passed
fi
printf 'check: %d passed, %d failed, %d skipped\n' "$pass" "$fail" "${vs:-0}"
((fail == 0))
