// qa-service chat page. Every piece of text from a document, a question or the model is inserted with
// textContent / createTextNode, never as HTML.
"use strict";

const LEGACY_KEY = "qa-service.chat.v1"; // one conversation, before threads
const THREADS_KEY = "qa-service.threads.v1";
const CURRENT_KEY = "qa-service.thread.v1";
const COLLECTION_KEY = "qa-service.collection.v1";
const MAX_THREADS = 50;
const HISTORY_TURNS = 6;
const CONTEXT_CHARS = 600;

const $ = (id) => document.getElementById(id);
const log = $("log");
const form = $("ask-form");
const input = $("question");
const sendButton = $("send");
const stopButton = $("stop");
const template = $("turn-template");
const textCache = new Map(); // collection + document id -> array of code points (offsets are Python code points)

// Conversations are kept in this browser: each has its collection and its turns.
let threads = loadThreads();
let thread = null; // the open conversation (null: a new one, saved with its first answer)
let collection = null; // the collection asked (null: the server's default)
const pinned = new Map(); // document id -> title: questions are asked of these documents only, when any
let running = null; // AbortController of the answer being streamed
window.__qaTimings = [];

function loadThreads() {
  try {
    const saved = JSON.parse(localStorage.getItem(THREADS_KEY) || "null");
    if (Array.isArray(saved)) return saved.filter((t) => t && typeof t.id === "string" && Array.isArray(t.turns));
    const legacy = JSON.parse(localStorage.getItem(LEGACY_KEY) || "[]");
    const turns = Array.isArray(legacy) ? legacy.filter((t) => t && typeof t.question === "string" && t.response) : [];
    if (!turns.length) return [];
    const migrated = { id: newId(), collection: null, updated: Date.now(), turns };
    localStorage.setItem(CURRENT_KEY, migrated.id);
    return [migrated];
  } catch {
    return [];
  }
}

function newId() {
  return Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
}

function saveThreads() {
  threads.sort((a, b) => b.updated - a.updated);
  threads = threads.slice(0, MAX_THREADS);
  localStorage.setItem(THREADS_KEY, JSON.stringify(threads));
  if (thread) localStorage.setItem(CURRENT_KEY, thread.id);
  else localStorage.removeItem(CURRENT_KEY);
}

function currentTurns() {
  return thread ? thread.turns : [];
}

function historyForServer() {
  const messages = [];
  for (const turn of currentTurns().slice(-HISTORY_TURNS)) {
    messages.push({ role: "user", content: turn.question });
    messages.push({ role: "assistant", content: turn.response.answer });
  }
  return messages;
}

// Query string for the collection asked (empty: the server's default).
function collectionQuery(prefix = "?") {
  return collection ? `${prefix}collection=${encodeURIComponent(collection)}` : "";
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
    // A hint, never shown as sure: on the dev splits the short answer is exactly right 0.35 of the time, and
    // 0.48 even where the answerability model is above 0.9 (BENCHMARKS.md), so no confidence makes it sure.
    const line = document.createElement("p");
    line.className = "short-answer";
    line.title = "Picked from the quoted sentence; check it against the source";
    const phrase = document.createElement("span");
    phrase.className = "phrase";
    phrase.textContent = short.text;
    line.append(document.createTextNode("Likely: "), phrase);
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
  renderAnswerActions(answer.querySelector(".answer-actions"), response);
}

