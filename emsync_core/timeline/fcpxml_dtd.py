"""The child order Final Cut Pro's FCPXML DTDs (versions 1.8 to 1.11) require, and a checker.

Apple ships the DTDs inside Final Cut Pro under "Copyright Apple Inc. All rights reserved",
with no licence to redistribute them, so they are not copied here. This module holds only the
facts an importer enforces: the content model (which children, in which order, how often) of
the elements that hold EMSYNC's score or lead to it (the document, its resources, assets,
projects, storylines and every story element a score can be connected to), written out as
expressions in the DTD's own notation, plus which attributes an asset, a media-rep and an
asset-clip may carry. Transcribed from FCPXMLv1_8.dtd to FCPXMLv1_11.dtd as distributed
with Final Cut Pro 10.4-10.7 (copies in CommandPost/CommandPost, src/extensions/cp/apple/
fcpxml/dtd). What changed between those versions and matters here:

- 1.8: an asset names its file in a `src` attribute (required); content `(bookmark?, metadata?)`.
- 1.9: `src` is gone from `asset`; the file is a `<media-rep src=...>` child, one or more.
- 1.10: `locator` resources; `object-tracker` and `adjust-cinematic` intrinsic parameters.
- 1.11: `live-drawing` story elements; `adjust-colorConform`.

Elements not listed here (markers, filters, parameters, metadata, ...) are not checked, but
they count as children of their parent, so an anchored clip placed after a marker or an
`audio-channel-source` is caught.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from functools import lru_cache

VERSIONS = ((1, 8), (1, 9), (1, 10), (1, 11))


def _entities(version: tuple[int, int]) -> dict[str, str]:
    video = (
        "adjust-crop?, adjust-corners?, adjust-conform?, adjust-transform?, adjust-blend?, "
        "adjust-stabilization?, adjust-rollingShutter?, adjust-360-transform?, "
        "adjust-reorient?, adjust-orientation?"
    )
    if version >= (1, 10):
        video = f"object-tracker?, {video}, adjust-cinematic?"
    if version >= (1, 11):
        video += ", adjust-colorConform?"
    anchor = (
        "audio | video | clip | title | caption | mc-clip | ref-clip | sync-clip | asset-clip | "
        "audition | spine"
    )
    clip_item = (
        "audio | video | clip | title | mc-clip | ref-clip | sync-clip | asset-clip | "
        "audition | gap"
    )
    if version >= (1, 11):
        anchor += " | live-drawing"
        clip_item += " | live-drawing"
    return {
        "video": f"({video})",
        "audio": "(adjust-volume?, adjust-panner?)",
        "timing": "(conform-rate?, timeMap?)",
        "anchor": f"({anchor})",
        "clip_item": f"({clip_item})",
        "marker": "(marker | chapter-marker | rating | keyword | analysis-marker)",
        "vfilter": "(filter-video | filter-video-mask)",
        "event_item": (
            "(clip | audition | mc-clip | ref-clip | sync-clip | asset-clip | "
            "collection-folder | keyword-collection | smart-collection | project)"
        ),
    }


# Content models; {name} is an entity above. Same in 1.8-1.11 unless noted in _models().
_MODELS = {
    "fcpxml": "(import-options?, resources?, (library | event* | {event_item}*))",
    "library": "(event | smart-collection)*",
    "event": "{event_item}*",
    "project": "(sequence)",
    "media": "(multicam | sequence)?",
    "media-rep": "(bookmark?)",
    "sequence": "(note?, spine, metadata?)",
    "spine": "({clip_item} | transition)*",
    "multicam": "(mc-angle*, metadata?)",
    "mc-angle": "({clip_item} | transition)*",
    "audition": "(audio | video | title | ref-clip | asset-clip | clip | sync-clip)+",
    "mc-clip": (
        "(note?, {timing}, {audio}, mc-source*, {anchor}*, {marker}*, filter-audio*, metadata?)"
    ),
    "clip": (
        "(note?, {timing}, {video}, {audio}, (spine | {clip_item} | caption)*, {marker}*, "
        "audio-channel-source*, {vfilter}*, filter-audio*, metadata?)"
    ),
    "ref-clip": (
        "(note?, {timing}, {video}, {audio}, {anchor}*, {marker}*, audio-role-source*, "
        "{vfilter}*, filter-audio*, metadata?)"
    ),
    "sync-clip": (
        "(note?, {timing}, {video}, {audio}, (spine | {clip_item} | caption)*, {marker}*, "
        "sync-source*, {vfilter}*, filter-audio*, metadata?)"
    ),
    "asset-clip": (
        "(note?, {timing}, {video}, {audio}, {anchor}*, {marker}*, audio-channel-source*, "
        "{vfilter}*, filter-audio*, metadata?)"
    ),
    "audio": "(note?, {timing}, adjust-volume?, {anchor}*, {marker}*, filter-audio*)",
    "video": "(param*, note?, {timing}, {video}, {anchor}*, {marker}*, {vfilter}*, reserved?)",
    "caption": "(text*, text-style-def*, note?)",
    "gap": "(note?, {anchor}*, {marker}*, metadata?)",
    "title": (
        "(param*, text*, text-style-def*, note?, {video}, {anchor}*, {marker}*, {vfilter}*, "
        "metadata?)"
    ),
    "transition": "(filter-video?, filter-audio?, {marker}*, metadata?, reserved?)",
}

# Attributes an element may carry and those it must carry (asset: also `src` in 1.8 only,
# where it is required, `videoSources` from 1.9, `auxVideoFlags` from 1.10; see problems()).
_CLIP_ATTRIBUTES = {"lane", "offset", "name", "start", "duration", "enabled"}
_ATTRIBUTES = {
    "asset": (
        {
            "id",
            "name",
            "uid",
            "start",
            "duration",
            "hasVideo",
            "format",
            "hasAudio",
            "audioSources",
            "audioChannels",
            "audioRate",
            "customLUTOverride",
            "colorSpaceOverride",
            "projectionOverride",
            "stereoscopicOverride",
        },
        {"id"},
    ),
    "media-rep": ({"kind", "sig", "src", "suggestedFilename"}, {"src"}),
    "asset-clip": (
        _CLIP_ATTRIBUTES
        | {
            "ref",
            "srcEnable",
            "audioStart",
            "audioDuration",
            "format",
            "tcStart",
            "tcFormat",
            "modDate",
            "audioRole",
            "videoRole",
        },
        {"ref"},
    ),
}


def rules_version(version: tuple[int, ...]) -> tuple[int, int]:
    """The DTD version whose rules apply: the newest known one not after `version` (older
    documents are held to 1.8, newer ones to 1.11)."""
    fitting = [v for v in VERSIONS if v <= tuple(version)]
    return fitting[-1] if fitting else VERSIONS[0]


def document_version(root: ET.Element) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in root.get("version", "1.8").split("."))
    except ValueError:
        return (1, 8)


def content_model(tag: str, version: tuple[int, ...]) -> str | None:
    """`tag`'s content model in `version` (entities expanded), or None when not modelled."""
    version = rules_version(version)
    if tag == "asset":
        return "(media-rep+, metadata?)" if version >= (1, 9) else "(bookmark?, metadata?)"
    if tag == "resources":
        extra = " | locator" if version >= (1, 10) else ""
        return f"(asset | effect | format | media{extra})*"
    if tag == "live-drawing" and version >= (1, 11):
        video = "adjust-crop?, adjust-corners?, adjust-conform?, adjust-transform?, "
        video += "adjust-blend?, adjust-360-transform?, adjust-colorConform?"
        return f"(param*, note?, {video}, {{anchor}}*, {{marker}}*, {{vfilter}}*)".format(
            **_entities(version)
        )
    model = _MODELS.get(tag)
    return model.format(**_entities(version)) if model else None


