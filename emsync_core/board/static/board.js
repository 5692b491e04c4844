// EMSYNC scene board: plain JS, no framework, no network beyond this board's own server.
"use strict";

const EKMAN = { // valence, arousal (docs: the paper's mapping, as emsync_core/emotion/mapping.py)
  anger: [-0.651, 0.664], disgust: [-0.754, 0.255], fear: [-0.8, 0.681],
  joy: [0.8, 0.477], sadness: [-0.789, -0.8], surprise: [0.389, 0.8],
};
const $ = (sel, root = document) => root.querySelector(sel);
const state = { project: null, output: null, job: null, features: null, wave: null, roll: null };
let outputVersion = 0;

// ---------------------------------------------------------------- server calls
async function api(path, body, raw) {
  const options = body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": raw ? "application/octet-stream" : "application/json" },
    body: raw ? body : JSON.stringify(body),
  };
  const response = await fetch(path, options);
  let doc = null;
  try { doc = await response.json(); } catch (_) { doc = null; }
  if (!response.ok) {
    const error = new Error((doc && doc.error) || `The board answered ${response.status}.`);
    error.status = response.status;
    throw error;
  }
  return doc;
}

function showError(message) {
  $("#error-text").textContent = message;
  $("#error").hidden = false;
}
function clearError() { $("#error").hidden = true; }
function notice(message) {
  const el = $("#notice");
  el.textContent = message || "";
  el.hidden = !message;
}
async function guarded(fn) {
  clearError();
  try { return await fn(); } catch (e) { showError(e.message); return null; }
}

async function refresh() {
  const doc = await api("/api/state");
  const hadOutput = state.output && state.output.wav;
  Object.assign(state, doc);
  render();
  if (doc.output && (doc.output.wav !== hadOutput || !state.roll)) await loadScoreData();
}

// ---------------------------------------------------------------- events (SSE)
function listen() {
  const source = new EventSource("/api/events");
  source.addEventListener("job", e => onJob(JSON.parse(e.data)));
  source.addEventListener("progress", e => onJob(JSON.parse(e.data)));
  for (const kind of ["scenes", "project", "choices"]) {
    source.addEventListener(kind, () => refresh().catch(err => showError(err.message)));
  }
  source.addEventListener("output", async () => {
    outputVersion += 1;
    await refresh().catch(err => showError(err.message));
    document.body.dataset.output = String(outputVersion);
  });
}

function onJob(job) {
  state.job = job;
  const running = job.state === "running";
  document.body.dataset.job = running ? "running" : "idle";
  document.body.dataset.jobState = job.state;
  $("#progress").hidden = !running;
  $("#cancel").hidden = !running || job.kind === "analyze";
  $("#progress-fill").style.width = `${Math.round(job.progress * 100)}%`;
  const what = job.kind === "analyze" ? "Analysing the footage for moods" : (job.stage || "starting");
  const left = job.eta_s == null ? "" : ` · about ${duration(job.eta_s)} left`;
  $("#progress-text").textContent = `${what} · ${Math.round(job.progress * 100)} %${left}`;
  if (job.state === "failed") showError(job.error || "The job failed.");
  if (job.state === "cancelled") notice("Cancelled: the previous score is unchanged, nothing half-written.");
  if (job.state === "done" && job.kind !== "analyze") notice("");
  updateButtons();
}

function duration(seconds) {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  return `${Math.round(seconds / 60)} min`;
}

