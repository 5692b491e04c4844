"""The engine settings the harness compares, by name.

A setting is an engine plus its options. "plain" is the transformer sampled with its weights'
own defaults (`model.Sampling`: the paper's temperature 1.3 and top-p 0.6 unless model.json
says otherwise) and the paper's repetition penalty; "paper-sampling" forces 1.3 / 0.6 whatever
the weights say, to measure what their own values change. Unconstrained settings leave cuts to
the model, to measure how it anticipates them.

The decoding levers are gone from the code: a pace bias (in "transformer-levers", the default
until this harness measured it), a lean to the planned key ("keybias", 4 nats) and
classifier-free guidance on the mood ("guidance", 3). The harness showed the pace and key
biases re-striking one note for tens of seconds or freezing the top voice, and the model
trained on labelled windows follows the mood without any of them. Their rows stay in
benchmarks/results/music/ with the commit that made them; the report lists them as no longer
runnable.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from functools import cache
from pathlib import Path

from ..music.arranger import arrange
from ..music.plan import ScorePlan
from ..music.score import Score


@dataclass(frozen=True)
class Setting:
    name: str
    engine: str  # "arranger" or "transformer"
    constrained: bool = True
    repetition_guard: bool = True
    weights: str | None = None  # a candidate model's folder; None: the shipped weights
    temperature: float | None = None  # None: the weights' own (model.json "sampling")
    top_p: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("arranger", "arranger"),
        Setting("transformer-plain", "transformer"),
        Setting("transformer-plain-noguard", "transformer", repetition_guard=False),
        Setting("transformer-paper-sampling", "transformer", temperature=1.3, top_p=0.6),
        Setting("transformer-plain-unconstrained", "transformer", constrained=False),
    )
}


def with_weights(setting: Setting, folder: str) -> Setting:
    """`setting` run by the model in `folder` (a training run's candidate), under its own
    name ("transformer-plain@<folder name>") so its rows stand apart from the shipped model's."""
    name = f"{setting.name}@{Path(folder).name}"
    return replace(setting, name=name, weights=str(folder))


def base_name(name: str) -> str:
    """The built-in setting a row's setting name runs ("transformer-plain@frame-ft5" ->
    "transformer-plain"), the inverse of `with_weights`'s naming."""
    return name.split("@", 1)[0]


@cache
def _model(folder: str | None = None):  # noqa: ANN202 (once per process, the int8 copy with it)
    from ..music.model import EmsyncTransformer
    from ..pipeline import WEIGHTS_DIR

    return EmsyncTransformer.load(folder or WEIGHTS_DIR)


def compose(setting: Setting, plan: ScorePlan, seed: int) -> Score:
    """Score `plan` with `setting`."""
    if setting.engine == "arranger":
        return arrange(plan, seed)
    from ..music.generate import generate

    return generate(
        plan,
        _model(setting.weights),
        seed,
        constrained=setting.constrained,
        repetition_guard=setting.repetition_guard,
        temperature=setting.temperature,
        top_p=setting.top_p,
    )
