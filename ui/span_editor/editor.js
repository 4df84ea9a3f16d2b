// The span editor (st.components.v2). Python owns every offset: this code sees
// units by index and their texts, and sends back unit indices only. Corpus text
// and labels are only ever written with textContent / text nodes, each unit in
// its own element, so no JS string is indexed by position (emoji, jamo, marks).
// The frontend calls the default export again on every rerun with new data and
// the same parentElement (a shadow root), so the editor is built once per root.

const EDITORS = new WeakMap();
const PALETTE = ["#e8590c", "#1c7ed6", "#2f9e44", "#ae3ec9", "#f08c00", "#0c8599", "#e03131",
  "#5f3dc4", "#66a80f", "#c2255c", "#495057", "#1098ad"];
const SAFETY_MS = 8000;  // unlock if Python never acknowledges an action
// A unit that is a combining mark or a medial/final conjoining jamo draws no
// advance of its own once it sits in its own element: give it a box to click.
const ZERO_WIDTH = /^[\p{M}\u1160-\u11FF\uD7B0-\uD7FF]/u;
const NAV_CODES = { KeyK: "prev", KeyJ: "next", KeyM: "take_model", KeyS: "skip" };

export default function (component) {
  const { parentElement, data, setStateValue } = component;
  let ed = EDITORS.get(parentElement);
  if (!ed) {
    ed = create(parentElement);
    EDITORS.set(parentElement, ed);
  }
  ed.send = setStateValue;
  update(ed, data || {});
  return () => destroy(ed, parentElement);
}

function create(parent) {
  const root = parent.querySelector(".se-root");
  const ed = {
    parent, root, main: root.querySelector(".se-main"), model: root.querySelector(".se-model"),
    modelRow: root.querySelector(".se-model-row"), status: root.querySelector(".se-status"),
    chips: root.querySelector(".se-chips"), caption: root.querySelector(".se-caption"),
    data: null, seq: 0, busy: null, sentAt: 0, queue: [], timer: null,
    cur: null, anchor: null, sel: false, active: null, drag: null, unitEls: [], entOf: [],
  };
  root.addEventListener("keydown", (e) => onKey(ed, e));
  root.addEventListener("mousedown", (e) => onMouseDown(ed, e));
  root.addEventListener("mouseover", (e) => onMouseOver(ed, e));
  root.addEventListener("dblclick", (e) => onDblClick(ed, e));
  root.addEventListener("click", (e) => onClick(ed, e));
  ed.onDocUp = () => onMouseUp(ed);
  ed.onDocKey = (e) => onDocKey(ed, e);
  document.addEventListener("mouseup", ed.onDocUp);
  document.addEventListener("keydown", ed.onDocKey);
  return ed;
}

function destroy(ed, parent) {
  document.removeEventListener("mouseup", ed.onDocUp);
  document.removeEventListener("keydown", ed.onDocKey);
  clearTimeout(ed.timer);
  EDITORS.delete(parent);
}

// ---- data from Python -----------------------------------------------------------
function update(ed, data) {
  const old = ed.data;
  ed.data = data;
  ed.seq = Math.max(ed.seq, data.ack || 0);
  if (ed.busy !== null && (data.ack || 0) >= ed.busy) {
    ed.root.dataset.latencyMs = String(Math.round(performance.now() - ed.sentAt));
    unlock(ed);
  }
  if (!old || old.doc !== data.doc) resetCursor(ed, old, data);
  render(ed);
  ed.root.dataset.doc = data.doc || "";
  ed.root.dataset.ack = String(data.ack || 0);
  if (data.autofocus !== false) takeFocus(ed);
  drain(ed);
}

function resetCursor(ed, old, data) {
  const n = (data.units || []).length;
  const sameText = old && old.text_id === data.text_id;
  ed.sel = false;
  ed.active = null;
  if (!sameText || ed.cur === null || ed.cur >= n) ed.cur = null;
  ed.anchor = ed.cur;
}

function takeFocus(ed) {
  const a = document.activeElement;
  const idle = !a || a === document.body || a === document.documentElement;
  if (idle || ed.parent.host === a) {
    if (ed.parent.activeElement !== ed.root && !ed.root.contains(ed.parent.activeElement || null)) {
      ed.root.focus({ preventScroll: true });
    }
  }
}