// ---------------------------------------------------------------- rendering
function render() {
  const p = state.project;
  $("#empty").hidden = !!p;
  $("#main").hidden = !p;
  if (!p) return;
  document.title = `${p.name} · EMSYNC scene board`;
  document.body.dataset.analysed = p.scenes.every(s => s.offline !== null) ? "1" : "0";
  document.body.dataset.takes = String(state.output ? (state.output.takes || []).length : 0);
  $("#project-info").innerHTML = "";
  const info = $("#project-info");
  info.append(el("b", {}, p.name));
  info.append(el("span", {}, `${p.input}`));
  info.append(el("span", {}, `${p.duration_s.toFixed(2)} s · ${p.rate.toFixed(3).replace(/\.?0+$/, "")} fps · ` +
    `${p.scenes.length} scenes · ${p.cuts.length} cuts · ${p.hits.length} hits · starts ${p.start_timecode}`));
  renderControls();
  renderFilmstrip();
  drawRuler();
  renderPlayer();
  if (!$("#export-path").value || $("#export-path").dataset.input !== p.input) {
    $("#export-path").value = p.default_export;
    $("#export-path").dataset.input = p.input;
  }
  updateButtons();
}

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  }
  if (text !== undefined) node.textContent = text;
  return node;
}

function renderControls() {
  const c = state.project.choices, f = state.features;
  fillSelect($("#engine"), f.engines, c.engine);
  const ensembles = f.ensembles.length ? f.ensembles : ["(this emsync has none)"];
  fillSelect($("#ensemble"), ensembles, c.ensemble || ensembles[0]);
  $("#ensemble").disabled = !f.ensembles.length;
  if (document.activeElement !== $("#seed")) $("#seed").value = c.seed;
  $("#preview").checked = c.preview;
  $("#preview-label").hidden = !f.preview;
}

function fillSelect(select, values, chosen) {
  if (select.dataset.values !== values.join()) {
    select.innerHTML = "";
    for (const v of values) select.append(el("option", { value: v }, v));
    select.dataset.values = values.join();
  }
  select.value = chosen;
}

// The mood the music will follow: the page's choice, else a marker's, else the analysis.
function moodOf(scene) {
  const chosen = state.project.choices.moods[String(scene.index)];
  if (chosen && chosen.emotion) {
    const [v, a] = EKMAN[chosen.emotion];
    return { valence: v, arousal: a, label: chosen.emotion, source: "set here" };
  }
  if (scene.marker_mood) {
    const m = scene.marker_mood;
    return { valence: m.valence, arousal: m.arousal, label: nearest(m.valence, m.arousal),
      source: `timeline marker “${m.text}”`, marker: true };
  }
  if (chosen) return { valence: chosen.valence, arousal: chosen.arousal,
    label: nearest(chosen.valence, chosen.arousal), source: "set here" };
  if (scene.analysed) {
    const a = scene.analysed;
    return { valence: a.valence, arousal: a.arousal, label: topEmotion(a.probs), source: "from the footage" };
  }
  return { valence: 0.1, arousal: -0.3, label: "neutral", source:
    scene.offline === null ? "analysing…" : "default (no footage)" };
}

function topEmotion(probs) {
  return Object.entries(probs).sort((x, y) => y[1] - x[1])[0][0];
}
function nearest(v, a) {
  let best = "neutral", bestD = v * v + a * a;
  for (const [name, [ev, ea]] of Object.entries(EKMAN)) {
    const d = (v - ev) ** 2 + (a - ea) ** 2;
    if (d < bestD) { best = name; bestD = d; }
  }
  return best;
}

function renderFilmstrip() {
  const strip = $("#filmstrip");
  const p = state.project;
  const scroll = strip.scrollLeft;
  strip.innerHTML = "";
  for (const scene of p.scenes) strip.append(sceneCard(scene));
  strip.scrollLeft = scroll;
}

