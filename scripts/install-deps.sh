#!/usr/bin/env bash
# Installs what the tests need beyond a Rust toolchain: iproute2 (`ip`, `nstat`) for the
# network tests, which make network namespaces and TAP devices (they run as root, as CI
# does; without root they fail saying so), and xvfb (`Xvfb`, a virtual X server) for the
# window display's test (tests/gfx_window.rs; skipped without it unless CI is set), and
# moto's S3 server (`python3 -m moto.server`, from PyPI) for the object storage test
# (tests/remote.rs).
set -euo pipefail
command -v cargo >/dev/null || { echo "cargo is required (rustup.rs)" >&2; exit 1; }
if ! command -v ip >/dev/null || ! command -v nstat >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2
    else
        echo "the network tests need iproute2 (ip, nstat): apt-get install iproute2 as root" >&2
    fi
fi
if [ ! -x /usr/bin/Xvfb ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xvfb >/dev/null
    else
        echo "the window display's test needs Xvfb: apt-get install xvfb as root" >&2
    fi
fi
if ! python3 -c "import moto.server, flask" >/dev/null 2>&1; then
    command -v python3 >/dev/null || { echo "the object storage test needs python3" >&2; exit 1; }
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
        'moto[server]==5.*' || echo "the object storage test needs moto: pip install 'moto[server]'" >&2
fi
