#!/bin/sh
# Install the Debian packages the build and the tests need, if any is
# missing. Idempotent and silent when everything is present (`make deps`).
set -eu

PACKAGES="gcc make pkg-config python3 python3-yaml openssl ca-certificates \
libcurl4-openssl-dev libjansson-dev zlib1g-dev libssl-dev \
libpcre2-dev libarchive-dev libcmocka-dev libisal-dev libdeflate-dev \
libsystemd-dev systemd-journal-remote \
docker.io busybox-static clang libclang-rt-14-dev rpm packer strace"

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=sudo
    else
        echo "deps: not root and no sudo; run as root: apt-get install -y$missing" >&2
        exit 1
    fi
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