// ---- rendering (text nodes only) ------------------------------------------------
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function colour(labels, label) {
  let i = labels.indexOf(label);
  if (i < 0) i = [...label].reduce((h, c) => (h * 31 + c.codePointAt(0)) >>> 0, 7);
  return PALETTE[i % PALETTE.length];
}

function render(ed) {
  const d = ed.data;
    ed.caption.textContent = d.caption || "";
  const units = d.units || [];
  ed.entOf = new Array(units.length).fill(null);
  ed.unitEls = renderRow(ed.main, d, d.spans || [], true, ed.entOf);
  const hasModel = Array.isArray(d.model);
  ed.modelRow.hidden = !hasModel;
  if (hasModel) renderRow(ed.model, d, d.model, false, null);
  renderChips(ed);
  paint(ed);
}

function renderRow(box, d, spans, main, entOf) {
  const units = d.units || [], gaps = d.gaps || [""];
  box.replaceChildren();
  const starts = new Map();
  spans.forEach((s, k) => { if (!starts.has(s.first)) starts.set(s.first, { s, k }); });
  const els = [];
  let i = 0;
  if (gaps[0]) box.appendChild(document.createTextNode(gaps[0]));
  while (i < units.length) {
    const hit = starts.get(i);
    if (!hit || hit.s.last < i) {
      unit(box, units, gaps, i, main, els);
      i += 1;
      continue;
    }
    const mark = el("span", "se-ent" + (!main && hit.s.differs ? " se-differs" : ""));
    mark.style.setProperty("--c", colour(d.labels || [], hit.s.label));
    if (main) mark.dataset.ent = String(hit.s.index);
    const last = Math.min(hit.s.last, units.length - 1);
    for (let j = i; j <= last; j++) {
      unit(mark, units, gaps, j, main, els, j === last);
      if (entOf) entOf[j] = hit.s.index;
    }
    const lab = el("span", "se-lab", hit.s.label);
    if (main) lab.dataset.ent = String(hit.s.index);
    mark.appendChild(lab);
    box.appendChild(mark);
    if (gaps[last + 1]) box.appendChild(document.createTextNode(gaps[last + 1]));
    i = last + 1;
  }
  return els;
}

function unit(box, units, gaps, i, main, els, lastInMark) {
  const u = el("span", ZERO_WIDTH.test(units[i]) ? "se-u se-comb" : "se-u", units[i]);
  if (main) u.dataset.u = String(i);
  box.appendChild(u);
  els[i] = u;
  const gap = gaps[i + 1];  // the mark's last unit leaves its gap to the row
  if (gap && lastInMark !== true) box.appendChild(document.createTextNode(gap));
}

function renderChips(ed) {
  ed.chips.replaceChildren();
  const labels = ed.data.labels || [];
  labels.forEach((label, k) => {
    const b = el("button", "se-chip");
    b.type = "button";
    b.dataset.label = String(k);
    b.style.setProperty("--c", colour(labels, label));
    if (k < 9) b.appendChild(el("kbd", "", String(k + 1)));
    b.appendChild(document.createTextNode(" " + label));
    ed.chips.appendChild(b);
  });
}

function range(ed) {
  if (!ed.sel || ed.cur === null) return null;
  const a = ed.anchor === null ? ed.cur : ed.anchor;
  return [Math.min(a, ed.cur), Math.max(a, ed.cur)];
}

function paint(ed) {
  const r = range(ed);
  ed.unitEls.forEach((u, i) => {
    if (!u) return;
    u.classList.toggle("se-sel", !!r && i >= r[0] && i <= r[1]);
    u.classList.toggle("se-cur", ed.cur === i);
  });
  ed.main.querySelectorAll(".se-ent").forEach((m) =>
    m.classList.toggle("se-active", ed.active !== null && m.dataset.ent === String(ed.active)));
  const busy = ed.busy !== null;
  ed.root.setAttribute("aria-busy", busy ? "true" : "false");
  const canRemove = ed.active !== null;
  ed.root.querySelector('[data-act="remove"]').disabled = !canRemove;
  ed.root.querySelector('[data-act="take_model"]').disabled = !Array.isArray(ed.data.model);
  ed.status.textContent = statusText(ed, r, busy);
}

