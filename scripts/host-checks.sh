#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Checks that need no VM, as TAP: shellcheck on every script, the unit tests
# of the results report, each benchmark's --help, and userlib's host tests
# (libcorey and corey-run against the host's kernel).  The last line is
# "host: P passed, F failed".
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

user=$("$COREY_TOP/scripts/build-user.sh")
n=0 pass=0 fail=0
tap() {
	local desc=$1

	shift
	n=$((n + 1))
	if out=$("$@" 2>&1); then
		pass=$((pass + 1))
		printf 'ok %d %s\n' "$n" "$desc"
	else
		fail=$((fail + 1))
		printf 'not ok %d %s\n' "$n" "$desc"
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
}

help_ok() {
	local out

	out=$("$1" --help) && [ -n "$out" ]
}

cd "$COREY_TOP"
bash_scripts=(scripts/*.sh .ci/run userlib/tests/*.sh)
sh_scripts=(scripts/guest/* selftests/*.sh)
printf 'TAP version 13\n'
tap "shellcheck bash scripts (${#bash_scripts[@]})" shellcheck -x "${bash_scripts[@]}"
tap "shellcheck guest sh scripts (${#sh_scripts[@]})" shellcheck -s sh "${sh_scripts[@]}"
tap "report.py: efficiency, aggregation, per-round pairing" \
	python3 scripts/test_report.py
tap "userlib: make check (libcorey, corey-run, man pages)" userlib_make check
for b in "$user"/bench/*; do
	if [ ! -f "$b" ] || [ ! -x "$b" ]; then continue; fi
	tap "$(basename "$b") --help" help_ok "$b"
done
printf '1..%d\n' "$n"
printf 'host: %d passed, %d failed\n' "$pass" "$fail"
((fail == 0))
