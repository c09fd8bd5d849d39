#!/bin/sh
# test/deps.sh: installs what building and testing s3gw needs, and only that.
#
# Debian packages are checked with dpkg -s; apt-get runs only when one is
# missing (through sudo when not root). Debian's awscli is the AWS CLI v2
# (/usr/bin/aws), which the tests drive beside the v1 of the default python3;
# nginx-light is the reverse proxy test_proxy.py puts in front of s3gw, and
# the https front of test_replication.py's TLS destination, whose
# certificate the openssl CLI makes; haproxy is the other proxy
# test_haproxy.py puts in front (HTTP mode and PROXY protocol); strace records the system calls
# test_durability_order.py checks the order of; chromium is the browser
# test_browser.py drives (headless, through playwright-core from test/js);
# podman, runc and mmdebstrap build and run the container image in
# test_image.py (its Debian 12 base made locally: no registry needed);
# python3-prometheus-client's text parser reads /metrics in
# test_metrics.py (which finds it in Debian's dist-packages from any
# python3).
# Then the Python side: boto3 and the aws CLI come with the machine's
# default python3; Debian's python3-boto3 is the fallback when boto3 is
# missing. Last the JavaScript clients (AWS SDK v3, minio-js) and the
# browser driver (playwright-core): npm ci in test/js, with Node.js from Debian when the machine has none.

set -u

PKGS="gcc make pkg-config libuv1-dev liblmdb-dev libssl-dev libexpat1-dev
node-llhttp libjansson-dev s3cmd rclone curl awscli nginx-light openssl
strace chromium podman runc mmdebstrap haproxy python3-prometheus-client"

if [ "$(id -u)" -eq 0 ]; then
    SUDO=
elif command -v sudo >/dev/null 2>&1; then
    SUDO=sudo
else
    SUDO=
fi

installed() {
    dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed'
}

apt_install() {
    if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then
        echo "deps: not root and no sudo; install these as root:" \
             "apt-get install -y $*" >&2
        return 1
    fi
    echo "deps: installing $*"
    $SUDO apt-get update -q || return 1
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "$@"
}

status=0

missing=
for p in $PKGS; do
    installed "$p" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    # shellcheck disable=SC2086  # word splitting of the list is intended
    apt_install $missing || status=1
fi

if ! python3 -c 'import boto3' >/dev/null 2>&1; then
    echo "deps: python3 cannot import boto3; trying Debian's python3-boto3"
    apt_install python3-boto3 || status=1
    if ! python3 -c 'import boto3' >/dev/null 2>&1; then
        echo "deps: boto3 is still missing for $(command -v python3)." >&2
        echo "      The integration tests need boto3 in the python3 on PATH:" >&2
        echo "      use the machine's default python3 (it has boto3), or" >&2
        echo "      put /usr/bin first in PATH to use Debian's python3-boto3." >&2
        status=1
    fi
fi

if ! aws --version >/dev/null 2>&1; then
    echo "deps: the aws CLI is missing; trying Debian's awscli"
    apt_install awscli || status=1
    if ! aws --version >/dev/null 2>&1; then
        echo "deps: 'aws' is still not on PATH. It comes with the default" >&2
        echo "      python3 here; otherwise install Debian's awscli." >&2
        status=1
    fi
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1
then
    echo "deps: node or npm is missing; trying Debian's nodejs and npm"
    apt_install nodejs npm || status=1
fi
js=$(dirname "$0")/js
if [ ! -d "$js/node_modules" ] || [ "$js/package-lock.json" -nt "$js/node_modules" ]
then
    echo "deps: installing the JavaScript clients in test/js"
    (cd "$js" && npm ci --no-audit --no-fund --loglevel=error) || status=1
    touch "$js/node_modules" 2>/dev/null
fi

if [ "$status" -eq 0 ]; then
    echo "deps: all present"
fi
exit "$status"
