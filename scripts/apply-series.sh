#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Apply patches/series with git am on the kernel branch "corey", in its
# worktree in the cache.  When patches/ has not changed since the last apply
# or export it touches nothing, so nothing is rebuilt and a developer's
# commits and edits on the branch are built as they are.  When patches/ did
# change, it refuses to discard commits or edits that are not in patches/
# unless COREY_FORCE=1 (make apply-series FORCE=1).
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
require_tree

lock_cache
"$COREY_TOP/scripts/kernel-tree.sh" >/dev/null
tree=$(corey_src_dir)
stamp=$tree.series-stamp
pdir=$COREY_TOP/patches

git_t() {
	git -C "$tree" "$@"
}

mapfile -t patches < <(series_patches)
for p in "${patches[@]}"; do
	[ -r "$pdir/$p" ] || die "patches/series names $p, which does not exist"
done
want=$(series_hash)
head=$(git_t rev-parse HEAD)
base=$(git_t rev-parse corey-base)

if [ -r "$stamp" ]; then
	read -r had_hash had_head <"$stamp"
else
	had_hash=none had_head=$base
fi
dirty=$(git_t status --porcelain --untracked-files=no)

[ "$had_hash" = "$want" ] && exit 0
if [ "${COREY_FORCE:-0}" != 1 ]; then
	[ -z "$dirty" ] ||
		die "patches/ changed, but $tree has uncommitted changes; commit and 'make export-series', or 'make apply-series FORCE=1' to discard them"
	[ "$head" = "$had_head" ] ||
		die "patches/ changed, but branch corey in $tree has commits not exported to patches/; 'make export-series' first, or 'make apply-series FORCE=1' to discard them"
elif [ "$head" != "$had_head" ] || [ -n "$dirty" ]; then
	# Keep what FORCE discards reachable, in case it was wanted after all.
	keep=$(git_t stash create 2>/dev/null || true)
	ref=refs/corey/discarded/$(date -u +%Y%m%dT%H%M%SZ)
	git_t update-ref "$ref" "${keep:-$head}"
	warn "discarding branch corey's unexported work; it is kept as $ref"
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