// Copy the answer (with its sources), and 👍/👎: sent to POST /feedback with the question, the answer and
// its citations, so the team can review them (and label what went wrong as training data).
function renderAnswerActions(container, response) {
  if (!container) return;
  container.hidden = false;
  const status = container.querySelector(".feedback-status");
  container.querySelector(".copy").onclick = async () => {
    const lines = [response.answer, ...(response.citations || []).map((c) => `[${c.index}] ${citationLabel(c)}: "${c.quote}"`)];
    try {
      await navigator.clipboard.writeText(lines.join("\n"));
      status.textContent = "Copied.";
    } catch {
      status.textContent = "The browser did not allow copying.";
    }
  };
  for (const button of container.querySelectorAll(".rate")) {
    button.setAttribute("aria-pressed", "false");
    button.onclick = async () => {
      const rating = button.dataset.rating;
      status.textContent = "Sending…";
      try {
        const result = await fetch("/feedback", {
          method: "POST",
          headers: { "content-type": "application/json", ...authHeaders() },
          body: JSON.stringify({
            question: response.question,
            answer: response.answer,
            rating,
            refused: Boolean(response.refused),
            ...(response.collection ? { collection: response.collection } : {}),
            citations: (response.citations || []).map((c) => ({ document_id: c.document_id, start: c.start, end: c.end, quote: c.quote })),
          }),
        });
        if (!result.ok) throw new Error(`HTTP ${result.status}`);
        for (const other of container.querySelectorAll(".rate")) other.setAttribute("aria-pressed", String(other === button));
        status.textContent = "Thanks, noted.";
      } catch (error) {
        status.textContent = "Feedback not sent: " + error.message;
      }
    };
  }
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
        question, history: historyForServer(), stream: true, ...(collection ? { collection } : {}),
        ...(pinned.size ? { document_ids: [...pinned.keys()] } : {}),
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
    if (!thread) {
      thread = { id: newId(), collection, turns: [] };
      threads.push(thread);
    }
    thread.turns.push({ question, response: final });
    thread.updated = Date.now();
    saveThreads();
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
  const key = `${collection || ""}\u0000${citation.document_id}`;
  if (!textCache.has(key)) {
    const url = `/documents/${encodeURIComponent(citation.document_id)}/text${collectionQuery()}`;
    const response = await fetch(url, { headers: authHeaders() });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    textCache.set(key, Array.from(await response.text()));
  }
  return textCache.get(key);
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
    const response = await fetch(`/documents?limit=1000${collectionQuery("&")}`, { headers: authHeaders() });
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
      item.dataset.documentId = doc.id;
      item.appendChild(documentActions(doc));
      list.appendChild(item);
    }
    const inProgress = documents.some((doc) => doc.state !== "ready" && doc.state !== "failed");
    if (inProgress && !$("docs-panel").hidden) docsRefresh = setTimeout(loadDocuments, 1000);
  } catch (error) {
    list.replaceChildren(document.createTextNode("Could not list the documents: " + error.message));
  }
}

// Re-index and delete, for keys that may write (others get the server's 403 as a line of text). Deleting asks
// once more in the button itself: a dialog would steal focus and block the page.
function documentActions(doc) {
  const actions = document.createElement("span");
  actions.className = "doc-actions";
  const status = document.createElement("span");
  status.className = "meta doc-status";
  status.setAttribute("role", "status");
  const reindex = document.createElement("button");
  reindex.type = "button";
  reindex.className = "reindex";
  reindex.textContent = "Re-index";
  reindex.setAttribute("aria-label", `Re-index ${doc.title || doc.source}`);
  reindex.addEventListener("click", () => documentRequest(doc, "POST", "/reindex", status, "Re-indexing…"));
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "delete";
  remove.textContent = "Delete";
  remove.setAttribute("aria-label", `Delete ${doc.title || doc.source}`);
  let armed = null;
  remove.addEventListener("click", () => {
    if (!armed) {
      remove.textContent = "Delete for good?";
      armed = setTimeout(() => { armed = null; remove.textContent = "Delete"; }, 5000);
      return;
    }
    clearTimeout(armed);
    armed = null;
    documentRequest(doc, "DELETE", "", status, "Deleting…");
  });
  actions.append(reindex, remove, status);
  return actions;
}

async function documentRequest(doc, method, suffix, status, pending) {
  status.textContent = pending;
  const url = `/documents/${encodeURIComponent(doc.id)}${suffix}${collectionQuery()}`;
  try {
    const response = await fetch(url, { method, headers: authHeaders() });
    if (!response.ok) {
      let detail = `HTTP ${response.status}`;
      try { detail = (await response.json()).error.message; } catch { /* not JSON */ }
      status.textContent = `Not done: ${detail}`;
      askForKeyAfter401(response.status);
      return;
    }
    if (method === "DELETE") pinned.delete(doc.id), showPinned();
    await loadDocuments();
  } catch (error) {
    status.textContent = "Could not reach the service: " + error.message;
  }
}

