#!/bin/bash
# Install collector as a host service on a custom AMI (EC2 user data, or the
# `commands` of a cfn-init config set: see the snippet at the end). Runs as
# root, once. Either builds from a source tarball or installs a prebuilt
# binary; then installs the systemd unit and starts it.
#
#   COLLECTOR_SOURCE_URL   tarball of the source tree (built with make install)
#   COLLECTOR_BINARY_URL   or: a prebuilt collector binary for this distro
#   COLLECTOR_CONF_URL     optional: a tarball of conf.d/*.conf to install
set -euo pipefail

COLLECTOR_SOURCE_URL="${COLLECTOR_SOURCE_URL:-}"
COLLECTOR_BINARY_URL="${COLLECTOR_BINARY_URL:-}"
COLLECTOR_CONF_URL="${COLLECTOR_CONF_URL:-}"
PREFIX=/usr/local

log() { echo "collector-install: $*" >&2; }

install_packages() {
    if command -v apt-get >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        apt-get install -y -q --no-install-recommends "$@"
    elif command -v dnf >/dev/null 2>&1; then
        dnf install -y "$@"
    else
        yum install -y "$@"
    fi
}

runtime_packages() {
    if command -v apt-get >/dev/null 2>&1; then
        echo ca-certificates curl libcurl4 libjansson4 zlib1g libssl3 \
             libpcre2-8-0 libarchive13 libisal2 libsystemd0
    else
        # Amazon Linux 2023 / RHEL family
        echo ca-certificates curl libcurl jansson zlib openssl-libs pcre2 libarchive systemd-libs
    fi
}

# The gzip of request bodies: Debian builds with ISA-L's igzip (libisal-dev);
# Amazon Linux 2023 has no ISA-L in its repositories, so `make` there finds
# no libisal and builds with zlib (Makefile: GZIP; `collector version` says
# which). zlib costs about twice the agent's CPU per GB with compress on.
build_packages() {
    if command -v apt-get >/dev/null 2>&1; then
        echo gcc libc6-dev make pkg-config libcurl4-openssl-dev libjansson-dev zlib1g-dev \
             libssl-dev libpcre2-dev libarchive-dev libisal-dev libsystemd-dev
    else
        echo gcc make pkgconf-pkg-config libcurl-devel jansson-devel zlib-devel openssl-devel \
             pcre2-devel libarchive-devel systemd-devel
    fi
}

# shellcheck disable=SC2046
install_packages $(runtime_packages)

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT

if [ -n "$COLLECTOR_SOURCE_URL" ]; then
    # shellcheck disable=SC2046
    install_packages $(build_packages)
    curl -fsSL "$COLLECTOR_SOURCE_URL" | tar -xz -C "$workdir" --strip-components=1
    make -C "$workdir" -j"$(nproc)" install PREFIX="$PREFIX"
    log "built: $("$PREFIX/bin/collector" version | tr '\n' ' ')"
elif [ -n "$COLLECTOR_BINARY_URL" ]; then
    curl -fsSL -o "$workdir/collector" "$COLLECTOR_BINARY_URL"
    install -m 0755 "$workdir/collector" "$PREFIX/bin/collector"
    install -d /etc/collector/conf.d
else
    log "set COLLECTOR_SOURCE_URL or COLLECTOR_BINARY_URL"
    exit 1
fi

if [ -n "$COLLECTOR_CONF_URL" ]; then
    curl -fsSL "$COLLECTOR_CONF_URL" | tar -xz -C /etc/collector/conf.d
fi

if [ ! -f /etc/systemd/system/collector.service ]; then
    # make install puts the unit in place; a binary-only install fetches it
    # from the same place as the binary.
    curl -fsSL -o /etc/systemd/system/collector.service \
        "${COLLECTOR_UNIT_URL:-${COLLECTOR_BINARY_URL%/*}/collector.service}"
fi

install -d -m 0750 /var/lib/collector
"$PREFIX/bin/collector" check-config -c /etc/collector/conf.d >/dev/null
systemctl daemon-reload
systemctl enable --now collector.service

# Wait until the agent reports ready (the status endpoint, default 127.0.0.1:8934;
# /ready: outputs delivering, buffer not full, configuration applied).
for _ in $(seq 1 30); do
    if curl -fsS -o /dev/null http://127.0.0.1:8934/ready; then
        log "collector is running and ready"
        exit 0
    fi
    sleep 2
done
log "collector did not report healthy within 60 s; see: journalctl -u collector"
"$PREFIX/bin/collector" status || true
exit 1

# ---------------------------------------------------------------------------
# The same from CloudFormation, with cfn-init on the instance (AWS::CloudFormation::Init):
#
#   Metadata:
#     AWS::CloudFormation::Init:
#       config:
#         files:
#           /usr/local/sbin/install-collector.sh:
#             source: https://example.com/collector/deploy/user-data.sh
#             mode: "000755"
#         commands:
#           01_install:
#             command: /usr/local/sbin/install-collector.sh
#             env:
#               COLLECTOR_BINARY_URL: https://example.com/collector/1.0.0/collector
#   ...
#   UserData: !Base64
#     Fn::Sub: |
#       #!/bin/bash
#       /opt/aws/bin/cfn-init -v --stack ${AWS::StackName} --resource LaunchTemplate --region ${AWS::Region}