@lru_cache(maxsize=256)
def _pattern(model: str) -> re.Pattern:
    """A content model as a regex over the children's tags, each written `<tag>`."""
    parts = []
    for token in re.findall(r"[A-Za-z][\w.-]*|#PCDATA|[(),|?*+]", model):
        if token in "?*+|":
            parts.append(token)
        elif token == "(":
            parts.append("(?:")
        elif token == ")":
            parts.append(")")
        elif token != ",":
            parts.append(f"(?:{re.escape(f'<{token}>')})")  # a unit for ?*+
    return re.compile("".join(parts))


def children_match(tag: str, children: list[str], version: tuple[int, ...]) -> bool:
    """Whether children with these tags, in this order, satisfy `tag`'s content model
    (True for elements not modelled here)."""
    model = content_model(tag, version)
    if model is None:
        return True
    return _pattern(model).fullmatch("".join(f"<{c}>" for c in children)) is not None


def insertion_index(parent: ET.Element, tag: str, version: tuple[int, ...]) -> int | None:
    """The last position at which a new `tag` child keeps `parent` valid (after the items
    already anchored there), or None when there is none."""
    tags = _child_tags(parent)
    for index in range(len(tags), -1, -1):
        if children_match(parent.tag, [*tags[:index], tag, *tags[index:]], version):
            return index
    return None


def problems(root: ET.Element) -> list[str]:
    """Where the document breaks the content models and attribute rules held here, one line
    each (empty when it satisfies them)."""
    version = document_version(root)
    rules = rules_version(version)
    found = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue  # comments and processing instructions
        tags = _child_tags(element)
        if not children_match(element.tag, tags, version):
            found.append(
                f"<{element.tag}{_label(element)}>: children ({', '.join(tags) or 'none'}) do "
                f"not match {content_model(element.tag, version)} (FCPXML {_dotted(rules)})"
            )
        allowed, required = _ATTRIBUTES.get(element.tag, (None, set()))
        if element.tag == "asset" and rules < (1, 9):
            allowed, required = allowed | {"src"}, required | {"src"}
        elif element.tag == "asset":
            allowed = (
                allowed | {"videoSources"} | ({"auxVideoFlags"} if rules >= (1, 10) else set())
            )
        if allowed is not None:
            extra = sorted(set(element.attrib) - allowed)
            if extra:
                found.append(
                    f"<{element.tag}{_label(element)}>: attribute(s) {', '.join(extra)} not "
                    f"allowed in FCPXML {_dotted(rules)}"
                )
        missing = sorted(required - set(element.attrib))
        if missing:
            found.append(f"<{element.tag}{_label(element)}>: lacks {', '.join(missing)}")
    return found


def _child_tags(element: ET.Element) -> list[str]:
    return [c.tag for c in element if isinstance(c.tag, str)]


def _label(element: ET.Element) -> str:
    for key in ("id", "name", "ref"):
        if element.get(key):
            return f" {key}='{element.get(key)}'"
    return ""


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(str(x) for x in version)
