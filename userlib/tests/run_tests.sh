#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The host tests of libcorey and corey-run, as TAP; the exit status is 0
# only if all passed.  Run by `make check`, which builds everything, stages
# an install and passes, in the environment:
#   COREY_SRC          userlib's source directory
#   COREY_OUT          the build directory (O=)
#   COREY_STAGE        the DESTDIR the install was staged in
#   COREY_BINDIR, COREY_LIBDIR, COREY_INCLUDEDIR, COREY_MANDIR,
#   COREY_PKGLIBDIR, COREY_PKGCONFIGDIR
#                      the install directories the build was configured with
#   CC                 the compiler
# The tests adapt to the kernel: without descriptor shares every call must
# fail with ENOSYS and corey-run must refuse (or warn, with --allow-missing);
# with them, threads run by corey-run must get tagged descriptors.  Without
# /dev/corey_kcore (the host, normally) the kernel-core cases that need it
# are skipped; so are the address-range cases without
# CONFIG_COREY_ADDR_RANGE, while cfork's run on every kernel.
set -euo pipefail

: "${COREY_SRC:?}" "${COREY_OUT:?}" "${COREY_STAGE:?}" "${COREY_BINDIR:?}"
: "${COREY_LIBDIR:?}" "${COREY_INCLUDEDIR:?}" "${COREY_PKGLIBDIR:?}"
: "${COREY_MANDIR:?}" "${COREY_PKGCONFIGDIR:?}"
CC=${CC:-cc}
# What the caller's environment says must not steer corey-run here.
unset COREY_RUN_PRELOAD COREY_RUN_MAIN

api_test=$COREY_OUT/tests/api_test
ar_test=$COREY_OUT/tests/ar_test
kcore_test=$COREY_OUT/tests/kcore_test
thread_fds=$COREY_OUT/tests/thread_fds
corey_run=$COREY_OUT/corey-run
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
missing_re='no descriptor shares \(CONFIG_COREY_SHARES\); apply the Corey series'

n=0 failed=0
# tap DESCRIPTION COMMAND...: one TAP line; the output of a failure as
# diagnostics.  Exit status 4 (kselftest's) is a skip, its output's first
# line the reason.
tap() {
	local desc=$1 out rc=0

	shift
	n=$((n + 1))
	out=$("$@" 2>&1) || rc=$?
	if ((rc == 0)); then
		printf 'ok %d %s\n' "$n" "$desc"
	elif ((rc == 4)); then
		printf 'ok %d %s # SKIP %s\n' "$n" "$desc" "${out%%$'\n'*}"
	else
		failed=$((failed + 1))
		printf 'not ok %d %s\n' "$n" "$desc"
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
}

# run_captured STATUS COMMAND...: run it with stdout and stderr in
# $scratch/out and $scratch/err; fail unless it exits with STATUS.
run_captured() {
	local want=$1 rc=0

	shift
	"$@" >"$scratch/out" 2>"$scratch/err" || rc=$?
	if ((rc != want)); then
		echo "exit status $rc, expected $want: $*"
		sed 's/^/stdout: /' "$scratch/out"
		sed 's/^/stderr: /' "$scratch/err"
		return 1
	fi
}

# expect_lines FILE PATTERN COUNT: exactly COUNT lines of FILE match.
expect_lines() {
	local got

	got=$(grep -c -E -e "$2" "$1" || true)
	if ((got != $3)); then
		echo "$got lines of $(basename "$1") match '$2', expected $3:"
		cat "$1"
		return 1
	fi
}

help_works() {
	run_captured 0 "$corey_run" --help &&
		expect_lines "$scratch/out" '^Usage: corey-run ' 1 &&
		expect_lines "$scratch/out" 'select|FD_SET' 1
}

no_program_is_usage_error() {
	run_captured 125 "$corey_run" &&
		expect_lines "$scratch/err" 'no program to run' 1
}

refuses_without_shares() {
	run_captured 125 "$corey_run" "$thread_fds" &&
		expect_lines "$scratch/err" "^corey-run: this kernel has $missing_re\$" 1 &&
		expect_lines "$scratch/out" . 0
}

# allow_missing_warns_once API WHO [corey-run options]: the hook ran (it
# warned) exactly once, naming WHO, and the program worked on share 0.
allow_missing_warns_once() {
	local api=$1 who=$2

	shift 2
	run_captured 0 "$corey_run" --allow-missing "$@" "$thread_fds" \
		--threads 6 --api "$api" --expect-threads untagged \
		--expect-main untagged &&
		expect_lines "$scratch/err" "^corey-run: warning: $who could not get a private descriptor share and runs on share 0 .*$missing_re" 1 &&
		expect_lines "$scratch/err" . 1
}

