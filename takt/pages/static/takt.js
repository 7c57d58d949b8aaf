/* Takt pages, shared part: language, badge logon, API calls that survive a lost connection (each action keeps its
   Idempotency-Key until the node answers), the live feed (server-sent events over fetch, so it can carry the bearer
   token), keyboard-wedge scan detection and the scan feedback line. No build step, no dependencies. */
"use strict";

const Takt = (() => {
  // The texts in every language, one file a language (static/i18n/<language>.json), put into the page by the node.
  const TEXT = JSON.parse(document.getElementById("takt-text").textContent);
  // What tests and the bench read off a page, all in one place: the last wedge scan, when the last feedback was
  // painted, when the page first became usable.
  const probes = window.taktProbes = { lastScan: null, feedbackShown: null, interactiveAt: null };
  // A scanner types a label at a few ms a key; people take well over this between keys. Generous, because a busy
  // terminal may deliver a scanner's keys unevenly.
  const WEDGE_GAP_MS = 100;
  const WEDGE_MIN = 3;
  const RETRY_MS = 1500;
  let lang = document.documentElement.lang || "en";
  let session = null;
  const scope = document.body.dataset.page || "page";
  const listeners = { scan: null, recorded: [], scanEvent: [], connection: [], session: [] };

  // --- language -------------------------------------------------------------------------------------------
  function t(key, vars) {
    let s = (TEXT[lang] && TEXT[lang][key]) || TEXT.en[key] || key;
    if (vars) for (const k in vars) s = s.replace("{" + k + "}", vars[k]);
    return s;
  }
  function setLanguage(code) {
    lang = TEXT[code] ? code : "en";
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-t]").forEach(el => { el.textContent = t(el.dataset.t); });
    document.querySelectorAll("[data-t-placeholder]").forEach(el => { el.placeholder = t(el.dataset.tPlaceholder); });
  }
  function english(key) { return TEXT.en[key]; } // undefined for a key with no text
  function esc(v) {
    return String(v == null ? "" : v).replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  const $ = (sel, root) => (root || document).querySelector(sel);

  // --- session --------------------------------------------------------------------------------------------
  function loadSession() {
    try { session = JSON.parse(sessionStorage.getItem("takt.session." + scope) || "null"); } catch (e) { session = null; }
    if (session) setLanguage(session.language);
    return session;
  }
  function saveSession(s) {
    session = s;
    if (s) sessionStorage.setItem("takt.session." + scope, JSON.stringify(s));
    else sessionStorage.removeItem("takt.session." + scope);
    setLanguage(s ? s.language : (document.body.dataset.lang || "en"));
    listeners.session.forEach(fn => fn(s));
  }
  function hasRole(...roles) {
    return !!session && (session.roles.includes("admin") || roles.some(r => session.roles.includes(r)));
  }
  async function logOn(badge, pin, device) {
    const body = { badge };
    if (pin) body.pin = pin;
    if (device) body.device = device;
    const r = await fetch("/api/v1/sessions", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const data = await r.json().catch(() => ({}));
    if (r.status === 201) { saveSession(data); startLive(); }
    return { status: r.status, body: data };
  }
  async function logOff(device) {
    if (session) {
      const q = device ? "?device=" + encodeURIComponent(device) : "";
      fetch("/api/v1/sessions/current" + q, { method: "DELETE", headers: auth() }).catch(() => {});
    }
    stopLive();
    saveSession(null);
  }
  function auth() { return session ? { Authorization: "Bearer " + session.token } : {}; }

  // --- API calls ------------------------------------------------------------------------------------------
  function newKey() {
    const b = new Uint8Array(12);
    crypto.getRandomValues(b);
    return scope + "-" + Array.from(b, x => x.toString(16).padStart(2, "0")).join("");
  }
  async function get(path) {
    const r = await fetch(path, { headers: auth(), cache: "no-store" });
    if (r.status === 401 && session) { saveSession(null); feedback(false, t("session_ended")); }
    if (!r.ok) throw Object.assign(new Error("HTTP " + r.status), { status: r.status, body: await r.json().catch(() => ({})) });
    return r.json();
  }
  // Unanswered actions, kept (also across a reload) until the node answers; resent with their original key.
  const PENDING = "takt.pending." + scope;
  const waiting = new Map(); // key -> resolve
  function pendingList() { try { return JSON.parse(localStorage.getItem(PENDING) || "[]"); } catch (e) { return []; } }
  function setPending(list) { localStorage.setItem(PENDING, JSON.stringify(list)); showConnection(); }
  async function send(action) {
    // An action is sent as the user who made it, even when it is resent after someone else logged on.
    const who = action.token ? { Authorization: "Bearer " + action.token } : auth();
    const headers = Object.assign({ "Content-Type": "application/json", "Idempotency-Key": action.key }, who, action.headers || {});
    let r;
    try {
      r = await fetch(action.path, { method: action.method, headers, body: JSON.stringify(action.body || {}) });
    } catch (e) { return null; } // no answer: keep it
    if (r.status === 502 || r.status === 503 || r.status === 504) return null; // store or proxy busy: keep it
    const body = await r.json().catch(() => ({}));
    return { status: r.status, ok: r.ok, body, replayed: r.headers.get("Idempotent-Replayed") === "true" };
  }
  function act(method, path, body, headers) {
    const action = { key: newKey(), method, path, body, at: Date.now(), token: session ? session.token : null };
    if (headers) action.headers = headers;
    return new Promise(resolve => {
      waiting.set(action.key, resolve);
      const list = pendingList(); list.push(headersSafe(action)); setPending(list);
      attempt(action);
    });
  }
  function headersSafe(action) { // a PIN is never written to storage: a signed action is resent from memory only
    if (!action.headers) return action;
    const copy = Object.assign({}, action); delete copy.headers; copy.inMemory = true; return copy;
  }
  const inFlight = new Set();
  const memory = new Map();
  async function attempt(action) {
    if (inFlight.has(action.key)) return;
    inFlight.add(action.key); memory.set(action.key, action);
    const answer = await send(action);
    inFlight.delete(action.key);
    if (answer === null) { setConnected(false); return; }
    setConnected(true);
    memory.delete(action.key);
    setPending(pendingList().filter(a => a.key !== action.key));
    const resolve = waiting.get(action.key);
    waiting.delete(action.key);
    if (resolve) resolve(answer);
    else if (answer) report(answer, t("pending_resent"));
  }
  function resendAll() {
    for (const a of pendingList()) {
      const full = memory.get(a.key) || a;
      if (a.inMemory && !memory.has(a.key)) { setPending(pendingList().filter(x => x.key !== a.key)); continue; }
      attempt(full);
    }
  }
  setInterval(() => { if (pendingList().length) resendAll(); }, RETRY_MS);

  // --- connection and live feed ---------------------------------------------------------------------------
  let connected = true;
  function setConnected(ok) {
    if (ok === connected) return;
    connected = ok;
    showConnection();
    listeners.connection.forEach(fn => fn(ok));
    if (ok) resendAll();
  }
  function showConnection() {
    const el = $("#conn");
    if (!el) return;
    const n = pendingList().length;
    el.classList.toggle("lost", !connected);
    el.textContent = (connected ? t("connected") : t("lost")) + (n ? " · " + t("queued", { n }) : "");
    el.title = el.textContent;
  }
  let live = null;
  async function startLive() {
    stopLive();
    const controller = new AbortController();
    live = controller;
    let backoff = 500;
    while (live === controller && session) {
      try {
        const r = await fetch("/api/v1/events", { headers: auth(), signal: controller.signal, cache: "no-store" });
        if (r.status === 401) { saveSession(null); return; }
        if (!r.ok || !r.body) throw new Error("HTTP " + r.status);
        const reader = r.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        let lastData = Date.now();
        const watchdog = setInterval(() => { if (Date.now() - lastData > 40000) controller.abort(); }, 5000);
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            lastData = Date.now();
            buffer += decoder.decode(value, { stream: true });
            let cut;
            while ((cut = buffer.indexOf("\n\n")) >= 0) {
              const block = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
              let kind = "message", data = "";
              for (const line of block.split("\n")) {
                if (line.startsWith("event:")) kind = line.slice(6).trim();
                else if (line.startsWith("data:")) data += line.slice(5).trim();
              }
              if (kind === "ready") { setConnected(true); backoff = 500; listeners.recorded.forEach(fn => fn(null)); }
              else if (kind === "recorded") listeners.recorded.forEach(fn => fn(JSON.parse(data)));
              else if (kind === "scan") listeners.scanEvent.forEach(fn => fn(JSON.parse(data)));
              else if (kind === "dropped") controller.abort();
            }
          }
        } finally { clearInterval(watchdog); }
      } catch (e) { /* lost: fall through to retry */ }
      if (live !== controller) return;
      setConnected(false);
      await new Promise(res => setTimeout(res, backoff));
      backoff = Math.min(backoff * 2, 5000);
    }
  }
  function stopLive() { if (live) { const c = live; live = null; c.abort(); } }

  // --- keyboard wedge -------------------------------------------------------------------------------------
  // A scanner types its label as a fast burst of keys ending in Enter (CR/LF suffix); GS comes as the control
  // character itself or as Ctrl+]. No input needs focus: the burst is caught on the document and kept out of any
  // focused field (whatever reached it before the burst was recognised is put back).
  let burst = "", lastKey = 0, target = null, targetValue = null, burstStart = 0;
  document.addEventListener("keydown", e => {
    if (e.target && e.target.dataset && e.target.dataset.wedge === "off") return; // the PIN field: typed, never scanned
    // The gap is taken from the keys' own time stamps (when the keyboard or scanner produced them), so a busy
    // page that handles a burst late still sees it as the burst it was.
    const now = performance.now();
    const stamp = e.timeStamp || now;
    const gap = stamp - lastKey;
    lastKey = stamp;
    if (gap > WEDGE_GAP_MS) {
      burst = ""; burstStart = now;
      target = document.activeElement;
      targetValue = target && "value" in target ? target.value : null;
    }
    if (e.key === "Enter" || e.key === "\r" || e.key === "\n") {
      if (burst.length >= WEDGE_MIN && gap <= WEDGE_GAP_MS) {
        e.preventDefault(); e.stopPropagation();
        if (target && targetValue !== null && "value" in target) target.value = targetValue;
        const text = burst; burst = "";
        probes.lastScan = { text, startedAt: burstStart, endedAt: now };
        if (listeners.scan) listeners.scan(text, now);
      } else burst = "";
      return;
    }
    let ch = null;
    if (e.key === "\x1d" || e.key === "GroupSeparator" || (e.ctrlKey && (e.key === "]" || e.code === "BracketRight"))) ch = "\x1d";
    else if (e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey) ch = e.key;
    else return;
    if (ch === "\x1d" || (burst.length > 0 && gap <= WEDGE_GAP_MS)) e.preventDefault();
    if (burst === "") burstStart = now;
    burst += ch;
  }, true);

  // --- feedback -------------------------------------------------------------------------------------------
  let seq = 0;
  function feedback(ok, message, code, kind) {
    const el = $("#feedback");
    if (!el) return;
    seq += 1;
    el.className = "feedback " + (kind || (ok ? "ok" : "bad"));
    el.dataset.seq = String(seq);
    el.dataset.ok = ok ? "true" : "false";
    el.innerHTML = '<span class="icon">' + (kind === "wait" ? "…" : ok ? "✔" : "✖") + "</span>" +
      (code && !ok ? '<span class="code">' + esc(code) + "</span>" : "") + '<span class="msg">' + esc(message) + "</span>";
    if (!ok && kind !== "wait") beep();
    const shown = seq;
    if (kind !== "wait") requestAnimationFrame(() => { probes.feedbackShown = { seq: shown, at: performance.now(), ok }; });
  }
  // The feedback line for the node's answer to an action (or a read's thrown error): green with okText, or with the
  // node's own message when there is none (a scan's answer says what it did); red with the refusal's message and
  // code. Returns whether the node took it.
  function report(answer, okText) {
    const failed = answer instanceof Error;
    const body = (answer && answer.body) || {};
    const said = body.scan || body; // a refused scan carries its outcome beside the error
    const ok = !failed && !!answer.ok;
    const message = ok ? (okText != null ? okText : said.message)
      : (said.message || body.message || (failed ? String(answer) : "HTTP " + answer.status));
    feedback(ok, message, ok ? null : body.code);
    return ok;
  }
  let audio = null;
  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const o = audio.createOscillator(), g = audio.createGain();
      o.frequency.value = 220; g.gain.value = 0.15; o.connect(g); g.connect(audio.destination);
      o.start(); o.stop(audio.currentTime + 0.25);
    } catch (e) { /* no sound here */ }
  }

  // --- PIN pad and choices --------------------------------------------------------------------------------
  function pinPad(title) {
    return new Promise(resolve => {
      const overlay = document.createElement("div");
      overlay.className = "overlay"; overlay.id = "pinpad";
      overlay.innerHTML = '<div class="dialog"><h1>' + esc(title) + '</h1><div class="pin-dots" id="pin-dots"></div>' +
        '<input id="pin-input" type="password" inputmode="numeric" autocomplete="off" aria-label="PIN" data-wedge="off">' +
        '<div class="keypad">' + [1, 2, 3, 4, 5, 6, 7, 8, 9].map(n => '<button data-k="' + n + '">' + n + "</button>").join("") +
        '<button data-k="C">' + esc(t("clear")) + '</button><button data-k="0">0</button><button class="go" data-k="OK">' + esc(t("ok")) +
        '</button></div><button class="ghost" data-k="X">' + esc(t("cancel")) + "</button></div>";
      document.body.appendChild(overlay);
      const input = $("#pin-input", overlay);
      const dots = () => { $("#pin-dots", overlay).textContent = "•".repeat(input.value.length); };
      input.addEventListener("input", dots);
      input.addEventListener("keydown", e => { if (e.key === "Enter") { e.preventDefault(); done(input.value); } });
      const done = v => { overlay.remove(); resolve(v); };
      overlay.addEventListener("click", e => {
        const k = e.target.dataset && e.target.dataset.k;
        if (!k) return;
        if (k === "OK") done(input.value);
        else if (k === "X") done(null);
        else if (k === "C") { input.value = ""; dots(); }
        else { input.value += k; dots(); }
      });
      input.focus();
    });
  }
  function askText(title) { // a line of text (a justification), or null when cancelled
    return new Promise(resolve => {
      const overlay = document.createElement("div");
      overlay.className = "overlay"; overlay.id = "ask-text";
      overlay.innerHTML = '<div class="dialog"><h1>' + esc(title) + '</h1><input id="ask-text-input" maxlength="200" ' +
        'autocomplete="off" data-wedge="off"><div class="choices"><button class="go" data-k="OK">' + esc(t("ok")) +
        '</button></div><button class="ghost" data-k="X">' + esc(t("cancel")) + "</button></div>";
      document.body.appendChild(overlay);
      const input = $("#ask-text-input", overlay);
      const done = v => { overlay.remove(); resolve(v); };
      input.addEventListener("keydown", e => { if (e.key === "Enter") { e.preventDefault(); done(input.value.trim() || null); } });
      overlay.addEventListener("click", e => {
        const k = e.target.dataset && e.target.dataset.k;
        if (k === "OK") done(input.value.trim() || null);
        else if (k === "X") done(null);
      });
      input.focus();
    });
  }
  function choose(title, options) { // options: [[value, label]]
    return new Promise(resolve => {
      const overlay = document.createElement("div");
      overlay.className = "overlay"; overlay.id = "choose";
      overlay.innerHTML = '<div class="dialog"><h1>' + esc(title) + '</h1><div class="choices">' +
        options.map(([v, label]) => '<button data-v="' + esc(v) + '">' + esc(label) + "</button>").join("") +
        '</div><button class="ghost" data-v="">' + esc(t("cancel")) + "</button></div>";
      document.body.appendChild(overlay);
      overlay.addEventListener("click", e => {
        if (!e.target.dataset || e.target.dataset.v === undefined) return;
        overlay.remove(); resolve(e.target.dataset.v || null);
      });
    });
  }

  // --- logon screen (shared by every page) ----------------------------------------------------------------
  async function badge(text, device) {
    feedback(true, t("scanned") + ": " + text, null, "wait");
    let r = await logOn(text, null, device);
    if (r.status === 401 && r.body.code === "PIN_REQUIRED") {
      const pin = await pinPad(r.body.message || t("enter_pin"));
      if (pin === null) { feedback(false, t("cancel")); return false; }
      r = await logOn(text, pin, device);
    }
    return report({ ok: r.status === 201, status: r.status, body: r.body }, r.body.name);
  }
  function bindLogon(device) {
    const form = $("#logon-form");
    if (form) form.addEventListener("submit", e => {
      e.preventDefault();
      const input = $("#logon-badge");
      if (input.value.trim()) badge(input.value.trim(), device).then(ok => { if (ok) input.value = ""; });
    });
    const out = $("#logoff");
    if (out) out.addEventListener("click", () => logOff(device));
  }
  function showUser() {
    const overlay = $("#logon");
    if (overlay) overlay.hidden = !!session;
    const who = $("#who");
    if (who) who.textContent = session ? session.name : "";
    const out = $("#logoff");
    if (out) out.hidden = !session;
  }
  listeners.session.push(showUser);

  // --- the verdict of a measured value ----------------------------------------------------------------------
  // The domain's rule (edge.domain.model.Characteristic.passes: LSL <= value <= USL, each limit only where set, in exact
  // decimals) on what is typed: blanks around it ignored, a decimal comma read as a point, digits only (what the
  // node takes as a Decimal). measured() is the text the pages send; verdict() is "pass", "fail" or "" (nothing,
  // or no number, typed), compared digit by digit as the node does (no binary floating point).
  // What is typed is written out as the node takes a decimal (edge.fields.DecimalForm: digits, at most 12 before and
  // 6 after the point, no exponent, no plus sign), exactly: the point moved by the exponent, zeros at the ends off.
  const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
  const FORM = /^-?(0|[1-9]\d{0,11})(\.\d{1,6})?$/;
  function measured(text) {
    if (text == null) return null;
    let s = String(text).trim();
    if (s.indexOf(",") >= 0 && s.indexOf(".") < 0 && s.indexOf(",") === s.lastIndexOf(",")) s = s.replace(",", ".");
    const m = DECIMAL.exec(s);
    if (!m || !(m[2] || m[3])) return null;
    const shift = m[4] ? parseInt(m[4], 10) : 0;
    if (Math.abs(shift) > 40) return null; // far beyond 12 digits either way
    let digits = (m[2] || "") + (m[3] || ""), point = (m[2] || "").length + shift;
    if (point < 0) { digits = "0".repeat(-point) + digits; point = 0; }
    if (point > digits.length) digits += "0".repeat(point - digits.length);
    const whole = digits.slice(0, point).replace(/^0+/, "") || "0", places = digits.slice(point).replace(/0+$/, "");
    const plain = (m[1] === "-" ? "-" : "") + whole + (places ? "." + places : "");
    return FORM.test(plain) ? plain : null;
  }
  function decimal(text) { // {sign, digits, point}: value = sign * 0.digits * 10^point, digits without leading/trailing 0
    const m = DECIMAL.exec(String(text).trim());
    let digits = (m[2] || "") + (m[3] || "");
    let point = (m[2] || "").length + (m[4] ? parseInt(m[4], 10) : 0);
    const lead = digits.length - digits.replace(/^0+/, "").length;
    digits = digits.slice(lead).replace(/0+$/, ""); point -= lead;
    return { sign: digits ? (m[1] === "-" ? -1 : 1) : 0, digits, point };
  }
  function compare(a, b) { // -1, 0 or 1 as decimal text a is below, equal to or above b
    const x = decimal(a), y = decimal(b);
    if (x.sign !== y.sign) return x.sign < y.sign ? -1 : 1;
    if (x.sign === 0) return 0;
    let order = x.point !== y.point ? (x.point < y.point ? -1 : 1) : 0;
    if (!order) {
      const n = Math.max(x.digits.length, y.digits.length);
      const p = x.digits.padEnd(n, "0"), q = y.digits.padEnd(n, "0");
      order = p === q ? 0 : p < q ? -1 : 1;
    }
    return order * x.sign;
  }
  function verdict(ch, value) {
    if (ch.kind !== "numeric") return value === true ? "pass" : value === false ? "fail" : "";
    const v = measured(value);
    if (v === null) return "";
    const ok = (ch.lsl == null || compare(v, ch.lsl) >= 0) && (ch.usl == null || compare(v, ch.usl) <= 0);
    return ok ? "pass" : "fail";
  }
  function interactive() { // the page is first usable now (kept once)
    if (!probes.interactiveAt) probes.interactiveAt = performance.now();
  }

  function start() {
    setLanguage(document.body.dataset.lang || "en");
    loadSession();
    showUser();
    showConnection();
    if (session) startLive();
    resendAll();
  }

  return {
    t, english, esc, $, setLanguage, get, act, feedback, report, pinPad, choose, askText, badge, bindLogon, hasRole, start, logOff,
    newKey, measured, verdict, interactive, probes,
    get session() { return session; }, get lang() { return lang; },
    onScan(fn) { listeners.scan = fn; },
    onRecorded(fn) { listeners.recorded.push(fn); },
    onScanEvent(fn) { listeners.scanEvent.push(fn); },
    onSession(fn) { listeners.session.push(fn); },
    onConnection(fn) { listeners.connection.push(fn); },
  };
})();