function sceneCard(scene) {
  const p = state.project, out = state.output;
  const locked = p.choices.locked.includes(scene.index);
  const card = el("article", { class: `scene${locked ? " locked" : ""}`, "data-index": scene.index });
  const thumb = el("div", { class: "thumb" });
  if (scene.offline === true) {
    thumb.append(offlineCard(scene));
  } else {
    const img = el("img", { alt: scene.name, src: `/api/thumb/${scene.index}` });
    img.onerror = () => { thumb.innerHTML = ""; thumb.append(offlineCard(scene)); };
    thumb.append(img);
  }
  card.append(thumb);
  const head = el("div", { class: "head" });
  head.append(el("span", { class: "num" }, String(scene.index + 1)), el("span", { class: "name", title: scene.name }, scene.name));
  card.append(head);
  card.append(el("div", { class: "tc" },
    `${scene.timecode} – ${scene.end_timecode} · ${(scene.end_s - scene.start_s).toFixed(2)} s`));

  const mood = moodOf(scene);
  const moodRow = el("div", { class: "mood" });
  moodRow.append(el("span", { class: "label" }, mood.label));
  if (scene.analysed) {
    const a = scene.analysed, t = topEmotion(a.probs);
    moodRow.append(el("span", { class: "conf", title: "the analysis: its most likely emotion and its confidence" },
      `analysis: ${t}\u00a0${Math.round(a.probs[t] * 100)}\u00a0% · confidence\u00a0${Math.round(a.confidence * 100)}\u00a0%`));
  }
  moodRow.append(el("span", { class: "src" }, mood.source));
  const heard = out && out.scenes && out.scenes[scene.index];
  if (heard && (Math.abs(heard.valence - mood.valence) > 0.02 || Math.abs(heard.arousal - mood.arousal) > 0.02)) {
    moodRow.append(el("span", { class: "changed" }, "changed: not heard yet"));
  }
  card.append(moodRow);

  const chips = el("div", { class: "chips" });
  const chosen = p.choices.moods[String(scene.index)];
  for (const name of Object.keys(EKMAN)) {
    const chip = el("button", { class: `chip${chosen && chosen.emotion === name ? " on" : ""}`, "data-emotion": name,
      title: `${name}: valence ${EKMAN[name][0]}, arousal ${EKMAN[name][1]}`, disabled: !!mood.marker }, name);
    chip.onclick = () => guarded(() => setMood(scene.index,
      chosen && chosen.emotion === name ? null : { emotion: name }));
    chips.append(chip);
  }
  card.append(chips);

  const padRow = el("div", { class: "pad-row" });
  const pad = el("canvas", { class: "pad", width: 192, height: 192,
    title: "valence (left: negative, right: positive) × arousal (bottom: calm, top: excited); click to set" });
  drawPad(pad, scene, mood);
  pad.onclick = e => {
    if (mood.marker) return;
    const r = pad.getBoundingClientRect();
    const v = ((e.clientX - r.left) / r.width) * 2 - 1, a = 1 - ((e.clientY - r.top) / r.height) * 2;
    guarded(() => setMood(scene.index, { valence: clamp(v), arousal: clamp(a) }));
  };
  const va = el("div", { class: "va" });
  va.append(el("div", {}, `V ${signed(mood.valence)}`), el("div", {}, `A ${signed(mood.arousal)}`));
  if (chosen) {
    const reset = el("button", { class: "reset", title: "back to the analysed mood" }, "clear");
    reset.onclick = () => guarded(() => setMood(scene.index, null));
    va.append(reset);
  }
  padRow.append(pad, va);
  card.append(padRow);

  const music = el("div", { class: "music" });
  if (heard) {
    const chords = (out.chords || []).filter(c => c.scene === scene.index).map(c => c.chord);
    music.textContent = `${heard.key || ""} · ${heard.tempo_bpm ? Math.round(heard.tempo_bpm) + " bpm" : ""} · ${chords.slice(0, 4).join(" ")}${chords.length > 4 ? " …" : ""}`;
  }
  card.append(music);

  const actions = el("div", { class: "actions" });
  const newTake = el("button", { class: "new-take", title: "write this scene again with a new seed; the others stay as they are" }, "New take");
  newTake.onclick = () => guarded(() => api("/api/reroll", { scene: scene.index }));
  const lock = el("button", { class: `lock${locked ? " on" : ""}`, title: "keep this scene as it is" }, locked ? "Locked" : "Lock");
  lock.onclick = () => guarded(async () => {
    state.project = Object.assign(state.project, await api("/api/lock", { scene: scene.index, locked: !locked }));
    render();
  });
  actions.append(newTake, lock);
  card.append(actions);
  card.append(takesRow(scene));
  return card;
}

