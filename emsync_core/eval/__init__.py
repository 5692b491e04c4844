"""The music-quality harness: realistic test edits, measures that cannot be gamed, JSON lines.

    python -m emsync_core.eval music --out RUN.jsonl          # score the edits, write rows
    python -m emsync_core.eval report RUN.jsonl [...]         # rows -> docs/music-eval.md

`edits` makes the seeded test edits, `measures` reads a score's MIDI (never what an engine
claims), `reference` holds real music to compare with, `engines` names the settings that are
compared, `run` scores and writes rows, `report` turns rows into tables and piano rolls.
"""
