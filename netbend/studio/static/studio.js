// netbend studio page: holds the state as data, sends it on every change, paints the frames.
// No bending logic here: the server validates and renders with netbend's library functions.
"use strict";

const $ = (id) => document.getElementById(id);
const NB = window.netbend = {
  state: null, info: null, client: null, rid: 0, sent: new Map(), latencies: [], frames: 0,
  painted: 0, lastFrame: null, errors: [], version: 0, dropped: 0, timings: [],
};
let ws = null;
let drawSeq = 0;
let clusterCache = new Map();

// -- small helpers ---------------------------------------------------------------------------
function apiURL(path, params = {}) {
  const url = new URL("api/" + path, location.href);
  const token = new URLSearchParams(location.search).get("token");
  if (token) url.searchParams.set("token", token);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url;
}
async function call(path, { body, params, raw } = {}) {
  const opts = body === undefined ? {} : {
    method: "POST",
    headers: raw ? {} : { "Content-Type": "application/json" },
    body: raw ? body : JSON.stringify(body),
  };
  const res = await fetch(apiURL(path, params), opts);
  if (!res.ok) {
    let msg = res.statusText;
    try { msg = (await res.json()).error || msg; } catch (e) { /* not JSON */ }
    throw new Error(msg);
  }
  return res;
}
function showError(message) {
  const box = $("error");
  if (message) {
    box.textContent = "netbend: error: " + message;
    box.hidden = false;
    NB.errors.push(message);
  } else {
    box.hidden = true;
    box.textContent = "";
  }
}
function getPath(obj, path) {
  return path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);
}
function setPath(obj, path, value) {
  const keys = path.split(".");
  let o = obj;
  for (const k of keys.slice(0, -1)) { if (o[k] == null) o[k] = {}; o = o[k]; }
  o[keys[keys.length - 1]] = value;
}
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "dataset") Object.assign(node.dataset, v);
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) node.append(c);
  return node;
}
function median(xs) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
function download(url, name) {
  const a = el("a", { href: url, download: name });
  document.body.append(a); a.click(); a.remove();
}

