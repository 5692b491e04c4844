"""The board's routes: the page, its JSON API, server-sent events and the project's files.

Every route sits behind `security.Guard` (token, Host, Origin). Work that takes more than a
moment (analysis, generating, re-rolls) is a job in `jobs.Runner`; the page follows it on
/api/events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..errors import EmsyncError
from . import export as exporting
from . import jobs, media, project, security
from .project import Project

STATIC = Path(__file__).resolve().parent / "static"
MAX_UPLOAD_BYTES = (
    200 * 2**20
)  # a timeline is kilobytes; a short video fits; open long ones by path
EMOTION_MARKS = ("anger", "disgust", "fear", "joy", "sadness", "surprise")


class Board:
    """The server's state: one open project, one job at a time, the event log."""

    def __init__(
        self,
        token: str,
        port: int,
        python: str = sys.executable,
        max_upload: int = MAX_UPLOAD_BYTES,
        uploads: Path | None = None,
    ) -> None:
        self.token, self.port, self.python, self.max_upload = token, port, python, max_upload
        self.events = jobs.EventLog()
        self.runner = jobs.Runner(self.events, python)
        self.project: Project | None = None
        self.lock = threading.RLock()
        self._features: dict | None = None
        self._uploads = uploads

    # -- what this emsync's `score` command offers (the page adapts to it)
    def features(self) -> dict:
        if self._features is None:
            text = subprocess.run(
                [self.python, "-m", "emsync_core.cli", "score", "--help"],
                capture_output=True,
                text=True,
                timeout=60,
            ).stdout
            flat = " ".join(text.split())
            ensembles = re.search(r"--ensemble \{([^}]*)\}", flat)
            engines = re.search(r"--engine \{([^}]*)\}", flat)
            self._features = {
                "progress_json": "--progress" in flat,
                "reroll": "--reroll" in flat,
                "preview": "--preview" in flat,
                "ensembles": ensembles[1].split(",") if ensembles else [],
                "engines": engines[1].split(",") if engines else ["arranger", "transformer"],
            }
        return self._features

    def open(self, path: Path, media_root: Path | None) -> Project:
        if self.runner.busy:
            raise jobs.Busy(self.runner.job.kind)
        opened = project.open_timeline(path, media_root)
        with self.lock:
            self.project = opened
        self.events.push("project", {"input": str(opened.input)})
        self.start_analysis()
        return opened

    def start_analysis(self) -> None:
        p = self.require()
        args = ["analyze", str(p.input), "--json"]
        if p.media_root:
            args += ["--media-root", str(p.media_root)]

        def apply(stdout: str) -> None:
            doc = json.loads(stdout)
            with self.lock:
                if p.is_video:
                    project.apply_video_scenes(
                        p, [(s["start_s"], s["end_s"]) for s in doc["scenes"]]
                    )
                for scene, found in zip(p.scenes, doc["scenes"], strict=False):
                    scene.offline = "error" in found
                    if not scene.offline:
                        scene.analysed = {
                            k: found[k] for k in ("valence", "arousal", "probs", "confidence")
                        }
            self.events.push("scenes", {})

        self.runner.start(jobs.Job("analyze", [jobs.Step(args, "analyse", apply)]))

    def require(self) -> Project:
        if self.project is None:
            raise EmsyncError("Open a timeline or a video first.")
        return self.project

    # -- jobs that run `emsync score`
    def generate(self) -> jobs.Job:
        p = self.require()
        c = p.choices
        have_score = (p.out / "report.json").is_file()
        if have_score and c.locked:  # keep the locked scenes: re-roll every other one
            unlocked = [s.index for s in p.scenes if s.index not in c.locked]
            if not unlocked:
                raise EmsyncError("Every scene is locked: unlock one to generate it again.")
            steps = []
            seed = self.next_seed()
            for k, index in enumerate(unlocked):
                steps.append(self._reroll_step(p, index, seed + k))
            return self._start("reroll", steps)
        emotion = p.emotion_file()
        args = jobs.score_args(
            str(p.input),
            str(p.out),
            engine=c.engine,
            seed=c.seed,
            emotion=str(emotion) if emotion else None,
            ensemble=c.ensemble if self.features()["ensembles"] else None,
            preview=c.preview and self.features()["preview"],
            media_root=str(p.media_root) if p.media_root else None,
            json_progress=self.features()["progress_json"],
        )
        p.work.mkdir(exist_ok=True)
        return self._start("generate", [jobs.Step(args, "generate")])

    def reroll(self, index: int, take: int | None = None) -> jobs.Job:
        p = self.require()
        if not self.features()["reroll"]:
            raise EmsyncError("This emsync cannot re-roll one scene yet (no --reroll).")
        if not (p.out / "report.json").is_file():
            raise EmsyncError("Generate the score first; then re-roll single scenes.")
        if not 0 <= index < len(p.scenes):
            raise EmsyncError(f"There is no scene {index}.")
        if index in p.choices.locked:
            raise EmsyncError(f"Scene {index + 1} is locked: unlock it to re-roll it.")
        if take is None:
            step = self._reroll_step(p, index, self.next_seed())
        else:  # an earlier take back, note for note (`--take`)
            entry = next((t for t in self.takes() if t.get("take") == take), None)
            if entry is None:
                raise EmsyncError(f"There is no take {take}.")
            step = self._reroll_step(p, index, int(entry["seed"]), extra=["--take", str(take)])
        return self._start("reroll", [step])

    def _reroll_step(
        self, p: Project, index: int, seed: int, extra: list[str] | None = None
    ) -> jobs.Step:
        args = jobs.score_args(
            str(p.input),
            str(p.out),
            engine=p.choices.engine,
            seed=seed,
            emotion=None if extra else p.emotion_spec(index),
            media_root=str(p.media_root) if p.media_root else None,
            reroll=index,
            preview=p.choices.preview and self.features()["preview"],
            json_progress=self.features()["progress_json"],
            extra=extra or (),
        )
        return jobs.Step(args, f"scene {index + 1}")

    def _start(self, kind: str, steps: list[jobs.Step]) -> jobs.Job:
        def done(_job: jobs.Job) -> None:
            self.events.push("output", {})

        return self.runner.start(jobs.Job(kind, steps, on_done=done))

    def takes(self) -> list[dict]:
        p = self.require()
        return list((media.report(p.out) or {}).get("takes", []))

    def next_seed(self) -> int:
        """A seed no take of this project has used yet (deterministic, so tests can repeat)."""
        p = self.require()
        used = [int(t.get("seed", 0)) for t in self.takes()]
        report = media.report(p.out) or {}
        used += [int(report.get("seed", 0)), p.choices.seed]
        return max(used) + 1

    # -- what the page shows of the current output
    def output(self) -> dict | None:
        p = self.project
        if p is None:
            return None
        report = media.report(p.out)
        if report is None:
            return None

        def url(path: Path) -> str | None:
            if not path.is_file():
                return None
            return f"/files/{path.relative_to(p.folder).as_posix()}?v={path.stat().st_mtime_ns}"

        excerpts: dict[str, list[dict]] = {}
        for wav in sorted((p.out / "takes").glob("take-*-scene-*.wav")):
            match = re.fullmatch(r"take-(\d+)-scene-(\d+)\.wav", wav.name)
            if match:
                excerpts.setdefault(match[2], []).append({"take": int(match[1]), "url": url(wav)})
        return {
            "engine": report.get("engine"),
            "seed": report.get("seed"),
            "scenes": report.get("scenes", []),
            "chords": report.get("chords", []),
            "takes": report.get("takes", []),
            "excerpts": excerpts,
            "wav": url(p.out / "score.wav"),
            "midi": url(p.out / "score.mid"),
            "preview": url(p.out / "preview.mp4"),
            "warnings": report.get("warnings", []),
            "messages": report.get("messages", []),
        }

    def state(self) -> dict:
        with self.lock:
            return {
                "project": self.project.to_json() if self.project else None,
                "job": self.runner.job.to_json() if self.runner.job else None,
                "output": self.output(),
                "features": self.features(),
                "max_upload": self.max_upload,
                "last_event": self.events.last_id,
            }

    def uploads(self) -> Path:
        if self._uploads is None:
            self._uploads = Path(tempfile.mkdtemp(prefix="emsync-board-uploads-"))
        return self._uploads