function statusText(ed, r, busy) {
  if (busy) return "saving…";
  const units = ed.data.units || [];
  if (r) return `selected: ${units.slice(r[0], r[1] + 1).join("")} (units ${r[0] + 1}–${r[1] + 1}) — press 1–9 or click a label`;
  if (ed.active !== null) {
    const s = (ed.data.spans || []).find((x) => x.index === ed.active);
    if (s) return `entity: ${s.label} — press 1–9 to retype, Del to remove`;
  }
  if (ed.cur !== null) return `cursor on unit ${ed.cur + 1} of ${units.length}`;
  return "";
}

// ---- actions ----------------------------------------------------------------------
function commit(ed, payload) {
  ed.seq += 1;
  payload.seq = ed.seq;
  payload.doc = ed.data.doc;
  ed.busy = ed.seq;
  ed.sentAt = performance.now();
  ed.sel = false;
  ed.anchor = ed.cur;
  paint(ed);
  clearTimeout(ed.timer);
  ed.timer = setTimeout(() => { unlock(ed); paint(ed); drain(ed); }, SAFETY_MS);
  ed.send("action", payload);
}

function unlock(ed) {
  ed.busy = null;
  clearTimeout(ed.timer);
}

function drain(ed) {
  while (ed.busy === null && ed.queue.length) runKey(ed, ed.queue.shift());
}

function labelWith(ed, k) {
  const label = (ed.data.labels || [])[k];
  if (label === undefined) return;
  const r = range(ed);
  if (r) commit(ed, { action: "label", first: r[0], last: r[1], label });
  else if (ed.active !== null) commit(ed, { action: "retype", index: ed.active, label });
  else if (ed.cur !== null) commit(ed, { action: "label", first: ed.cur, last: ed.cur, label });
  else ed.status.textContent = "select units first (drag, double-click, or Home then Shift+→)";
}

function removeActive(ed) {
  if (ed.active !== null) commit(ed, { action: "remove", index: ed.active });
}

function moveCursor(ed, dir, shift) {
  const n = (ed.data.units || []).length;
  if (!n) return;
  if (ed.cur === null) {
    ed.cur = dir > 0 ? 0 : n - 1;
    ed.anchor = ed.cur;
  } else {
    if (shift && !ed.sel) ed.anchor = ed.cur;
    ed.cur = Math.max(0, Math.min(n - 1, ed.cur + dir));
    if (!shift) ed.anchor = ed.cur;
  }
  ed.sel = shift;
  ed.active = shift ? null : ed.entOf[ed.cur];
  paint(ed);
}

function selectUnits(ed, first, last) {  // a selection from unit first to unit last (the cursor)
  ed.anchor = first;
  ed.cur = last;
  ed.sel = true;
  ed.active = null;
  paint(ed);
}

function setCursor(ed, i) {
  ed.cur = i;
  ed.anchor = i;
  ed.sel = false;
  ed.active = i === null ? null : ed.entOf[i];
  paint(ed);
}

// ---- keyboard --------------------------------------------------------------------
function keyOf(e) {
  const mod = e.ctrlKey || e.metaKey;
  if (e.altKey) return null;
  if (mod) return e.code === "KeyZ" && !e.shiftKey ? { name: "undo" } : null;
  const digit = /^(Digit|Numpad)([1-9])$/.exec(e.code);
  if (digit) return { name: "digit", n: Number(digit[2]) - 1 };
  if (NAV_CODES[e.code] && !e.shiftKey) return { name: NAV_CODES[e.code] };
  const plain = { Enter: "accept", Delete: "remove", Backspace: "remove", Escape: "escape",
    Home: "home", End: "end", ArrowLeft: "left", ArrowRight: "right" }[e.key];
  if (!plain) return null;
  if (e.shiftKey && plain !== "left" && plain !== "right") return null;
  return { name: plain, shift: e.shiftKey };
}

