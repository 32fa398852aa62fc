#!/usr/bin/env bash
# Installs what the tests need beyond a Rust toolchain. Nothing yet: every test of the
# foundation runs on plain Linux with cargo. Network-namespace tests (later issues) add
# their Debian packages here (apt-get update && apt-get install -y iproute2).
set -euo pipefail
command -v cargo >/dev/null || { echo "cargo is required (rustup.rs)" >&2; exit 1; }
