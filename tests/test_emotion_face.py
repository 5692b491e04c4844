"""Faces: the numpy mini-Xception port, the Haar detector, and faces in the analysis pass."""

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest

from emsync_core.emotion import face
from emsync_core.emotion.classify import FACE_WEIGHT, analyze_video_detailed, blend_faces
from emsync_core.emotion.face import (
    FACE_FEATURES,
    FER_CLASSES,
    FaceAnalyzer,
    FaceSample,
    MiniXception,
    face_features,
    load_safetensors,
)
from emsync_core.emotion.mapping import CLASSES
from emsync_core.video.synth import EXCITED, GLOOMY, write_video

pytestmark = pytest.mark.skipif(not face.faces_available(), reason="no Haar cascade (OpenCV 5?)")


@pytest.fixture(scope="module")
def model() -> MiniXception:
    return face.expression_model()


def _faces(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 256, (n, 64, 64)).astype(np.uint8)
    return np.stack([cv2.GaussianBlur(f, (0, 0), 1 + i % 3) for i, f in enumerate(noise)])


def test_weights_file_and_metadata():
    tensors, meta = load_safetensors(face.WEIGHTS)
    assert sum(t.size for t in tensors.values()) == 58423 == int(meta["parameters"])
    assert meta["classes"].split(",") == list(FER_CLASSES)
    assert tensors["stem1.kernel"].shape == (3, 3, 1, 8)
    assert tensors["head.kernel"].shape == (3, 3, 128, 7)
    st = pytest.importorskip("safetensors.numpy")  # the reference reader, where installed
    ref = st.load_file(str(face.WEIGHTS))
    assert set(ref) == set(tensors)
    assert all(np.array_equal(ref[k], tensors[k]) for k in ref)


def test_port_shapes_probabilities_determinism(model):
    x = _faces(5)
    p = model.predict(x)
    assert p.shape == (5, 7) and p.dtype == np.float32
    assert np.all(p >= 0) and p.sum(axis=1) == pytest.approx(np.ones(5), abs=1e-5)
    assert np.array_equal(p, model.predict(x))  # deterministic
    assert model.predict(x[2:3]) == pytest.approx(p[2:3], abs=1e-6)  # batch-independent
    assert len({int(i) for i in p.argmax(axis=1)} | {int(model.predict(255 - x).argmax(1)[0])}) > 1


def test_port_matches_torch_reference(model):
    """An independent implementation (torch conv/pool ops, weights permuted to OIHW) agrees."""
    torch = pytest.importorskip("torch")
    f = torch.nn.functional
    t = {k: torch.from_numpy(v) for k, v in model.t.items()}

    def conv(x, name, stride=1, pad=0, groups=1, bias=None):
        w = t[name].permute(3, 2, 0, 1) if groups == 1 else t[name].permute(2, 3, 0, 1)
        return f.conv2d(x, w, bias, stride=stride, padding=pad, groups=groups)

    def bn(x, p):
        return f.batch_norm(x, t[p + ".mean"], t[p + ".var"], t[p + ".gamma"], t[p + ".beta"],
                            False, 0.0, 1e-3)  # fmt: skip

    def sep(x, n):
        x = conv(x, n + ".depthwise", pad=1, groups=x.shape[1])
        return bn(conv(x, n + ".pointwise"), n + ".bn")

    faces = _faces(6, seed=3)
    x = torch.from_numpy((faces.astype(np.float32) / 255 - 0.5) * 2)[:, None]
    x = f.relu(bn(conv(x, "stem1.kernel"), "stem1.bn"))
    x = f.relu(bn(conv(x, "stem2.kernel"), "stem2.bn"))
    for k in range(1, 5):
        b = f"block{k}"
        res = bn(conv(x, b + ".res.kernel", stride=2), b + ".res.bn")
        y = sep(f.relu(sep(x, b + ".sepa")), b + ".sepb")
        even = y.shape[2] % 2 == 0  # Keras 'same': the odd padding pixel goes bottom/right
        y = f.pad(y, (0, 1, 0, 1) if even else (1, 1, 1, 1), value=float("-inf"))
        x = f.max_pool2d(y, 3, 2) + res
    x = conv(x, "head.kernel", pad=1, bias=t["head.bias"])
    ref = f.softmax(x.mean((2, 3)), 1).numpy()
    assert model.predict(faces) == pytest.approx(ref, abs=1e-5)


def _astronaut() -> Path | None:
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(next(iter(spec.submodule_search_locations))) / "data" / "astronaut.png"
    return p if p.is_file() else None


def test_detector_and_expression_on_a_real_face():
    """scikit-image ships astronaut.png (NASA portrait of Eileen Collins, public domain)."""
    path = _astronaut()
    if path is None:
        pytest.skip("scikit-image (its bundled astronaut.png) is not installed")
    gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    big = cv2.resize(gray, (1440, 1440))  # as from a large frame, detected at 400 px
    for img in (gray, big):
        s = FaceAnalyzer()(img)
        assert s.count == 1 and s.probs.shape == (1, 7)
        assert FER_CLASSES[int(s.probs[0].argmax())] == "happy"  # she smiles


def test_no_face_in_flat_or_noise_frames():
    analyzer = FaceAnalyzer()
    assert analyzer(np.full((720, 1280), 128, np.uint8)).count == 0
    smooth = cv2.GaussianBlur(np.random.default_rng(0).integers(0, 256, (360, 640), np.uint8),
                              (0, 0), 8)  # fmt: skip
    assert analyzer(smooth).count == 0