function isTyping(t) {
  if (!t || !t.tagName) return false;
  return /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName) || t.isContentEditable;
}

function onKey(ed, e) {
  const target = e.composedPath()[0];
  if (isTyping(target) || e.isComposing) return;
  if (target && target.tagName === "BUTTON" && (e.key === "Enter" || e.key === " ")) return;
  const k = keyOf(e);
  if (!k) return;
  e.preventDefault();
  e.stopPropagation();
  if (ed.busy !== null) ed.queue.push(k);
  else runKey(ed, k);
}

function onDocKey(ed, e) {
  // Keys typed while nothing has focus (after a rerun, a click on the page):
  // the editor takes them, but never keys aimed at an input or another widget.
  const a = document.activeElement;
  if (a && a !== document.body && a !== document.documentElement) return;
  if (!ed.root.isConnected || !keyOf(e)) return;
  ed.root.focus({ preventScroll: true });
  onKey(ed, e);
}

function runKey(ed, k) {
  const n = k.name;
  if (n === "digit") return labelWith(ed, k.n);
  if (n === "undo" || n === "accept" || n === "skip") return commit(ed, { action: n });
  if (n === "prev" || n === "next") return commit(ed, { action: n });
  if (n === "take_model") return Array.isArray(ed.data.model) && commit(ed, { action: n });
  if (n === "remove") return removeActive(ed);
  if (n === "escape") return setCursor(ed, null);
  const last = (ed.data.units || []).length - 1;
  if (n === "home" || n === "end") return last >= 0 && setCursor(ed, n === "home" ? 0 : last);
  const dir = n === "left" ? -1 : 1;
  if (ed.cur === null && !k.shift) return commit(ed, { action: dir < 0 ? "prev" : "next" });
  moveCursor(ed, dir, k.shift);
}

// ---- mouse -----------------------------------------------------------------------
function unitIndex(t) {
  const u = t && t.closest ? t.closest("[data-u]") : null;
  return u ? Number(u.dataset.u) : null;
}

function onMouseDown(ed, e) {
  if (e.button !== 0) return;
  const i = unitIndex(e.target);
  if (i === null) {
    if (!e.target.closest("button")) ed.root.focus({ preventScroll: true });
    return;
  }
  e.preventDefault();  // no native text selection; focus the editor instead
  ed.root.focus({ preventScroll: true });
  if (ed.busy !== null) return;
  ed.drag = { start: i, moved: false };
  selectUnits(ed, i, i);
}

function onMouseOver(ed, e) {
  if (!ed.drag) return;
  const i = unitIndex(e.target);
  if (i === null || i === ed.cur) return;
  ed.drag.moved = ed.drag.moved || i !== ed.drag.start;
  ed.cur = i;
  paint(ed);
}

function onMouseUp(ed) {
  const drag = ed.drag;
  ed.drag = null;
  if (!drag || drag.moved) return;
  const ent = ed.entOf[drag.start];
  if (ent !== null && ent !== undefined) setCursor(ed, drag.start);  // a click on an entity picks it
}

function onDblClick(ed, e) {
  const i = unitIndex(e.target);
  if (i === null || ed.busy !== null) return;
  const units = ed.data.units || [];
  let a = i, b = i;
  if (ed.data.granularity === "char" && /\S/.test(units[i])) {
    while (a > 0 && /\S/.test(units[a - 1])) a -= 1;
    while (b < units.length - 1 && /\S/.test(units[b + 1])) b += 1;
  }
  selectUnits(ed, a, b);
}

function onClick(ed, e) {
  const t = e.target;
  const lab = t.closest(".se-lab[data-ent]");
  if (lab) {
    ed.active = Number(lab.dataset.ent);
    ed.sel = false;
    paint(ed);
    return;
  }
  const b = t.closest("button");
  if (!b || ed.busy !== null) return;
  ed.root.focus({ preventScroll: true });
  if (b.dataset.label !== undefined) return labelWith(ed, Number(b.dataset.label));
  const act = b.dataset.act;
  if (act === "remove") return removeActive(ed);
  if (act) commit(ed, { action: act });
}