// -- state and the socket ----------------------------------------------------------------------
function send() {
  NB.rid += 1;
  NB.sent.set(NB.rid, performance.now());
  $("busy").classList.add("on");
  if (ws && ws.readyState === WebSocket.OPEN) {
    ws.send(JSON.stringify({ type: "state", state: NB.state, rid: NB.rid }));
  }
}
function connect() {
  const url = new URL("ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  ws.onmessage = (ev) => (typeof ev.data === "string" ? onMessage(JSON.parse(ev.data)) : onFrame(ev.data));
  ws.onclose = () => { showError("connection to the studio server lost; reload the page when it runs again"); };
}
function onMessage(msg) {
  if (msg.type === "hello") {
    NB.client = msg.client;
    NB.state = msg.state;
    NB.version = msg.version;
    buildStack();
    syncValues();
  } else if (msg.type === "state") {
    NB.version = msg.version;
    if (msg.origin === NB.client) { showError(null); return; }
    NB.state = msg.state;
    clusterCache = new Map();
    if (signature(msg.state) !== NB.built) buildStack();
    syncValues();
    refreshOsc();
  } else if (msg.type === "model") {
    location.reload();
  } else if (msg.type === "error") {
    if (msg.origin === NB.client && msg.rid != null) settle(msg.rid, false);
    showError(msg.message);
  }
}
function settle(rid, painted) {
  const t0 = NB.sent.get(rid);
  if (painted && t0 !== undefined) NB.latencies.push(performance.now() - t0);
  for (const k of [...NB.sent.keys()]) if (k <= rid) NB.sent.delete(k);
  if (!NB.sent.size) $("busy").classList.remove("on");
}
async function onFrame(buffer) {
  const arrived = performance.now();
  const n = new DataView(buffer).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, n)));
  let at = 4 + n;
  const parts = header.sizes.map((size) => { const b = new Uint8Array(buffer, at, size); at += size; return b; });
  if (header.kinds && header.kinds.includes("bent.wav")) return onAudioFrame(header, parts, arrived);
  const seq = ++drawSeq;
  const [bent, plain] = await Promise.all(parts.map((b) => createImageBitmap(new Blob([b], { type: "image/png" }))));
  if (seq !== drawSeq) return; // a newer frame arrived while this one decoded
  const decoded = performance.now();
  const gridAt = (header.kinds || []).indexOf("grid");
  requestAnimationFrame(() => {
    paint($("bent"), bent);
    paint($("plain"), plain);
    $("grid-box").hidden = gridAt < 0;
    if (gridAt >= 0) {
      setURL($("grid"), "src", parts[gridAt], "image/png");
      $("grid-caption").textContent = `variations ${NB.state.variation}–${NB.state.variation + header.grid - 1} (run seed ${NB.state.seed})`;
    }
    NB.frames += 1;
    NB.lastFrame = { header, bent: parts[0] };
    NB.dropped = header.dropped;
    $("render-ms").textContent = `render ${header.ms.toFixed(1)} ms`;
    showSelected(header.selected);
    if (header.origin === NB.client && header.rid != null) {
      const sent = NB.sent.get(header.rid);
      if (sent !== undefined) {
        NB.timings.push({ sent, arrived, decoded, painted: performance.now(), server_ms: header.ms });
      }
      settle(header.rid, true);
      $("latency").textContent = `change→painted ${median(NB.latencies.slice(-20)).toFixed(0)} ms`;
    }
    NB.painted = performance.now();
    refreshInspect();
  });
}
const urls = {};
function setURL(node, attr, bytes, type) {
  if (urls[node.id]) URL.revokeObjectURL(urls[node.id]);
  urls[node.id] = URL.createObjectURL(new Blob([bytes], { type }));
  node[attr] = urls[node.id];
}
function onAudioFrame(header, parts, arrived) {
  const byKind = Object.fromEntries(header.kinds.map((k, i) => [k, parts[i]]));
  for (const k of ["original", "plain", "bent"]) setURL($("spec-" + k), "src", byKind[k], "image/png");
  for (const [id, k] of [["bent-audio", "bent.wav"], ["plain-audio", "plain.wav"]]) {
    const el = $(id), playing = !el.paused, t = el.currentTime;
    setURL(el, "src", byKind[k], "audio/wav");
    el.currentTime = t;
    if (playing) el.play().catch(() => {});
  }
  requestAnimationFrame(() => {
    NB.frames += 1;
    NB.lastFrame = { header, bent: byKind["bent.wav"] };
    $("render-ms").textContent = `render ${header.ms.toFixed(1)} ms`;
    showSelected(header.selected);
    if (header.origin === NB.client && header.rid != null) {
      settle(header.rid, true);
      $("latency").textContent = `change→painted ${median(NB.latencies.slice(-20)).toFixed(0)} ms`;
    }
  });
}
function paint(canvas, bitmap) {
  if (canvas.width !== bitmap.width) { canvas.width = bitmap.width; canvas.height = bitmap.height; }
  canvas.getContext("2d").drawImage(bitmap, 0, 0);
}

// -- generic bindings: every [data-path] control edits the state -------------------------------
function readValue(node) {
  const kind = node.dataset.kind;
  if (node.type === "checkbox") return node.checked;
  if (kind === "int" || kind === "float" || kind === "float?") {
    if (node.value === "" && kind === "float?") return null;
    const v = kind === "int" ? parseInt(node.value, 10) : parseFloat(node.value);
    return Number.isFinite(v) ? v : undefined;
  }
  if (kind === "layer") return /^\d+$/.test(node.value) ? parseInt(node.value, 10) : node.value;
  return node.value;
}
function writeValue(node, value) {
  if (node.type === "checkbox") node.checked = !!value;
  else node.value = value === null || value === undefined ? "" : value;
}
function syncValues(except) {
  for (const node of document.querySelectorAll("[data-path]")) {
    if (node === except || (node === document.activeElement && node.type !== "range" && node.type !== "checkbox")) continue;
    writeValue(node, getPath(NB.state, node.dataset.path));
  }
  const lat = NB.state.latent;
  $("latent-source").textContent = lat.file ? `from ${lat.file}` : `seeds ${lat.seed}…${lat.seed + lat.walk_seeds - 1}`;
}
function onEdit(ev) {
  const node = ev.target;
  if (!node.dataset || !node.dataset.path || !NB.state) return;
  const value = readValue(node);
  if (value === undefined) return; // a half-typed number
  setPath(NB.state, node.dataset.path, value);
  if (node.dataset.on) HOOKS[node.dataset.on](node);
  syncValues(node);
  send();
}
const onChangeOnly = (node) => node.tagName === "SELECT" || node.type === "checkbox";
document.addEventListener("input", (ev) => { if (!onChangeOnly(ev.target)) onEdit(ev); });
document.addEventListener("change", (ev) => { if (onChangeOnly(ev.target)) onEdit(ev); });