def test_face_features_and_blend():
    assert face_features([]) == dict.fromkeys(FACE_FEATURES)
    happy = np.array([[0, 0, 0, 0.9, 0, 0, 0.1]], np.float32)
    samples = [FaceSample(2, np.vstack([happy, happy])), FaceSample(0, np.zeros((0, 7)))]
    f = face_features(samples)
    assert f["face_presence"] == 0.5 and f["face_happy"] == pytest.approx(0.9)
    none = face_features([FaceSample(0, np.zeros((0, 7)))])
    assert none["face_presence"] == 0 and none["face_happy"] is None
    p = np.full(len(CLASSES), 1 / len(CLASSES))
    assert np.array_equal(blend_faces(p, none), p)
    full = dict(f, face_presence=1.0)
    q = blend_faces(p, full)
    joy = CLASSES.index("joy")
    assert q.sum() == pytest.approx(1) and q[joy] > p[joy]
    assert q[joy] <= (1 - FACE_WEIGHT) * p[joy] + FACE_WEIGHT * 0.9 + 1e-9  # moderate
    assert blend_faces(p, f)[joy] < q[joy]  # less presence, less weight


def test_analysis_reports_face_presence_zero(tmp_path):
    clip = tmp_path / "nofaces.mp4"
    write_video(clip, [EXCITED, GLOOMY], fps=25)
    _, scenes = analyze_video_detailed(clip)
    assert len(scenes) == 2
    for s in scenes:
        assert s.features["face_presence"] == 0 and s.features["face_happy"] is None
        assert sum(s.probs.values()) == pytest.approx(1)
        assert set(FACE_FEATURES) <= set(s.to_json()["features"])
    _, off = analyze_video_detailed(clip, faces=False)
    assert off[0].features["face_presence"] is None
    assert off[0].probs == pytest.approx(scenes[0].probs)  # no faces: no change


@pytest.mark.parametrize("turns", [1, 3])
def test_faces_found_in_portrait_phone_video(tmp_path, turns):
    """Phones store portrait video sideways plus a display rotation; faces must be upright."""
    import av

    from emsync_core.video.frames import full_gray

    path = _astronaut()
    if path is None:
        pytest.skip("scikit-image (its bundled astronaut.png) is not installed")
    upright = cv2.resize(cv2.imread(str(path)), (256, 256))
    stored = np.ascontiguousarray(np.rot90(upright, -turns))  # what the sensor recorded
    clip = tmp_path / "portrait.mp4"
    with av.open(str(clip), "w") as out:
        stream = out.add_stream("libx264", rate=5)
        stream.width, stream.height, stream.pix_fmt = 256, 256, "yuv420p"
        stream.set_display_rotation(90 * turns)  # counterclockwise, as PyAV reads it back
        for _ in range(3):
            frame = av.VideoFrame.from_ndarray(stored, format="bgr24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    with av.open(str(clip)) as src:
        frame = next(src.decode(video=0))
        assert frame.rotation % 360 == 90 * turns
        assert FaceAnalyzer()(full_gray(frame)).count == 1
        assert FaceAnalyzer()(frame.to_ndarray(format="gray")).count == 0  # sideways: missed


def test_faces_over_time_detect_sparingly_and_read_often():
    """FaceAnalyzer.observe: expressions at every observed frame, detection every 2 s, at once
    after a jump (cut), never on a still picture; the model runs only where the picture moved."""
    path = _astronaut()
    if path is None:
        pytest.skip("scikit-image (its bundled astronaut.png) is not installed")
    face_frame = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    empty = np.full_like(face_frame, 120)
    fa = FaceAnalyzer()
    moving = [(0.5 * k, face_frame, 0.01) for k in range(8)]  # 4 s of a moving shot
    for t, img, moved in moving:
        fa.observe(t, lambda img=img: img, moved)
    assert fa.stats == {"observed": 8, "detections": 2, "crops": 8, "reused": 0}  # t = 0, 2 s
    fa.observe(4.0, lambda: empty, 0.3)  # a cut to an empty shot: detected at once
    for k in range(1, 9):  # 4 s of a still, empty picture: no detection, no model
        fa.observe(4.0 + 0.5 * k, lambda: empty, 0.0)
    fa.observe(8.5, lambda: face_frame, 0.3)  # a cut back to the face
    for k in range(1, 5):  # the face holds still: its last reading stands
        fa.observe(8.5 + 0.5 * k, lambda: face_frame, 0.0)
    assert fa.stats == {"observed": 22, "detections": 4, "crops": 9, "reused": 4}
    times, samples = fa.results()
    assert len(times) == len(samples) == 22 and times[0] == 0.0
    assert [s.count > 0 for s in samples] == [True] * 8 + [False] * 9 + [True] * 5
    happy = FER_CLASSES.index("happy")
    assert all(int(s.probs[0].argmax()) == happy for s in samples if s.count)
    assert np.array_equal(samples[-1].probs, samples[-5].probs)  # reused, not re-read
    assert fa.results() == ([], [])  # state does not carry over to the next file


def test_without_a_face_the_periodic_look_is_half_as_often():
    fa = FaceAnalyzer()
    empty = np.full((360, 640), 120, np.uint8)
    for k in range(10):  # 5 s of a moving shot without a face, no cut
        fa.observe(0.5 * k, lambda: empty, 0.01)
    assert fa.stats["detections"] == 2  # at 0 s and 4 s (2 s and 4 s with a face in view)
