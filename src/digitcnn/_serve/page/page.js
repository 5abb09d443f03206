// The page of `digitcnn serve`: draw or upload a picture, send it to the API,
// and show what the model read. Plain ES2020, no build step, no dependencies.
"use strict";

const $ = (id) => document.getElementById(id);
const els = {
  slot: $("pad-slot"), pad: $("pad"), canvas: $("canvas"), overlay: $("overlay"),
  read: $("read"), clear: $("clear"), file: $("file"), drop: $("drop"),
  pictureWrap: $("picture-wrap"), picture: $("picture"), pictureOverlay: $("picture-overlay"),
  results: $("results"), error: $("error"), answer: $("answer"), status: $("status"),
  bars: $("bars"), seen: $("seen"), seenFigure: $("seen-figure"),
};
const ctx = els.canvas.getContext("2d");

// Desktop sizes in CSS px; on narrow screens the canvas shrinks to fit.
const SIZES = { digit: { w: 280, h: 280 }, number: { w: 560, h: 200 } };
const INK = "#111";
const PEN = 16; // stroke width on a 280 px canvas, like a felt pen
const BOX = "#c2410c"; // white text on it has a contrast above 4.5:1
const HINTS = {
  digit: "Draw a digit, or upload a picture of one.",
  number: "Write a number, or upload a picture of one.",
};
const NETWORK = "Could not reach the server. Check the connection and try again.";

let mode = "digit";
let source = "drawing"; // what Read sends: "drawing" or "file"
let file = null; // the uploaded picture when source is "file"
let pictureUrl = null;
let cssW = 0;
let cssH = 0;
let stroke = null; // the pointer drawing now: { id, x, y }
let sendTimer = 0;
let seq = 0; // id of the latest request; answers to older ones are dropped
let controller = null;
let boxes = null; // the last number answer to draw: { target, result }

const pct = (p) => `${(p * 100).toFixed(1).replace(/\.0$/, "")}%`;

function setState(state) {
  document.body.dataset.state = state;
  els.results.setAttribute("aria-busy", String(state === "busy"));
}

// ---------- canvas ----------

// Sizes both canvases to the room available, at devicePixelRatio for sharp
// strokes. On a resize (keep) the drawing is scaled into the new size; on a
// mode change the aspect ratio changes, so the drawing starts over.
function fitCanvas(keep) {
  const want = SIZES[mode];
  const scale = Math.min(1, els.slot.clientWidth / want.w);
  const w = Math.max(1, Math.floor(want.w * scale));
  const h = Math.max(1, Math.floor(want.h * scale));
  if (keep && w === cssW && h === cssH) return;

  let copy = null;
  if (keep && cssW) {
    copy = document.createElement("canvas");
    copy.width = els.canvas.width;
    copy.height = els.canvas.height;
    copy.getContext("2d").drawImage(els.canvas, 0, 0);
  }
  const dpr = window.devicePixelRatio || 1;
  for (const c of [els.canvas, els.overlay]) {
    c.width = Math.round(w * dpr);
    c.height = Math.round(h * dpr);
    c.style.width = `${w}px`;
    c.style.height = `${h}px`;
  }
  els.pad.style.width = `${w}px`;
  els.pad.style.height = `${h}px`;
  cssW = w;
  cssH = h;

  // Resizing a canvas resets its context, so set everything up again.
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.lineWidth = (PEN * Math.min(w, h)) / 280;
  ctx.strokeStyle = INK;
  whiten();
  if (copy) ctx.drawImage(copy, 0, 0, w, h);
}

// The model expects dark ink on opaque white, so never leave it transparent.
function whiten() {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, cssW, cssH);
}

function point(e) {
  const r = els.canvas.getBoundingClientRect();
  return { x: e.clientX - r.left, y: e.clientY - r.top };
}

