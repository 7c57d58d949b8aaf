/* Takt pages, shared part: language, badge logon, API calls that survive a lost connection (each action keeps its
   Idempotency-Key until the node answers), the live feed (server-sent events over fetch, so it can carry the bearer
   token), keyboard-wedge scan detection and the scan feedback line. No build step, no dependencies. */
"use strict";

const TEXT = {
  en: {
    scan_badge: "Scan your badge", or_type: "or type your badge code", log_on: "Log on", log_off: "Log off",
    enter_pin: "Enter your PIN", ok: "OK", cancel: "Cancel", clear: "Clear", connected: "Connected",
    lost: "Connection lost — retrying", queued: "{n} waiting to send", dispatch: "Dispatch list", clocked_on: "Clocked on",
    nobody: "Nobody clocked on", order: "Work order", item: "Item", bom_rev: "BOM rev.", quantity: "Quantity",
    due: "Due", good: "Good", scrap: "Scrap", target: "target", start: "Start", pause: "Pause", resume: "Resume",
    complete: "Complete", clock_on: "Clock on", clock_off: "Clock off", report: "Report", report_good: "Good +",
    report_scrap: "Scrap…", material: "Material", inspection: "Inspection", ncrs: "Nonconformances",
    line: "Line", required: "Required", consumed: "Consumed", scan_lots: "Scan lot labels to consume material",
    no_order: "No work order for this workstation", pause_reason: "Why pause?", scrap_reason: "Scrap reason",
    how_many: "How many?", record: "Record", limits: "Limits", pass: "PASS", fail: "FAIL", value: "value",
    raise_ncr: "Raise NCR", inspection_due: "INSPECTION DUE", parts_of: "{n} of {of} parts",
    minutes_of: "{n} of {of} min", samples_of: "{n} of {of} samples", final_needed: "final inspection needed",
    no_inspections: "No inspection due for this operation", no_ncrs: "No open nonconformance",
    disposition: "Disposition", sign_pin: "Sign with your PIN", machine_down: "Machine stopped — why?",
    scanned: "Scanned", ready_to_scan: "Ready to scan", wrong_pin: "Wrong PIN", status: "Status",
    in_progress: "running", paused: "paused", released: "released", completed: "completed",
    running: "running", down: "down", idle: "idle", setup: "setup", offline: "offline",
    r_material: "Material missing", r_machine: "Machine fault", r_break: "Break", r_quality: "Quality issue",
    r_changeover: "Changeover", r_other: "Other", s_damaged: "Damaged", s_dimension: "Out of tolerance",
    s_leak: "Leak", s_assembly: "Assembly error", s_material: "Material defect", s_other: "Other",
    d_jam: "Jam", d_starved: "No material", d_blocked: "Output blocked", d_tooling: "Tooling", d_maintenance: "Maintenance",
    d_other: "Other", scrap_d: "Scrap", rework: "Rework", use_as_is: "Use as is", return_to_supplier: "Return to supplier",
    inspection_recorded: "Inspection {id} recorded", ncr_raised: "{id} raised", reported: "Reported",
    receive: "Receive", putaway: "Put away", move: "Move", issue: "Issue to order", count: "Cycle count",
    find: "Where is this lot", menu: "Menu", back: "Back", scan_bin_receive: "Scan the receiving bin",
    scan_gs1: "Scan the GS1 label", scan_from_bin: "Scan the bin you take from", scan_lot: "Scan the lot label",
    scan_to_bin: "Scan the bin it goes to", suggested: "Suggested bin", override_reason: "Why not the suggested bin?",
    put_here_anyway: "Put it away here", scan_wo: "Scan the work order",
    scan_count_bin: "Scan the bin to count", counted: "Counted", save_count: "Save count", scan_any: "Scan or type a label",
    lot: "Lot", expiry: "Expiry", bin: "Bin", supplier_lot: "Supplier lot", history: "History", stock: "Stock",
    go: "Go", nothing_here: "Nothing in this bin", count_saved: "Count saved", line_view: "Line", alerts: "Alerts",
    no_alerts: "No open alerts", progress: "Progress", pcs: "pcs", pending_resent: "Resent after reconnect",
    downtime_saved: "Downtime reason recorded", session_ended: "Session ended: log on again",
    central: "Central systems", sync_exceptions: "Sync exceptions", erp_conflicts: "Changes from the ERP to running orders",
    sync_ok: "ERP in sync", sync_lag: "{n} events to send ({s} s behind)", sync_down: "ERP unreachable — recording goes on",
    sync_off: "No ERP sync configured", retry: "Retry", set_aside: "Set aside", accept: "Accept", keep: "Keep",
    why_set_aside: "Why will this not go to the ERP?", sa_manual: "Booked by hand in the ERP",
    sa_not_needed: "Not needed in the ERP", sa_duplicate: "Already in the ERP", waiting_behind: "{n} waiting behind it",
    none_open: "None open", done_ok: "Done", against_po: "Receive against purchase order", no_po: "No order",
    instruction: "Work instruction", genealogy: "Genealogy", came_from: "From", not_used: "Not used in an order yet",
    spc_alert: "Process out of control", pending_counts: "Counts waiting for approval", approve: "Approve",
    discard: "Discard", count_line: "Lot {lot} in bin {bin}: counted {counted}, expected {expected} (by {who})",
    unassigned_parts: "Machine parts without an order", unassigned_line: "{eq} ({ws}): {good} good, {scrap} scrap since {since}",
    assign_to: "Book to {wo} / {op}", write_off: "Write off", why_write_off: "Why do these parts belong to no order?",
    wo_setup: "Set-up parts", wo_test: "Test run", wo_double: "Counted twice by the machine",
    pick: "Pick for kitting", scan_staging: "Scan the staging bin",
    pick_take: "Take {q} of lot {lot} from bin {bin}", kit_complete: "Kit complete at bin {bin}",
    kit_short: "Short: {q} {item} not in stock", staging: "Staging bin", picked: "Picked", short_pick: "Short pick",
    why_short: "Why less? (needed when short)", not_on_list: "Lot {lot} is not on this pick list",
    picked_to: "{q} of lot {lot} picked to bin {bin}", oee: "OEE", oee_by_shift: "OEE by shift",
    top_loss: "largest loss", unknown: "no data", inspect: "Incoming inspection",
    scan_lot_inspect: "Scan or pick the lot to inspect", none_awaiting: "No lot awaits incoming inspection",
    accept_max: "accepted with at most {n} failed", sample_n: "Sample {n} of {of}", record_sample: "Record sample {n}",
    sample_recorded: "Sample {n} of {of} recorded", lot_released: "Lot {lot} released",
    lot_held: "Lot {lot} held", fill_in: "Fill in {what}", supplier: "Supplier", purchase_order: "Purchase order",
    awaits_inspection: "In quarantine: awaits incoming inspection {plan}"
  },
  nl: {
    scan_badge: "Scan uw badge", or_type: "of typ uw badgecode", log_on: "Aanmelden", log_off: "Afmelden",
    enter_pin: "Voer uw pincode in", ok: "OK", cancel: "Annuleren", clear: "Wissen", connected: "Verbonden",
    lost: "Verbinding verbroken — opnieuw proberen", queued: "{n} wacht op verzending", dispatch: "Werklijst",
    clocked_on: "Aangemeld op order", nobody: "Niemand aangemeld", order: "Productieorder", item: "Artikel",
    bom_rev: "Stuklijst rev.", quantity: "Aantal", due: "Gereed", good: "Goed", scrap: "Afkeur", target: "doel",
    start: "Starten", pause: "Pauzeren", resume: "Hervatten", complete: "Gereed", clock_on: "Inklokken",
    clock_off: "Uitklokken", report: "Melden", report_good: "Goed +", report_scrap: "Afkeur…", material: "Materiaal",
    inspection: "Keuring", ncrs: "Afwijkingen", line: "Regel", required: "Nodig", consumed: "Verbruikt",
    scan_lots: "Scan partijlabels om materiaal te verbruiken", no_order: "Geen productieorder voor deze werkplek",
    pause_reason: "Waarom pauzeren?", scrap_reason: "Reden van afkeur", how_many: "Hoeveel?", record: "Vastleggen",
    limits: "Grenzen", pass: "GOED", fail: "AFKEUR", value: "waarde", raise_ncr: "Afwijking melden",
    inspection_due: "KEURING NODIG", parts_of: "{n} van {of} stuks", minutes_of: "{n} van {of} min",
    samples_of: "{n} van {of} monsters", final_needed: "eindkeuring nodig",
    no_inspections: "Geen keuring voor deze bewerking", no_ncrs: "Geen open afwijkingen", disposition: "Besluit",
    sign_pin: "Onderteken met uw pincode", machine_down: "Machine staat stil — waarom?", scanned: "Gescand",
    ready_to_scan: "Klaar om te scannen", wrong_pin: "Verkeerde pincode", status: "Status",
    in_progress: "loopt", paused: "gepauzeerd", released: "vrijgegeven", completed: "gereed",
    running: "draait", down: "storing", idle: "stil", setup: "omstellen", offline: "offline",
    r_material: "Materiaal ontbreekt", r_machine: "Machinestoring", r_break: "Pauze", r_quality: "Kwaliteitsprobleem",
    r_changeover: "Omstellen", r_other: "Anders", s_damaged: "Beschadigd", s_dimension: "Buiten tolerantie",
    s_leak: "Lekkage", s_assembly: "Montagefout", s_material: "Materiaalfout", s_other: "Anders",
    d_jam: "Vastloper", d_starved: "Geen materiaal", d_blocked: "Afvoer geblokkeerd", d_tooling: "Gereedschap",
    d_maintenance: "Onderhoud", d_other: "Anders", scrap_d: "Afkeuren", rework: "Herstellen", use_as_is: "Vrijgeven zo",
    return_to_supplier: "Terug naar leverancier", inspection_recorded: "Keuring {id} vastgelegd",
    ncr_raised: "{id} gemeld", reported: "Gemeld", receive: "Ontvangen", putaway: "Wegzetten", move: "Verplaatsen",
    issue: "Uitgeven aan order", count: "Telling", find: "Waar is deze partij", menu: "Menu", back: "Terug",
    scan_bin_receive: "Scan de ontvangstlocatie", scan_gs1: "Scan het GS1-label", scan_from_bin: "Scan de bronlocatie",
    scan_lot: "Scan het partijlabel", scan_to_bin: "Scan de doellocatie", suggested: "Voorgestelde locatie",
    override_reason: "Waarom niet de voorgestelde locatie?", put_here_anyway: "Toch hier wegzetten",
    scan_wo: "Scan de productieorder", scan_count_bin: "Scan de locatie om te tellen", counted: "Geteld",
    save_count: "Telling opslaan", scan_any: "Scan of typ een label", lot: "Partij", expiry: "Houdbaar tot",
    bin: "Locatie", supplier_lot: "Leverancierspartij", history: "Historie", stock: "Voorraad", go: "Ga",
    nothing_here: "Niets op deze locatie", count_saved: "Telling opgeslagen", line_view: "Lijn", alerts: "Meldingen",
    no_alerts: "Geen open meldingen", progress: "Voortgang", pcs: "st", pending_resent: "Opnieuw verzonden na herstel",
    downtime_saved: "Stilstandreden vastgelegd", session_ended: "Sessie beëindigd: meld opnieuw aan",
    central: "Centrale systemen", sync_exceptions: "Synchronisatie-uitzonderingen",
    erp_conflicts: "Wijzigingen uit het ERP op lopende orders", sync_ok: "ERP bijgewerkt",
    sync_lag: "{n} gebeurtenissen te verzenden ({s} s achter)", sync_down: "ERP onbereikbaar — registreren gaat door",
    sync_off: "Geen ERP-synchronisatie ingesteld", retry: "Opnieuw", set_aside: "Terzijde leggen", accept: "Overnemen",
    keep: "Behouden", why_set_aside: "Waarom gaat dit niet naar het ERP?", sa_manual: "Met de hand geboekt in het ERP",
    sa_not_needed: "Niet nodig in het ERP", sa_duplicate: "Staat al in het ERP", waiting_behind: "{n} wachten erachter",
    none_open: "Geen open", done_ok: "Gedaan", against_po: "Ontvangen op inkooporder", no_po: "Geen order",
    instruction: "Werkinstructie", genealogy: "Herkomst en gebruik", came_from: "Van", not_used: "Nog niet in een order gebruikt",
    spc_alert: "Proces buiten controle", pending_counts: "Tellingen wachten op goedkeuring", approve: "Goedkeuren",
    discard: "Verwerpen", count_line: "Partij {lot} op locatie {bin}: geteld {counted}, verwacht {expected} (door {who})",
    unassigned_parts: "Machinedelen zonder order", unassigned_line: "{eq} ({ws}): {good} goed, {scrap} afkeur sinds {since}",
    assign_to: "Boeken op {wo} / {op}", write_off: "Afboeken", why_write_off: "Waarom horen deze delen bij geen order?",
    wo_setup: "Insteldelen", wo_test: "Proefrun", wo_double: "Dubbel geteld door de machine",
    pick: "Verzamelen voor order", scan_staging: "Scan de klaarzetlocatie",
    pick_take: "Pak {q} van partij {lot} uit locatie {bin}", kit_complete: "Set compleet op locatie {bin}",
    kit_short: "Tekort: {q} {item} niet op voorraad", staging: "Klaarzetlocatie", picked: "Gepakt",
    short_pick: "Tekort gepakt", why_short: "Waarom minder? (verplicht bij tekort)",
    not_on_list: "Partij {lot} staat niet op deze verzamellijst", picked_to: "{q} van partij {lot} gepakt naar locatie {bin}",
    oee: "OEE", oee_by_shift: "OEE per ploeg", top_loss: "grootste verlies", unknown: "geen gegevens",
    inspect: "Ingangscontrole", scan_lot_inspect: "Scan of kies de partij om te keuren",
    none_awaiting: "Geen partij wacht op ingangscontrole", accept_max: "goed bij hoogstens {n} afgekeurd",
    sample_n: "Monster {n} van {of}", record_sample: "Monster {n} vastleggen",
    sample_recorded: "Monster {n} van {of} vastgelegd", lot_released: "Partij {lot} vrijgegeven",
    lot_held: "Partij {lot} geblokkeerd", fill_in: "Vul {what} in", supplier: "Leverancier",
    purchase_order: "Inkooporder", awaits_inspection: "In quarantaine: wacht op ingangscontrole {plan}"
  }
};