// -- panels ----------------------------------------------------------------------------------------
async function refreshOsc() {
  try {
    const rows = await (await call("osc")).json();
    $("osc").tBodies[0].replaceChildren(...rows.map((r) => el("tr", {}, el("td", {}, r.address), el("td", {}, r.control),
      el("td", {}, r.range.map((x) => (x == null ? "…" : x)).join(" – ")))));
  } catch (err) { /* shown when it matters */ }
}
async function refreshSlots() {
  const data = await (await call("presets")).json();
  $("slots").replaceChildren(...data.slots.map((s) => el("button", {
    type: "button", class: s.saved ? "saved" : "", title: s.saved ? `recall slot ${s.slot}` : `slot ${s.slot} is empty`,
    onclick: () => call(`presets/${s.slot}/load`, { body: {} }).catch((e) => showError(e.message)),
  }, String(s.slot))));
  if (!$("save-slot").options.length) for (const s of data.slots) $("save-slot").append(el("option", { value: s.slot }, String(s.slot)));
  $("preset-folder").textContent = data.folder;
}
let inspecting = false;
async function refreshInspect() {
  if (!$("inside").open || inspecting || !NB.state) return;
  inspecting = true;
  try {
    const what = $("inspect-what").value, k = $("inspect-feature").value === "" ? 0 : +$("inspect-feature").value;
    $("inspect-feature").hidden = what === "grid";
    const res = await call("inspect", { body: { state: NB.state, layer: readValue($("inspect-layer")), bent: $("inspect-bent").checked,
      feature: what === "feature" ? k : null, cluster: what === "cluster" ? k : null } });
    const url = URL.createObjectURL(await res.blob());
    const img = $("inspect-img");
    if (img.src) URL.revokeObjectURL(img.src);
    img.src = url;
  } catch (err) { showError(err.message); } finally { inspecting = false; }
}
async function exportPlan() {
  try {
    const out = await (await call("export", { body: NB.state })).json();
    $("export-out").hidden = false;
    $("export-command").textContent = out.command;
    $("export-yaml").textContent = out.plan_yaml;
    const planURL = URL.createObjectURL(new Blob([out.plan_yaml], { type: "text/yaml" }));
    $("export-plan").href = planURL;
    NB.exported = out;
    if (out.clip_wav_b64) {
      const bytes = Uint8Array.from(atob(out.clip_wav_b64), (c) => c.charCodeAt(0));
      download(URL.createObjectURL(new Blob([bytes], { type: "audio/wav" })), "clip.wav");
    }
    if (out.latent_npy_b64) {
      const bytes = Uint8Array.from(atob(out.latent_npy_b64), (c) => c.charCodeAt(0));
      $("export-latent").href = URL.createObjectURL(new Blob([bytes]));
      $("export-latent").hidden = false;
      download($("export-latent").href, "latent.npy");
    } else {
      $("export-latent").hidden = true;
    }
    download(planURL, "plan.yaml");
  } catch (err) { showError(err.message); }
}
async function savePNG() {
  try {
    const res = await call("png", { body: NB.state });
    download(URL.createObjectURL(await res.blob()), "studio.png");
  } catch (err) { showError(err.message); }
}
async function upload(path, file, params) {
  if (file.size > NB.info.max_upload) throw new Error(`upload: larger than the ${NB.info.max_upload / 2 ** 20} MB limit`);
  return (await call(path, { body: await file.arrayBuffer(), params: { name: file.name, ...params }, raw: true })).json();
}
function setZoom() {
  const px = $("zoom").value + "px";
  for (const c of document.querySelectorAll("canvas")) { c.style.width = px; c.style.height = px; c.classList.toggle("crisp", $("crisp").checked); }
  $("inspect-img").classList.toggle("crisp", $("crisp").checked);
  $("grid").classList.toggle("crisp", $("crisp").checked);
}

