/* The maintenance technician's page (handheld or terminal): the requests not closed (GET /api/v1/maintenance-requests
   ?status=active) to accept, work (the machine goes to maintenance) and close, asking whether the machine is
   released for production; spare parts issued from a bin (a stock issue); and the preventive plans due or overdue
   (GET /api/v1/maintenance-plans/due), taken up as a request of the plan. */
"use strict";
(() => {
  const { t, esc, $ } = Takt;
  // the texts of steps, states and triggers, by their names in the API
  const STEP = { accept: "mr_accept", start: "mr_start", stop: "mr_stop", parts: "mr_parts", close: "mr_close" };
  const STATUS = { open: "mr_status_open", accepted: "mr_status_accepted", in_work: "mr_status_in_work",
    closed: "mr_status_closed" };
  const TRIGGER = { reason: "mr_trigger_reason", duration: "mr_trigger_duration", manual: "mr_trigger_manual",
    plan: "mr_trigger_plan" };
  const PLAN = { ok: "pm_ok", due: "pm_due", overdue: "pm_overdue" };
  const UNIT = { days: "pm_unit_days", cycles: "pm_unit_cycles", parts: "pm_unit_parts", hours: "pm_unit_hours" };
  const path = (code, step) => "/api/v1/maintenance-requests/" + encodeURIComponent(code) + "/" + step;
  function steps(r) {
    const b = (step, cls) => '<button class="' + cls + '" data-step="' + step + '" data-request="' + esc(r.request) + '">' +
      esc(t(STEP[step])) + "</button>";
    if (r.status === "open") return b("accept", "go");
    return (r.working_since ? b("stop", "hold") : b("start", "go")) + b("parts", "") + b("close", "primary");
  }
  function line(r) {
    const parts = r.parts.map(p => esc(p.quantity) + " × " + esc(p.item) + " (" + esc(p.lot) + ", " + esc(p.bin) + ")").join(", ");
    return '<li class="request" data-request="' + esc(r.request) + '" data-status="' + esc(r.status) + '"><div><b>' +
      esc(r.request) + "</b> · " + esc(r.equipment) + " · " + esc(r.reason || "") + ' <span class="tag">' +
      esc(t(STATUS[r.status] || r.status)) + "</span>" + (r.kind === "preventive" ? ' <span class="tag">' + esc(t("mr_preventive")) +
      "</span>" : "") + '</div><div class="muted">' + esc(t(TRIGGER[r.trigger] || r.trigger)) + " · " + esc(r.raised_by) + " · " +
      esc(r.raised_at.slice(0, 16).replace("T", " ")) + (r.technician ? " · " + esc(r.technician) : "") +
      (r.note ? " · “" + esc(r.note) + "”" : "") + (r.has_photo ? " · 📷" : "") + "</div>" +
      (parts ? '<div class="muted">' + esc(t("mr_parts_issued")) + ": " + parts + "</div>" : "") +
      '<div class="row">' + steps(r) + "</div></li>";
  }
  async function refresh() {
    if (!Takt.session) { $("#requests").innerHTML = ""; $("#plans").innerHTML = ""; return; }
    const allowed = Takt.hasRole("maintenance");
    $("#mr-forbidden").hidden = allowed;
    let requests, due;
    try {
      requests = await Takt.get("/api/v1/maintenance-requests?status=active");
      due = await Takt.get("/api/v1/maintenance-plans/due");
    } catch (e) { return; }
    $("#requests").innerHTML = requests.maintenance_requests.map(line).join("") ||
      '<li class="none muted">' + esc(t("mr_none")) + "</li>";
    if (!allowed) for (const b of document.querySelectorAll("#requests button")) b.disabled = true;
    $("#plans").innerHTML = due.overdue.concat(due.due).map(p => '<li class="plan" data-plan="' + esc(p.plan) + '"><b>' +
      esc(p.plan) + "</b> · " + esc(p.equipment) + " · " + esc(p.description) + ' <span class="tag ' + esc(p.status) + '">' +
      esc(t(PLAN[p.status] || p.status)) + "</span>" + (p.blocks_start ? ' <span class="tag">' + esc(t("pm_blocks")) + "</span>" : "") +
      '<div class="muted">' + esc(t("pm_used", { used: p.used, interval: p.interval, unit: t(UNIT[p.unit] || p.unit) })) +
      '</div><div class="row"><button class="go" data-plan="' + esc(p.plan) + '"' + (allowed ? "" : " disabled") + ">" +
      esc(t("pm_take_up")) + "</button></div></li>").join("") || '<li class="none muted">' + esc(t("pm_none_due")) + "</li>";
    document.body.dataset.ready = "true";
  }
  function partForm() { // lot, bin and quantity of a spare part (typed, or scanned into the focused field)
    return new Promise(resolve => {
      const overlay = document.createElement("div");
      overlay.className = "overlay"; overlay.id = "part-form";
      const field = (id, label, mode) => '<label>' + esc(t(label)) + ' <input id="' + id + '" data-wedge="off" autocomplete="off"' +
        (mode ? ' inputmode="' + mode + '"' : "") + "></label>";
      overlay.innerHTML = '<div class="dialog"><h1>' + esc(t("mr_parts")) + "</h1>" + field("part-lot", "mr_part_lot") +
        field("part-bin", "mr_part_bin") + field("part-qty", "mr_part_quantity", "decimal") +
        '<div class="choices"><button class="go" data-v="ok">' + esc(t("ok")) + "</button></div>" +
        '<button class="ghost" data-v="">' + esc(t("cancel")) + "</button></div>";
      document.body.appendChild(overlay);
      $("#part-lot", overlay).focus();
      overlay.addEventListener("click", e => {
        const v = e.target.dataset && e.target.dataset.v;
        if (v === undefined) return;
        const values = { lot: $("#part-lot", overlay).value.trim(), bin: $("#part-bin", overlay).value.trim(),
          quantity: $("#part-qty", overlay).value.trim() };
        overlay.remove();
        resolve(v && values.lot && values.bin && values.quantity ? values : null);
      });
    });
  }
  async function part(code) {
    const values = await partForm();
    if (!values) return;
    const r = await Takt.act("POST", path(code, "parts"), values);
    Takt.report(r, t("mr_part_done", { quantity: values.quantity, lot: values.lot }));
  }
  $("#requests").addEventListener("click", async e => {
    const step = e.target.dataset && e.target.dataset.step;
    if (!step) return;
    const code = e.target.dataset.request;
    if (step === "parts") { await part(code); refresh(); return; }
    let body = {};
    if (step === "close") {
      const released = await Takt.choose(t("mr_release_question"), [["yes", t("mr_released")], ["no", t("mr_not_released")]]);
      if (!released) return;
      body = { released: released === "yes" };
    }
    const r = await Takt.act("POST", path(code, step), body);
    Takt.report(r, t(STEP[step]) + " · " + code);
    refresh();
  });
  $("#plans").addEventListener("click", async e => {
    const plan = e.target.dataset && e.target.dataset.plan;
    if (!plan || e.target.tagName !== "BUTTON") return;
    const r = await Takt.act("POST", "/api/v1/maintenance-plans/" + encodeURIComponent(plan) + "/start", {});
    Takt.report(r, t("pm_take_up") + " · " + plan);
    refresh();
  });
  Takt.onScan(text => { if (!Takt.session) Takt.badge(text, null); });
  Takt.onRecorded(refresh);
  Takt.onSession(refresh);
  Takt.bindLogon(null);
  Takt.start();
  refresh();
})();
