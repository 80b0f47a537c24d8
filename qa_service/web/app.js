// qa-service chat page. Every piece of text from a document, a question or the model is inserted with
// textContent / createTextNode, never as HTML.
"use strict";

const STORAGE_KEY = "qa-service.chat.v1";
const HISTORY_TURNS = 6;
const CONTEXT_CHARS = 600;

const $ = (id) => document.getElementById(id);
const log = $("log");
const form = $("ask-form");
const input = $("question");
const sendButton = $("send");
const stopButton = $("stop");
const template = $("turn-template");
const textCache = new Map(); // document id -> array of code points (offsets are Python code points)

let turns = loadTurns();
const pinned = new Map(); // document id -> title: questions are asked of these documents only, when any
let running = null; // AbortController of the answer being streamed
window.__qaTimings = [];

function loadTurns() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || "[]");
    return Array.isArray(saved) ? saved.filter((t) => t && typeof t.question === "string" && t.response) : [];
  } catch {
    return [];
  }
}

function saveTurns() {
  localStorage.setItem(STORAGE_KEY, JSON.stringify(turns.slice(-50)));
}

function historyForServer() {
  const messages = [];
  for (const turn of turns.slice(-HISTORY_TURNS)) {
    messages.push({ role: "user", content: turn.question });
    messages.push({ role: "assistant", content: turn.response.answer });
  }
  return messages;
}

function newTurnElement(question) {
  const node = template.content.firstElementChild.cloneNode(true);
  node.querySelector(".question").textContent = question;
  node.dataset.state = "streaming";
  log.appendChild(node);
  $("empty").hidden = true;
  return node;
}

// Answer text with [n] markers turned into buttons that open the cited passage.
function renderAnswerText(container, answer, citations) {
  container.replaceChildren();
  const byIndex = new Map(citations.map((c) => [c.index, c]));
  // Same marker definition as the server (qa_service/domain.py): "[n]" not glued to a word or bracket.
  const parts = answer.split(/((?<![\w\][])\[\d{1,3}\])/);
  for (const part of parts) {
    const match = /^\[(\d+)\]$/.exec(part);
    const citation = match && byIndex.get(Number(match[1]));
    if (citation) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "marker";
      button.dataset.index = String(citation.index);
      button.textContent = part;
      button.setAttribute("aria-label", `Show source ${citation.index}: ${citation.source}`);
      button.addEventListener("click", () => showCitation(citation, button));
      container.appendChild(button);
    } else if (part) {
      container.appendChild(document.createTextNode(part));
    }
  }
}

function renderFinal(node, response) {
  const answer = node.querySelector(".answer");
  answer.setAttribute("aria-busy", "false");
  answer.classList.toggle("refused", Boolean(response.refused));
  node.dataset.state = response.refused ? "refused" : "done";
  const short = response.short_answer;
  for (const citation of response.citations || []) {
    // The short answer is highlighted inside the highlighted sentence that holds it.
    if (short && short.document_id === citation.document_id && short.start >= citation.start && short.end <= citation.end) {
      citation.short = short;
    }
  }
  renderAnswerText(answer.querySelector(".text"), response.answer, response.citations || []);
  if (short) {
    const line = document.createElement("p");
    line.className = "short-answer";
    const strong = document.createElement("strong");
    strong.textContent = short.text;
    line.append(document.createTextNode("In short: "), strong);
    answer.querySelector(".text").before(line);
  }
  const rewritten = answer.querySelector(".rewritten");
  if (response.rewritten_question) {
    rewritten.textContent = `Understood as: ${response.rewritten_question}`;
    rewritten.hidden = false;
  }
  const note = answer.querySelector(".note");
  const notes = [];
  if (response.fallback_reason && response.mode === "extractive") {
    notes.push("Quoted from the documents (" + reasonText(response.fallback_reason) + ").");
  } else if (response.mode === "generative") {
    notes.push("Written by the language model and checked against the cited passages.");
  }
  if (response.refused && response.refusal_reason) notes.push("Why: " + reasonText(response.refusal_reason) + ".");
  note.textContent = notes.join(" ");
  note.hidden = notes.length === 0;
  renderConflicts(answer.querySelector(".conflicts"), response.conflicts || [], response.citations || []);
  const sources = answer.querySelector(".sources");
  sources.replaceChildren();
  for (const citation of response.citations || []) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = citationLabel(citation) + (citation.speaker ? ` — claim by ${citation.speaker}` : "");
    button.title = `${citation.source}, characters ${citation.start}–${citation.end}`;
    button.addEventListener("click", () => showCitation(citation, button));
    item.appendChild(button);
    sources.appendChild(item);
  }
  sources.hidden = !(response.citations || []).length;
}