function offlineCard(scene) {
  const box = el("div", { class: "offline" });
  box.append(el("b", {}, scene.name), el("span", {}, "media offline"));
  return box;
}

function takesRow(scene) {
  const row = el("div", { class: "takes" });
  const out = state.output;
  const excerpts = (out && out.excerpts[String(scene.index)]) || [];
  if (!excerpts.length) return row;
  const current = Math.max(...out.takes.map(t => t.take));
  row.append(el("span", {}, "A/B:"));
  for (const x of excerpts) {
    const b = el("button", { class: `ab${x.take === current ? " current" : ""}`, "data-take": x.take,
      title: "play this take of the scene (with a second either side)" },
      `▶ take ${x.take}${x.take === current ? " (now)" : ""}`);
    b.onclick = () => playExcerpt(x.url, b);
    row.append(b);
  }
  for (const x of excerpts) {
    if (x.take === current) continue;
    const use = el("button", { class: "use-take", "data-take": x.take, title: "bring this take of the scene back" }, `use ${x.take}`);
    use.disabled = state.project.choices.locked.includes(scene.index);
    use.onclick = () => guarded(() => api("/api/reroll", { scene: scene.index, take: x.take }));
    row.append(use);
  }
  return row;
}

const auditions = new Audio();
function playExcerpt(url, button) {
  document.querySelectorAll(".takes button.playing").forEach(b => b.classList.remove("playing"));
  $("#audio").pause(); $("#video").pause();
  if (auditions.dataset && auditions.src.endsWith(url) && !auditions.paused) { auditions.pause(); return; }
  auditions.src = url;
  auditions.play().catch(() => {});
  button.classList.add("playing");
  auditions.onended = () => button.classList.remove("playing");
}

const clamp = x => Math.max(-1, Math.min(1, Math.round(x * 100) / 100));
const signed = x => (x >= 0 ? "+" : "") + x.toFixed(2);

async function setMood(index, mood) {
  state.project = Object.assign(state.project, await api("/api/mood", { scene: index, mood }));
  render();
}

function drawPad(canvas, scene, mood) {
  const g = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
  const x = v => (v + 1) / 2 * w, y = a => (1 - a) / 2 * h;
  g.fillStyle = "#15171c"; g.fillRect(0, 0, w, h);
  // quadrant tints: tense (top left), excited (top right), sad (bottom left), calm (bottom right)
  const tints = [["#3a1f24", 0, 0], ["#3a331c", w / 2, 0], ["#1d2536", 0, h / 2], ["#1d3326", w / 2, h / 2]];
  for (const [c, x0, y0] of tints) { g.fillStyle = c; g.fillRect(x0, y0, w / 2, h / 2); }
  g.strokeStyle = "#444a55"; g.beginPath(); g.moveTo(w / 2, 0); g.lineTo(w / 2, h); g.moveTo(0, h / 2); g.lineTo(w, h / 2); g.stroke();
  g.font = "bold 20px sans-serif"; g.fillStyle = "#8d94a1";
  g.textAlign = "left"; g.fillText("tense", 6, 22); g.fillText("sad", 6, h - 8);
  g.textAlign = "right"; g.fillText("excited", w - 6, 22); g.fillText("calm", w - 6, h - 8);
  g.fillStyle = "#6b7280"; // the six Ekman emotions' own points (the chips)
  for (const [v, a] of Object.values(EKMAN)) g.fillRect(x(v) - 3, y(a) - 3, 6, 6);
  if (scene.analysed) { // the analysis: a ring
    g.strokeStyle = "#c8ccd4"; g.lineWidth = 2;
    g.beginPath(); g.arc(x(scene.analysed.valence), y(scene.analysed.arousal), 9, 0, 7); g.stroke();
  }
  g.fillStyle = mood.source === "set here" ? "#5aa9e6" : "#e0a43a";
  g.beginPath(); g.arc(x(mood.valence), y(mood.arousal), 8, 0, 7); g.fill();
}

