#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In the VM: run the selftests, then ask kmemleak (when the kernel has it)
# for a scan so leaks show up on the console, where vm-run.sh looks for them.
rc=0
# Kernel cores: load the module when the flavour ships it (stock does not).
# Quietly: a failure shows up in the kcore_* tests, which load it
# themselves when the device is missing and fail if that fails.
kcore_ko=/lib/modules/corey/corey_kcore.ko
if [ ! -e /dev/corey_kcore ] && [ -r "$kcore_ko" ]; then
	insmod "$kcore_ko" >/dev/null 2>&1 || true
fi
# Every shmem page huge where THP exists (the debug flavour): the tests then
# also run over huge tmpfs and memfd mappings, the case most likely to
# touch a page table another mm shares.
shmem_thp=/sys/kernel/mm/transparent_hugepage/shmem_enabled
if [ -w "$shmem_thp" ]; then
	echo force >"$shmem_thp"
	echo "guest-check: shmem THP: $(cat "$shmem_thp")"
fi
/selftests/run_tests.sh /selftests || rc=$?
leaks=/sys/kernel/debug/kmemleak
if [ -w "$leaks" ]; then
	# kmemleak ignores objects younger than 5 s and reports an object on
	# the scan after the one that first found it unreferenced.
	sleep 6
	echo scan >"$leaks"
	echo scan >"$leaks"
	if [ -s "$leaks" ]; then
		echo "kmemleak: suspected leaks:"
		cat "$leaks"
		rc=1
	fi
fi
exit "$rc"
