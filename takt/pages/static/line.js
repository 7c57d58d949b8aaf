/* The supervisor's line view: every workstation's machines, current order and progress, open alerts and OEE of the
   last shifts (an inline SVG chart with availability, performance, quality and the largest loss), live. */
"use strict";
(() => {
  const { t, esc, $ } = Takt;
  let timer = null;
  let oee = {}; // workstation -> its shifts (GET /api/v1/oee), fetched at most once a minute
  let oeeAt = 0;
  let current = {}; // workstation -> its operation in progress (last refresh): where a machine's parts may be booked
  function soon() { clearTimeout(timer); timer = setTimeout(refresh, 150); }
  async function loadOee() {
    if (Date.now() - oeeAt < 60000) return;
    const to = new Date(), from = new Date(to.getTime() - 2 * 86400000);
    try {
      const data = await Takt.get("/api/v1/oee?from=" + encodeURIComponent(from.toISOString()) + "&to=" + encodeURIComponent(to.toISOString()));
      oee = {};
      for (const w of data.workstations) oee[w.workstation] = w.shifts;
      oeeAt = Date.now();
    } catch (e) { /* the chart waits for the next refresh */ }
  }
  const pct = x => Math.round(100 * x) + "%";
  // The last shifts with machine data: a bar each (OEE; A, P and Q in its tooltip), the latest shift's figures and
  // the largest loss over the shifts shown (time without machine data is no loss anyone can act on).
  function oeeChart(workstation) {
    const known = (oee[workstation] || []).filter(s => s.run_minutes > 0 || s.losses.some(x => x.state !== "unknown"));
    const shifts = known.slice(-6);
    if (!shifts.length) return "";
    const bars = shifts.map((s, i) => {
      const h = Math.max(1, Math.round(60 * Math.min(1, s.oee))), x = 8 + i * 58;
      const colour = s.oee >= 0.85 ? "#2e7d32" : s.oee >= 0.6 ? "#e4a11b" : "#c62828";
      return '<g data-shift="' + esc(s.shift + " " + s.day) + '"><title>' + esc(s.shift + " " + s.day + ": OEE " + pct(s.oee) + ", A " +
        pct(s.availability) + ", P " + pct(s.performance) + ", Q " + pct(s.quality)) + "</title>" +
        '<rect x="' + x + '" y="' + (72 - h) + '" width="44" height="' + h + '" rx="3" fill="' + colour + '"/>' +
        '<text x="' + (x + 22) + '" y="' + (68 - h) + '" text-anchor="middle" font-size="12" font-weight="700">' + pct(s.oee) + "</text>" +
        '<text x="' + (x + 22) + '" y="88" text-anchor="middle" font-size="11" fill="#5b6470">' + esc(s.shift) + " " + esc(s.day.slice(8)) + "</text></g>";
    }).join("");
    const lost = {};
    for (const s of shifts) for (const x of s.losses) {
      if (x.state === "unknown") continue;
      const key = x.state + "\u0000" + (x.reason || "");
      lost[key] = (lost[key] || 0) + x.minutes;
    }
    const top = Object.entries(lost).sort((a, b) => b[1] - a[1])[0];
    const last = shifts[shifts.length - 1];
    let loss = "";
    if (top) {
      const [state, reason] = top[0].split("\u0000");
      loss = " · " + esc(t("top_loss")) + ": " + esc(t(state)) + (reason ? " (" + esc(reason) + ")" : "") + " " + Math.round(top[1]) + " min";
    }
    return '<div class="oee" data-oee="' + esc(workstation) + '"><svg viewBox="0 0 356 92" width="100%" height="92" role="img" aria-label="' +
      esc(t("oee_by_shift")) + '"><line x1="0" y1="72.5" x2="356" y2="72.5" stroke="#c9d0d8"/>' + bars + "</svg>" +
      '<div class="muted">' + esc(t("oee")) + " " + esc(last.shift) + ": " + pct(last.oee) + " · A " + pct(last.availability) + " · P " +
      pct(last.performance) + " · Q " + pct(last.quality) + loss + "</div></div>";
  }
  // Downtime by reason over the last 7 days (GET /api/v1/downtime/reliability): a Pareto chart (bars of lost
  // minutes, most first, and the cumulative share as a line) and each machine's MTBF, MTTR and availability.
  let downtimeAt = 0;
  // the stops no leaf names: classified without a person, or no reason given
  const KINDS = ["k_stop", "k_micro_stop", "k_no_data", "k_changeover", "k_starved", "k_blocked", "k_unclassified"];
  const minutes = s => s === null ? "–" : (s / 60 < 100 ? (s / 60).toFixed(1) : Math.round(s / 60)) + " min";
  function paretoChart(bars) {
    const shown = bars.slice(0, 8);
    if (!shown.length) return '<div class="muted">' + esc(t("no_downtime")) + "</div>";
    const most = shown[0].minutes || 1, w = 560, step = w / shown.length;
    const label = b => b.text || (KINDS.includes("k_" + b.reason) ? t("k_" + b.reason) : b.reason);
    const rects = shown.map((b, i) => {
      const h = Math.max(1, Math.round(110 * b.minutes / most)), x = i * step + 6;
      return '<g data-reason="' + esc(b.reason) + '"><title>' + esc(label(b) + ": " + Math.round(b.minutes) + " min, " + b.stops + " × ") + "</title>" +
        '<rect x="' + x + '" y="' + (120 - h) + '" width="' + (step - 12) + '" height="' + h + '" rx="3" fill="#c62828"/>' +
        '<text x="' + (x + (step - 12) / 2) + '" y="136" text-anchor="middle" font-size="11">' + esc(label(b).slice(0, 14)) + "</text></g>";
    }).join("");
    const points = shown.map((b, i) => (i * step + step / 2) + "," + (120 - 1.1 * b.cumulative_percent)).join(" ");
    return '<svg viewBox="0 0 ' + w + ' 142" width="100%" height="142" role="img" aria-label="' + esc(t("downtime_pareto")) + '">' +
      '<line x1="0" y1="120.5" x2="' + w + '" y2="120.5" stroke="#c9d0d8"/>' + rects +
      '<polyline points="' + points + '" fill="none" stroke="#1f3b57" stroke-width="2"/></svg>';
  }
  async function loadDowntime() {
    if (Date.now() - downtimeAt < 60000) return;
    const to = new Date(), from = new Date(to.getTime() - 7 * 86400000);
    let data;
    try {
      data = await Takt.get("/api/v1/downtime/reliability?lang=" + Takt.lang + "&from=" + encodeURIComponent(from.toISOString()) +
        "&to=" + encodeURIComponent(to.toISOString()));
    } catch (e) { return; }
    downtimeAt = Date.now();
    $("#downtime").hidden = false;
    $("#pareto").innerHTML = paretoChart(data.pareto);
    await recentStops();
    $("#reliability tbody").innerHTML = data.machines.map(m => '<tr data-equipment="' + esc(m.equipment) + '"><td>' + esc(m.equipment) +
      "</td><td>" + m.failures + "</td><td>" + minutes(m.mtbf_s) + "</td><td>" + minutes(m.mttr_s) + "</td><td>" +
      (m.availability === null ? "–" : pct(m.availability)) + "</td></tr>").join("");
  }
  // The last day's stops booked to a reason (or waiting for one); a supervisor re-books one to another reason of
  // its machine's tree and says why (the why is kept in English, the language of the audit trail).
  async function recentStops() {
    const to = new Date(), from = new Date(to.getTime() - 86400000);
    let data;
    try {
      data = await Takt.get("/api/v1/downtime/stops?kind=stop&from=" + encodeURIComponent(from.toISOString()) + "&to=" + encodeURIComponent(to.toISOString()));
    } catch (e) { return; }
    const boss = Takt.hasRole("supervisor", "admin");
    $("#recent-stops").innerHTML = data.stops.slice(-8).reverse().map(s => '<li data-stop="' + esc(s.equipment + "@" + s.start) + '">' +
      esc(t("stop_line", { eq: s.equipment, at: new Date(s.start).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }),
        min: Math.round(s.seconds / 60), reason: s.reason || s.recorded_reason || t("k_unclassified") })) +
      (boss ? ' <button data-reclassify="' + esc(s.equipment) + '" data-start="' + esc(s.start) + '">' + esc(t("reclassify")) + "</button>" : "") +
      "</li>").join("") || '<li class="none">' + esc(t("no_downtime")) + "</li>";
  }
  async function reclassify(equipment, start) {
    let tree;
    try { tree = await Takt.get("/api/v1/equipment/" + encodeURIComponent(equipment) + "/reason-tree?lang=" + Takt.lang); }
    catch (e) { return; }
    const leaves = [];
    const walk = (nodes, path) => nodes.forEach(n => n.children ? walk(n.children, path.concat(n.text)) : leaves.push([n.code, path.concat(n.text).join(" › ")]));
    walk(tree.reasons, []);
    const reason = await Takt.choose(t("reclassify") + " " + equipment, leaves);
    if (!reason) return;
    const why = await Takt.choose(t("why_reclassify"), [["rc_wrong", t("rc_wrong")], ["rc_cause", t("rc_cause")], ["rc_plc", t("rc_plc")]]);
    if (!why) return;
    Takt.report(await Takt.act("POST", "/api/v1/equipment/" + encodeURIComponent(equipment) + "/stops/reclassify",
      { stop_start: start, reason, why: Takt.english(why) }), t("done_ok"));
    downtimeAt = 0;
    await loadDowntime();
  }
  async function refresh() {
    if (!Takt.session) return;
    let data;
    try { data = await Takt.get("/api/v1/pages/line"); } catch (e) { return; }
    await loadOee();
    current = {};
    for (const w of data.workstations) {
      if (w.current && ["in_progress", "paused"].includes(w.current.status)) current[w.workstation] = w.current;
    }
    $("#stations").innerHTML = data.workstations.map(w => {
      const states = w.machines.map(m => m.state || "offline");
      const worst = ["down", "maintenance", "offline", "setup", "idle", "running"].find(s => states.includes(s)) || "idle";
      const c = w.current;
      return '<section class="card station ' + worst + '" data-workstation="' + esc(w.workstation) + '"><div class="row"><h3>' +
        '<a href="/pages/terminal/' + encodeURIComponent(w.workstation) + '" style="color: inherit">' + esc(w.workstation) + "</a></h3>" +
        '<span class="muted grow">' + esc(w.description) + "</span></div><div class=\"row\">" +
        w.machines.map(m => '<span class="pill ' + esc(m.state || "offline") + '">' + esc(m.equipment) + " · " + esc(t(m.state || "offline")) + "</span>").join("") +
        "</div>" + (c ? '<div class="row"><b style="font-size: 22px">' + esc(c.work_order) + " / " + c.operation + '</b><span class="tag ' + esc(c.status) + '">' +
          esc(t(c.status)) + '</span><span class="muted">' + esc(c.item) + '</span></div><div class="progress"><span class="good" style="width:' +
          Math.min(100, 100 * Number(c.good) / Number(c.quantity)) + '%"></span><span class="scrap" style="width:' +
          Math.min(100, 100 * Number(c.scrap) / Number(c.quantity)) + '%"></span></div><div class="muted">' + esc(t("good")) + " " + esc(c.good) +
          " · " + esc(t("scrap")) + " " + esc(c.scrap) + " · " + esc(t("target")) + " " + esc(c.quantity) + "</div>"
          : '<div class="muted">' + esc(t("no_order")) + "</div>") +
        '<div class="muted">' + (w.clocked_on.map(p => esc(p.operator)).join(", ") || esc(t("nobody"))) + "</div>" +
        '<ul class="alerts">' + (w.alerts.map(a => '<li class="' + esc(a.kind) + '">' + esc(a.key ? t(a.key, a.vars) : a.text) + "</li>").join("") ||
          '<li style="background: var(--ok-bg); color: var(--ok)">' + esc(t("no_alerts")) + "</li>") + "</ul>" + oeeChart(w.workstation) + "</section>";
    }).join("");
    await loadDowntime();
    await central();
    document.body.dataset.ready = "true";
  }
  // The central systems: is the ERP in step, what did it refuse (retry / set aside), what did it change under a
  // running order (accept / keep). Only supervisors decide; everyone may look.
  async function central() {
    let status, exceptions, conflicts, counts, unassigned, capa, low;
    try {
      [status, exceptions, conflicts, counts, unassigned, capa, low] = await Promise.all([
        Takt.get("/api/v1/sync/status"),
        Takt.get("/api/v1/sync/exceptions?open_only=true"), Takt.get("/api/v1/work-order-conflicts"),
        Takt.get("/api/v1/stock/counts/pending"), Takt.get("/api/v1/unassigned-production"),
        Takt.get("/api/v1/capa-actions/overdue"), Takt.get("/api/v1/line-side-bins?below_min=true")]);
    } catch (e) { return; }
    // Line-side bins below their minimum, and what replenishment is bringing them.
    $("#below-min").innerHTML = low.bins.map(x => '<li data-below-min="' + esc(x.bin + "@" + x.item) + '"><b>' + esc(x.bin) +
      "</b> · " + esc(x.item) + " · " + esc(t("level_of", { level: x.level, min: x.minimum, coming: x.coming })) + "</li>").join("") ||
      '<li class="none">' + esc(t("none_open")) + "</li>";
    const box = $("#central");
    box.hidden = false;
    const d = status.daemon;
    const pill = $("#sync-state");
    if (!d) { pill.className = "pill offline"; pill.textContent = t("sync_off"); }
    else if (!d.connected) { pill.className = "pill down"; pill.textContent = t("sync_down"); }
    else if (status.lag_events) { pill.className = "pill idle"; pill.textContent = t("sync_lag", { n: status.lag_events, s: status.lag_seconds }); }
    else { pill.className = "pill running"; pill.textContent = t("sync_ok"); }
    const boss = Takt.hasRole("supervisor", "admin");
    const open = exceptions.exceptions;
    $("#sync-exceptions").innerHTML = open.map(x => '<li data-exception="' + x.id + '"><b>' + esc(x.subject) + "</b> " +
      esc(x.code) + ": " + esc(x.message) + (x.parked > 1 ? ' <span class="muted">(' + esc(t("waiting_behind", { n: x.parked - 1 })) + ")</span>" : "") +
      (boss ? ' <button data-retry="' + x.id + '">' + esc(t("retry")) + '</button> <button class="ghost" data-aside="' + x.id + '">' +
        esc(t("set_aside")) + "</button>" : "") + "</li>").join("") ||
      '<li class="none">' + esc(t("none_open")) + "</li>";
    const flagged = conflicts.conflicts.filter(x => x.status === "open");
    $("#erp-conflicts").innerHTML = flagged.map(x => '<li data-conflict="' + esc(x.work_order) + '">' + esc(x.detail) +
      (boss ? ' <button data-accept="' + esc(x.work_order) + '">' + esc(t("accept")) + '</button> <button class="ghost" data-keep="' +
        esc(x.work_order) + '">' + esc(t("keep")) + "</button>" : "") + "</li>").join("") ||
      '<li class="none">' + esc(t("none_open")) + "</li>";
    $("#pending-counts").innerHTML = counts.counts.map(x => '<li data-count="' + esc(x.lot + "@" + x.bin) + '">' +
      esc(t("count_line", { lot: x.lot, bin: x.bin, counted: x.counted, expected: x.expected, who: x.counted_by })) +
      (boss ? ' <button data-approve="' + esc(x.lot) + '" data-bin="' + esc(x.bin) + '">' + esc(t("approve")) +
        '</button> <button class="ghost" data-discard="' + esc(x.lot) + '" data-bin="' + esc(x.bin) + '">' +
        esc(t("discard")) + "</button>" : "") + "</li>").join("") || '<li class="none">' + esc(t("none_open")) + "</li>";
    // Parts a machine counted while nothing ran on its workstation: to the order now running there, or written off.
    $("#unassigned").innerHTML = unassigned.unassigned.map(x => {
      const c = current[x.workstation];
      const since = new Date(x.since).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      return '<li data-unassigned="' + esc(x.equipment) + '">' + esc(t("unassigned_line", { eq: x.equipment, ws: x.workstation,
        good: x.good, scrap: x.scrap, since })) + (boss ? (c ? ' <button data-assign="' + esc(x.equipment) + '" data-wo="' +
        esc(c.work_order) + '" data-op="' + c.operation + '" data-good="' + esc(x.good) + '" data-scrap="' + esc(x.scrap) + '">' +
        esc(t("assign_to", { wo: c.work_order, op: c.operation })) + "</button>" : "") + ' <button class="ghost" data-write-off="' +
        esc(x.equipment) + '" data-good="' + esc(x.good) + '" data-scrap="' + esc(x.scrap) + '">' + esc(t("write_off")) +
        "</button>" : "") + "</li>";
    }).join("") || '<li class="none">' + esc(t("none_open")) + "</li>";
    // CAPA actions past their due date (the quality role works them on /pages/capa)
    $("#capa-overdue").innerHTML = capa.actions.map(a => '<li class="overdue" data-capa-action="' + esc(a.capa + "/" + a.action) +
      '">' + esc(t("capa_overdue_line", { capa: a.capa, n: a.action, what: a.description, owner: a.owner, due: a.due })) +
      '<div class="muted">' + esc(a.problem) + "</div></li>").join("") || '<li class="none">' + esc(t("none_open")) + "</li>";
  }
  async function handled(answer) {
    Takt.report(answer, t("done_ok"));
    await central();
  }
  document.addEventListener("click", async e => {
    const b = e.target.closest("button");
    if (!b) return;
    if (b.dataset.reclassify) {
      await reclassify(b.dataset.reclassify, b.dataset.start);
    } else if (b.dataset.retry) {
      await handled(await Takt.act("POST", "/api/v1/sync/exceptions/" + b.dataset.retry + "/retry", { note: "" }));
    } else if (b.dataset.aside) {
      const reason = await Takt.choose(t("why_set_aside"), [["sa_manual", t("sa_manual")], ["sa_not_needed", t("sa_not_needed")],
        ["sa_duplicate", t("sa_duplicate")]]);
      if (!reason) return;
      await handled(await Takt.act("POST", "/api/v1/sync/exceptions/" + b.dataset.aside + "/set-aside",
        { reason: Takt.english(reason) })); // the reason is kept in English, the language of the audit trail
    } else if (b.dataset.approve || b.dataset.discard) {
      await handled(await Takt.act("POST", "/api/v1/stock/counts/decision",
        { lot: b.dataset.approve || b.dataset.discard, bin: b.dataset.bin, approve: Boolean(b.dataset.approve) }));
    } else if (b.dataset.assign) {
      await handled(await Takt.act("POST", "/api/v1/equipment/" + encodeURIComponent(b.dataset.assign) +
        "/unassigned-production/assign", { work_order: b.dataset.wo, operation: Number(b.dataset.op), good: b.dataset.good,
        scrap: b.dataset.scrap }));
    } else if (b.dataset.writeOff) {
      const reason = await Takt.choose(t("why_write_off"), [["wo_setup", t("wo_setup")], ["wo_test", t("wo_test")],
        ["wo_double", t("wo_double")]]);
      if (!reason) return;
      await handled(await Takt.act("POST", "/api/v1/equipment/" + encodeURIComponent(b.dataset.writeOff) +
        "/unassigned-production/write-off", { good: b.dataset.good, scrap: b.dataset.scrap, reason: Takt.english(reason) }));
    } else if (b.dataset.accept || b.dataset.keep) {
      const wo = b.dataset.accept || b.dataset.keep;
      await handled(await Takt.act("POST", "/api/v1/work-orders/" + encodeURIComponent(wo) + "/conflict",
        { resolution: b.dataset.accept ? "accept" : "keep" }));
    }
  });
  Takt.onScan(text => { if (!Takt.session) Takt.badge(text, null); });
  Takt.onRecorded(soon);
  Takt.onSession(s => { if (s) refresh(); else $("#stations").innerHTML = ""; });
  Takt.bindLogon(null);
  Takt.start();
  refresh();
})();
