#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what the pipeline needs on a Debian 12 machine.  Quiet and quick
# when everything is present, so every entry point can call it.
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

PACKAGES=(
	linux-source-6.12 build-essential bc bison flex libelf-dev libssl-dev
	dwarves kmod cpio xz-utils rsync git ccache python3 util-linux
	qemu-system-x86 busybox-static
	liburing-dev libnuma-dev
	gnuplot-nox shellcheck
	pkgconf groff-base
	python3-ply python3-git
)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
((${#missing[@]} == 0)) && exit 0

command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get to install them"
sudo=()
if ((EUID != 0)); then
	command -v sudo >/dev/null || die "missing packages (${missing[*]}); run as root or install sudo"
	sudo=(sudo)
fi
step "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A freshly booted machine's apt-daily may hold the dpkg lock for a while.
apt=(apt-get -o DPkg::Lock::Timeout=600)
"${sudo[@]}" "${apt[@]}" update -qq >/dev/null ||
	die "apt-get update failed"
"${sudo[@]}" "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
	die "apt-get install ${missing[*]} failed"
step "deps: done"
