/* The operator's work instructions page (issue 21): pick a work order and an operation, start a unit (its serial from
   the site's pattern, or a pre-printed label scanned) or pick one, then do the instruction's steps in order. Each
   step's capture is recorded at once (POST .../steps) and answered on the feedback line: a check, a measurement
   against its limits, a scan that must match (or a component's serial, fitted into the unit), a photo from the
   terminal's camera, a second person's sign-off with their badge and PIN. Images and PDFs of the steps are kept in
   the browser's cache for when the node cannot be reached. */
"use strict";
(() => {
  const { t, esc, $ } = Takt;
  const params = new URLSearchParams(location.search);
  const MEDIA_CACHE = "takt-instructions";
  const STATUS = { in_progress: "unit_in_progress", blocked: "unit_blocked", hold: "unit_hold",
    completed: "unit_completed", scrapped: "unit_scrapped" };
  let order = null, serialised = false, serial = null, shown = null;

  function path(p) { return "/api/v1/work-orders/" + encodeURIComponent($("#wi-order").value.trim()) + p; }
  function operation() { return Number($("#wi-operation").value || 0); }
  function token() { return Takt.session ? Takt.session.token : ""; }

  async function medium(url) { // an image or PDF of a step, from the node or (offline) from the browser's cache
    const clean = url.split("#")[0];
    let r = null;
    try {
      r = await fetch(clean, { headers: { Authorization: "Bearer " + token() } });
      if (r.ok && window.caches) (await caches.open(MEDIA_CACHE)).put(clean, r.clone());
    } catch (e) { r = null; }
    if ((!r || !r.ok) && window.caches) r = await caches.match(clean);
    return r && r.ok ? URL.createObjectURL(await r.blob()) : null;
  }

  async function loadOrder() {
    const wo = $("#wi-order").value.trim();
    if (!wo || !Takt.session) return;
    try { order = await Takt.get("/api/v1/work-orders/" + encodeURIComponent(wo)); } catch (e) { Takt.report(e); return; }
    let items = [];
    try { items = (await Takt.get("/api/v1/items")).items; } catch (e) { items = []; }
    const item = items.find(i => i.item === order.item);
    serialised = !!(item && item.serialised);
    const wanted = Number(params.get("operation") || $("#wi-operation").value || 0);
    $("#wi-operation").innerHTML = order.operations.map(o => '<option value="' + o.operation + '"' +
      (o.operation === wanted ? " selected" : "") + ">" + o.operation + " · " + esc(o.description) + "</option>").join("");
    $("#wi-start-unit").disabled = !serialised;
    await refresh();
  }

  async function loadUnits() {
    if (!serialised) { $("#wi-units tbody").innerHTML = ""; return; }
    const data = await Takt.get(path("/units"));
    $("#wi-units tbody").innerHTML = data.units.map(u => '<tr data-serial="' + esc(u.serial) + '" class="' +
      (u.serial === serial ? "current" : "") + '"><td>' + esc(u.serial) + "</td><td>" + (u.operation == null ? "–" :
      u.operation) + '</td><td class="status">' + esc(t(STATUS[u.status] || "unit_in_progress")) + "</td></tr>").join("");
  }

  function capture(s) { // the controls of the step to do now
    const id = "wi-capture-" + s.step;
    if (s.kind === "read") return '<button class="go" data-act="read" data-t="confirm_read">' + esc(t("confirm_read")) + "</button>";
    if (s.kind === "check") return '<button class="go" data-act="done">' + esc(t("step_done")) +
      '</button> <button class="stop" data-act="not_ok">' + esc(t("step_not_ok")) + "</button>";
    if (s.kind === "measure") return '<input id="' + id + '" class="wi-value" inputmode="decimal" autocomplete="off" data-wedge="off"> ' +
      esc(s.unit || "") + ' <button class="go" data-act="measure">' + esc(t("ok")) + "</button>" +
      '<span class="muted"> ' + esc(t("step_limits", { lsl: s.lsl == null ? "–" : s.lsl, usl: s.usl == null ? "–" : s.usl })) + "</span>";
    if (s.kind === "scan") return '<input id="' + id + '" class="wi-scan" autocomplete="off" data-wedge="off" placeholder="' +
      esc(t("scan_or_type")) + '"> <button class="go" data-act="scan">' + esc(t("ok")) + "</button>";
    if (s.kind === "photo") return '<input id="' + id + '" class="wi-photo" type="file" accept="image/*" capture="environment">';
    return '<input id="' + id + '" class="wi-badge" autocomplete="off" data-wedge="off" placeholder="' + esc(t("second_badge")) +
      '"> <button class="go" data-act="signoff">' + esc(t("sign_off")) + "</button>";
  }

  async function refresh(unitsLater) {
    if (!order) return;
    if (unitsLater) loadUnits().catch(() => {}); // the list follows; the step's answer does not wait for it
    else try { await loadUnits(); } catch (e) { /* shown below */ }
    const q = serial ? "?serial=" + encodeURIComponent(serial) : "";
    $("#wi-serial").textContent = serial || "–";
    try {
      shown = await Takt.get(path("/operations/" + operation() + "/instruction" + q));
    } catch (e) {
      shown = null;
      $("#wi-steps").innerHTML = "";
      $("#wi-title").textContent = "";
      $("#wi-revision").textContent = "";
      $("#wi-none").hidden = false;
      $("#wi-complete").hidden = !serial;
      document.body.dataset.ready = "true";
      return;
    }
    $("#wi-none").hidden = true;
    $("#wi-complete").hidden = true;
    $("#wi-title").textContent = shown.title;
    $("#wi-revision").textContent = t("instruction_revision", { revision: shown.revision });
    const run = shown.run || { step: 0, status: "in_progress", blocked_step: null };
    const next = run.step + 1;
    const unitReady = !serialised || !!serial;
    $("#wi-steps").innerHTML = shown.steps.map(s => {
      const state = s.step <= run.step ? "done" : s.step === run.blocked_step ? "blocked" : s.step === next ? "current" : "pending";
      const media = s.media.map(m => '<div class="medium" data-url="' + esc(m.url) + '" data-kind="' + esc(m.kind) + '"></div>').join("");
      return '<li data-step="' + s.step + '" data-kind="' + esc(s.kind) + '" class="step ' + state + '"><div class="text">' +
        esc(s.text) + "</div>" + media + (state === "current" || state === "blocked" ? (unitReady ? '<div class="capture">' +
        capture(s) + "</div>" : "") : "") + "</li>";
    }).join("");
    for (const el of document.querySelectorAll("#wi-steps .medium")) {
      medium(el.dataset.url).then(src => {
        if (!src) return;
        el.innerHTML = el.dataset.kind === "pdf" ? '<a target="_blank" href="' + src + '">PDF</a>' : '<img alt="" src="' + src + '">';
      });
    }
    const input = document.querySelector("#wi-steps .capture input:not([type=file])");
    if (input) input.focus();
    document.body.dataset.ready = "true";
  }

  async function record(step, capture, headers, as) {
    const body = Object.assign({ instruction_revision: shown.revision, step: step, started_at: startedAt }, capture);
    if (serial) body.serial = serial;
    const sent = performance.now();
    let answer;
    if (as) { // a second person signs: sent as them, with their PIN
      const r = await fetch(path("/operations/" + operation() + "/steps"), { method: "POST", headers: Object.assign({
        "Content-Type": "application/json", "Idempotency-Key": Takt.newKey(), Authorization: "Bearer " + as }, headers),
        body: JSON.stringify(body) });
      answer = { ok: r.ok, status: r.status, body: await r.json().catch(() => ({})) };
    } else answer = await Takt.act("POST", path("/operations/" + operation() + "/steps"), body);
    if (!answer.ok) { Takt.probes.stepAnswered = { sent, at: performance.now() }; Takt.report(answer); return; }
    // the answer says the step's verdict: shown at once, the steps and units follow
    const verdict = answer.body.step || { passed: true, ncr: null };
    const types = (answer.body.events || []).map(e => e.type);
    if (verdict.ncr) Takt.feedback(false, t("step_failed_ncr", { ncr: verdict.ncr }), "NCR");
    else if (!verdict.passed) Takt.feedback(false, t("step_failed_blocked", { step }) + (verdict.note ? " · " +
      verdict.note : ""), "STEP_FAILED");
    else if (types.includes("UnitOperationCompleted")) Takt.feedback(true, t("unit_operation_done", { serial: serial || "" }));
    else Takt.feedback(true, t("step_passed", { step }));
    Takt.probes.stepAnswered = { sent, at: performance.now() };
    await refresh(true);
    startedAt = new Date().toISOString();
  }
  let startedAt = new Date().toISOString();

  async function signOff(step, badge) {
    const pin = await Takt.pinPad(t("second_pin"));
    if (pin === null) return;
    const r = await fetch("/api/v1/sessions", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ badge, pin }) });
    const data = await r.json().catch(() => ({}));
    if (r.status !== 201) { Takt.report({ ok: false, status: r.status, body: data }); return; }
    await record(step, { result: "done" }, { "X-Takt-Pin": pin }, data.token);
    fetch("/api/v1/sessions/current", { method: "DELETE", headers: { Authorization: "Bearer " + data.token } }).catch(() => {});
  }

  async function photo(step, file) {
    const r = await fetch("/api/v1/photos", { method: "POST", headers: { "Content-Type": file.type === "image/png" ?
      "image/png" : "image/jpeg", Authorization: "Bearer " + token() }, body: file });
    const data = await r.json().catch(() => ({}));
    if (r.status !== 201) { Takt.report({ ok: false, status: r.status, body: data }); return; }
    await record(step, { photo: data.photo });
  }

  $("#wi-steps").addEventListener("click", e => {
    const act = e.target.dataset && e.target.dataset.act;
    const li = e.target.closest("li[data-step]");
    if (!act || !li) return;
    const step = Number(li.dataset.step);
    const input = li.querySelector(".capture input");
    if (act === "read") record(step, {});
    else if (act === "done" || act === "not_ok") record(step, { result: act });
    else if (act === "measure") record(step, { value: Takt.measured(input.value) || input.value.trim() });
    else if (act === "scan") record(step, { scanned: input.value.trim() });
    else if (act === "signoff") signOff(step, input.value.trim());
  });
  $("#wi-steps").addEventListener("change", e => {
    const li = e.target.closest("li[data-step]");
    if (li && e.target.files && e.target.files[0]) photo(Number(li.dataset.step), e.target.files[0]);
  });
  $("#wi-steps").addEventListener("keydown", e => {
    if (e.key !== "Enter" || !e.target.closest(".capture")) return;
    e.preventDefault();
    const button = e.target.closest(".capture").querySelector("button.go");
    if (button) button.click();
  });
  $("#wi-units").addEventListener("click", e => {
    const row = e.target.closest("tr[data-serial]");
    if (!row) return;
    serial = row.dataset.serial;
    refresh();
  });
  async function startUnit(label) {
    const before = new Set([...document.querySelectorAll("#wi-units tr[data-serial]")].map(r => r.dataset.serial));
    const answer = await Takt.act("POST", path("/operations/" + operation() + "/units"), label ? { serial: label } : {});
    if (!Takt.report(answer, t("unit_started"))) return;
    await loadUnits();
    const added = [...document.querySelectorAll("#wi-units tr[data-serial]")].map(r => r.dataset.serial).find(s => !before.has(s));
    if (added) { serial = added; Takt.feedback(true, t("unit_started_serial", { serial })); }
    refresh();
  }
  $("#wi-start-unit").addEventListener("click", () => startUnit(null));
  $("#wi-complete").addEventListener("click", async () => {
    const answer = await Takt.act("POST", path("/operations/" + operation() + "/units/" + encodeURIComponent(serial) +
      "/complete"), {});
    if (Takt.report(answer, t("unit_operation_done", { serial }))) refresh();
  });
  $("#wi-order").addEventListener("change", loadOrder);
  $("#wi-operation").addEventListener("change", () => { refresh(); });

  Takt.onScan(text => {
    if (!Takt.session) { Takt.badge(text, null); return; }
    const current = document.querySelector("#wi-steps li.current .capture input.wi-scan, #wi-steps li.blocked .capture input.wi-scan");
    if (current) { current.value = text; record(Number(current.closest("li").dataset.step), { scanned: text }); return; }
    const row = [...document.querySelectorAll("#wi-units tr[data-serial]")].find(r => r.dataset.serial === text);
    if (row) { serial = text; refresh(); return; }
    if (serialised && order && order.operations.length && operation() === order.operations[0].operation) {
      startUnit(text); // a pre-printed label (plain or GS1 with AI 21): a new unit with that serial
    }
  });
  Takt.onSession(s => { if (s) loadOrder(); });
  Takt.bindLogon(null);
  Takt.start();
  $("#wi-order").value = params.get("work_order") || "";
  if (Takt.session) loadOrder();
})();
