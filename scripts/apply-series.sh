#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Apply patches/series with git am on the kernel branch "corey", in its
# worktree in the cache.  Idempotent: when the branch already is the series
# it touches nothing (so nothing is rebuilt).  It never discards commits or
# edits that are not in patches/ unless FORCE=1.
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
require_tree

"$COREY_TOP/scripts/kernel-tree.sh" >/dev/null
tree=$(corey_src_dir)
stamp=$tree.series-stamp
pdir=$COREY_TOP/patches

git_t() {
	git -C "$tree" -c user.name='Corey scripts' -c user.email='corey@localhost' "$@"
}

mapfile -t patches < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$pdir/series" | grep -v '^$' || true)
for p in "${patches[@]}"; do
	[ -r "$pdir/$p" ] || die "patches/series names $p, which does not exist"
done
want=$( (cd "$pdir" && cat /dev/null "${patches[@]}") | sha1sum | cut -c1-40)
head=$(git_t rev-parse HEAD)
base=$(git_t rev-parse corey-base)

if [ -r "$stamp" ]; then
	read -r had_hash had_head <"$stamp"
else
	had_hash=none had_head=$base
fi
dirty=$(git_t status --porcelain --untracked-files=no)

if [ "$had_hash" = "$want" ] && [ "$head" = "$had_head" ] && [ -z "$dirty" ]; then
	exit 0
fi
if [ "${FORCE:-0}" != 1 ]; then
	[ -z "$dirty" ] ||
		die "$tree has uncommitted changes; commit and 'make export-series', or FORCE=1 to discard them"
	[ "$head" = "$had_head" ] ||
		die "branch corey in $tree has commits not exported to patches/; run 'make export-series' first, or FORCE=1 to discard them"
fi

step "apply-series: ${#patches[@]} patch(es) onto corey-base"
git_t am --abort >/dev/null 2>&1 || true
git_t reset -q --hard corey-base
for p in "${patches[@]}"; do
	if ! git_t am -q --whitespace=nowarn "$pdir/$p" >"$tree.am.log" 2>&1; then
		git_t am --abort >/dev/null 2>&1 || true
		git_t reset -q --hard "$head"
		sed 's/^/  /' "$tree.am.log" >&2
		die "patch $p does not apply to the pristine tree (tag corey-base in $tree); branch corey left as it was"
	fi
done

# The cover letter's text lives in the branch description so that
# export-series writes it back unchanged.
cover=$pdir/0000-cover-letter.patch
if [ -r "$cover" ]; then
	awk '
		hdr && /^Subject: / { sub(/^Subject: (\[[^]]*\] *)?/, ""); subj = $0; insub = 1; next }
		hdr && insub && /^[ \t]/ { sub(/^[ \t]+/, " "); subj = subj $0; next }
		hdr && /^$/ { hdr = 0; print subj; print ""; next }
		hdr { insub = 0; next }
		/^[^ ].* \([0-9]+\):$/ { exit }
		{ print }
	' hdr=1 "$cover" >"$tree.description"
	git_t config branch.corey.description "$(cat "$tree.description")"
fi
printf '%s %s\n' "$want" "$(git_t rev-parse HEAD)" >"$stamp"
