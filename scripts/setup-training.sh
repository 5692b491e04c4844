#!/usr/bin/env bash
# Build-time tools for training corpora (not needed by `emsync score`): Debian's `mma`
# (Musical MIDI Accompaniment, GPL-2+), which `emsync train --build-mma` calls as a program
# to turn chord charts and grooves into MIDI. scripts/setup.sh installs it with the other
# system packages (the MMA corpus test calls it too), so this is that setup plus a check.
# Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
printf 'setup-training: ready: %s (%s)\n' "$(command -v mma)" "$(mma -v 2>/dev/null | tail -1)" >&2
