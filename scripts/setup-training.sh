#!/usr/bin/env bash
# Build-time tools for training corpora (not needed by `emsync score`): Debian's `mma`
# (Musical MIDI Accompaniment, GPL-2+), which `emsync train --build-mma` calls as a program
# to turn chord charts and grooves into MIDI. Installed with apt when missing; idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup-training: %s\n' "$*" >&2; }

missing=()
command -v mma >/dev/null || missing+=(mma)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing ${missing[*]} with apt"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # Recommends would pull timidity and a desktop audio stack; mma only needs python3.
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
say "ready: $(command -v mma) ($(mma -v 2>&1 | head -1))"
