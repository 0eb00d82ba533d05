# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared helpers for the Corey scripts: where things live, how we report
# progress and how we fail.  Sourced, never executed.

COREY_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# Absolute: kbuild resolves a relative O= inside the kernel tree.
COREY_CACHE=$(realpath -m "${COREY_CACHE:-$HOME/.cache/corey}")
COREY_PROG=${COREY_PROG:-$(basename "$0" .sh)}
COREY_START=${COREY_START:-$(date +%s)}
COREY_FLAVOURS="stock corey corey-debug"
# Debian's tarball of 6.12.y; KSRC overrides it with any 6.12.y tree.
COREY_DEB_TARBALL=${COREY_DEB_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
export COREY_CACHE COREY_START
# The cache's git repositories are the scripts' own: a user's signing,
# hooks or diff settings must not change what is committed or exported.
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
# No automatic gc: it would run detached after the first big commit, slow
# the builds, and hold the cache lock (fd 9) it inherits.
export GIT_CONFIG_COUNT=2
export GIT_CONFIG_KEY_0=gc.auto GIT_CONFIG_VALUE_0=0
export GIT_CONFIG_KEY_1=maintenance.auto GIT_CONFIG_VALUE_1=false
export GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-Corey scripts}
export GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-corey@localhost}
export GIT_COMMITTER_NAME=${GIT_COMMITTER_NAME:-Corey scripts}
export GIT_COMMITTER_EMAIL=${GIT_COMMITTER_EMAIL:-corey@localhost}

die() {
	printf '%s: error: %s\n' "$COREY_PROG" "$*" >&2
	exit 1
}

warn() {
	printf '%s: warning: %s\n' "$COREY_PROG" "$*" >&2
}

elapsed() {
	local s=$(($(date +%s) - COREY_START))

	printf '%dm%02ds' $((s / 60)) $((s % 60))
}

# One progress line per step, on stderr so stdout stays parseable.
step() {
	printf '[%7s] %s\n' "$(elapsed)" "$*" >&2
}

check_flavour() {
	case " $COREY_FLAVOURS " in
	*" $1 "*) ;;
	*) die "unknown flavour '$1' (expected one of: $COREY_FLAVOURS)" ;;
	esac
}

# The kernels a measurement compares, from KERNELS (default both): prints
# them, or dies on a name other than stock and corey, or on none.
measured_kernels() {
	local kernels=${KERNELS:-stock corey} k

	for k in $kernels; do
		case "$k" in
		stock | corey) ;;
		*) die "KERNELS: unknown kernel '$k' (expected stock and/or corey)" ;;
		esac
	done
	[ -n "${kernels// /}" ] || die "KERNELS is empty"
	printf '%s\n' "$kernels"
}

# The VM kernel is built with NR_CPUS=64.
COREY_MAX_VCPUS=64

# CPUs a VM may have here by default: the host's, at most NR_CPUS.
host_cpus() {
	local n

	n=$(nproc)
	((n > COREY_MAX_VCPUS)) && n=$COREY_MAX_VCPUS
	printf '%s\n' "$n"
}

# Where the per-checkout outputs go (initramfs, user binaries, VM runs).
# Kernel trees and builds are shared by every checkout on the machine so a
# fresh clone (CI) reuses them; these small outputs are not, so two
# checkouts never overwrite each other's binaries.
work_dir() {
	local key

	key=$(printf '%s' "$COREY_TOP" | sha1sum | cut -c1-12)
	printf '%s/work/%s\n' "$COREY_CACHE" "$key"
}

# make in userlib/, building into this checkout's user/userlib.  Built for
# the VM's layout, installed under /usr: corey-run then looks for its
# library in /usr/lib/corey, where the initramfs puts it.  Everything that
# builds or tests userlib goes through here, so no two callers disagree on
# PREFIX (which would rebuild corey-run back and forth).
userlib_make() {
	make -C "$COREY_TOP/userlib" O="$(work_dir)/user/userlib" PREFIX=/usr "$@"
}

