#!/bin/sh
# Build the Debian package of collector from a built binary (`make package`).
#
#   deploy/package-deb.sh BINARY OUTDIR [VERSION]
#
# The package holds the binary (/usr/bin/collector), the shipped conf.d as
# conffiles under /etc/collector/conf.d (dpkg keeps an operator's edits on
# upgrade and asks when both changed), the hardened systemd unit
# (/lib/systemd/system/collector.service), the docs, and the maintainer
# scripts in deploy/debian/. Depends is computed from the binary: the
# package owning each shared library it needs (dpkg -S), at the installed
# version or later.
set -eu

binary=$1
outdir=$2
src=$(cd "$(dirname "$0")/.." && pwd)
version=${3:-$(cat "$src/VERSION")}
arch=$(dpkg --print-architecture)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/collector_${version}_${arch}"

install -d "$root/DEBIAN" "$root/usr/bin" "$root/etc/collector/conf.d" \
    "$root/lib/systemd/system" "$root/usr/share/doc/collector"
install -m 0755 "$binary" "$root/usr/bin/collector"
strip --strip-unneeded "$root/usr/bin/collector" 2>/dev/null || true
for f in "$src"/conf.d/*.conf; do
    install -m 0644 "$f" "$root/etc/collector/conf.d/"
done
sed -e 's|/usr/local/bin/collector|/usr/bin/collector|g' \
    -e 's|/usr/local/share/doc/collector|/usr/share/doc/collector|g' \
    "$src/deploy/collector.service" > "$root/lib/systemd/system/collector.service"
chmod 0644 "$root/lib/systemd/system/collector.service"
install -m 0644 "$src/README.md" "$src"/docs/*.md "$root/usr/share/doc/collector/"

# Depends: the packages owning the libraries the binary links, and the two it
# opens at first use (core/curl_lib.c, bundle/archive_lib.c: CURL_LIB_SONAME,
# ARCHIVE_LIB_SONAME).
depends=""
for lib in $(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p') \
           libcurl.so.4 libarchive.so.13; do
    case "$lib" in lib*san.so*) continue ;; esac
    path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64|aarch64|64bit/ {print $NF; exit}')
    [ -n "$path" ] || path=$(ldconfig -p | awk -v l="$lib" '$1 == l {print $NF; exit}')
    pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1) ||
        pkg=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1) || true
    [ -n "$pkg" ] || pkg=$(dpkg -S "$lib" 2>/dev/null | grep -v -- '-dev' | head -1 | cut -d: -f1)
    [ -n "$pkg" ] || { echo "package-deb: no package owns $lib" >&2; exit 1; }
    ver=$(dpkg-query -W -f='${Version}' "$pkg")
    ver=${ver%-*}   # the upstream version: any Debian revision of it will do
    case ",$depends," in *", $pkg (>="*|*",$pkg (>="*) continue ;; esac
    depends="${depends:+$depends, }$pkg (>= $ver)"
done

size=$(du -sk "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: collector
Version: $version
Architecture: $arch
Maintainer: collector developers <collector@localhost>
Installed-Size: $size
Depends: $depends, ca-certificates
Section: admin
Priority: optional
Homepage: https://github.com/collector/collector
Description: container and host logs and metrics to CloudWatch
 A host agent for Docker and Amazon ECS container instances: follows agent,
 journal and container logs, samples container and host metrics, and ships
 them to CloudWatch Logs and Metrics, with a disk buffer.
CONTROL
(cd "$root" && find etc -type f | sort | sed 's|^|/|') > "$root/DEBIAN/conffiles"
for s in postinst prerm postrm; do
    install -m 0755 "$src/deploy/debian/$s" "$root/DEBIAN/$s"
done

mkdir -p "$outdir"
dpkg-deb --root-owner-group --build "$root" "$outdir/collector_${version}_${arch}.deb" >/dev/null
echo "$outdir/collector_${version}_${arch}.deb"