// "Title › Heading › Sub-heading, page 3": what a reader recognises; offsets go to the tooltip.
function citationLabel(citation) {
  const place = placeLabel(citation);
  return (citation.title || citation.source) + (place && !place.startsWith("page") ? " › " : place ? ", " : "") + place;
}

// Where in the document: its heading path (when the citation carries one) and page.
function placeLabel(citation) {
  const headings = Array.isArray(citation.heading_path) ? citation.heading_path.filter(Boolean)
    : citation.heading_path ? [String(citation.heading_path)] : [];
  return [headings.join(" › "), citation.page ? `page ${citation.page}` : ""].filter(Boolean).join(", ");
}

// A file name that may wrap only after a path separator or similar punctuation, never mid-word.
function breakableName(text) {
  const fragment = document.createDocumentFragment();
  for (const piece of String(text).split(/(?<=[\/_.-])/)) {
    fragment.appendChild(document.createTextNode(piece));
    fragment.appendChild(document.createElement("wbr"));
  }
  return fragment;
}

const POSITION_LABELS = {
  affirms: "says yes",
  denies: "says no",
  claims: "claims",
  disputes: "disputes it",
};

// Each conflict as a box: who says what, each side with buttons for the passages it rests on.
function renderConflicts(container, conflicts, citations) {
  container.replaceChildren();
  const byIndex = new Map(citations.map((c) => [c.index, c]));
  for (const conflict of conflicts) {
    const box = document.createElement("div");
    box.className = "conflict";
    const title = document.createElement("p");
    title.className = "conflict-title";
    title.textContent = `Sources disagree (${conflict.sides.length} sides)`;
    box.appendChild(title);
    const list = document.createElement("ul");
    for (const side of conflict.sides) {
      const item = document.createElement("li");
      item.className = `side side-${side.position}`;
      const who = document.createElement("strong");
      who.className = "speaker";
      who.textContent = side.speaker || "The document itself";
      const position = document.createElement("span");
      position.className = "position";
      position.textContent = ` ${POSITION_LABELS[side.position] || side.position}: `;
      const statement = document.createElement("q");
      statement.className = "statement";
      statement.textContent = side.statement;
      item.append(who, position, statement);
      for (const index of side.citations) {
        const citation = byIndex.get(index);
        if (!citation) continue;
        const button = document.createElement("button");
        button.type = "button";
        button.className = "marker";
        button.textContent = `[${index}]`;
        button.setAttribute("aria-label", `Show source ${index} for ${who.textContent}`);
        button.addEventListener("click", () => showCitation(citation, button));
        item.append(" ", button);
      }
      list.appendChild(item);
    }
    box.appendChild(list);
    container.appendChild(box);
  }
  container.hidden = conflicts.length === 0;
}

function renderError(node, message, question) {
  const answer = node.querySelector(".answer");
  answer.setAttribute("aria-busy", "false");
  node.dataset.state = "error";
  const box = answer.querySelector(".error");
  box.querySelector(".error-text").textContent = message;
  box.hidden = false;
  box.querySelector(".retry").onclick = () => {
    node.remove();
    ask(question);
  };
}

// API key: kept for this browser tab only (sessionStorage), asked for when the service answers 401.
function authHeaders() {
  const key = sessionStorage.getItem("qa-api-key");
  return key ? { authorization: "Bearer " + key } : {};
}

function askForKeyAfter401(status) {
  if (status !== 401) return;
  const key = window.prompt("This service needs an API key. Paste yours (kept for this tab only):");
  if (key && key.trim()) sessionStorage.setItem("qa-api-key", key.trim());
}

function describeHttpError(status, body) {
  const detail = body && body.error ? body.error.message : "";
  if (status === 429) return "Too many questions right now. Wait a moment, then retry.";
  if (status === 503) return "The service is busy or starting up. Retry in a moment.";
  if (status === 401) return "An API key is needed (" + (detail || "unauthenticated") + "). Ask again after entering it.";
  if (status === 403) return "This key is not allowed to ask: " + (detail || "access denied");
  if (status >= 400 && status < 500) return "The question was not accepted: " + (detail || `HTTP ${status}`);
  return "The server had a problem answering (HTTP " + status + "). Retry?";
}

