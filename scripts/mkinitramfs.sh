#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh FLAVOUR: the VM's root filesystem as an uncompressed cpio:
# busybox, our init, the static benchmarks and selftests, and the flavour's
# out-of-tree modules.  Prints the archive's path.
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
require_tree

flavour=${1:-}
[ -n "$flavour" ] || die "usage: mkinitramfs.sh FLAVOUR"
check_flavour "$flavour"

busybox=/bin/busybox
[ -x "$busybox" ] || die "$busybox missing (install busybox-static)"
# A dynamic busybox would need a libc in the initramfs.
if readelf -l "$busybox" | grep -q 'Requesting program interpreter'; then
	die "$busybox is dynamically linked (install busybox-static)"
fi

user=$("$COREY_TOP/scripts/build-user.sh")
root=$(work_dir)/initramfs/$flavour
archive=$root.cpio
rm -rf "$root"
mkdir -p "$root"/{bin,dev,etc/corey,proc,sys,tmp,bench,selftests,lib/modules/corey}
cp "$busybox" "$root/bin/busybox"
install -m 755 "$COREY_TOP/scripts/guest/init" "$root/init"
install -m 755 "$COREY_TOP"/scripts/guest/*.sh "$root/bin/" 2>/dev/null || true
# Only the programs: build directories also hold objects and archives.
find "$user/bench" "$user/selftests" -maxdepth 1 -type f -perm -u+x |
	while read -r prog; do
		cp "$prog" "$root/$(basename "$(dirname "$prog")")/"
	done
if [ "$flavour" != stock ]; then
	find "$(work_dir)/modules/$flavour/src" -name '*.ko' \
		-exec cp {} "$root/lib/modules/corey/" \; 2>/dev/null || true
fi
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) >"$archive.tmp"
mv "$archive.tmp" "$archive"
printf '%s\n' "$archive"
