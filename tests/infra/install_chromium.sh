#!/usr/bin/env bash
# Install Debian's `chromium` for the report's browser test (tests/analysis/test_report_browser.py).
# Idempotent: does nothing when a chromium binary is already on PATH. Needs root (or sudo) and the apt registry.
# Prints the path of the binary on its last line.
set -euo pipefail

find_chromium() {
    command -v chromium || command -v chromium-browser || command -v google-chrome || true
}

existing="$(find_chromium)"
if [[ -n "$existing" ]]; then
    echo "$existing"
    exit 0
fi

if [[ "$(id -u)" -eq 0 ]]; then
    as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    echo "install_chromium.sh: chromium is not installed and we can neither run as root nor sudo;" >&2
    echo "install it with: apt-get install -y chromium" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if ! "${as_root[@]}" apt-get install -y --no-install-recommends chromium >/tmp/install_chromium.log 2>&1; then
    # A fresh container may have no package lists yet.
    "${as_root[@]}" apt-get update >>/tmp/install_chromium.log 2>&1 || true
    if ! "${as_root[@]}" apt-get install -y --no-install-recommends chromium >>/tmp/install_chromium.log 2>&1; then
        echo "install_chromium.sh: 'apt-get install -y chromium' failed; last lines of /tmp/install_chromium.log:" >&2
        tail -n 20 /tmp/install_chromium.log >&2
        exit 1
    fi
fi

installed="$(find_chromium)"
if [[ -z "$installed" ]]; then
    echo "install_chromium.sh: apt-get reported success but no chromium binary is on PATH" >&2
    exit 1
fi
echo "$installed"
