#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run every executable *_test in DIR (default: this script's directory), in
# sorted order, and report them as one TAP 13 stream.  Each test's own TAP
# output is nested as "# " comment lines, as the kernel's kselftest runner
# does.  The last line is a plain summary; the exit status is 0 iff no test
# failed.
#
# Usage: run_tests.sh [DIR]
# Environment: SELFTEST_TIMEOUT  seconds each test may run (default 300)
#
# Runs under busybox ash in the test VM: POSIX sh only.

set -eu
# Where the shell has pipefail (busybox ash, bash, dash >= 0.5.11) use it;
# the test statuses below do not depend on it.
# shellcheck disable=SC3040
if (set -o pipefail) 2>/dev/null; then
	set -o pipefail
fi

prog=${0##*/}
timeout_s=${SELFTEST_TIMEOUT:-300}
# kselftest's convention: a test that cannot run here exits 4.
KSFT_SKIP=4

if [ $# -gt 1 ]; then
	echo "usage: $prog [DIR]" >&2
	exit 1
fi
case $0 in
*/*) script_dir=${0%/*} ;;
*) script_dir=. ;;
esac
dir=${1:-$script_dir}
if ! cd -- "$dir" 2>/dev/null; then
	echo "$prog: cannot enter test directory $dir" >&2
	exit 1
fi

# Collect the tests first: TAP wants the plan before the first result.
set --
for test in ./*_test; do
	if [ -f "$test" ] && [ -x "$test" ]; then
		set -- "$@" "$test"
	fi
done
if [ $# -eq 0 ]; then
	echo "$prog: no executable *_test files in $dir" >&2
	exit 1
fi

if command -v timeout >/dev/null 2>&1; then
	have_timeout=1
else
	have_timeout=
	echo "# $prog: no timeout command, tests run without a time limit"
fi

run_test()
{
	if [ -n "$have_timeout" ]; then
		timeout "$timeout_s" "$1"
	else
		"$1"
	fi
}

# Print the test's output prefixed with "# " as it comes, and print its exit
# status on our stdout (fd 3 here), so the caller can capture the status
# alone while the output streams through fd 4.  The test gets neither fd 3
# nor fd 4, so nothing it leaves behind can hold the capture open.
run_prefixed()
{
	{
		status=0
		run_test "$1" 2>&1 3>&- 4>&- || status=$?
		echo "$status" >&3
	} | sed 's/^/# /' >&4
}

echo "TAP version 13"
echo "1..$#"
exec 4>&1
n=0
passed=0
failed=0
skipped=0
for test in "$@"; do
	n=$((n + 1))
	name=${test#./}
	echo "# selftests: $name"
	rc=$(run_prefixed "$test" 3>&1)
	case $rc in
	0)
		echo "ok $n selftests: $name"
		passed=$((passed + 1))
		;;
	"$KSFT_SKIP")
		echo "ok $n selftests: $name # SKIP"
		skipped=$((skipped + 1))
		;;
	*)
		# GNU timeout exits 124, busybox timeout 128 + SIGTERM.
		if [ -n "$have_timeout" ] && { [ "$rc" = 124 ] || [ "$rc" = 143 ]; }; then
			echo "# $name: killed, probably by the ${timeout_s}s timeout"
		fi
		echo "not ok $n selftests: $name # exit=$rc"
		failed=$((failed + 1))
		;;
	esac
done
exec 4>&-

echo "selftests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
