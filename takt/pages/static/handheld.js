/* The handheld: receive, put away (with a suggested bin), move, issue to a work order, wave picking of customer orders
   and line-side replenishment (handheld-outbound.js), pick for kitting (the order's
   pick list, FEFO lots in bin walk order, short picks with a reason), incoming inspection at receiving (the lots in
   quarantine awaiting it, "k of n samples", one sample at a time, the verdict: released or held with an NCR), cycle
   count of a bin and "where is this lot".
   Bookings by scan go through the node's scan pipeline with the task on screen; the rest through the API's routes.
   Genealogy is not here yet. */
"use strict";
(() => {
  const { t, esc, $ } = Takt;
  let task = null;
  let state = {};

  const TASKS = [["receive", "⤓"], ["putaway", "▤"], ["move", "⇄"], ["issue", "➜"], ["pick", "☑"], ["inspect", "✓"], ["count", "#"], ["find", "⌕"], ["wave", "⧉"], ["replenish", "⇪"]];
  const OUTBOUND = ["wave", "replenish"];
  const outbound = TaktOutbound({ step, back, details, redraw: () => draw() });  // handheld-outbound.js
  function show(name) {
    task = name; state = {};
    $("#task-title").textContent = t(name || "menu");
    $("#manual").hidden = !name;
    if (!name) {
      // The maintenance technician's requests and plans due live on their own page (/pages/maintenance).
      const maintenance = Takt.hasRole("maintenance") ? '<a class="button" id="to-maintenance" href="/pages/maintenance">' +
        "<i>\u{1F527}</i>" + esc(t("menu_maintenance")) + "</a>" : "";
      $("#view").innerHTML = '<div class="menu">' + TASKS.map(([n, icon]) =>
        '<button data-task="' + n + '"><i>' + icon + "</i>" + esc(t(n)) + "</button>").join("") + maintenance + "</div>";
    } else draw();
    if (name === "receive") loadOrders();
    if (name === "inspect") loadInspections();
    if (OUTBOUND.includes(name)) outbound.start(name).then(() => { if (task === name) draw(); });
  }
  // Receiving against a purchase order: the open orders the ERP sent, one chosen (or none) for the labels that follow.
  async function loadOrders() {
    try { state.orders = (await Takt.get("/api/v1/purchase-orders")).purchase_orders; } catch (e) { state.orders = []; }
    if (task === "receive") draw();
  }
  function orderChoice() {
    const orders = state.orders || [];
    if (!orders.length) return "";
    const chosen = orders.find(o => o.purchase_order === state.po);
    return '<div class="card" id="po-choice"><div class="muted">' + esc(t("against_po")) + '</div><div class="choices">' +
      orders.map(o => '<button data-po="' + esc(o.purchase_order) + '" class="' + (o.purchase_order === state.po ? "primary" : "") + '">' +
        esc(o.purchase_order) + " · " + esc(o.supplier) + "</button>").join("") +
      '<button data-po="" class="' + (state.po ? "" : "primary") + '">' + esc(t("no_po")) + "</button></div>" +
      (chosen ? '<ul class="po-lines" id="po-lines">' + chosen.lines.map(ln => "<li>" + esc(ln.line) + " · " + esc(ln.item) + " · " +
        esc(ln.received) + " / " + esc(ln.quantity) + (ln.expected_lots.length ? ' <span class="muted">(' +
        esc(ln.expected_lots.map(x => x.supplier_lot).join(", ")) + ")</span>" : "") + "</li>").join("") + "</ul>" : "") + "</div>";
  }
  function step(text, sub) { return '<div class="step" id="step">' + esc(text) + (sub ? "<small>" + esc(sub) + "</small>" : "") + "</div>"; }
  function back() { return '<button class="ghost" id="back" style="width: 100%">' + esc(t("back")) + "</button>"; }
  function details(pairs) {
    return "<dl>" + pairs.filter(p => p[1] != null && p[1] !== "").map(([k, v]) => "<dt>" + esc(t(k)) + "</dt><dd>" + esc(v) + "</dd>").join("") + "</dl>";
  }
  function draw() {
    const v = $("#view");
    if (task === "receive") {
      v.innerHTML = orderChoice() + step(state.bin ? t("scan_gs1") : t("scan_bin_receive"), state.bin ? t("bin") + " " + state.bin : "") +
        (state.lot ? '<div class="card" id="received">' + details([["item", state.lot.item + " rev " + state.lot.item_revision],
          ["lot", state.lot.lot], ["supplier_lot", state.lot.supplier_lot], ["expiry", state.lot.expiry],
          ["quantity", state.lot.stock.map(s => s.quantity + " @ " + s.bin).join(", ")]]) +
          (state.lot.inspection ? '<div class="suggest" id="awaits-inspection">' + esc(t("awaits_inspection", { plan: state.lot.inspection.plan })) +
            " · " + esc(t("samples_of", { n: state.lot.inspection.samples, of: state.lot.inspection.sample_size })) +
            '<button class="primary" id="to-inspect" style="width: 100%; margin-top: 8px">' + esc(t("inspect")) + " →</button></div>" : "") +
          '<button class="primary" id="to-putaway" style="width: 100%; margin-top: 10px">' + esc(t("putaway")) + " →</button></div>" : "") + back();
    } else if (task === "putaway" || task === "move") {
      const s = !state.from ? t("scan_from_bin") : !state.lot ? t("scan_lot") : t("scan_to_bin");
      v.innerHTML = step(s, state.from ? t("bin") + " " + state.from + (state.lot ? " · " + t("lot") + " " + state.lot : "") : "") +
        (state.suggestion ? '<div class="suggest" id="suggestion">' + esc(t("suggested")) + ": " + esc(state.suggestion.bin) +
          (state.suggestion.reason ? '<div class="muted">' + esc(state.suggestion.reason) + "</div>" : "") + "</div>" : "") +
        (state.override ? '<div class="card" id="override"><div>' + esc(state.override.message) + "</div>" +
          '<input id="override-reason" placeholder="' + esc(t("override_reason")) + '" maxlength="200" style="width: 100%; margin-top: 8px">' +
          '<button class="go" id="override-go" style="width: 100%; margin-top: 8px">' + esc(t("put_here_anyway")) + "</button></div>" : "") +
        (state.done ? '<div class="card" id="moved">' + esc(state.done) + "</div>" : "") + back();
    } else if (task === "issue") {
      v.innerHTML = step(t("scan_any"), t("order") + " · " + t("bin") + " · " + t("lot")) +
        '<div class="card" style="display: grid; gap: 8px">' +
        ['work_order', 'bin', 'lot', 'quantity'].map(f => '<input id="issue-' + f + '" placeholder="' + esc(t(f === "work_order" ? "order" : f)) +
          '" value="' + esc(state[f] || "") + '"' + (f === "quantity" ? ' inputmode="decimal"' : "") + ">").join("") +
        '<button class="go" id="issue-go">' + esc(t("issue")) + "</button></div>" + back();
    } else if (OUTBOUND.includes(task)) {
      v.innerHTML = outbound.view(task);
    } else if (task === "pick") {
      v.innerHTML = pickView() + back();
    } else if (task === "inspect") {
      v.innerHTML = inspectView() + back();
    } else if (task === "count") {
      v.innerHTML = step(state.bin ? t("bin") + " " + state.bin : t("scan_count_bin")) +
        (state.rows ? '<div class="card" id="count">' + (state.rows.length ? state.rows.map(r =>
          '<div class="count-row"><div><b>' + esc(r.lot) + '</b><div class="muted">' + esc(r.item) + "</div></div>" +
          '<input inputmode="decimal" data-lot="' + esc(r.lot) + '" aria-label="' + esc(r.lot) + '"></div>').join("") +
          '<button class="go" id="count-save" style="width: 100%; margin-top: 10px">' + esc(t("save_count")) + "</button>"
          : '<p class="muted">' + esc(t("nothing_here")) + "</p>") + "</div>" : "") + back();
    } else if (task === "find") {
      const l = state.lot;
      v.innerHTML = step(l ? t("lot") + " " + l.lot : t("scan_lot")) + (l ? '<div class="card" id="lot-card">' +
        details([["item", l.item + " rev " + l.item_revision], ["status", l.status], ["expiry", l.expiry], ["supplier_lot", l.supplier_lot]]) +
        "<h2 style='margin-top: 10px'>" + esc(t("stock")) + "</h2>" + (l.stock.map(s => "<div><b>" + esc(s.bin) + "</b> · " + esc(s.quantity) + "</div>").join("") || "—") +
        "<h2 style='margin-top: 10px'>" + esc(t("history")) + "</h2>" + state.moves.map(m => '<div style="font-size: 15px; border-top: 1px solid #eef1f4; padding: 4px 0">' +
          esc(m.at.slice(0, 16).replace("T", " ")) + " · <b>" + esc(m.kind) + "</b> " + esc(m.quantity) + " " +
          esc([m.from_bin, m.to_bin || m.work_order].filter(Boolean).join(" → ")) + " · " + esc(m.actor) + "</div>").join("") +
        genealogy(state.genealogy) + "</div>" : "") + back();
    }
  }

  // --- pick for kitting: scan the order (and its staging bin if the node knows none), then bin and lot per pick ---
  function pickView() {
    const l = state.list;
    if (!state.work_order) return step(t("scan_wo"));
    if (!l) return step(t("scan_staging"), t("order") + " " + state.work_order);
    const picks = l.picks, cur = picks[state.current || 0];
    const head = cur ? step(t("pick_take", { q: cur.quantity, lot: cur.lot, bin: cur.bin }), t("order") + " " + l.work_order +
      " · " + t("staging") + " " + l.staging_bin) : step(t("kit_complete", { bin: l.staging_bin }), t("order") + " " + l.work_order);
    const confirm = state.confirm ? '<div class="card" id="pick-confirm" style="display: grid; gap: 8px">' +
      details([["lot", state.confirm.lot], ["bin", state.confirm.bin], ["quantity", state.confirm.quantity]]) +
      '<input id="pick-qty" inputmode="decimal" aria-label="' + esc(t("quantity")) + '" value="' + esc(state.qty || state.confirm.quantity) + '">' +
      '<input id="pick-reason" placeholder="' + esc(t("why_short")) + '" aria-label="' + esc(t("why_short")) + '">' +
      '<button class="go" id="pick-go">' + esc(t("picked")) + "</button></div>" : "";
    const list = '<ol class="po-lines" id="picks">' + picks.map((p, i) => '<li data-pick="' + i + '"' +
      (i === (state.current || 0) ? ' class="current" style="color: var(--info)"' : "") + "><b>" + esc(p.bin) + "</b> · " +
      esc(p.lot) + " · " + esc(p.quantity) + ' <span class="muted">' + esc(p.item) + (p.expiry ? " · " + esc(p.expiry) : "") +
      "</span></li>").join("") + "</ol>";
    const shorts = l.lines.filter(ln => Number(ln.short) > 0).map(ln => '<div class="suggest">' +
      esc(t("kit_short", { q: ln.short, item: ln.item })) + "</div>").join("");
    return head + confirm + '<div class="card">' + list + "</div>" + shorts;
  }
  async function loadPickList(stagingBin) {
    const q = stagingBin ? "?staging_bin=" + encodeURIComponent(stagingBin) : "";
    try {
      state.list = await Takt.get("/api/v1/work-orders/" + encodeURIComponent(state.work_order) + "/pick-list" + q);
      state.current = 0; state.confirm = null; state.qty = null;
      return true;
    } catch (e) {
      state.list = null;
      if (!(e.body && e.body.code === "STAGING_BIN_REQUIRED")) Takt.report(e);
      return false;
    }
  }
  async function pickScan(lab) {
    if (lab.kind === "work_order") {
      state.work_order = lab.value; state.list = null;
      if (await loadPickList(null)) Takt.feedback(true, t("order") + ": " + lab.value);
      else if (!state.list) Takt.feedback(true, t("order") + ": " + lab.value + " · " + t("scan_staging"));
    } else if (lab.kind === "bin" && state.work_order && !state.list) {
      if (await loadPickList(lab.value)) Takt.feedback(true, t("staging") + ": " + lab.value);
    } else if (lab.kind === "bin" && state.list) {
      const i = state.list.picks.findIndex(p => p.bin === lab.value);
      if (i >= 0) { state.current = i; state.confirm = null; }
      Takt.feedback(i >= 0, t("bin") + " " + lab.value);
    } else if (lab.lot && state.list) {
      const picks = state.list.picks, cur = picks[state.current || 0];
      const i = cur && cur.lot === lab.lot ? state.current || 0 : picks.findIndex(p => p.lot === lab.lot);
      if (i < 0) { Takt.feedback(false, t("not_on_list", { lot: lab.lot }), "NOT_ON_PICK_LIST"); return; }
      state.current = i; state.confirm = picks[i];
      state.qty = lab.quantity && Number(lab.quantity) < Number(picks[i].quantity) ? String(lab.quantity) : null;
      state.gtin = lab.gtin || null;
      Takt.feedback(true, t("lot") + " " + lab.lot);
    } else { Takt.feedback(false, t(state.work_order ? "scan_staging" : "scan_wo")); return; }
    draw();
  }
  async function recordPick() {
    const typed = ($("#pick-qty").value || "").trim(), p = state.confirm, qty = Takt.measured(typed) || typed;
    const reason = ($("#pick-reason").value || "").trim();
    const body = { lot: p.lot, from_bin: p.bin, to_bin: state.list.staging_bin, quantity: qty, asked: p.quantity };
    if (reason) body.short_reason = reason;
    if (state.gtin) body.gtin = state.gtin;
    const r = await Takt.act("POST", "/api/v1/work-orders/" + encodeURIComponent(state.list.work_order) + "/picks", body);
    Takt.report(r, t("picked_to", { q: qty, lot: p.lot, bin: state.list.staging_bin }) + (reason ? " · " + t("short_pick") : ""));
    if (r.ok) { await loadPickList(state.list.staging_bin); draw(); }
  }

  // --- incoming inspection: the lots awaiting it; one lot's plan, sample by sample, then its verdict ---------------
  async function loadInspections() {
    try { state.tasks = (await Takt.get("/api/v1/pages/incoming-inspections")).tasks; } catch (e) { state.tasks = []; }
    if (task === "inspect") draw();
  }
  async function openInspection(lot) {
    try {
      state.insp = await Takt.get("/api/v1/pages/incoming-inspections/" + encodeURIComponent(lot));
      state.draft = {};
      Takt.feedback(true, t("lot") + " " + lot + " · " + t("samples_of", { n: state.insp.samples, of: state.insp.sample_size }));
    } catch (e) { Takt.report(e); }
    draw();
  }
  function limitsText(ch) {
    if (ch.kind !== "numeric") return t("pass") + " / " + t("fail");
    const range = ch.lsl != null && ch.usl != null ? ch.lsl + " … " + ch.usl : ch.lsl != null ? "≥ " + ch.lsl : ch.usl != null ? "≤ " + ch.usl : "";
    return [range, ch.unit].filter(Boolean).join(" ");
  }
  function inspectView() {
    const c = state.insp;
    if (!c) {
      const tasks = state.tasks || [];
      return step(t("scan_lot_inspect")) + '<div class="card" id="inspect-list">' + (tasks.length ? tasks.map(x =>
        '<button class="pick-task" data-inspect-lot="' + esc(x.lot) + '"><b>' + esc(x.lot) + "</b> · " +
        esc(x.lot_detail ? x.lot_detail.item : "") + '<span class="muted">' + esc(x.plan) + " · " +
        esc(t("samples_of", { n: x.samples, of: x.sample_size })) + "</span></button>").join("")
        : '<p class="muted">' + esc(t("none_awaiting")) + "</p>") + "</div>";
    }
    const p = c.plan_detail, d = state.draft || {}, lot = c.lot_detail || {};
    const head = step(t("lot") + " " + c.lot, p.plan + (p.description ? " · " + p.description : ""));
    const info = '<div class="card" id="inspect-lot">' + details([["item", lot.item && lot.item + " rev " + lot.item_revision],
      ["quantity", c.stock.map(s => s.quantity + " @ " + s.bin).join(", ")], ["supplier", c.supplier],
      ["supplier_lot", c.supplier_lot], ["purchase_order", c.purchase_order]]) +
      '<div class="sample-count" id="sample-count">' + esc(t("samples_of", { n: c.samples, of: c.sample_size })) +
      ' <span class="muted">· ' + esc(t("accept_max", { n: p.accept_number })) + "</span></div>" +
      (c.recorded.length ? '<ol class="po-lines" id="samples">' + c.recorded.map(r => '<li><span class="tag ' + (r.passed ? "pass" : "fail") + '">' +
        esc(t(r.passed ? "pass" : "fail")) + "</span> " + esc(r.inspection) + ' <span class="muted">' + esc(r.actor) + "</span></li>").join("") + "</ol>" : "") + "</div>";
    if (c.status !== "open") {
      const held = c.status === "failed";
      return head + info + '<div class="card verdict-card ' + (held ? "fail" : "pass") + '" id="verdict">' +
        "<b>" + esc(t(held ? "lot_held" : "lot_released", { lot: c.lot })) + "</b>" +
        (held ? c.ncrs.map(n => '<div data-ncr="' + esc(n.ncr) + '">' + esc(n.ncr) + " · " + esc(n.description) + "</div>").join("")
          : '<div>' + esc(t("status")) + ": " + esc(lot.status) + "</div>") + "</div>";
    }
    const form = '<div class="card" id="sample-form"><h2>' + esc(t("sample_n", { n: c.samples + 1, of: c.sample_size })) + "</h2>" +
      p.characteristics.map(ch => {
        const v = d[ch.characteristic], j = Takt.verdict(ch, v);
        const input = ch.kind === "numeric"
          ? '<input class="measure" inputmode="decimal" data-char="' + esc(ch.characteristic) + '" value="' + esc(v == null ? "" : v) +
            '" aria-label="' + esc(ch.characteristic) + '">'
          : '<div class="attr"><button class="yes' + (v === true ? " on" : "") + '" data-char="' + esc(ch.characteristic) + '" data-pass="1">' +
            esc(t("pass")) + '</button><button class="no' + (v === false ? " on" : "") + '" data-char="' + esc(ch.characteristic) +
            '" data-pass="0">' + esc(t("fail")) + "</button></div>";
        return '<div class="sample-char" data-char="' + esc(ch.characteristic) + '"><div><b>' + esc(ch.characteristic) +
          '</b> <span class="muted">' + esc(limitsText(ch)) + "</span></div>" + '<div class="sample-row">' + input +
          '<span class="verdict ' + j + '">' + (j ? esc(t(j)) : "—") + "</span></div></div>";
      }).join("") + '<button class="go" id="sample-go" style="width: 100%; margin-top: 10px">' +
      esc(t("record_sample", { n: c.samples + 1 })) + "</button></div>";
    return head + info + form;
  }
  function keepDraft() {
    for (const input of document.querySelectorAll("#sample-form input.measure")) state.draft[input.dataset.char] = input.value;
  }
  async function recordSample() {
    keepDraft();
    const c = state.insp, d = state.draft;
    const measurements = [];
    for (const ch of c.plan_detail.characteristics) {
      const v = d[ch.characteristic];
      if (ch.kind === "numeric") {
        const text = Takt.measured(v);
        if (text === null) { Takt.feedback(false, t("fill_in", { what: ch.characteristic })); return; }
        measurements.push({ characteristic: ch.characteristic, value: text });
      } else {
        if (v !== true && v !== false) { Takt.feedback(false, t("fill_in", { what: ch.characteristic })); return; }
        measurements.push({ characteristic: ch.characteristic, passed: v });
      }
    }
    const n = c.samples + 1;
    const id = "IN-" + c.lot + "-" + n + "-" + Takt.newKey().slice(-6);
    const r = await Takt.act("POST", "/api/v1/inspections", { inspection: id, plan: c.plan, lot: c.lot, measurements });
    if (!Takt.report(r)) return;
    const passed = c.plan_detail.characteristics.every(ch => Takt.verdict(ch, d[ch.characteristic]) === "pass");
    state.draft = {};
    await openInspection(c.lot);
    const now = state.insp;
    if (now && now.status !== "open") {
      Takt.feedback(now.status === "passed", t(now.status === "passed" ? "lot_released" : "lot_held", { lot: now.lot }) +
        (now.ncrs.length ? " · " + now.ncrs.map(x => x.ncr).join(", ") : ""));
    } else Takt.feedback(true, t("sample_recorded", { n, of: c.sample_size }) + " · " + t(passed ? "pass" : "fail"));
  }

  async function label(text) {
    try {
      const r = await fetch("/api/v1/pages/labels", { method: "POST", headers: { "Content-Type": "application/json",
        Authorization: "Bearer " + Takt.session.token }, body: JSON.stringify({ text }) });
      const body = await r.json();
      if (!r.ok) { Takt.report({ ok: false, status: r.status, body }); return null; }
      return body;
    } catch (e) { Takt.feedback(false, t("lost")); return null; }
  }
  async function pipeline(text, taskName, overrideReason) {
    const body = { text, task: taskName };
    if (taskName === "receive") body.purchase_order = state.po || ""; // "" receives without an order
    if (overrideReason) body.override_reason = overrideReason;
    const r = await Takt.act("POST", "/api/v1/scans", body);
    Takt.report(r);
    const s = r.ok ? r.body : (r.body.scan || r.body);
    // A putaway elsewhere than suggested: the lot still waits; the same bin again with a reason books it.
    state.override = !r.ok && r.body.code === "PUTAWAY_OVERRIDE_REASON_REQUIRED" ? { text, message: r.body.message } : null;
    if (state.override) draw();
    return r.ok ? s : null;
  }

  async function onScan(text) {
    if (!Takt.session) { await Takt.badge(text, null); return; }
    if (!task) { Takt.feedback(false, t("menu")); return; }
    Takt.feedback(true, t("scanned") + ": " + text.replace(/\x1d/g, "⟨GS⟩"), null, "wait");
    if (task === "receive") {
      const [lab, s] = await Promise.all([label(text), pipeline(text, "receive")]);
      if (!s || !lab) return;
      if (lab.kind === "bin") state.bin = lab.value;
      else if ((s.command === "ReceiveLot" || s.command === "ReceiveAgainstPurchaseOrder") && lab.lot) {
        state.lot = await Takt.get("/api/v1/lots/" + encodeURIComponent(lab.lot));
        if (state.lot.status === "quarantine") { // received under an incoming plan: it awaits its inspection
          try { state.lot.inspection = await Takt.get("/api/v1/pages/incoming-inspections/" + encodeURIComponent(lab.lot)); }
          catch (e) { state.lot.inspection = null; }
        }
        if (state.po) await loadOrders(); // the line's received quantity moved on
      }
      draw();
    } else if (task === "putaway" || task === "move") {
      const [lab, s] = await Promise.all([label(text), pipeline(text, task)]);
      if (!s || !lab) return;
      if (lab.kind === "bin" && s.command === "MoveStock") {
        state.done = s.message; state.lot = null; state.suggestion = null; state.override = null; // same source bin: next lot
      } else if (lab.kind === "bin") { state.from = lab.value; state.lot = null; state.suggestion = null; state.done = null; }
      else if (lab.lot) {
        state.lot = lab.lot; state.done = null;
        if (task === "putaway") {
          const q = "?from_bin=" + encodeURIComponent(state.from) + (lab.quantity ? "&quantity=" + lab.quantity : "");
          try { state.suggestion = (await Takt.get("/api/v1/pages/putaway/" + encodeURIComponent(lab.lot) + q)).suggestion; }
          catch (e) { state.suggestion = null; }
        }
      }
      draw();
    } else if (task === "issue") {
      const lab = await label(text);
      keepIssueInputs(); // what was typed while the label was looked up stays
      if (!lab) return;
      if (lab.kind === "work_order") state.work_order = lab.value;
      else if (lab.kind === "bin") state.bin = lab.value;
      else if (lab.lot) { state.lot = lab.lot; if (lab.quantity) state.quantity = lab.quantity; }
      Takt.feedback(true, t(lab.kind === "work_order" ? "order" : lab.kind) + ": " + lab.value);
      draw();
    } else if (OUTBOUND.includes(task)) {
      const lab = await label(text);
      if (lab) await outbound.scan(task, lab, text);
    } else if (task === "pick") {
      const lab = await label(text);
      if (lab) await pickScan(lab);
    } else if (task === "inspect") {
      const lab = await label(text);
      if (!lab) return;
      if (!lab.lot) { Takt.feedback(false, t("scan_lot_inspect")); return; }
      await openInspection(lab.lot);
    } else if (task === "count") {
      const lab = await label(text);
      if (!lab) return;
      if (lab.kind !== "bin") { Takt.feedback(false, t("scan_count_bin")); return; }
      state.bin = lab.value;
      state.rows = (await Takt.get("/api/v1/stock?bin=" + encodeURIComponent(lab.value))).stock;
      Takt.feedback(true, t("bin") + " " + lab.value);
      draw();
    } else if (task === "find") {
      const lab = await label(text);
      if (!lab) return;
      if (!lab.lot) { Takt.feedback(false, t("scan_lot")); return; }
      try {
        const path = "/api/v1/lots/" + encodeURIComponent(lab.lot);
        const [lot, moves, tree] = await Promise.all([Takt.get(path), Takt.get(path + "/moves"), Takt.get(path + "/genealogy")]);
        state.lot = lot; state.moves = moves.moves.slice().reverse(); state.genealogy = tree;
        Takt.feedback(true, t("lot") + " " + lab.lot);
      } catch (e) { Takt.report(e); }
      draw();
    }
  }
  // Where the lot came from (supplier lot, purchase order) and where it went (orders, customer orders).
  function genealogy(g) {
    if (!g) return "";
    const from = g.received ? [g.supplier_lot || g.received.supplier_lot, g.received.purchase_order &&
      g.received.purchase_order + " / " + g.received.po_line, g.received.work_order].filter(Boolean).join(" · ") : "";
    return '<div id="genealogy"><h2 style="margin-top: 10px">' + esc(t("genealogy")) + "</h2>" +
      (from ? '<div class="muted">' + esc(t("came_from")) + " " + esc(from) + "</div>" : "") +
      (g.consumed_in.length ? g.consumed_in.map(c => '<div data-work-order="' + esc(c.work_order) + '">➜ <b>' + esc(c.work_order) + "</b> · " +
        esc(c.quantity) + " · " + esc(c.item) + " rev " + esc(c.item_revision) + (c.customer_order ? " · " + esc(c.customer_order) : "") +
        "</div>").join("") : '<div class="muted">' + esc(t("not_used")) + "</div>") + "</div>";
  }
  function keepIssueInputs() {
    for (const f of ["work_order", "bin", "lot", "quantity"]) { const el = $("#issue-" + f); if (el) state[f] = el.value.trim(); }
  }

  $("#view").addEventListener("click", async e => {
    const row = e.target.closest("li[data-pick]");
    if (row && state.list) { state.current = Number(row.dataset.pick); state.confirm = null; draw(); return; }
    const b = e.target.closest("button");
    if (!b) return;
    if (OUTBOUND.includes(task) && await outbound.click(task, b)) return;
    if (b.dataset.task) show(b.dataset.task);
    else if (b.dataset.inspectLot) await openInspection(b.dataset.inspectLot);
    else if (b.dataset.pass !== undefined && state.insp) {
      keepDraft();
      state.draft[b.dataset.char] = b.dataset.pass === "1";
      draw();
    }
    else if (b.id === "sample-go") await recordSample();
    else if (b.id === "to-inspect") {
      const lot = state.lot.lot;
      show("inspect");
      await openInspection(lot);
    }
    else if (b.id === "back" && task === "inspect" && state.insp) { state.insp = null; await loadInspections(); }
    else if (b.dataset.po !== undefined) { state.po = b.dataset.po || null; draw(); }
    else if (b.id === "back") show(null);
    else if (b.id === "override-go" && state.override) {
      const reason = $("#override-reason").value.trim();
      if (!reason) { Takt.feedback(false, t("override_reason")); $("#override-reason").focus(); return; }
      const s = await pipeline(state.override.text, "putaway", reason);
      if (s) { state.done = s.message; state.lot = null; state.suggestion = null; state.override = null; draw(); }
    }
    else if (b.id === "to-putaway") {
      const lot = state.lot, from = state.bin;
      show("putaway");
      state.from = from; // the handheld stays at the receiving bin: the lot label is next
      draw();
      Takt.feedback(true, t("scan_lot") + " · " + lot.lot);
    } else if (b.id === "issue-go") {
      keepIssueInputs();
      const r = await Takt.act("POST", "/api/v1/work-orders/" + encodeURIComponent(state.work_order || "-") + "/issues",
        { lot: state.lot, bin: state.bin, quantity: state.quantity });
      Takt.report(r, state.quantity + " × " + state.lot + " → " + state.work_order);
      if (r.ok) { state.lot = ""; state.quantity = ""; draw(); }
    } else if (b.id === "pick-go") {
      await recordPick();
    } else if (b.id === "count-save") {
      let bad = null, changed = 0;
      for (const input of document.querySelectorAll("#count input[data-lot]")) {
        if (input.value.trim() === "") continue;
        const r = await Takt.act("POST", "/api/v1/stock/adjustments", { lot: input.dataset.lot, bin: state.bin,
          counted: Takt.measured(input.value) || input.value.trim(), reason: "cycle count" });
        if (r.ok) changed += 1;
        else if (r.body.code !== "NO_DIFFERENCE") bad = r;
      }
      if (bad) Takt.report(bad);
      else Takt.feedback(true, t("count_saved") + " · " + state.bin + (changed ? " (" + changed + " ±)" : ""));
    }
  });
  // The verdict of each characteristic as it is typed.
  $("#view").addEventListener("input", e => {
    const input = e.target.closest("#sample-form input.measure");
    if (!input || !state.insp) return;
    state.draft[input.dataset.char] = input.value;
    const ch = state.insp.plan_detail.characteristics.find(x => x.characteristic === input.dataset.char);
    const j = Takt.verdict(ch, input.value), out = input.parentElement.querySelector(".verdict");
    out.className = "verdict " + j; out.textContent = j ? t(j) : "—";
  });
  $("#manual").addEventListener("submit", e => {
    e.preventDefault();
    const input = $("#manual-text");
    const text = input.value.trim();
    input.value = "";
    if (text) onScan(text);
  });

  Takt.onScan(onScan);
  Takt.onSession(s => { show(null); });
  Takt.bindLogon(null);
  Takt.start();
  show(null);
  document.body.dataset.ready = "true";
  Takt.interactive();
})();
