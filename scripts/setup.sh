#!/usr/bin/env bash
# Set up everything EdgeCoach needs on Debian/Ubuntu: apt packages, a virtual environment
# in .venv, and the Python packages. Idempotent: a second run only checks and returns.
#   scripts/setup.sh          runtime (for `make demo` / `make run`)
#   scripts/setup.sh test     runtime + what the test suite needs
#   scripts/setup.sh train    runtime + torch (CPU) for `make model`
set -euo pipefail
cd "$(dirname "$0")/.."

group="${1:-runtime}"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null || python=python3

apt_packages=(libportaudio2)
# pedalboard's aarch64 wheel links libatomic.so.1, which arm64 Debian does not preinstall.
if [ "$(uname -m)" = aarch64 ]; then apt_packages+=(libatomic1); fi
case "$group" in
  test) apt_packages+=(dbus libdbus-1-dev libglib2.0-dev pkg-config systemd)
        # The report's browser test (tests/test_report_browser.py): Debian's Chromium.
        apt_packages+=(chromium chromium-driver) ;;
  runtime|train) ;;
  *) echo "setup.sh: unknown group '$group' (runtime, test, train)" >&2; exit 2 ;;
esac

missing=()
for package in "${apt_packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing apt packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || "$python" -m venv .venv

extras=""
case "$group" in test) extras="[test]" ;; train) extras="[train]" ;; esac
stamp=".venv/.installed-$group-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "setup: installing Python packages ($group)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".$extras"
  touch "$stamp"
fi

# The cloud side's tests (convex/: vitest, convex-test, tsc) need its Node packages.
if [ "$group" = test ]; then
  command -v npm >/dev/null || { echo "setup: Node.js 20+ and npm are needed for convex/ tests" >&2; exit 1; }
  node_stamp="convex/node_modules/.installed-$(sha256sum convex/package-lock.json | cut -c1-16)"
  if [ ! -f "$node_stamp" ]; then
    echo "setup: installing Node packages (convex/)"
    (cd convex && npm ci --no-audit --no-fund --loglevel=error)
    touch "$node_stamp"
  fi
fi