async function ask(question) {
  const node = newTurnElement(question);
  const answerText = node.querySelector(".text");
  const timing = { question, sent: performance.now(), firstToken: null, done: null };
  window.__qaTimings.push(timing);
  running = new AbortController();
  sendButton.disabled = true;
  stopButton.hidden = false;
  let final = null;
  try {
    const response = await fetch("/ask", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", ...authHeaders() },
      body: JSON.stringify({
        question, history: historyForServer(), stream: true, ...(pinned.size ? { document_ids: [...pinned.keys()] } : {}),
      }),
      signal: running.signal,
    });
    if (!response.ok) {
      let body = null;
      try { body = await response.json(); } catch { /* not JSON */ }
      renderError(node, describeHttpError(response.status, body), question);
      askForKeyAfter401(response.status);
      return;
    }
    final = await readEvents(response, (event, data) => {
      if (event === "token") {
        if (timing.firstToken === null) timing.firstToken = performance.now();
        answerText.appendChild(document.createTextNode(data.text));
      }
    });
    timing.done = performance.now();
    if (!final) throw new Error("the answer stream ended early");
    renderFinal(node, final);
    turns.push({ question, response: final });
    saveTurns();
  } catch (error) {
    if (error.name === "AbortError") {
      node.querySelector(".answer").setAttribute("aria-busy", "false");
      node.dataset.state = "stopped";
      const note = node.querySelector(".note");
      note.textContent = "Stopped.";
      note.hidden = false;
    } else {
      renderError(node, "Could not reach the service: " + error.message + ".", question);
    }
  } finally {
    running = null;
    sendButton.disabled = false;
    stopButton.hidden = true;
    node.scrollIntoView({ block: "nearest" });
  }
}

// Server-Sent Events over a fetch() body (EventSource cannot POST).
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let final = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
    let split;
    while ((split = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, split);
      buffer = buffer.slice(split + 2);
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (!data.length) continue;
      const payload = JSON.parse(data.join("\n"));
      if (event === "final") final = payload;
      else if (event === "error") throw new Error(payload.message || "the server reported an error");
      else onEvent(event, payload);
    }
  }
  return final;
}

async function documentText(citation) {
  if (!textCache.has(citation.document_id)) {
    const url = `/documents/${encodeURIComponent(citation.document_id)}/text`;
    const response = await fetch(url, { headers: authHeaders() });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    textCache.set(citation.document_id, Array.from(await response.text()));
  }
  return textCache.get(citation.document_id);
}

async function showCitation(citation, opener) {
  const panel = $("source-panel");
  const passage = $("source-text");
  $("docs-panel").hidden = true;
  panel.hidden = false;
  const heading = $("source-title");
  heading.replaceChildren(document.createTextNode(`[${citation.index}] `), breakableName(citation.title || citation.source));
  heading.title = `${citation.source}, characters ${citation.start}–${citation.end}`;
  const meta = $("source-meta");
  meta.replaceChildren(breakableName(citation.source));
  const place = placeLabel(citation);
  if (place) meta.appendChild(document.createTextNode(` — ${place}`));
  // Where the passage sits in its document ("4. The /usr Hierarchy › 4.6. /usr/lib ..."), above it, as text.
  $("source-heading").textContent = citation.heading_path || "";
  $("source-heading").hidden = !citation.heading_path;
  passage.replaceChildren(document.createTextNode("Loading…"));
  panel.dataset.opener = opener ? "marker" : "";
  try {
    const chars = await documentText(citation);
    const from = Math.max(0, citation.start - CONTEXT_CHARS);
    const to = Math.min(chars.length, citation.end + CONTEXT_CHARS);
    const mark = document.createElement("mark");
    const short = citation.short;
    if (short) {
      const strong = document.createElement("strong");
      strong.className = "short";
      strong.textContent = chars.slice(short.start, short.end).join("");
      mark.append(
        document.createTextNode(chars.slice(citation.start, short.start).join("")),
        strong,
        document.createTextNode(chars.slice(short.end, citation.end).join("")),
      );
    } else {
      mark.textContent = chars.slice(citation.start, citation.end).join("");
    }
    passage.replaceChildren();
    if (from > 0) passage.appendChild(elided("… "));
    passage.appendChild(document.createTextNode(chars.slice(from, citation.start).join("")));
    passage.appendChild(mark);
    passage.appendChild(document.createTextNode(chars.slice(citation.end, to).join("")));
    if (to < chars.length) passage.appendChild(elided(" …"));
    mark.scrollIntoView({ block: "center" });
    passage.focus({ preventScroll: true });
  } catch (error) {
    passage.replaceChildren(document.createTextNode("Could not load the document: " + error.message));
  }
}

function elided(text) {
  const span = document.createElement("span");
  span.className = "elided";
  span.textContent = text;
  return span;
}

let docsRefresh = null;

function showPinned() {
  $("pinned").hidden = pinned.size === 0;
  $("pinned-text").textContent = pinned.size === 1
    ? `Asking only: ${[...pinned.values()][0]}`
    : `Asking only these ${pinned.size} documents`;
}

$("pinned-clear").addEventListener("click", () => {
  pinned.clear();
  for (const box of document.querySelectorAll("#docs-list input.pin")) box.checked = false;
  showPinned();
});

// The header stays in view; the panels sit below it.
function measureBar() {
  document.documentElement.style.setProperty("--bar-h", `${document.querySelector(".bar").offsetHeight}px`);
}
window.addEventListener("resize", measureBar);
measureBar();