// ---------------------------------------------------------------- the edit's ruler
function drawRuler() {
  const canvas = $("#ruler"), p = state.project;
  const w = canvas.width = canvas.clientWidth * devicePixelRatio, h = canvas.height = 46 * devicePixelRatio;
  const g = canvas.getContext("2d"), s = devicePixelRatio, X = t => t / p.duration_s * w;
  g.clearRect(0, 0, w, h);
  p.scenes.forEach((scene, i) => {
    g.fillStyle = i % 2 ? "#262a33" : "#2d323c";
    if (p.choices.locked.includes(scene.index)) g.fillStyle = "#27402b";
    g.fillRect(X(scene.start_s), 8 * s, X(scene.end_s) - X(scene.start_s), 30 * s);
    g.fillStyle = "#c8ccd4"; g.font = `${12 * s}px sans-serif`; g.textAlign = "left";
    g.fillText(`${i + 1} ${moodOf(scene).label}`, X(scene.start_s) + 4 * s, 27 * s, X(scene.end_s) - X(scene.start_s) - 8 * s);
  });
  g.strokeStyle = "#e0a43a"; g.lineWidth = 2 * s;
  for (const cut of p.cuts) { g.beginPath(); g.moveTo(X(cut.seconds), 4 * s); g.lineTo(X(cut.seconds), 42 * s); g.stroke(); }
  g.fillStyle = "#e5534b";
  for (const hit of p.hits) {
    const x = X(hit.seconds);
    g.beginPath(); g.moveTo(x - 6 * s, 0); g.lineTo(x + 6 * s, 0); g.lineTo(x, 9 * s); g.fill();
    g.fillRect(x - s / 2, 8 * s, s, 30 * s);
  }
  const t = currentTime();
  if (t !== null) { g.fillStyle = "#5aa9e6"; g.fillRect(X(t) - s, 0, 2 * s, h); }
}

$("#ruler").addEventListener("click", e => {
  const p = state.project; if (!p) return;
  const r = e.target.getBoundingClientRect(), t = (e.clientX - r.left) / r.width * p.duration_s;
  const scene = p.scenes.find(sc => t >= sc.start_s && t < sc.end_s);
  if (scene) document.querySelector(`.scene[data-index="${scene.index}"]`).scrollIntoView({ block: "nearest", inline: "center" });
  seek(scene ? scene.start_s : t);
});

// ---------------------------------------------------------------- the player
function player() {
  return state.output && state.output.preview ? $("#video") : $("#audio");
}
function currentTime() {
  return state.output && state.output.wav ? player().currentTime : null;
}
function seek(t) {
  if (!(state.output && state.output.wav)) return;
  auditions.pause();
  const media = player(); media.currentTime = t; media.play().catch(() => {});
}

function renderPlayer() {
  const out = state.output, video = $("#video"), audio = $("#audio");
  $("#no-score").hidden = !!(out && out.wav);
  video.hidden = !(out && out.preview);
  audio.hidden = !(out && out.wav) || !!(out && out.preview);
  if (out && out.preview && video.dataset.src !== out.preview) { video.src = out.preview; video.dataset.src = out.preview; }
  if (out && out.wav && !out.preview && audio.dataset.src !== out.wav) { audio.src = out.wav; audio.dataset.src = out.wav; }
  drawScore();
}

async function loadScoreData() {
  [state.wave, state.roll] = await Promise.all([api("/api/waveform"), api("/api/pianoroll")]);
  drawScore();
}

