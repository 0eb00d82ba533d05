#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make clean: remove this checkout's outputs in the cache (initramfs, user
# programs, VM logs).  Kernel trees and builds are shared and kept.
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

dir=$(work_dir)
case "$dir" in
"$COREY_CACHE"/work/?*) rm -rf "$dir" ;;
*) die "refusing to remove unexpected path '$dir'" ;;
esac
