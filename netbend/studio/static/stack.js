// netbend studio page, the bend stack: one card per plan entry, its controls built from the
// transform registry's parameter descriptions (type, unit, range, default). Loaded before studio.js.
"use strict";

// -- the bend stack ------------------------------------------------------------------------------
const HOOKS = {
  transform(node) {
    const entry = NB.state.transforms[+node.dataset.index];
    entry.params = defaultParams(spec(entry.transform));
    buildStack(); refreshOsc();
  },
  features(node) {
    const entry = NB.state.transforms[+node.dataset.index];
    entry["feature-param"] = { all: null, random: 0.25, cluster: [0], indices: [0] }[entry.features];
    if (entry.features === "all") delete entry.except;
    buildStack(); refreshOsc();
  },
  rebuild() { buildStack(); refreshOsc(); },
};
function spec(name) { return NB.info.transforms.find((t) => t.name === name); }
function sliderRange(p) {
  const unit = p.unit;
  let lo = p.min, hi = p.max;
  if (unit === "degrees") { lo = lo ?? -180; hi = hi ?? 180; }
  if (unit === "pixels") hi = Math.min(hi ?? 16, p.kind === "int" ? 16 : 10);
  if (unit === "factor") { lo = Math.max(lo ?? -4, p.min != null ? 0.05 : -4); hi = hi ?? 4; }
  if (lo == null) lo = p.kind === "int" ? 0 : -4;
  if (hi == null) hi = p.kind === "int" ? lo + 100 : lo + 8;
  const step = p.kind === "int" ? 1 : 10 ** Math.floor(Math.log10((hi - lo) / 200));
  return [lo, hi, step];
}
function neutral(p) {
  if (!p.required) return p.default;
  if (p.unit === "factor") return 1;
  const [lo, hi] = sliderRange(p);
  return Math.min(hi, Math.max(lo, p.min ?? 0));
}
function defaultParams(s) {
  const out = {};
  for (const p of s.params) out[p.name] = neutral(p);
  return out;
}
function signature(state) {
  return JSON.stringify(state.transforms.map((e) => [e.layer, e.transform, e.features, e.enabled, !!e.except]));
}
function layerSelect(i, value) {
  const sel = el("select", { dataset: { path: `transforms.${i}.layer`, kind: "layer", on: "rebuild" } });
  const numbered = NB.info.layers.filter((l) => l.number != null);
  const rest = NB.info.layers.filter((l) => l.number == null);
  const label = (l) => `${l.shape.join("×")} ${l.path}`;
  for (const l of numbered) sel.append(el("option", { value: l.number }, `${l.number} · ${label(l)}`));
  const group = el("optgroup", { label: "every bendable module" });
  for (const l of rest) group.append(el("option", { value: l.path }, label(l)));
  sel.append(group);
  sel.value = value;
  return sel;
}
function layerInfo(layer) {
  return NB.info.layers.find((l) => l.number === layer || l.path === layer) || { features: 0, path: String(layer) };
}
function paramRow(i, p, value) {
  const path = `transforms.${i}.params.${p.name}`;
  const kind = p.kind === "int" ? "int" : (p.required ? "float" : "float?");
  const [lo, hi, step] = sliderRange(p);
  const title = `${p.name}: ${p.kind}${p.unit ? " " + p.unit : ""}${p.doc ? " — " + p.doc : ""}`;
  return el("div", { class: "param", title },
    el("span", { class: "name" }, p.name + (p.unit ? ` (${p.unit})` : "")),
    el("input", { type: "range", min: lo, max: hi, step, dataset: { path, kind: p.kind === "int" ? "int" : "float" }, "aria-label": p.name }),
    el("input", { type: "number", class: "num", step: p.kind === "int" ? 1 : "any", min: p.min, max: p.max, dataset: { path, kind } }));
}
function featureControls(i, entry) {
  const box = el("div", {});
  const mode = el("select", { dataset: { path: `transforms.${i}.features`, on: "features", index: i } },
    ...["all", "random", "cluster", "indices"].map((m) => el("option", { value: m }, m)));
  const row = el("div", { class: "row" }, el("label", {}, "features ", mode));
  if (entry.features !== "all") {
    row.append(el("label", { title: "bend every feature except these" },
      el("input", { type: "checkbox", dataset: { path: `transforms.${i}.except`, on: "rebuild" } }), "except"));
  }
  row.append(el("span", { class: "dim selected", dataset: { entry: i } }));
  box.append(row);
  const path = `transforms.${i}.feature-param`;
  if (entry.features === "random") {
    box.append(el("div", { class: "param" }, el("span", { class: "name" }, "fraction"),
      el("input", { type: "range", min: 0.01, max: 1, step: 0.01, dataset: { path, kind: "float" }, "aria-label": "fraction" }),
      el("input", { type: "number", class: "num", min: 0.01, max: 1, step: 0.01, dataset: { path, kind: "float" } }),
      el("button", { type: "button", onclick: redraw, title: "next variation" }, "re-draw")));
    box.append(el("div", { class: "dim draw" }, `run seed ${NB.state.seed}, variation ${NB.state.variation}`));
  } else if (entry.features === "indices") {
    const input = el("input", { type: "text", value: (entry["feature-param"] || []).join(","), placeholder: "0,3,5-9" });
    input.addEventListener("change", () => {
      const ids = parseIndices(input.value);
      if (ids === null) { showError(`transforms[${i}].feature-param: cannot read '${input.value}' (use e.g. 0,3,5-9)`); return; }
      entry["feature-param"] = ids; send();
    });
    box.append(el("label", {}, "indices ", input));
  } else if (entry.features === "cluster") {
    const pics = el("div", { class: "clusters" });
    box.append(pics);
    fillClusters(pics, i, entry);
  }
  return box;
}
function parseIndices(text) {
  const out = [];
  for (const part of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = part.match(/^(\d+)(?:-(\d+))?$/);
    if (!m) return null;
    const a = +m[1], b = m[2] === undefined ? a : +m[2];
    if (b < a) return null;
    for (let k = a; k <= b; k++) out.push(k);
  }
  return out.length ? out : null;
}
async function fillClusters(box, i, entry) {
  const key = String(entry.layer);
  try {
    if (!clusterCache.has(key)) clusterCache.set(key, (async () => (await call(`clusters/${encodeURIComponent(key)}`)).json())());
    const data = await clusterCache.get(key);
    const chosen = new Set(entry["feature-param"] || []);
    for (const c of data.clusters) {
      const b = el("button", { type: "button", class: "cluster" + (chosen.has(c.index) ? " on" : ""), title: `cluster ${c.index}: ${c.size} features` },
        ...(c.png ? [el("img", { src: c.png, alt: `cluster ${c.index}` })] : []), `${c.index}: ${c.size}`);
      b.addEventListener("click", () => {
        chosen.has(c.index) ? chosen.delete(c.index) : chosen.add(c.index);
        if (!chosen.size) chosen.add(c.index);
        entry["feature-param"] = [...chosen].sort((x, y) => x - y);
        for (const other of box.children) other.classList.toggle("on", chosen.has(+other.title.split(/[ :]/)[1]));
        send();
      });
      box.append(b);
    }
  } catch (err) {
    clusterCache.delete(key);
    box.append(el("span", { class: "dim" }, err.message));
  }
}
function buildStack() {
  const box = $("stack");
  box.replaceChildren();
  NB.state.transforms.forEach((entry, i) => {
    const s = spec(entry.transform);
    const tsel = el("select", { dataset: { path: `transforms.${i}.transform`, on: "transform", index: i } },
      ...NB.info.transforms.map((t) => el("option", { value: t.name, title: t.description }, t.name)));
    const head = el("div", { class: "entry-head" },
      el("input", { type: "checkbox", title: "enabled", dataset: { path: `transforms.${i}.enabled`, on: "rebuild" } }),
      el("span", { class: "title" }, `${i}`),
      el("button", { type: "button", title: "move up", onclick: () => move(i, -1) }, "↑"),
      el("button", { type: "button", title: "move down", onclick: () => move(i, 1) }, "↓"),
      el("button", { type: "button", title: "remove", onclick: () => remove(i) }, "✕"));
    const card = el("div", { class: "entry" + (entry.enabled === false ? " off" : ""), dataset: { index: i } }, head,
      el("div", { class: "row" }, el("label", {}, "layer ", layerSelect(i, entry.layer)), el("label", {}, "transform ", tsel)));
    if (s) for (const p of s.params) card.append(paramRow(i, p, entry.params[p.name]));
    card.append(featureControls(i, entry));
    box.append(card);
  });
  NB.built = signature(NB.state);
  syncValues();
}
function showSelected(counts) {
  let k = 0;
  NB.state.transforms.forEach((entry, i) => {
    const span = document.querySelector(`.selected[data-entry="${i}"]`);
    if (!span) return;
    const total = layerInfo(entry.layer).features;
    span.textContent = entry.enabled === false ? "off" : `${counts[k++] ?? "?"} of ${total} bent`;
  });
  for (const d of document.querySelectorAll(".draw")) d.textContent = `run seed ${NB.state.seed}, variation ${NB.state.variation}`;
}
function addBend() {
  const first = NB.info.layers.find((l) => l.number != null) || NB.info.layers[0];
  const name = spec("rotate") ? "rotate" : NB.info.transforms[0].name;
  NB.state.transforms.push({ layer: first.number ?? first.path, transform: name, params: defaultParams(spec(name)),
    features: "all", "feature-param": null, enabled: true });
  buildStack(); refreshOsc(); send();
}
function move(i, d) {
  const t = NB.state.transforms, j = i + d;
  if (j < 0 || j >= t.length) return;
  [t[i], t[j]] = [t[j], t[i]];
  buildStack(); refreshOsc(); send();
}
function remove(i) {
  NB.state.transforms.splice(i, 1);
  buildStack(); refreshOsc(); send();
}
function redraw() {
  NB.state.variation += 1;
  syncValues(); showSelected([]); send();
}