# threads_tagged API MAIN [corey-run options]: with shares, every thread's
# descriptors are tagged, the main thread's as MAIN says, no warning.
threads_tagged() {
	local api=$1 main=$2

	shift 2
	run_captured 0 "$corey_run" "$@" "$thread_fds" --threads 6 --api "$api" \
		--expect-threads tagged --expect-main "$main" &&
		expect_lines "$scratch/err" . 0
}

bad_preload_is_named() {
	COREY_RUN_PRELOAD=$scratch/nonexistent.so run_captured 125 \
		"$corey_run" --allow-missing true &&
		expect_lines "$scratch/err" "COREY_RUN_PRELOAD=$scratch/nonexistent.so: No such file" 1
}

missing_program_is_127() {
	run_captured 127 "$corey_run" --allow-missing "$scratch/no-such-program"
}

# The installed corey-run finds the installed preload relative to itself.
installed_finds_preload() {
	run_captured 0 "$COREY_STAGE$COREY_BINDIR/corey-run" --allow-missing \
		"$thread_fds" &&
		expect_lines "$scratch/out" '^thread_fds: ' 1
}

# exports FILE SYMBOL...: FILE's dynamic symbol table defines exactly these.
exports() {
	local file=$1 got want

	shift
	got=$(nm -D --defined-only "$file" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort)
	want=$(printf '%s\n' "$@" | sort)
	if [ "$got" != "$want" ]; then
		printf 'exported:\n%s\nexpected:\n%s\n' "$got" "$want"
		return 1
	fi
}

soname_is() {
	readelf -d "$1" | grep -F "Library soname: [$2]"
}

# pkg-config restricted to the staged install, its paths under the stage.
staged_pkg_config() {
	PKG_CONFIG_LIBDIR=$COREY_STAGE$COREY_PKGCONFIGDIR PKG_CONFIG_PATH='' \
		PKG_CONFIG_SYSROOT_DIR=$COREY_STAGE pkg-config "$@"
}

pkg_config_resolves() {
	local flags

	flags=$(staged_pkg_config --cflags --libs corey) || return 1
	echo "pkg-config: $flags"
	# The uapi header's directory is always there; ours only if not a
	# directory the compiler searches anyway.
	[[ " $flags " == *" -I$COREY_STAGE$COREY_INCLUDEDIR/corey/uapi "* ]] &&
		[[ " $flags " == *" -lcorey "* ]] &&
		[ "$(staged_pkg_config --modversion corey)" = 0.3.0 ]
}

# link_with_pkg_config static|dynamic
link_with_pkg_config() {
	local kind=$1 prog=$scratch/link_test_$1 cflags libs

	cflags=$(staged_pkg_config --cflags corey) || return 1
	if [ "$kind" = static ]; then
		libs=$(staged_pkg_config --libs --static corey) || return 1
		# shellcheck disable=SC2086 # pkg-config output is word lists
		"$CC" -static $cflags -o "$prog" "$COREY_SRC/tests/link_test.c" $libs || return 1
		if readelf -l "$prog" | grep -q 'program interpreter'; then
			echo "$prog is not static"
			return 1
		fi
		run_captured 0 "$prog"
	else
		libs=$(staged_pkg_config --libs corey) || return 1
		# shellcheck disable=SC2086
		"$CC" $cflags -o "$prog" "$COREY_SRC/tests/link_test.c" $libs || return 1
		readelf -d "$prog" | grep -qF 'Shared library: [libcorey.so.0]' || {
			echo "$prog does not need libcorey.so.0"
			return 1
		}
		LD_LIBRARY_PATH=$COREY_STAGE$COREY_LIBDIR run_captured 0 "$prog"
	fi && expect_lines "$scratch/out" '^link_test: ' 1
}

# groff is what man(1) runs; -ww shows every warning.  Run from the
# directory above man1/ and man3/ as man does, for the .so links.
man_page_clean() {
	local warnings

	warnings=$(cd "$COREY_SRC/man" && groff -man -ww -z -Tutf8 "$1" 2>&1 >/dev/null)
	if [ -n "$warnings" ]; then
		printf '%s\n' "$warnings"
		return 1
	fi
}

