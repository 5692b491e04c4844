#!/usr/bin/env bash
# Sets up EMSYNC on a fresh Debian/Ubuntu machine: libfluidsynth3, chromium,
# chromium-driver and mma (apt, when missing),
# a virtual environment in .venv with the package and its pinned dependencies.
# Idempotent: a second run only checks, unless pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }

# 1. System packages, installed with apt when missing: FluidSynth (the synthesiser that renders
#    the score), Chromium with its WebDriver (the scene board's real-browser test), and mma
#    (small; the MMA training corpus and its test call it; never needed by `emsync score`).
missing=()
ldconfig -p 2>/dev/null | grep -q 'libfluidsynth\.so\.3' || missing+=(libfluidsynth3)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
command -v mma >/dev/null || missing+=(mma)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing ${missing[*]} with apt"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # Recommends would pull a ~260 MB desktop audio stack we do not need.
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    say "installing ${missing[*]} with sudo apt-get"
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "${missing[*]} missing. Run this once, then run this script again:"
    say "  sudo apt-get install --no-install-recommends ${missing[*]}"
    exit 1
  fi
fi

# 2. Python 3.11 virtual environment with the package (editable) and its pinned deps.
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PY=$candidate; break
    fi
  done
fi
if [ -z "$PY" ]; then
  say "Python 3.11 is required (found: $(python3 --version 2>&1)). Install python3.11 and re-run."
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.setup-stamp
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing Python packages into .venv (first run takes a few minutes)"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e '.[dev]'
  echo "$want" > "$stamp"
fi
say "ready: .venv/bin/emsync"