# The kernel source identity: one pristine git tree per source, so a KSRC
# tree and Debian's tarball never share a build directory.
tree_id() {
	if [ -n "${KSRC:-}" ]; then
		local real

		real=$(cd "$KSRC" 2>/dev/null && pwd) ||
			die "KSRC=$KSRC: no such directory"
		printf 'ksrc-%s\n' "$(printf '%s' "$real" | sha1sum | cut -c1-12)"
	else
		[ -r "$COREY_DEB_TARBALL" ] ||
			die "kernel source $COREY_DEB_TARBALL missing (run 'make deps' or set KSRC=/path/to/linux-6.12)"
		# '~' and '+' in Debian versions upset make; keep the id plain.
		printf 'deb-%s\n' "$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null |
			tr -c 'A-Za-z0-9._\n-' '_')"
	fi
}

# Resolve the source identity once, in this shell, so that a missing tree
# stops the script here with one message instead of failing inside every
# later $(...) that needs a path.
require_tree() {
	COREY_TREE_ID=$(tree_id) || exit 1
	export COREY_TREE_ID
}

# Pristine tree (branch "stock" at tag corey-base) and the worktree that
# carries patches/ (branch "corey").
src_dir() {
	printf '%s/src/%s\n' "$COREY_CACHE" "${COREY_TREE_ID:?require_tree first}"
}

corey_src_dir() {
	printf '%s-corey\n' "$(src_dir)"
}

flavour_src_dir() {
	case "$1" in
	stock) src_dir ;;
	*) corey_src_dir ;;
	esac
}

build_dir() {
	printf '%s/build/%s/%s\n' "$COREY_CACHE" "${COREY_TREE_ID:?require_tree first}" "$1"
}

# Run a long command with its output in a log file, printing a heartbeat
# so a person (or CI) sees it is alive.  The command runs in the foreground
# so that Ctrl-C reaches it; only the heartbeat is a background job.
run_logged() {
	local log=$1 what=$2 beat rc=0

	shift 2
	: >"$log"
	(
		# Not the cache lock (fd 9): a lingering sleep must not hold it.
		exec 9>&-
		# Short sleeps: a killed heartbeat leaves no long sleep behind
		# holding our stderr open.
		local t=0
		while sleep 1; do
			t=$((t + 1))
			((t % 30)) || step "$what: still running ($(wc -l <"$log") log lines)"
		done
	) &
	beat=$!
	"$@" >"$log" 2>&1 || rc=$?
	kill "$beat" 2>/dev/null || true
	wait "$beat" 2>/dev/null || true
	if ((rc != 0)); then
		tail -n 40 "$log" >&2
		die "$what failed (exit $rc); full log: $log"
	fi
}

# The patches patches/series names, one per line, in order.
series_patches() {
	sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$COREY_TOP/patches/series" | grep -v '^$' || true
}

# What the series is: the hash of its patches' contents in order.  apply
# and export record it in the worktree's stamp; both must compute it alike.
series_hash() {
	(cd "$COREY_TOP/patches" && series_patches | xargs -r cat) |
		sha1sum | cut -c1-40
}

# Serialise everything that writes the shared kernel trees and build
# directories: two checkouts (or make check and make bench) may run at once.
# Child scripts inherit the lock (COREY_LOCKED) rather than wait for it.
lock_cache() {
	[ "${COREY_LOCKED:-}" = "$COREY_CACHE" ] && return 0
	mkdir -p "$COREY_CACHE"
	exec 9>"$COREY_CACHE/.lock"
	if ! flock -n 9; then
		step "waiting for another Corey build using $COREY_CACHE"
		flock 9
	fi
	COREY_LOCKED=$COREY_CACHE
	export COREY_LOCKED
}

# TAP for the host-side checks: "tap DESC CMD..." runs CMD, prints
# "ok N DESC" or "not ok N DESC" with CMD's output as comments, and counts
# into TAP_N, TAP_PASS and TAP_FAIL.
TAP_N=0 TAP_PASS=0 TAP_FAIL=0
tap() {
	local desc=$1 out

	shift
	TAP_N=$((TAP_N + 1))
	if out=$("$@" 2>&1); then
		TAP_PASS=$((TAP_PASS + 1))
		printf 'ok %d %s\n' "$TAP_N" "$desc"
	else
		TAP_FAIL=$((TAP_FAIL + 1))
		printf 'not ok %d %s\n' "$TAP_N" "$desc"
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
}