def create_app(board: Board) -> Starlette:
    def problem(message: str, status: int = 400) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    async def body(request: Request) -> dict:
        try:
            doc = await request.json()
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            raise EmsyncError("The request needs a JSON object.")
        return doc

    def api(handler):
        """One clear message for every error: the CLI's exit-2 messages appear as they are."""

        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except exporting.Exists as exc:
                return problem(str(exc), 409)
            except jobs.Busy as exc:
                return problem(f"Wait for the running job ({exc}) to finish, or cancel it.", 409)
            except EmsyncError as exc:
                return problem(str(exc))

        return wrapped

    async def index(_request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    @api
    async def state(_request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(board.state))

    @api
    async def open_project(request: Request) -> Response:
        doc = await body(request)
        path = str(doc.get("path") or "").strip()
        if not path:
            raise EmsyncError("Type the path of a timeline or a video to open.")
        root = str(doc.get("media_root") or "").strip()
        await run_in_threadpool(board.open, Path(path), Path(root).expanduser() if root else None)
        return JSONResponse(await run_in_threadpool(board.state))

    @api
    async def upload(request: Request) -> Response:
        name = Path(request.query_params.get("name", "")).name
        if not name or name.startswith("."):
            raise EmsyncError("The upload needs a file name.")
        declared = int(request.headers.get("content-length") or 0)
        if declared > board.max_upload:
            return problem(_too_big(board.max_upload), 413)
        folder = Path(tempfile.mkdtemp(dir=board.uploads()))
        target, received = folder / name, 0
        with target.open("wb") as fh:
            async for chunk in request.stream():
                received += len(chunk)
                if received > board.max_upload:  # a client that lied about its length
                    fh.close()
                    target.unlink()
                    return problem(_too_big(board.max_upload), 413)
                fh.write(chunk)
        root = request.query_params.get("media_root") or None
        await run_in_threadpool(board.open, target, Path(root) if root else None)
        return JSONResponse(await run_in_threadpool(board.state))

    @api
    async def set_mood(request: Request) -> Response:
        doc = await body(request)
        p = board.require()
        with board.lock:
            project.set_mood(p, int(doc.get("scene", -1)), doc.get("mood"))
        board.events.push("choices", {})
        return JSONResponse(p.to_json())

    @api
    async def set_lock(request: Request) -> Response:
        doc = await body(request)
        p = board.require()
        index = int(doc.get("scene", -1))
        if not 0 <= index < len(p.scenes):
            raise EmsyncError(f"There is no scene {index}.")
        with board.lock:
            locked = set(p.choices.locked)
            (locked.add if doc.get("locked") else locked.discard)(index)
            p.choices.locked = sorted(locked)
            p.save_choices()
        return JSONResponse(p.to_json())

    @api
    async def set_settings(request: Request) -> Response:
        doc = await body(request)
        p = board.require()
        features = await run_in_threadpool(board.features)
        with board.lock:
            c = p.choices
            if "engine" in doc:
                if doc["engine"] not in features["engines"]:
                    raise EmsyncError(f"Unknown engine '{doc['engine']}'.")
                c.engine = doc["engine"]
            if "ensemble" in doc:
                if doc["ensemble"] and doc["ensemble"] not in features["ensembles"]:
                    raise EmsyncError(f"Unknown ensemble '{doc['ensemble']}'.")
                c.ensemble = doc["ensemble"] or None
            if "seed" in doc:
                try:
                    c.seed = int(doc["seed"])
                except (TypeError, ValueError):
                    raise EmsyncError("The seed must be a whole number.") from None
            if "preview" in doc:
                c.preview = bool(doc["preview"])
            p.save_choices()
        return JSONResponse(p.to_json())

    @api
    async def generate(_request: Request) -> Response:
        job = await run_in_threadpool(board.generate)
        return JSONResponse(job.to_json())

    @api
    async def reroll(request: Request) -> Response:
        doc = await body(request)
        take = doc.get("take")
        job = await run_in_threadpool(
            board.reroll, int(doc.get("scene", -1)), None if take is None else int(take)
        )
        return JSONResponse(job.to_json())

    @api
    async def cancel(_request: Request) -> Response:
        return JSONResponse({"cancelled": board.runner.cancel()})

    @api
    async def export(request: Request) -> Response:
        doc = await body(request)
        p = board.require()
        if board.runner.busy:
            raise jobs.Busy(board.runner.job.kind)
        target = str(doc.get("path") or "").strip() or str(p.default_export())
        out = await run_in_threadpool(exporting.export, p, target, bool(doc.get("replace")))
        files = sorted(x.name for x in out.iterdir())
        return JSONResponse({"folder": str(out), "files": files})

    async def events(request: Request) -> Response:
        since = request.headers.get("last-event-id") or request.query_params.get("since")
        last = int(since) if since and since.isdigit() else board.events.last_id
        once = request.query_params.get("once") == "1"  # the backlog, then close (scripts)

        async def stream():
            nonlocal last
            yield "retry: 1000\n\n"
            quiet = 0.0
            while True:
                new = board.events.since(last)
                for event_id, kind, data in new:
                    yield f"id: {event_id}\nevent: {kind}\ndata: {json.dumps(data)}\n\n"
                    last = event_id
                if once:
                    return
                if new:
                    quiet = 0.0
                    continue
                await asyncio.sleep(0.1)
                quiet += 0.1
                if quiet >= 15:  # a comment keeps proxies and the browser from timing out
                    yield ": keep-alive\n\n"
                    quiet = 0.0

        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    async def thumb(request: Request) -> Response:
        p = board.project
        index = int(request.path_params["index"])
        if p is None or not 0 <= index < len(p.scenes):
            return Response(status_code=404)
        source = await run_in_threadpool(p.source_of, index)
        if source is None:
            return Response(status_code=404)
        out = p.work / "thumbs" / f"scene-{index}-{source[1]:.3f}.jpg"
        made = await run_in_threadpool(media.thumbnail, source[0], source[1], source[2], out)
        if made is None:
            return Response(status_code=404)
        return FileResponse(made, media_type="image/jpeg")

    @api
    async def waveform(_request: Request) -> Response:
        p = board.require()
        wav = p.out / "score.wav"
        if not wav.is_file():
            raise EmsyncError("No score.wav yet.")
        return JSONResponse(await run_in_threadpool(media.waveform, wav))

    @api
    async def pianoroll(_request: Request) -> Response:
        p = board.require()
        midi = p.out / "score.mid"
        if not midi.is_file():
            raise EmsyncError("No score.mid yet.")
        return JSONResponse(await run_in_threadpool(media.piano_roll, midi))

    async def files(request: Request) -> Response:
        """A file of the opened project (the score, the preview, take excerpts), never one
        outside its folder: `..` and symlinks are resolved before the check."""
        p = board.project
        if p is None:
            return Response("Not found", status_code=404)
        try:
            real = security.confine(request.path_params["path"], [p.folder], base=p.folder)
        except security.OutsideProject:
            return Response("Forbidden: not a file of the opened project", status_code=403)
        return FileResponse(real, headers={"Cache-Control": "no-store"})

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette):
        yield
        # The server stops: stop the job and wait for the CLI to clean up, so nothing is left
        # half-written.
        await run_in_threadpool(board.runner.shutdown)

    routes = [
        Route("/", index),
        Route("/api/state", state),
        Route("/api/open", open_project, methods=["POST"]),
        Route("/api/upload", upload, methods=["POST"]),
        Route("/api/mood", set_mood, methods=["POST"]),
        Route("/api/lock", set_lock, methods=["POST"]),
        Route("/api/settings", set_settings, methods=["POST"]),
        Route("/api/generate", generate, methods=["POST"]),
        Route("/api/reroll", reroll, methods=["POST"]),
        Route("/api/cancel", cancel, methods=["POST"]),
        Route("/api/export", export, methods=["POST"]),
        Route("/api/events", events),
        Route("/api/thumb/{index:int}", thumb),
        Route("/api/waveform", waveform),
        Route("/api/pianoroll", pianoroll),
        Route("/files/{path:path}", files),
        Mount("/static", StaticFiles(directory=STATIC)),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    return security.Guard(app, board.token, board.port)


def _too_big(limit: int) -> str:
    return (
        f"The file is larger than the upload limit ({limit // 2**20} MB). Type its path "
        "instead: a file on this machine needs no upload."
    )
