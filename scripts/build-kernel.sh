#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build-kernel.sh FLAVOUR: configure and build one kernel flavour, then the
# out-of-tree modules of modules/ against it.
#   stock        pristine tree, base config
#   corey        patches/ applied, base config + Kconfig.corey
#   corey-debug  as corey, + KASAN, lockdep, lock_stat, kmemleak, ...
# The build directory lives in the cache and is only touched when something
# changed, so a rebuild with nothing new is a no-op make.
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
require_tree

flavour=${1:-}
[ -n "$flavour" ] || die "usage: build-kernel.sh FLAVOUR ($COREY_FLAVOURS)"
check_flavour "$flavour"
COREY_PROG="build-kernel $flavour"

lock_cache
"$COREY_TOP/scripts/kernel-tree.sh" >/dev/null
[ "$flavour" = stock ] || "$COREY_TOP/scripts/apply-series.sh"

src=$(flavour_src_dir "$flavour")
out=$(build_dir "$flavour")
cfgdir=$COREY_TOP/scripts/config
fragments=("$cfgdir/base.config")
case "$flavour" in
corey) fragments+=("$COREY_TOP/Kconfig.corey") ;;
corey-debug) fragments+=("$COREY_TOP/Kconfig.corey" "$cfgdir/debug.config") ;;
esac
mkdir -p "$out"

export CCACHE_DIR=${CCACHE_DIR:-$COREY_CACHE/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
# A fixed build identity so identical sources give identical objects (and
# ccache hits) and the banner does not force a relink.
export KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 2026'
export KBUILD_BUILD_USER=corey KBUILD_BUILD_HOST=vm
kmake=(make -C "$src" O="$out" ARCH=x86_64 CC="ccache gcc" -j"$(host_cpus)")

# Every assignment a fragment asks for must survive olddefconfig: a silently
# dropped option would make the flavours differ from what we claim.
verify_config() {
	local cfg=$1 frag name line sym want got

	for frag in "${fragments[@]}"; do
		name=${frag##*/}
		while IFS= read -r line; do
			case "$line" in
			CONFIG_*=*)
				sym=${line%%=*}
				want=${line#*=}
				;;
			"# CONFIG_"*" is not set")
				sym=${line#\# }
				sym=${sym%% *}
				want=n
				;;
			*) continue ;;
			esac
			got=$(sed -n "s/^$sym=//p" "$cfg")
			[ -n "$got" ] || got=n
			[ "$got" = "$want" ] ||
				die "$sym=$want (from $name) resolved to $got; a dependency is missing"
		done <"$frag"
	done
}

step "configure (tinyconfig + ${fragments[*]##*/})"
new=$out/.config.corey-new
KCONFIG_CONFIG=.config.tiny run_logged "$out/config.log" "tinyconfig" \
	"${kmake[@]}" tinyconfig
cat "$out/.config.tiny" "${fragments[@]}" >"$new"
KCONFIG_CONFIG=.config.corey-new run_logged "$out/olddefconfig.log" "olddefconfig" \
	"${kmake[@]}" olddefconfig
verify_config "$new"
if cmp -s "$new" "$out/.config"; then
	rm -f "$new"
else
	mv "$new" "$out/.config"
fi

step "compile bzImage (log: $out/build.log)"
run_logged "$out/build.log" "kernel build" "${kmake[@]}" bzImage modules
step "kernel $(cat "$out/include/config/kernel.release") ready: $out/arch/x86/boot/bzImage"

# Out-of-tree modules: kbuild M= writes objects next to the sources, so
# build a copy in the cache, never in the checkout.
if [ "$flavour" != stock ]; then
	mods=$(work_dir)/modules/$flavour
	mkdir -p "$mods/src"
	# A module removed from modules/ leaves build outputs rsync will not
	# delete (they are excluded below): remove its copy first.
	for dir in "$mods"/src/*/; do
		[ -d "$dir" ] || continue
		[ -d "$COREY_TOP/modules/$(basename "$dir")" ] || rm -rf "$dir"
	done
	rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='*.mod*' \
		--exclude='.*.cmd' --exclude=Module.symvers --exclude=modules.order \
		"$COREY_TOP/modules/" "$mods/src/"
	for dir in "$mods"/src/*/; do
		[ -e "$dir/Kbuild" ] || [ -e "$dir/Makefile" ] || continue
		name=$(basename "$dir")
		step "module $name"
		run_logged "$mods/$name.log" "module $name" \
			make -C "$out" ARCH=x86_64 CC="ccache gcc" M="$dir" W=1 modules
	done
fi