const Takt = (() => {
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
    else if (answer) feedback(answer.ok, answer.ok ? t("pending_resent") : (answer.body.message || answer.status), answer.ok ? null : answer.body.code);
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
        window.taktLastScan = { text, startedAt: burstStart, endedAt: now };
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
    if (kind !== "wait") requestAnimationFrame(() => { window.taktFeedbackShown = { seq: shown, at: performance.now(), ok }; });
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
    if (r.status === 201) { feedback(true, r.body.name); return true; }
    feedback(false, r.body.message || ("HTTP " + r.status), r.body.code);
    return false;
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

  function start() {
    setLanguage(document.body.dataset.lang || "en");
    loadSession();
    showUser();
    showConnection();
    if (session) startLive();
    resendAll();
  }

  return {
    t, esc, $, setLanguage, get, act, feedback, pinPad, choose, badge, bindLogon, hasRole, start, logOff, newKey,
    get session() { return session; }, get lang() { return lang; },
    onScan(fn) { listeners.scan = fn; },
    onRecorded(fn) { listeners.recorded.push(fn); },
    onScanEvent(fn) { listeners.scanEvent.push(fn); },
    onSession(fn) { listeners.session.push(fn); },
    onConnection(fn) { listeners.connection.push(fn); },
  };
})();