async function start() {
  NB.info = await (await call("info")).json();
  $("model-name").textContent = `${NB.info.model.name} · ${NB.info.model.resolution} px · ${NB.info.model.hash}`;
  $("layers").tBodies[0].replaceChildren(...NB.info.layers.map((l) => el("tr", {},
    el("td", {}, l.number ?? ""), el("td", {}, l.path), el("td", {}, l.shape.join("×")))));
  for (const l of NB.info.layers) $("inspect-layer").append(el("option", { value: l.number ?? l.path }, `${l.number ?? "·"} ${l.path}`));
  $("model-path").value = NB.info.model.path || "";
  if (NB.info.model.kind === "audio") {
    for (const id of ["latent", "previews", "inside", "view-opts"]) $(id).hidden = true;
    $("model-path").placeholder = "built-in audio model";
    $("audio-panel").hidden = false;
    $("model-name").textContent = `${NB.info.model.name} · ${NB.info.model.sample_rate} Hz · ${NB.info.model.hash}`;
    const fill = () => $("clip").replaceChildren(...NB.info.clips.map((c) => el("option", { value: c.id }, `${c.name} (${c.seconds} s)`)));
    fill();
    $("clip-file").addEventListener("change", async (ev) => {
      try {
        const out = await upload("import/clip", ev.target.files[0]);
        NB.info.clips.push(out); fill();
        NB.state.audio.clip = out.id; syncValues(); send();
      } catch (err) { showError(err.message); }
    });
  }
  $("load-model").addEventListener("click", () => call("model", { body: { path: $("model-path").value.trim() || null } })
    .catch((e) => showError(e.message)));
  $("add-bend").addEventListener("click", addBend);
  $("redraw").addEventListener("click", redraw);
  $("random-seed").addEventListener("click", () => { NB.state.latent.seed = Math.floor(Math.random() * 2 ** 31); syncValues(); send(); });
  $("latent-seeds").addEventListener("click", () => { NB.state.latent.file = null; syncValues(); send(); });
  $("latent-file").addEventListener("change", async (ev) => {
    try {
      const kind = $("latent-kind").value;
      const out = await upload("import/latent", ev.target.files[0], { kind });
      Object.assign(NB.state.latent, { file: out.id, kind, row: 0 });
      syncValues(); send();
    } catch (err) { showError(err.message); }
  });
  $("import-plan").addEventListener("change", async (ev) => {
    try { await upload("import/plan", ev.target.files[0]); } catch (err) { showError(err.message); }
  });
  $("import-clusters").addEventListener("change", async (ev) => {
    try {
      NB.info.clusters = await upload("import/clusters", ev.target.files[0]);
      clusterCache = new Map(); buildStack(); send();
    } catch (err) { showError(err.message); }
  });
  $("save-preset").addEventListener("click", () => call(`presets/${$("save-slot").value}`, { body: NB.state }).then(refreshSlots).catch((e) => showError(e.message)));
  $("export").addEventListener("click", exportPlan);
  $("save-png").addEventListener("click", savePNG);
  $("zoom").addEventListener("input", setZoom);
  $("crisp").addEventListener("change", setZoom);
  for (const id of ["inspect-layer", "inspect-bent", "inspect-feature", "inspect-what"]) $(id).addEventListener("change", refreshInspect);
  $("inspect-layer").addEventListener("change", () => { $("inspect-layer").dataset.touched = "1"; });
  $("inside").addEventListener("toggle", () => {
    const entry = NB.state && NB.state.transforms.find((e) => e.enabled !== false);
    if (!$("inspect-layer").dataset.touched) $("inspect-layer").value = entry ? entry.layer : 1;
    refreshInspect();
  });
  setZoom();
  refreshSlots().catch((e) => showError(e.message));
  refreshOsc();
  connect();
}
start().catch((err) => showError(err.message));