// Waveform on top, chord names under it, the piano roll below; cuts and hits across all three.
function drawScore() {
  const canvas = $("#score-canvas"), p = state.project;
  if (!p) return;
  const s = devicePixelRatio, w = canvas.width = canvas.clientWidth * s, h = canvas.height = 300 * s;
  const g = canvas.getContext("2d"), X = t => t / p.duration_s * w;
  g.fillStyle = "#111317"; g.fillRect(0, 0, w, h);
  const waveTop = 4 * s, waveH = 70 * s, chordY = waveTop + waveH + 18 * s, rollTop = chordY + 10 * s, rollH = h - rollTop - 4 * s;
  p.scenes.forEach((scene, i) => {
    if (i % 2) { g.fillStyle = "#171a20"; g.fillRect(X(scene.start_s), 0, X(scene.end_s) - X(scene.start_s), h); }
  });
  const wave = state.wave;
  if (wave && state.output) {
    g.fillStyle = "#5aa9e6";
    const n = wave.max.length, mid = waveTop + waveH / 2;
    for (let i = 0; i < n; i++) {
      const x = i / n * X(wave.duration_s), hi = wave.max[i] * waveH / 2, lo = wave.min[i] * waveH / 2;
      g.fillRect(x, mid - hi, Math.max(1, w / n), Math.max(1, hi - lo));
    }
  }
  const out = state.output;
  if (out) {
    g.font = `${12 * s}px sans-serif`; g.fillStyle = "#e6e8ec"; g.textAlign = "left";
    for (const c of out.chords || []) {
      const x0 = X(c.start_s), x1 = X(c.end_s);
      if (x1 - x0 > 14 * s) g.fillText(c.chord, x0 + 3 * s, chordY, x1 - x0 - 5 * s);
      g.fillStyle = "#3a3f4a"; g.fillRect(x0, chordY - 12 * s, 1, 14 * s); g.fillStyle = "#e6e8ec";
    }
  }
  const roll = state.roll;
  if (roll && out) {
    const [lo, hi] = roll.pitch_range, span = Math.max(12, hi - lo + 1), rowH = rollH / span;
    const colours = ["#e0a43a", "#5aa9e6", "#57ab5a", "#c678dd", "#e5534b", "#56b6c2", "#d19a66", "#abb2bf"];
    for (const [t0, t1, pitch, layer] of roll.notes) {
      g.fillStyle = colours[layer % colours.length];
      g.fillRect(X(t0), rollTop + (hi - pitch) * rowH, Math.max(1.5 * s, X(t1) - X(t0) - 1), Math.max(1.5 * s, rowH - 0.5));
    }
    // the layers' legend, on a dark box so notes under it do not garble it
    g.font = `${11 * s}px sans-serif`; g.textAlign = "right";
    const legendW = Math.max(...roll.layers.map(l => g.measureText(l.name).width)) + 10 * s;
    g.fillStyle = "rgba(17, 19, 23, 0.88)";
    g.fillRect(w - legendW - 2 * s, rollTop, legendW + 2 * s, roll.layers.length * 13 * s + 6 * s);
    roll.layers.forEach((layer, i) => {
      g.fillStyle = colours[i % colours.length]; g.fillText(layer.name, w - 5 * s, rollTop + (i + 1) * 13 * s);
    });
  }
  g.strokeStyle = "#e0a43a"; g.lineWidth = 1.5 * s;
  for (const cut of p.cuts) { g.beginPath(); g.moveTo(X(cut.seconds), 0); g.lineTo(X(cut.seconds), h); g.stroke(); }
  g.strokeStyle = "#e5534b"; g.setLineDash([4 * s, 4 * s]);
  for (const hit of p.hits) { g.beginPath(); g.moveTo(X(hit.seconds), 0); g.lineTo(X(hit.seconds), h); g.stroke(); }
  g.setLineDash([]);
  const t = currentTime();
  if (t !== null) { g.fillStyle = "#ffffff"; g.fillRect(X(t) - s / 2, 0, s, h); }
}

$("#score-canvas").addEventListener("click", e => {
  const p = state.project; if (!p) return;
  const r = e.target.getBoundingClientRect();
  seek((e.clientX - r.left) / r.width * p.duration_s);
});

