#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh FLAVOUR: the VM's root filesystem as an uncompressed cpio:
# busybox, our init, the static benchmarks and selftests, the flavour's
# out-of-tree modules, and corey-run: /bin/corey-run, its library and
# userlib's test programs (thread_fds, api_test) in /usr/lib/corey, and the
# dynamic loader with the shared libraries that every dynamically linked
# program here needs (so that `corey-run /bench/<dynamic build>` works
# too).  Prints the archive's path.
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

# The dynamic loader and the shared libraries of every dynamically linked
# file under ROOT, each copied to its host path: that is where ldd found
# it, and where ld.so looks in a root without /etc/ld.so.cache.  Static
# files have no NEEDED entry and are skipped.
copy_shared_libraries() {
	local root=$1 file dynamic needed libs lib

	libs=$(find "$root" -type f | LC_ALL=C sort | while read -r file; do
		dynamic=$(readelf -d "$file" 2>/dev/null) || continue
		[[ $dynamic == *'(NEEDED)'* ]] || continue
		needed=$(ldd "$file") || die "ldd $file failed"
		if grep 'not found' <<<"$needed" >&2; then
			die "$file: shared libraries missing on the host"
		fi
		printf '%s\n' "$needed"
	done)
	# "name => /path (addr)" for libraries, "/path (addr)" for the loader;
	# the vDSO has no path.
	awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' \
		<<<"$libs" | LC_ALL=C sort -u | while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

user=$("$COREY_TOP/scripts/build-user.sh")
root=$(work_dir)/initramfs/$flavour
archive=$root.cpio
rm -rf "$root"
mkdir -p "$root"/{bin,dev,etc/corey,proc,sys,tmp,bench,selftests,lib/modules/corey,usr/lib/corey}
cp "$busybox" "$root/bin/busybox"
install -m 755 "$COREY_TOP/scripts/guest/init" "$root/init"
install -m 755 "$COREY_TOP"/scripts/guest/*.sh "$root/bin/" 2>/dev/null || true
# Only the programs: build directories also hold objects and archives.
find "$user/bench" "$user/selftests" -maxdepth 1 -type f -perm -u+x |
	while read -r prog; do
		cp "$prog" "$root/$(basename "$(dirname "$prog")")/"
	done
install -m 755 "$user/userlib/corey-run" "$root/bin/corey-run"
install -m 755 "$user/userlib/libcorey-run.so" "$user/userlib/tests/thread_fds" \
	"$root/usr/lib/corey/"
install -m 755 "$user/userlib/tests/api_test-static" "$root/usr/lib/corey/api_test"
install -m 755 "$user/userlib/tests/kcore_test-static" "$root/usr/lib/corey/kcore_test"
install -m 755 "$user/userlib/tests/ar_test-static" "$root/usr/lib/corey/ar_test"
copy_shared_libraries "$root"
if [ "$flavour" != stock ]; then
	find "$(work_dir)/modules/$flavour/src" -name '*.ko' \
		-exec cp {} "$root/lib/modules/corey/" \; 2>/dev/null || true
fi
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) >"$archive.tmp"
mv "$archive.tmp" "$archive"
printf '%s\n' "$archive"
