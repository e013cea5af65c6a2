#!/bin/sh
# Install the Debian packages the build and the tests need, when missing.
# Run as root it uses apt-get; otherwise it only reports what is missing.
set -eu
# clang and libclang-rt-14-dev (its libFuzzer and sanitizer runtimes) are for make fuzz;
# libsodium-dev for the coordinator key (HMAC-SHA256 challenge-response, coordauth.c).
pkgs="gcc make libc6-dev pkg-config check libsubunit-dev zlib1g-dev libelf-dev libunwind-dev
      libseccomp-dev musl-tools util-linux procps iproute2 python3 binutils golang-go
      clang libclang-rt-14-dev libsodium-dev"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing (run as root, or install them)" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