// Lists the documents; while some are still being ingested, refreshes every second to show their progress.
async function loadDocuments() {
  const list = $("docs-list");
  clearTimeout(docsRefresh);
  if (!list.childElementCount) list.replaceChildren(document.createTextNode("Loading…"));
  try {
    const response = await fetch("/documents?limit=1000", { headers: authHeaders() });
    if (response.status === 404) {
      list.replaceChildren(document.createTextNode("No documents yet."));
      return;
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const documents = (await response.json()).items;
    list.replaceChildren();
    if (!documents.length) list.appendChild(document.createTextNode("No documents yet."));
    for (const doc of documents) {
      const item = document.createElement("li");
      let state = doc.state === "ready" ? "" : doc.state === "failed" ? ` (failed: ${doc.error})` : ` (${doc.state}…)`;
      if (doc.state === "chunked" && doc.chunk_count) state = ` (embedding ${doc.embedded_chunks}/${doc.chunk_count}…)`;
      const text = `${doc.title || doc.source} — ${doc.chunk_count} chunks${state}`;
      if (doc.state === "ready") {
        const label = document.createElement("label");
        const box = document.createElement("input");
        box.type = "checkbox";
        box.className = "pin";
        box.dataset.documentId = doc.id;
        box.checked = pinned.has(doc.id);
        box.addEventListener("change", () => {
          if (box.checked) pinned.set(doc.id, doc.title || doc.source);
          else pinned.delete(doc.id);
          showPinned();
        });
        label.append(box, document.createTextNode(text));
        item.appendChild(label);
      } else {
        item.textContent = text;
      }
      item.title = doc.path || doc.source;
      item.dataset.state = doc.state;
      list.appendChild(item);
    }
    const inProgress = documents.some((doc) => doc.state !== "ready" && doc.state !== "failed");
    if (inProgress && !$("docs-panel").hidden) docsRefresh = setTimeout(loadDocuments, 1000);
  } catch (error) {
    list.replaceChildren(document.createTextNode("Could not list the documents: " + error.message));
  }
}

async function enableUploadIfSupported() {
  try {
    const schema = await (await fetch("/openapi.json")).json();
    const canUpload = Boolean(schema.paths && schema.paths["/documents"] && schema.paths["/documents"].post);
    $("upload-form").hidden = !canUpload;
  } catch {
    $("upload-form").hidden = true;
  }
}

$("upload-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const files = $("upload-file").files;
  if (!files.length) return;
  const body = new FormData();
  for (const file of files) body.append("files", file);
  $("upload-status").textContent = "Uploading…";
  const response = await fetch("/documents", { method: "POST", body, headers: authHeaders() });
  let detail = "";
  if (!response.ok) {
    try { detail = (await response.json()).error.message; } catch { detail = `HTTP ${response.status}`; }
  }
  $("upload-status").textContent = response.ok ? "Uploaded; it is being indexed (see its state below)." : `Upload failed: ${detail}`;
  askForKeyAfter401(response.status);
  loadDocuments();
});

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const question = input.value.trim();
  if (!question || running) return;
  input.value = "";
  ask(question);
});

input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});

stopButton.addEventListener("click", () => running && running.abort());

$("clear").addEventListener("click", () => {
  turns = [];
  saveTurns();
  log.replaceChildren();
  $("empty").hidden = false;
  input.focus();
});

function closePanel(id) {
  $(id).hidden = true;
  if (id === "docs-panel") $("docs-toggle").setAttribute("aria-expanded", "false");
}

$("source-close").addEventListener("click", () => closePanel("source-panel"));
$("docs-close").addEventListener("click", () => closePanel("docs-panel"));
$("docs-toggle").addEventListener("click", () => {
  const panel = $("docs-panel");
  const open = panel.hidden;
  $("source-panel").hidden = true;
  panel.hidden = !open;
  $("docs-toggle").setAttribute("aria-expanded", String(open));
  if (open) loadDocuments();
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    closePanel("source-panel");
    closePanel("docs-panel");
  }
});

for (const turn of turns) renderFinal(newTurnElement(turn.question), turn.response);
enableUploadIfSupported();
input.focus();

// refusal_reason / fallback_reason are codes (never document or model text); each gets a sentence here.
const REASONS = {
  no_evidence: "no indexed text matches the question",
  not_answered: "the documents do not answer this question",
  not_a_question: "that is not a question about the documents",
  verification_failed: "the generated answer was not supported by the cited passages",
  llm_unavailable: "the language model is unavailable",
  no_llm: "no language model is configured",
  premise_corrected: "the documents contradict the question, so they are quoted",
};

function reasonText(code) {
  return REASONS[code] || "the documents do not support an answer";
}