api=(corey_share_create corey_share_destroy corey_share_addobj
	corey_share_addobj_at corey_share_delobj corey_set_alloc_share
	corey_get_alloc_share corey_shares_supported corey_strerror corey_perror
	corey_kcore_open corey_kcore_close corey_kcore_tid corey_kcore_supported
	corey_kcore_attach corey_kcore_detach corey_kcore_set_wait
	corey_kcore_submit corey_kcore_reap corey_kcore_syscall
	corey_ar_create corey_ar_map corey_ar_unmap corey_ar_supported
	corey_cfork corey_cwait)

# ... in the source and in the staged install.
every_call_has_a_page() {
	local f dir rc=0

	for f in "${api[@]}"; do
		for dir in "$COREY_SRC/man" "$COREY_STAGE$COREY_MANDIR"; do
			[ -f "$dir/man3/$f.3" ] || { echo "no $dir/man3/$f.3"; rc=1; }
		done
	done
	[ -f "$COREY_STAGE$COREY_MANDIR/man1/corey-run.1" ] || { echo "corey-run.1 not installed"; rc=1; }
	return "$rc"
}

printf 'TAP version 13\n'
if "$api_test" --supported; then
	shares=1
	printf '# kernel %s has descriptor shares\n' "$(uname -r)"
else
	shares=0
	printf '# kernel %s has no descriptor shares: expecting ENOSYS\n' "$(uname -r)"
fi
for c in $("$api_test" --list); do
	tap "libcorey: $c" "$api_test" "$c"
done
if "$kcore_test" --supported; then
	printf '# %s is there: kernel-core round trips\n' /dev/corey_kcore
else
	printf '# no %s: kernel-core cases that need it are skipped\n' /dev/corey_kcore
fi
for c in $("$kcore_test" --list); do
	tap "libcorey kernel cores: $c" "$kcore_test" "$c"
done
tap "libcorey: the record of address-range mappings, against a model" \
	"$COREY_OUT/tests/ar_registry_test"
if "$ar_test" --supported; then
	printf '# kernel %s has address ranges\n' "$(uname -r)"
else
	printf '# kernel %s has no address ranges: their cases are skipped\n' "$(uname -r)"
fi
for c in $("$ar_test" --list); do
	tap "libcorey address ranges and cfork: $c" "$ar_test" "$c"
done
tap "libcorey.so exports the API and nothing else" exports \
	"$COREY_OUT/libcorey.so" "${api[@]}"
tap "libcorey.so's soname is libcorey.so.0" soname_is "$COREY_OUT/libcorey.so" libcorey.so.0
tap "libcorey-run.so exports only the thread hooks" exports \
	"$COREY_OUT/libcorey-run.so" pthread_create thrd_create
tap "corey-run --help" help_works
tap "corey-run without a program: usage error (125)" no_program_is_usage_error
if ((shares)); then
	tap "corey-run: pthread threads get private shares" threads_tagged pthread untagged
	tap "corey-run: C11 threads get private shares" threads_tagged thrd untagged
	tap "corey-run --main: the main thread too" threads_tagged both tagged --main
else
	tap "corey-run without shares: refuses, naming the feature" refuses_without_shares
	tap "corey-run --allow-missing: pthread hook falls back with one warning" \
		allow_missing_warns_once pthread "a thread"
	tap "corey-run --allow-missing: C11 thread hook falls back with one warning" \
		allow_missing_warns_once thrd "a thread"
	tap "corey-run --allow-missing --main: one warning, for the main thread" \
		allow_missing_warns_once both "the main thread" --main
fi
tap "corey-run: a bad COREY_RUN_PRELOAD is named (125)" bad_preload_is_named
tap "corey-run: a missing program exits 127" missing_program_is_127
if [ "$COREY_PKGLIBDIR" = "$(dirname "$COREY_BINDIR")/lib/corey" ]; then
	tap "installed corey-run finds its library" installed_finds_preload
else
	n=$((n + 1))
	printf 'ok %d installed corey-run finds its library # SKIP PKGLIBDIR is not BINDIR/../lib/corey\n' "$n"
fi
tap "pkg-config --cflags --libs corey (staged install)" pkg_config_resolves
tap "a program links dynamically with pkg-config" link_with_pkg_config dynamic
tap "a program links statically with pkg-config" link_with_pkg_config static
tap "every call has a man page" every_call_has_a_page
for page in "$COREY_SRC"/man/man[0-9]/*.[0-9]; do
	rel=${page#"$COREY_SRC/man/"}
	tap "man page $rel: no groff warnings" man_page_clean "$rel"
done
printf '1..%d\n' "$n"
printf 'userlib: %d passed, %d failed\n' "$((n - failed))" "$failed"
((failed == 0))