function dot(p) {
  ctx.fillStyle = INK;
  ctx.beginPath();
  ctx.arc(p.x, p.y, ctx.lineWidth / 2, 0, 2 * Math.PI);
  ctx.fill();
}

function line(a, b) {
  ctx.beginPath();
  ctx.moveTo(a.x, a.y);
  ctx.lineTo(b.x, b.y);
  ctx.stroke();
}

els.canvas.addEventListener("pointerdown", (e) => {
  // One pointer at a time (a resting palm must not draw); mouse: left button only.
  if (stroke || (e.pointerType === "mouse" && e.button !== 0)) return;
  e.preventDefault();
  els.canvas.setPointerCapture(e.pointerId);
  // The drawing changes: an answer on its way, and any boxes, are now stale.
  cancel();
  if (source === "file") forgetPicture();
  boxes = null;
  drawBoxes();
  const p = point(e);
  stroke = { id: e.pointerId, ...p };
  dot(p); // a tap leaves a mark too
});

els.canvas.addEventListener("pointermove", (e) => {
  if (!stroke || e.pointerId !== stroke.id) return;
  // Coalesced events keep fast strokes smooth instead of jagged.
  const events = e.getCoalescedEvents?.() ?? [];
  for (const ev of events.length ? events : [e]) {
    const p = point(ev);
    line(stroke, p);
    stroke.x = p.x;
    stroke.y = p.y;
  }
});

function endStroke(e) {
  if (!stroke || e.pointerId !== stroke.id) return;
  stroke = null;
  clearTimeout(sendTimer);
  sendTimer = setTimeout(read, 150);
}
els.canvas.addEventListener("pointerup", endStroke);
els.canvas.addEventListener("pointercancel", endStroke);
els.canvas.addEventListener("contextmenu", (e) => e.preventDefault());

// ---------- uploaded picture ----------

function useFile(f) {
  if (!f) return;
  // Some systems give no type at all; then let the server judge.
  if (f.type && !f.type.startsWith("image/")) {
    showError("That file is not a picture. Choose an image such as a PNG or JPEG.");
    return;
  }
  file = f;
  source = "file";
  boxes = null;
  if (pictureUrl) URL.revokeObjectURL(pictureUrl);
  pictureUrl = URL.createObjectURL(f);
  els.picture.src = pictureUrl;
  els.pictureWrap.hidden = false;
  drawBoxes();
  read();
}

function forgetPicture() {
  if (pictureUrl) URL.revokeObjectURL(pictureUrl);
  pictureUrl = null;
  file = null;
  source = "drawing";
  els.picture.removeAttribute("src");
  els.pictureWrap.hidden = true;
}

els.file.addEventListener("change", () => {
  useFile(els.file.files[0]);
  els.file.value = ""; // so choosing the same file again still reads it
});

els.drop.addEventListener("click", () => els.file.click());
els.drop.addEventListener("keydown", (e) => {
  if (e.key === "Enter" || e.key === " ") {
    e.preventDefault();
    els.file.click();
  }
});
els.drop.addEventListener("dragover", (e) => {
  e.preventDefault();
  e.dataTransfer.dropEffect = "copy";
  els.drop.classList.add("over");
});
els.drop.addEventListener("dragleave", () => els.drop.classList.remove("over"));
els.drop.addEventListener("drop", (e) => {
  e.preventDefault();
  els.drop.classList.remove("over");
  useFile(e.dataTransfer.files[0]);
});
// A picture dropped beside the zone would make the browser leave the page.
window.addEventListener("dragover", (e) => {
  if (!els.drop.contains(e.target)) {
    e.preventDefault();
    e.dataTransfer.dropEffect = "none";
  }
});
window.addEventListener("drop", (e) => {
  if (!els.drop.contains(e.target)) e.preventDefault();
});

// ---------- sending ----------

function cancel() {
  clearTimeout(sendTimer);
  seq += 1;
  controller?.abort();
  controller = null;
}

