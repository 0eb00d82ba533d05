#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# plot.sh RESULTS_DIR: one PNG per benchmark and summary.md from results.csv.
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

dir=${1:-}
[ -n "$dir" ] || die "usage: plot.sh RESULTS_DIR"
[ -r "$dir/results.csv" ] || die "$dir/results.csv not found (run 'make bench' first)"
command -v gnuplot >/dev/null || die "gnuplot missing (run 'make deps')"
python3 "$COREY_TOP/scripts/report.py" "$dir"
