#!/usr/bin/env bash
# Installs what the tests need beyond a Rust toolchain: iproute2 (`ip`, `nstat`) for the
# network tests, which make network namespaces and TAP devices (they run as root, as CI
# does; without root they fail saying so), and xvfb (`Xvfb`, a virtual X server) for the
# window display's test (tests/gfx_window.rs; skipped without it unless CI is set).
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