function problem(response, body) {
  const detail = body?.detail;
  if (typeof detail === "string" && detail) return detail;
  // FastAPI's validation errors are a list of { msg, ... }.
  if (Array.isArray(detail)) {
    const text = detail.map((d) => d?.msg).filter(Boolean).join("; ");
    if (text) return text;
  }
  return `The server could not read the picture (error ${response.status}).`;
}

async function read() {
  cancel();
  const id = seq;
  controller = new AbortController();
  const { signal } = controller;
  const readMode = mode;
  const target = source;
  els.error.textContent = "";
  setState("busy");
  try {
    const form = new FormData();
    if (target === "file") {
      form.append("files", file, file.name || "picture");
    } else {
      const blob = await new Promise((resolve) => els.canvas.toBlob(resolve, "image/png"));
      if (!blob) throw new Error("Could not capture the drawing. Try again.");
      form.append("files", blob, "drawing.png");
    }
    if (id !== seq) return;
    const url = readMode === "digit" ? "/api/v1/digits?image=true" : "/api/v1/numbers";
    let response;
    try {
      response = await fetch(url, { method: "POST", body: form, signal });
    } catch (err) {
      if (err.name === "AbortError") return;
      throw new Error(NETWORK);
    }
    const body = await response.json().catch(() => null);
    if (id !== seq) return;
    if (!response.ok) throw new Error(problem(response, body));
    const result = body?.results?.[0];
    if (!result) throw new Error("The server sent an answer this page does not understand.");
    if (readMode === "digit") showDigit(result);
    else showNumber(result, target);
    setState("done");
  } catch (err) {
    if (id === seq && err.name !== "AbortError") showError(err.message);
  }
}

// ---------- showing answers ----------

function resetAnswer() {
  cancel();
  els.error.textContent = "";
  els.answer.textContent = "–";
  els.status.textContent = HINTS[mode];
  showExtras(false);
  boxes = null;
  drawBoxes();
  setState("idle");
}

function showExtras(on) {
  els.bars.hidden = !on;
  els.seen.hidden = !on;
  els.seenFigure.hidden = !on;
}

function showError(message) {
  cancel();
  els.error.textContent = message;
  els.answer.textContent = "–";
  els.status.textContent = "No answer.";
  showExtras(false);
  boxes = null;
  drawBoxes();
  setState("error");
}

function showDigit(r) {
  if (r.status === "ok") {
    els.answer.textContent = String(r.label);
    els.status.textContent = `${r.label}, ${pct(r.confidence)} sure`;
  } else if (r.status === "unsure") {
    els.answer.textContent = "?";
    els.status.textContent = r.label == null
      ? "Unsure: no clear best guess"
      : `Unsure: best guess ${r.label} at ${pct(r.confidence)}`;
  } else {
    els.answer.textContent = "–";
    els.status.textContent = "Nothing drawn: the picture has no ink";
  }

  const probs = Array.isArray(r.probabilities) && r.probabilities.length === 10 ? r.probabilities : null;
  els.bars.hidden = !probs;
  if (probs) {
    const best = probs.indexOf(Math.max(...probs));
    probs.forEach((p, digit) => {
      const row = els.bars.children[digit];
      row.classList.toggle("win", digit === best);
      row.querySelector(".bar-fill").style.width = pct(p);
      row.querySelector(".bar-pct").textContent = pct(p);
      row.querySelector(".bar-best").textContent = digit === best ? " (most likely)" : "";
    });
  }

  const seen = Boolean(r.image);
  if (seen) els.seen.src = `data:image/png;base64,${r.image}`;
  els.seen.hidden = !seen;
  els.seenFigure.hidden = !seen;
}

function showNumber(r, target) {
  showExtras(false);
  els.answer.textContent = r.text || "–";
  if (!r.text) {
    els.status.textContent = "Nothing found: the picture has no ink";
  } else {
    const parts = r.digits.map((d, i) => `${d ?? "?"} at ${pct(r.confidences[i])}`);
    const n = parts.length;
    els.status.textContent = `${n} digit${n === 1 ? "" : "s"}: ${parts.join(", ")}`;
  }
  boxes = { target, result: r };
  drawBoxes();
}

