"""The key frame: pitch read and written relative to the key's tonic, in training windows and
in decoding, so the model only has to learn the mode."""

from __future__ import annotations

import pytest
import torch

from emsync_core.music import events, labels
from emsync_core.music.generate import Decoder, generate
from emsync_core.music.harmony import Key
from emsync_core.music.key_frame import (
    frame_shift,
    framed_key,
    logits_from_frame,
    pitch_map,
    to_frame,
)
from emsync_core.music.model import EmsyncTransformer, ModelConfig
from emsync_core.music.plan import plan_score

KEYS, DRUMS = events.GROUPS.index("KEYS"), events.DRUMS
TINY = dict(n_layer=1, n_head=2, d_model=32, block_size=96, positions="rotary")


def test_the_frame_moves_the_tonic_to_c_the_nearer_way():
    assert [frame_shift(t) for t in range(12)] == [0, -1, -2, -3, -4, -5, 6, 5, 4, 3, 2, 1]
    assert framed_key(labels.key_index(9, "minor")) == labels.key_index(0, "minor")
    assert framed_key(labels.key_index(7, "major")) == 0
    assert framed_key(labels.NULL_KEY) == labels.NULL_KEY


def test_tokens_move_into_the_frame_and_drums_stay():
    a4, kick = events.note_on(KEYS, 69), events.note_on(DRUMS, 36)
    assert to_frame([a4, events.BAR, kick, events.shift_token(5)], 3) == [
        events.note_on(KEYS, 72), events.BAR, kick, events.shift_token(5)
    ]  # fmt: skip
    # The top of the range folds down an octave, ON and OFF alike.
    top_on, top_off = events.note_on(KEYS, 107), events.note_off(KEYS, 107)
    assert to_frame([top_on, top_off], 4) == [events.note_on(KEYS, 99), events.note_off(KEYS, 99)]
    assert pitch_map(4)[top_on] == -1 and pitch_map(-4)[top_on] == events.note_on(KEYS, 103)


def test_logits_come_back_out_of_the_frame():
    frame = torch.zeros(events.VOCAB_SIZE)
    frame[events.note_on(KEYS, 60)] = 5.0  # the model asks for C4 in the frame
    d_major = logits_from_frame(frame, frame_shift(2))  # the scene is in D: C4 is D4
    assert int(torch.argmax(d_major)) == events.note_on(KEYS, 62)
    assert d_major[events.BAR] == 0  # no pitch: as it was
    # D major's frame moved the music down 2: its lowest two notes have none in the frame.
    assert torch.isneginf(d_major[events.note_on(KEYS, 22)])
    assert not torch.isinf(d_major[events.note_on(KEYS, 23)])
    assert torch.isneginf(logits_from_frame(frame, 2)[events.note_on(KEYS, 107)])


def test_the_decoder_plays_the_frame_in_the_scenes_key():
    torch.manual_seed(0)
    model = EmsyncTransformer(ModelConfig(**TINY, key_condition=True, key_frame=True)).eval()
    torch.nn.init.normal_(model.key_emb.weight, std=0.5)
    tokens = [events.START, events.MORE_INSTRUMENTS, events.note_on(KEYS, 62)]  # D4
    offsets = [1.0, 1.0, 1.0]
    framed = model(
        torch.tensor([to_frame(tokens, -2)]), torch.tensor([offsets]), torch.tensor([0.3]),
        torch.tensor([0.1]), key=torch.tensor([labels.key_index(0, "major")]),
    )[0, -1]  # fmt: skip
    d = Decoder(model, int8=False)
    got = d.prefill(tokens, offsets, 0.3, 0.1, Key(2, "major"))
    assert torch.allclose(got, logits_from_frame(framed, -2), atol=1e-5)
    # The same music a tone higher in E major reads the same in the frame.
    e_major = d.prefill(to_frame(tokens, 2), offsets, 0.3, 0.1, Key(4, "major"))
    n = events.NOTE_ON_BASE
    assert torch.allclose(e_major[:n], got[:n], atol=1e-5)
    e4, d4 = events.note_on(KEYS, 64), events.note_on(KEYS, 62)
    assert torch.isclose(e_major[e4], got[d4], atol=1e-5)
    plan = plan_score([(0.0, 3.0), (3.0, 6.0)], [(0.6, 0.2), (-0.6, -0.2)], 1)
    score = generate(plan, model, seed=2, int8=False)
    assert any(i.notes for i in score.midi.instruments)


def test_key_frame_needs_the_key_condition():
    with pytest.raises(ValueError, match="key_condition"):
        ModelConfig(key_frame=True)


def test_the_frame_tables_made_while_decoding_serve_autograd_callers_too():
    from emsync_core.music.key_frame import _from_frame_index, logits_from_frame

    _from_frame_index.cache_clear()
    with torch.inference_mode():
        logits_from_frame(torch.zeros(events.VOCAB_SIZE), 3)  # decoding fills the cache
    x = torch.zeros(events.VOCAB_SIZE, requires_grad=True)
    logits_from_frame(x, 3).clamp(min=-1e9).sum().backward()  # and training reads it
    assert x.grad is not None
