#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In the VM: run the selftests, then ask kmemleak (when the kernel has it)
# for a scan so leaks show up on the console, where vm-run.sh looks for them.
rc=0
/selftests/run_tests.sh /selftests || rc=$?
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	# The second scan reports what the first one found unreferenced.
	echo scan >/sys/kernel/debug/kmemleak
fi
exit "$rc"
