#!/usr/bin/env bash
# One prepared training run on a machine with one CUDA GPU and no network (issue 15, part 5).
#
#   emsync train --export-subset CORPUS .runs/subset.npz --tokens 20000000   # here, once
#   OUT=/somewhere scripts/train_gpu.sh .runs/subset.npz [emsync train options...]
#
# Trains the chosen size (benchmarks/results/decode.md) with rotary positions and the 8-s note
# cap, bf16 autocast on the GPU, for a wall-clock budget of MINUTES (default 8), from the
# subset `.npz` the run carries (under 60 MB). Writes to $OUT (default .runs/gpu):
#   run/checkpoint/   model + optimizer state + RNGs (what --resume reads, on CPU or GPU)
#   run/model.*       best weights so far, loadable by generate.py
#   train.log         the progress lines
# A second call with the same $OUT continues the run. Continue it on CPU:
#   emsync train --corpus .runs/subset.npz --out $OUT/run --resume [--hours H] [--steps N]
# Options after the subset are passed to `emsync train` and win over the ones below (the
# tests run this script on CPU with a tiny model and budget). Multi-GPU: use torchrun
# (emsync_core/music/train.py). Needs a Python with torch, numpy, pretty_midi and tqdm:
# $PYTHON, else .venv/bin/python, else python3.
set -euo pipefail

SUBSET=${1:?usage: scripts/train_gpu.sh SUBSET.npz [emsync train options...]}
shift
cd "$(dirname "$0")/.."
OUT=${OUT:-.runs/gpu}
MINUTES=${MINUTES:-8}
PY=${PYTHON:-}
if [ -z "$PY" ]; then
    if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
[ -f "$SUBSET" ] || { echo "no subset at $SUBSET (emsync train --export-subset ...)" >&2; exit 2; }
mkdir -p "$OUT"
RUN="$OUT/run"
RESUME=()
if [ -f "$RUN/checkpoint/state.json" ]; then RESUME=(--resume); fi
HOURS=$("$PY" -c "import sys; print(float(sys.argv[1]) / 60)" "$MINUTES")

"$PY" - <<'PY' | tee "$OUT/device.txt"
import torch
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    print(f"GPU {p.name}, {p.total_memory / 2**30:.0f} GiB, bf16 {torch.cuda.is_bf16_supported()}")
else:
    print("no CUDA GPU: training on CPU (the path the tests check)")
print(f"torch {torch.__version__}")
PY

# 4 x 384, 6 heads, rotary, 1,024-token context: the largest size measured decoding 300+
# tokens/s at batch 1 with a margin on the loaded 2-core machine, 33 MB of float32 weights
# (benchmarks/results/decode.md; 4 x 320 is the faster fallback). Batch 32 x 1,025 tokens.
PYTHONUNBUFFERED=1 "$PY" -m emsync_core.music.train \
    --corpus "$SUBSET" --out "$RUN" "${RESUME[@]}" --hours "$HOURS" \
    --positions rotary --note-cap --layers 4 --heads 6 --d-model 384 --seq-len 1025 \
    --batch-size 32 --lr 6e-4 --warmup 200 --steps 6000 --eval-every 500 --ckpt-every 500 \
    "$@" 2>&1 | tee -a "$OUT/train.log"