async function enableUploadIfSupported() {
  try {
    const schema = await (await fetch("/openapi.json")).json();
    const canUpload = Boolean(schema.paths && schema.paths["/documents"] && schema.paths["/documents"].post);
    if (canUpload) {
      // What the upload takes comes from the server's table of formats, not from this page.
      const formats = (await (await fetch("/formats")).json()).items;
      $("upload-label").textContent = `Add a document (${formats.map((f) => f.name).join(", ")})`;
      $("upload-file").accept = formats.flatMap((f) => f.suffixes).join(",");
    }
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
  const response = await fetch(`/documents${collectionQuery()}`, { method: "POST", body, headers: authHeaders() });
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

// --- conversations -------------------------------------------------------------------------------------

function showThread(next) {
  if (running) running.abort();
  thread = next;
  log.replaceChildren();
  for (const turn of currentTurns()) renderFinal(newTurnElement(turn.question), turn.response);
  $("empty").hidden = currentTurns().length > 0;
  saveThreads();
}

$("new-chat").addEventListener("click", () => {
  showThread(null);
  input.focus();
});

function threadTitle(t) {
  const first = t.turns.length ? t.turns[0].question : "New conversation";
  return first.length > 80 ? first.slice(0, 79) + "…" : first;
}

function renderThreads() {
  const list = $("threads-list");
  list.replaceChildren();
  if (!threads.length) list.appendChild(document.createTextNode("No conversations yet."));
  for (const t of threads) {
    const item = document.createElement("li");
    item.className = "thread";
    if (thread && t.id === thread.id) item.setAttribute("aria-current", "true");
    const open = document.createElement("button");
    open.type = "button";
    open.className = "open-thread";
    open.textContent = threadTitle(t);
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = ` ${t.collection || "default collection"} · ${t.turns.length} question${t.turns.length === 1 ? "" : "s"}`;
    open.appendChild(meta);
    open.addEventListener("click", async () => {
      if ((t.collection || null) !== collection) await chooseCollection(t.collection || null, { keepThread: true });
      showThread(t);
      closePanel("threads-panel");
    });
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "delete-thread";
    remove.textContent = "×";
    remove.setAttribute("aria-label", `Forget the conversation "${threadTitle(t)}"`);
    remove.addEventListener("click", () => {
      threads = threads.filter((other) => other.id !== t.id);
      if (thread && thread.id === t.id) showThread(null);
      saveThreads();
      renderThreads();
    });
    item.append(open, remove);
    list.appendChild(item);
  }
}

// --- collections ---------------------------------------------------------------------------------------

// The collection comes from ?collection= in the address, else the one chosen last in this browser, else the
// server's default (the first option, no name sent). Choosing one puts it in the address (so a link opens it)
// and starts a new conversation.
function wantedCollection() {
  return new URLSearchParams(location.search).get("collection") || localStorage.getItem(COLLECTION_KEY) || null;
}

async function loadCollections() {
  const select = $("collection");
  const wanted = wantedCollection();
  let names = [];
  try {
    const response = await fetch("/collections", { headers: authHeaders() });
    if (response.ok) names = (await response.json()).items.map((c) => c.name);
    else askForKeyAfter401(response.status);
  } catch { /* the picker then offers what the address names */ }
  if (wanted && !names.includes(wanted)) names.push(wanted); // a new collection: uploading creates it
  const serverDefault = document.createElement("option");
  serverDefault.value = "";
  serverDefault.textContent = "(default)";
  select.replaceChildren(serverDefault);
  for (const name of names) {
    const option = document.createElement("option");
    option.value = name;
    option.textContent = name;
    select.appendChild(option);
  }
  $("collection-picker").hidden = false;
  await chooseCollection(wanted, { keepThread: true });
}

async function chooseCollection(name, { keepThread = false } = {}) {
  collection = name;
  $("collection").value = name || "";
  if (name) localStorage.setItem(COLLECTION_KEY, name);
  else localStorage.removeItem(COLLECTION_KEY);
  const url = new URL(location.href);
  if (name) url.searchParams.set("collection", name);
  else url.searchParams.delete("collection");
  history.replaceState(null, "", url);
  pinned.clear();
  showPinned();
  if (!keepThread) showThread(null);
  if (!$("docs-panel").hidden) await loadDocuments();
}

$("collection").addEventListener("change", () => chooseCollection($("collection").value || null));

function closePanel(id) {
  $(id).hidden = true;
  if (id === "docs-panel") $("docs-toggle").setAttribute("aria-expanded", "false");
  if (id === "threads-panel") $("threads-toggle").setAttribute("aria-expanded", "false");
}

$("source-close").addEventListener("click", () => closePanel("source-panel"));
$("docs-close").addEventListener("click", () => closePanel("docs-panel"));
// The Documents and Conversations panels share the side: opening one closes the other and the source.
function togglePanel(id, toggleId, other, onOpen) {
  const panel = $(id);
  const open = panel.hidden;
  $("source-panel").hidden = true;
  closePanel(other);
  panel.hidden = !open;
  $(toggleId).setAttribute("aria-expanded", String(open));
  if (open) onOpen();
}

$("docs-toggle").addEventListener("click", () => togglePanel("docs-panel", "docs-toggle", "threads-panel", loadDocuments));
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    closePanel("source-panel");
    closePanel("docs-panel");
    closePanel("threads-panel");
  }
});

$("threads-toggle").addEventListener("click", () => togglePanel("threads-panel", "threads-toggle", "docs-panel", renderThreads));
$("threads-close").addEventListener("click", () => closePanel("threads-panel"));

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

// --- start-up (last, once every constant above is defined) ----------------------------------------------

// The conversation open last is shown at once (not after the collections load), when it belongs to the
// collection asked (or predates collections).
const saved = threads.find((t) => t.id === localStorage.getItem(CURRENT_KEY)) || null;
collection = wantedCollection();
if (saved && (!saved.collection || saved.collection === collection)) showThread(saved);
loadCollections();
enableUploadIfSupported();
input.focus();