function tick() { // the playhead, and which scene is playing
  if (state.project && state.output && state.output.wav) {
    const t = currentTime();
    drawRuler(); drawScore();
    document.querySelectorAll(".scene").forEach(card => {
      const sc = state.project.scenes[Number(card.dataset.index)];
      card.classList.toggle("playing", !player().paused && t >= sc.start_s && t < sc.end_s);
    });
  }
  setTimeout(() => requestAnimationFrame(tick), 100);
}

// ---------------------------------------------------------------- buttons
function updateButtons() {
  const p = state.project, running = state.job && state.job.state === "running";
  if (!p) return;
  const haveScore = !!(state.output && state.output.wav);
  const locked = p.choices.locked.length > 0 && haveScore;
  const gen = $("#generate");
  gen.textContent = locked ? "Generate unlocked scenes" : (haveScore ? "Generate again" : "Generate");
  gen.disabled = running;
  $("#open-btn").disabled = running;
  $("#export-btn").disabled = running || !haveScore;
  document.querySelectorAll(".scene").forEach(card => {
    const index = Number(card.dataset.index), isLocked = p.choices.locked.includes(index);
    $(".new-take", card).disabled = running || !haveScore || isLocked || !state.features.reroll;
    card.querySelectorAll(".use-take").forEach(b => { b.disabled = running || isLocked; });
  });
}

$("#open-form").addEventListener("submit", e => {
  e.preventDefault();
  guarded(async () => {
    notice("");
    await api("/api/open", { path: $("#open-path").value, media_root: $("#media-root").value });
    state.wave = state.roll = null;
    await refresh();
  });
});

$("#upload").addEventListener("change", () => guarded(async () => {
  const file = $("#upload").files[0];
  if (!file) return;
  if (state.max_upload && file.size > state.max_upload) {
    throw new Error(`${file.name} is larger than the upload limit (${Math.round(state.max_upload / 2 ** 20)} MB). Type its path instead.`);
  }
  const root = encodeURIComponent($("#media-root").value);
  await api(`/api/upload?name=${encodeURIComponent(file.name)}&media_root=${root}`, file, true);
  state.wave = state.roll = null;
  await refresh();
}));

$("#engine").addEventListener("change", () => guarded(() => settings({ engine: $("#engine").value })));
$("#ensemble").addEventListener("change", () => guarded(() => settings({ ensemble: $("#ensemble").value })));
$("#seed").addEventListener("change", () => guarded(() => settings({ seed: Number($("#seed").value) })));
$("#preview").addEventListener("change", () => guarded(() => settings({ preview: $("#preview").checked })));
async function settings(doc) {
  state.project = Object.assign(state.project, await api("/api/settings", doc));
  render();
}

$("#generate").addEventListener("click", () => guarded(async () => { notice(""); await api("/api/generate", {}); }));
$("#cancel").addEventListener("click", () => guarded(() => api("/api/cancel", {})));
$("#error-close").addEventListener("click", clearError);

async function exportTo(replace) {
  $("#export-confirm").hidden = true;
  const result = $("#export-result");
  result.textContent = ""; result.className = "";
  try {
    const doc = await api("/api/export", { path: $("#export-path").value, replace });
    result.textContent = `Exported to ${doc.folder}: ${doc.files.join(", ")}`;
  } catch (e) {
    if (e.status === 409 && !replace && /exists/.test(e.message)) {
      $("#export-confirm-text").textContent = e.message;
      $("#export-confirm").hidden = false;
    } else {
      showError(e.message);
    }
  }
}
$("#export-btn").addEventListener("click", () => { clearError(); exportTo(false); });
$("#export-replace").addEventListener("click", () => exportTo(true));
$("#export-keep").addEventListener("click", () => {
  $("#export-confirm").hidden = true;
  $("#export-result").textContent = "Nothing exported: the folder was kept as it was.";
});

window.addEventListener("resize", () => { if (state.project) { drawRuler(); drawScore(); } });

// ---------------------------------------------------------------- start
(async () => {
  if (location.search.includes("token=")) history.replaceState(null, "", "/"); // the cookie has it now
  listen();
  await guarded(refresh);
  if (state.job) onJob(state.job);
  tick();
})();
