#!/usr/bin/env bash
# Raspberry Pi readiness: every runtime dependency resolves as a binary wheel for
# Linux aarch64 (Raspberry Pi OS 64-bit, Python 3.11), so `pip install` on a Pi needs
# no compiler. Prints one line per wheel and exits non-zero if anything is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT

# Markers are evaluated as on the Pi (pip download would evaluate them for this machine).
mapfile -t requirements < <("$python" - <<'PY'
import tomllib
from packaging.requirements import Requirement
pi = {"platform_machine": "aarch64", "sys_platform": "linux", "platform_system": "Linux"}
for line in tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]:
    requirement = Requirement(line)
    if requirement.marker is None or requirement.marker.evaluate(pi):
        requirement.marker = None
        print(requirement)
PY
)

"$python" -m pip download --quiet --dest "$dest" --only-binary :all: \
  --platform manylinux2014_aarch64 --platform manylinux_2_28_aarch64 \
  --platform manylinux_2_17_aarch64 --platform linux_aarch64 \
  --python-version 3.11 --implementation cp --abi cp311 --abi abi3 --abi none \
  "${requirements[@]}"

count=$(ls "$dest" | wc -l)
ls "$dest" | sed 's/^/  /'
echo "pi-wheels: ${#requirements[@]} requirements resolved as ${count} aarch64/any wheels"
