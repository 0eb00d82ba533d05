#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Checks that need no VM, as TAP: shellcheck on every script, the unit tests
# of the results reports (report.py, insns_report.py), each benchmark's
# --help, and userlib's host tests (libcorey and corey-run against the
# host's kernel).  The last line is "host: P passed, F failed".
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

user=$("$COREY_TOP/scripts/build-user.sh")
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
tap "insns_report.py: mark pairing, profile attribution, ratios" \
	python3 scripts/test_insns_report.py
tap "userlib: make check (libcorey, corey-run, man pages)" userlib_make check
for b in "$user"/bench/*; do
	if [ ! -f "$b" ] || [ ! -x "$b" ]; then continue; fi
	tap "$(basename "$b") --help" help_ok "$b"
done
printf '1..%d\n' "$TAP_N"
printf 'host: %d passed, %d failed\n' "$TAP_PASS" "$TAP_FAIL"
((TAP_FAIL == 0))