// Boxes come in the picture's own pixels; scale them to its displayed size.
function paintBoxes(overlay, w, h, r) {
  const g = overlay.getContext("2d");
  const dpr = overlay.width / w;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  const sx = w / r.width;
  const sy = h / r.height;
  const size = Math.max(12, Math.round(Math.min(w, h) / 12));
  g.font = `bold ${size}px system-ui, sans-serif`;
  g.textBaseline = "top";
  g.lineWidth = 2;
  r.boxes.forEach(([top, left, bottom, right], i) => {
    const x = left * sx;
    const y = top * sy;
    g.strokeStyle = BOX;
    g.strokeRect(x, y, (right - left) * sx, (bottom - top) * sy);
    const label = String(r.digits[i] ?? "?");
    const tw = g.measureText(label).width + 8;
    const th = size + 6;
    const ty = y >= th ? y - th : y; // above the box, or inside it at the very top
    g.fillStyle = BOX;
    g.fillRect(x, ty, tw, th);
    g.fillStyle = "#fff";
    g.fillText(label, x + 4, ty + 3);
  });
}

function wipe(overlay) {
  const g = overlay.getContext("2d");
  g.setTransform(1, 0, 0, 1, 0, 0);
  g.clearRect(0, 0, overlay.width, overlay.height);
}

// Redraws the boxes of the last number answer (or none) on both overlays.
function drawBoxes() {
  const img = els.picture;
  // Keep the picture's overlay exactly on top of the picture as shown.
  if (!els.pictureWrap.hidden && img.naturalWidth) {
    const dpr = window.devicePixelRatio || 1;
    const o = els.pictureOverlay;
    o.width = Math.round(img.clientWidth * dpr);
    o.height = Math.round(img.clientHeight * dpr);
    o.style.width = `${img.clientWidth}px`;
    o.style.height = `${img.clientHeight}px`;
  }
  wipe(els.overlay);
  wipe(els.pictureOverlay);
  if (!boxes) return;
  const { target, result } = boxes;
  if (!result.width || !result.height || !Array.isArray(result.boxes)) return;
  if (target === "drawing") paintBoxes(els.overlay, cssW, cssH, result);
  else if (img.naturalWidth) paintBoxes(els.pictureOverlay, img.clientWidth, img.clientHeight, result);
}

// ---------- start ----------

function buildBars() {
  for (let digit = 0; digit < 10; digit += 1) {
    const row = document.createElement("li");
    row.innerHTML =
      `<span class="bar-digit"><span class="vh">Digit </span>${digit}<span class="vh">:</span></span>` +
      '<span class="bar-track" aria-hidden="true"><span class="bar-fill"></span></span>' +
      '<span class="bar-pct">0%</span><span class="bar-best vh"></span>';
    els.bars.append(row);
  }
}

for (const radio of document.querySelectorAll("input[name=mode]")) {
  radio.addEventListener("change", () => {
    if (!radio.checked) return;
    mode = radio.value;
    fitCanvas(false);
    resetAnswer();
    if (source === "file") read(); // the same picture, read the new way
  });
}

els.read.addEventListener("click", read);
els.clear.addEventListener("click", () => {
  forgetPicture();
  fitCanvas(false);
  resetAnswer();
});
els.picture.addEventListener("load", drawBoxes);

buildBars();
mode = document.querySelector("input[name=mode]:checked")?.value ?? "digit";
fitCanvas(false);
els.status.textContent = HINTS[mode];
// Refit when the room changes (rotation, window resize) and keep boxes aligned.
new ResizeObserver(() => {
  fitCanvas(true);
  drawBoxes();
}).observe(els.slot);
new ResizeObserver(drawBoxes).observe(els.picture);
