/* The workstation terminal: dispatch list, the current operation and its actions, counts, material by lot scan,
   inspections with verdict and SPC chart, nonconformances, machine state. Reads one view of the workstation and
   re-reads it when the live feed says something was recorded. */
"use strict";
(() => {
  const { t, esc, $ } = Takt;
  const ws = document.body.dataset.workstation;
  const device = document.body.dataset.device || null;
  let view = null, chosen = null, tab = "material";
  const drafts = {}; // plan -> characteristic -> value typed / passed chosen
  let shownSignature = {};

  // --- reading -----------------------------------------------------------------------------------------------
  let timer = null, loading = false, again = false;
  function refreshSoon(delay) {
    clearTimeout(timer);
    timer = setTimeout(refresh, delay == null ? 80 : delay);
  }
  async function refresh() {
    if (!Takt.session) return;
    if (loading) { again = true; return; }
    loading = true;
    try {
      let path = "/api/v1/pages/workstations/" + encodeURIComponent(ws);
      if (chosen) path += "?work_order=" + encodeURIComponent(chosen.work_order) + "&operation=" + chosen.operation;
      view = await Takt.get(path);
      render();
      document.body.dataset.ready = "true";
      Takt.interactive();
    } catch (e) { /* the connection banner says it */ }
    loading = false;
    if (again) { again = false; refreshSoon(); }
  }

  // --- rendering ---------------------------------------------------------------------------------------------
  function qty(v) { return v == null ? "" : String(v); }
  function pct(a, b) { const x = Number(a), y = Number(b); return y > 0 ? Math.min(100, (x / y) * 100) : 0; }
  function once(id, signature, fn) { // re-render a part only when what it shows changed (keeps focus and input)
    if (shownSignature[id] === signature) return;
    shownSignature[id] = signature;
    fn();
  }
  let synced = null;
  function render() {
    const cur = view.current;
    if (device && cur && synced !== cur.work_order && Takt.hasRole("operator", "supervisor")) {
      synced = cur.work_order; // the terminal's scanner consumes for the order on screen
      Takt.act("PUT", "/api/v1/pages/devices/" + encodeURIComponent(device) + "/work-order", { work_order: cur.work_order });
    }
    once("machines", JSON.stringify([view.machines, Takt.lang]), () => {
      $("#machines").innerHTML = view.machines.map(m =>
        '<span class="pill ' + esc(m.state || "offline") + '" title="' + esc(m.description) + '">' + esc(m.equipment) + " · " +
        esc(t(m.state || "offline")) + (m.stop_reason || m.reason ? " · " + esc(m.stop_reason || m.reason) : "") + "</span>").join("");
    });
    once("maintenance", JSON.stringify([view.maintenance_due, view.maintenance_requests, Takt.lang]), () => {
      const due = view.maintenance_due || [], open = view.maintenance_requests || [];
      const PLAN = { due: "pm_due", overdue: "pm_overdue" };
      const STATUS = { open: "mr_status_open", accepted: "mr_status_accepted", in_work: "mr_status_in_work" };
      const box = $("#maintenance-info");
      box.hidden = !due.length && !open.length;
      box.innerHTML = due.map(p => '<div class="pm ' + esc(p.status) + '" data-plan="' + esc(p.plan) + '">🔧 <b>' +
          esc(p.plan) + "</b> · " + esc(p.equipment) + " · " + esc(p.description) + " · " + esc(t(PLAN[p.status] || p.status)) +
          (p.blocks_start ? " · <b>" + esc(t("pm_blocks")) + "</b>" : "") + "</div>").join("") +
        open.map(r => '<div class="mr" data-request="' + esc(r.request) + '">🛠 ' + esc(r.request) + " · " +
          esc(r.equipment) + " · " + esc(t(STATUS[r.status] || r.status)) + (r.technician ? " · " + esc(r.technician) : "") +
          "</div>").join("");
    });
    once("dispatch", JSON.stringify([view.dispatch, cur && [cur.work_order, cur.operation.operation], Takt.lang]), () => {
      $("#dispatch").innerHTML = view.dispatch.map(s => {
        const on = cur && s.work_order === cur.work_order && s.operation === cur.operation.operation;
        return '<li><button class="' + (on ? "current" : "") + '" data-wo="' + esc(s.work_order) + '" data-op="' + s.operation + '">' +
          '<span class="pos">' + s.position + '</span><span><span class="wo">' + esc(s.work_order) + " / " + s.operation +
          '</span><span class="sub">' + esc(s.item) + " · " + esc(qty(s.good)) + "/" + esc(qty(s.quantity)) +
          ' <span class="tag ' + esc(s.status) + '">' + esc(t(s.status)) + "</span></span></span></button></li>";
      }).join("");
    });
    once("people", JSON.stringify([view.clocked_on, Takt.lang]), () => {
      $("#people").innerHTML = view.clocked_on.length ? view.clocked_on.map(c =>
        "<li><b>" + esc(c.operator) + "</b> · " + esc(c.work_order) + "/" + c.operation + "</li>").join("")
        : '<li class="muted">' + esc(t("nobody")) + "</li>";
    });
    renderOrder(cur);
    renderActions(cur);
    renderMaterial(cur);
    renderInspections(cur);
    renderNcrs(cur);
    promptDowntime();
  }
  function renderOrder(cur) {
    once("order", JSON.stringify([cur, Takt.lang]), () => {
      if (!cur) { $("#order").innerHTML = '<div class="big muted">' + esc(t("no_order")) + "</div>"; return; }
      const op = cur.operation;
      $("#order").innerHTML = '<div class="order"><div><div class="row"><span class="big" id="current-order">' + esc(cur.work_order) +
        " / " + op.operation + '</span><span class="tag ' + esc(op.status) + '" id="op-status">' + esc(t(op.status)) + "</span>" +
        (op.pause_reason && op.status === "paused" ? '<span class="muted" id="pause-reason">' + esc(Takt.english("r_" + op.pause_reason) ? t("r_" + op.pause_reason) : op.pause_reason) + "</span>" : "") +
        '</div><div style="font-size: 20px; margin: 4px 0 8px">' + esc(op.description) +
        (op.instruction_url ? ' <a id="instruction" class="instruction" target="_blank" rel="noopener" href="' + esc(op.instruction_url) + '">' +
          esc(t("instruction")) + "</a>" : "") + "</div>" +
        // the operation's production parameters (setpoints) as the sender's B2MML schedule gave them, "ID=value"
        (op.parameters && op.parameters.length ? '<div class="facts" id="parameters">' + op.parameters.map(p => {
          const at = p.indexOf("=");
          return "<span>" + esc(p.slice(0, at)) + "<b>" + esc(p.slice(at + 1)) + "</b></span>";
        }).join("") + "</div>" : "") + setpoints(cur.setpoints) + '<div class="facts">' +
        "<span>" + esc(t("item")) + "<b>" + esc(cur.item) + " rev " + esc(cur.item_revision) + "</b></span>" +
        "<span>" + esc(t("bom_rev")) + '<b id="bom-rev">' + esc(cur.bom_revision) + "</b></span>" +
        "<span>" + esc(t("quantity")) + "<b>" + esc(qty(cur.quantity)) + "</b></span>" +
        (cur.due ? "<span>" + esc(t("due")) + "<b>" + esc(cur.due) + "</b></span>" : "") +
        (cur.customer_order ? "<span>SO<b>" + esc(cur.customer_order) + "</b></span>" : "") +
        '</div></div><div class="counts"><div class="big" id="count-good" style="color: var(--ok)">' + esc(qty(op.good)) +
        '<span class="muted" style="font-size: 22px"> / ' + esc(qty(cur.quantity)) + '</span></div><div id="count-scrap" style="color: var(--bad); font-weight: 700">' +
        esc(t("scrap")) + " " + esc(qty(op.scrap)) + '</div></div><div class="progress" style="grid-column: 1 / -1"><span class="good" style="width:' +
        pct(op.good, cur.quantity) + '%"></span><span class="scrap" style="width:' + pct(op.scrap, cur.quantity) + '%"></span></div></div>';
    });
  }
  // the setpoints downloaded to the machine (read back equal) and what changed on the machine since (flagged)
  function setpoints(sp) {
    if (!sp || (!sp.downloaded.length && !sp.variances.length)) return "";
    return (sp.downloaded.length ? '<div class="facts" id="setpoints"><span>' + esc(t("setpoints_on_machine")) + "</span>" +
      sp.downloaded.map(v => "<span>" + esc(v.parameter) + "<b>" + esc(v.read_back) + (v.unit ? " " + esc(v.unit) : "") +
        "</b></span>").join("") + "</div>" : "") +
      sp.variances.map(v => '<div class="variance" data-parameter="' + esc(v.parameter) + '">' +
        esc(t("setpoint_variance", { equipment: v.equipment, parameter: v.parameter, downloaded: v.downloaded, observed: v.observed })) +
        "</div>").join("");
  }
  function mine() {
    return view.clocked_on.some(c => Takt.session && c.operator === Takt.session.user && view.current &&
      c.work_order === view.current.work_order && c.operation === view.current.operation.operation);
  }
  function renderActions(cur) {
    const st = cur ? cur.operation.status : null;
    const floor = Takt.hasRole("operator", "supervisor");
    $("#btn-start").disabled = !floor || st !== "released";
    $("#btn-pause").disabled = !floor || st !== "in_progress";
    $("#btn-resume").disabled = !floor || st !== "paused";
    $("#btn-complete").disabled = !floor || !(st === "in_progress" || st === "paused");
    const clock = $("#btn-clock");
    clock.disabled = !floor || !cur || st === "completed";
    clock.textContent = cur && mine() ? t("clock_off") : t("clock_on");
    $("#btn-maintenance").disabled = !Takt.hasRole("operator", "supervisor", "quality", "maintenance") ||
      !view.machines.length;
    const reporting = !!cur && floor && st === "in_progress";
    $("#btn-good").disabled = $("#btn-good-n").disabled = $("#btn-scrap").disabled = !reporting;
  }
  function renderMaterial(cur) {
    once("material", JSON.stringify([cur && cur.bom, view.bin, Takt.lang]), () => {
      if (!cur) { $("#tab-material").innerHTML = ""; return; }
      $("#tab-material").innerHTML = '<p class="muted" style="margin: 0 0 6px">' + esc(t("scan_lots")) +
        (view.bin ? " · " + esc(t("bin")) + " " + esc(view.bin) : "") + '</p><table class="lines" id="bom"><thead><tr><th>' +
        esc(t("line")) + "</th><th>" + esc(t("item")) + "</th><th>Rev</th><th>" + esc(t("required")) + "</th><th>" + esc(t("consumed")) +
        "</th><th></th></tr></thead><tbody>" + cur.bom.map(b =>
          '<tr data-line="' + b.line + '" class="' + (Number(b.consumed) >= Number(b.required) ? "done" : "") + '"><td>' + b.line +
          "</td><td><b>" + esc(b.item) + "</b></td><td>" + esc(b.item_revision) + "</td><td>" + esc(b.required) +
          '</td><td class="consumed">' + esc(b.consumed) + '</td><td><div class="mini"><span style="width:' +
          pct(b.consumed, b.required) + '%"></span></div></td></tr>').join("") + "</tbody></table>";
    });
  }

  // --- inspections: verdict as you type (the pages' one rule, Takt.verdict), individuals chart of the last results
  const verdict = Takt.verdict;
  function spc(ch, typed) {
    const pts = ch.recent.map(r => Number(r.value));
    const extra = Takt.measured(typed);
    if (extra !== null) pts.push(Number(extra));
    const W = 300, H = 70, pad = 6;
    const ctl = ch.control; // control limits from the baseline (dashed orange), beside the specification (dashed red)
    const lims = [ch.lsl, ch.usl, ch.nominal].concat(ctl ? [ctl.ucl, ctl.lcl] : []).filter(x => x != null).map(Number);
    const all = pts.concat(lims);
    if (!all.length) return '<svg class="spc" viewBox="0 0 300 70"></svg>';
    let lo = Math.min(...all), hi = Math.max(...all);
    if (hi === lo) { hi += 1; lo -= 1; }
    const span = hi - lo; lo -= span * 0.1; hi += span * 0.1;
    const y = v => (H - pad - ((v - lo) / (hi - lo)) * (H - 2 * pad)).toFixed(1);
    const x = i => (pad + (pts.length > 1 ? (i / (pts.length - 1)) * (W - 2 * pad) : (W - 2 * pad) / 2)).toFixed(1);
    let svg = '<svg class="spc" viewBox="0 0 300 70" preserveAspectRatio="none" data-points="' + pts.length + '">';
    if (ch.usl != null) svg += '<line x1="0" x2="300" y1="' + y(Number(ch.usl)) + '" y2="' + y(Number(ch.usl)) + '" stroke="#c62828" stroke-dasharray="5 4"/>';
    if (ch.lsl != null) svg += '<line x1="0" x2="300" y1="' + y(Number(ch.lsl)) + '" y2="' + y(Number(ch.lsl)) + '" stroke="#c62828" stroke-dasharray="5 4"/>';
    if (ch.nominal != null) svg += '<line x1="0" x2="300" y1="' + y(Number(ch.nominal)) + '" y2="' + y(Number(ch.nominal)) + '" stroke="#8a96a1"/>';
    if (ctl) for (const k of ["ucl", "lcl"]) svg += '<line class="ctl" x1="0" x2="300" y1="' + y(ctl[k]) + '" y2="' + y(ctl[k]) + '" stroke="#e08a00" stroke-dasharray="2 3"/>';
    if (pts.length > 1) svg += '<polyline fill="none" stroke="#1565c0" stroke-width="2" points="' + pts.map((v, i) => x(i) + "," + y(v)).join(" ") + '"/>';
    const flagged = ch.flagged || {};
    pts.forEach((v, i) => {
      const bad = verdict(ch, v) === "fail";
      const rule = i < ch.recent.length && flagged[ch.recent[i].inspection];
      svg += '<circle cx="' + x(i) + '" cy="' + y(v) + '" r="' + (i === pts.length - 1 && extra ? 5 : 3.5) + '" fill="' +
        (bad ? "#c62828" : rule ? "#e08a00" : "#1565c0") + '"' + (rule ? ' class="flagged"' : "") + "/>";
    });
    svg += "</svg>";
    const latest = ch.recent.length ? flagged[ch.recent[ch.recent.length - 1].inspection] : null;
    return svg + (latest ? '<div class="spc-alert">' + esc(t("spc_alert")) + ": " + esc(latest.join("; ")) + "</div>" : "");
  }
  function limitsText(ch) {
    if (ch.kind !== "numeric") return "OK / NOK";
    const parts = [];
    if (ch.lsl != null) parts.push("≥ " + ch.lsl);
    if (ch.nominal != null) parts.push("nom " + ch.nominal);
    if (ch.usl != null) parts.push("≤ " + ch.usl);
    return parts.join(" · ") + " " + (ch.unit || "");
  }
  function renderInspections(cur) {
    once("inspection", JSON.stringify([view.inspections, Takt.lang]), () => {
      const box = $("#tab-inspection");
      if (!cur || !view.inspections.length) { box.innerHTML = '<p class="muted">' + esc(t("no_inspections")) + "</p>"; return; }
      $('[data-tab="inspection"]').classList.toggle("due", !!view.inspection_due);
      box.innerHTML = view.inspections.map(p => {
        const d = drafts[p.plan] = drafts[p.plan] || {};
        return '<div class="plan" data-plan="' + esc(p.plan) + '"><div class="row"><b style="font-size: 20px">' + esc(p.plan) + "</b>" +
          '<span class="muted grow">' + esc(p.description) + "</span>" + standing(p) + '<button class="primary record" data-plan="' + esc(p.plan) + '">' +
          esc(t("record")) + "</button></div>" + p.characteristics.map(ch => {
            const v = d[ch.characteristic];
            const verdictNow = verdict(ch, v);
            const input = ch.kind === "numeric"
              ? '<input class="measure" inputmode="decimal" data-char="' + esc(ch.characteristic) + '" value="' + esc(v == null ? "" : v) + '" aria-label="' + esc(ch.characteristic) + '">'
              : '<div class="attr"><button class="yes' + (v === true ? " on" : "") + '" data-char="' + esc(ch.characteristic) + '" data-pass="1">OK</button>' +
                '<button class="no' + (v === false ? " on" : "") + '" data-char="' + esc(ch.characteristic) + '" data-pass="0">NOK</button></div>';
            return '<div class="char" data-char="' + esc(ch.characteristic) + '"><div><b>' + esc(ch.characteristic) + '</b><div class="limits">' +
              esc(limitsText(ch)) + "</div></div>" + input + '<div class="verdict ' + verdictNow + '">' +
              (verdictNow ? esc(t(verdictNow)) : "—") + '</div><div class="chart">' + (ch.kind === "numeric" ? spc(ch, v) : "") + "</div></div>";
          }).join("") + "</div>";
      }).join("");
    });
  }
  function standing(p) { // where an in-process plan's count and clock stand, or a final inspection's samples
    const due = p.due, rw = p.rework_task;
    if (rw) return '<span class="inspection-state due rework-task" data-task="' + esc(rw.task) + '">' +
      esc(t("rw_reinspection", { task: rw.task, n: rw.samples, of: rw.sample_size })) + "</span>";
    if (due) {
      const parts = due.every_n_parts != null ? t("parts_of", { n: due.parts_since, of: due.every_n_parts }) : "";
      const mins = due.every_minutes != null ? t("minutes_of", { n: Math.floor(due.minutes_since), of: due.every_minutes }) : "";
      const text = [parts, mins].filter(Boolean).join(" · ") + (due.sample_size > 1 ? " · " + t("samples_of", { n: due.samples, of: due.sample_size }) : "");
      return '<span class="inspection-state' + (due.due ? " due" : "") + '">' + (due.due ? esc(t("inspection_due")) + " · " : "") + esc(text) + "</span>";
    }
    if (p.kind === "final") {
      const task = p.task;
      const text = task ? (task.status === "open" ? t("samples_of", { n: task.samples, of: task.sample_size }) : t(task.status === "passed" ? "pass" : "fail"))
        : t("final_needed");
      return '<span class="inspection-state' + (!task || task.status !== "passed" ? " due" : "") + '">' + esc(text) + "</span>";
    }
    return "";
  }
  function updateCharacteristic(planName, charName) {
    const plan = view.inspections.find(p => p.plan === planName);
    const ch = plan && plan.characteristics.find(c => c.characteristic === charName);
    if (!ch) return;
    const row = $('.plan[data-plan="' + CSS.escape(planName) + '"] .char[data-char="' + CSS.escape(charName) + '"]');
    const v = drafts[planName][charName];
    const verdictNow = verdict(ch, v);
    const box = $(".verdict", row);
    box.className = "verdict " + verdictNow;
    box.textContent = verdictNow ? t(verdictNow) : "—";
    if (ch.kind === "numeric") $(".chart", row).innerHTML = spc(ch, v);
    else row.querySelectorAll(".attr button").forEach(b => b.classList.toggle("on", (b.dataset.pass === "1") === v));
  }
  async function recordInspection(planName) {
    const plan = view.inspections.find(p => p.plan === planName);
    const d = drafts[planName] || {};
    const measurements = plan.characteristics.map(ch => ch.kind === "numeric"
      ? { characteristic: ch.characteristic, value: d[ch.characteristic] === undefined || d[ch.characteristic] === "" ? null
          : Takt.measured(d[ch.characteristic]) || String(d[ch.characteristic]) } // not a number: the node says why
      : { characteristic: ch.characteristic, passed: d[ch.characteristic] === undefined ? null : d[ch.characteristic] });
    const cur = view.current;
    const id = "INS-" + cur.work_order + "-" + cur.operation.operation + "-" + Date.now().toString(36).toUpperCase();
    const r = await Takt.act("POST", "/api/v1/inspections", { inspection: id, plan: planName, measurements,
      work_order: cur.work_order, operation: cur.operation.operation });
    if (!Takt.report(r)) return;
    const failed = plan.characteristics.some(ch => verdict(ch, d[ch.characteristic]) === "fail");
    const ncr = r.body.events.find(e => e.type === "NonconformanceRaised");
    Takt.feedback(!failed, t("inspection_recorded", { id }) + " · " + t(failed ? "fail" : "pass") +
      (ncr ? " · " + t("ncr_raised", { id: ncr.subject.replace(/^ncr:/, "") }) : ""));
    drafts[planName] = {};
    shownSignature.inspection = null;
    if (failed && !ncr) offerNcr(id, plan);
    refreshSoon(0);
  }
  async function offerNcr(inspection, plan) {
    const yes = await Takt.choose(t("raise_ncr") + "?", [["yes", t("raise_ncr")]]);
    if (!yes) return;
    const cur = view.current;
    const r = await Takt.act("POST", "/api/v1/nonconformances", { ncr: "NCR-" + inspection, work_order: cur.work_order,
      description: "inspection " + inspection + " (" + plan.plan + ") failed", hold_lot: false });
    Takt.report(r, t("ncr_raised", { id: "NCR-" + inspection }));
  }
  function renderNcrs(cur) {
    once("ncrs", JSON.stringify([view.nonconformances, Takt.session && Takt.session.roles, Takt.lang]), () => {
      const box = $("#tab-ncrs");
      if (!view.nonconformances.length) { box.innerHTML = '<p class="muted">' + esc(t("no_ncrs")) + "</p>"; return; }
      const quality = Takt.hasRole("quality");
      box.innerHTML = view.nonconformances.map(n => '<div class="char" style="grid-template-columns: 1fr auto"><div><b>' + esc(n.ncr) +
        '</b> <span class="tag fail">open</span><div class="muted">' + esc(n.description) + " · " + esc(n.raised_by) + "</div></div>" +
        (quality ? '<button class="primary dispose" data-ncr="' + esc(n.ncr) + '">' + esc(t("disposition")) + "</button>" : "") + "</div>").join("");
    });
  }
  // The rework of a "rework" disposition: mode (operations on this order or a rework order), the rework operations
  // (description, workstation from the order's routing or typed), the re-inspection plan and the lots/units held
  // until it passes. Resolves the rework body, null for a disposition without one, undefined when cancelled.
  async function reworkDialog(ncr) {
    const n = view.nonconformances.find(x => x.ncr === ncr) || { ncr };
    const subjects = n.lot ? ["lot:" + n.lot] : [];
    if (n.work_order) {
      try {
        const units = (await Takt.get("/api/v1/work-orders/" + encodeURIComponent(n.work_order) + "/units")).units;
        units.filter(u => u.ncr === ncr).forEach(u => subjects.push("unit:" + u.serial));
      } catch (e) { /* the unit list is a help only */ }
    }
    let stations = [ws], plans = (view.inspections || []).map(p => p.plan), item = null;
    if (n.work_order) { // the workstations of the order's routing (or typed: any of the site's)
      try {
        const order = await Takt.get("/api/v1/work-orders/" + encodeURIComponent(n.work_order));
        item = order.item;
        stations = [...new Set(stations.concat(order.operations.map(o => o.workstation)))];
      } catch (e) { /* this workstation only */ }
    }
    try { // the re-inspection plan: the order's item's plans (and those for any item) first, the other ones after
      const all = (await Takt.get("/api/v1/inspection-plans")).inspection_plans.filter(p => p.kind !== "incoming");
      const ranked = all.filter(p => !item || !p.item || p.item === item).concat(all.filter(p => item && p.item && p.item !== item));
      plans = [...new Set(plans.concat(ranked.map(p => p.plan)))];
    } catch (e) { /* the order's plans only */ }
    return new Promise(resolve => {
      const overlay = document.createElement("div");
      overlay.className = "overlay"; overlay.id = "rework";
      const opRow = '<div class="row rw-op"><input class="rw-desc grow" maxlength="100" data-wedge="off" placeholder="' +
        esc(t("rw_op_description")) + '"><input class="rw-ws" list="rw-stations" maxlength="100" data-wedge="off" value="' +
        esc(ws) + '" aria-label="' + esc(t("rw_workstation")) + '"></div>';
      overlay.innerHTML = '<div class="dialog"><h1>' + esc(t("rework")) + " " + esc(ncr) + "</h1>" +
        '<label>' + esc(t("rw_mode")) + ' <select id="rw-mode"><option value="operations">' + esc(t("rw_mode_operations")) +
        '</option><option value="order">' + esc(t("rw_mode_order")) + "</option></select></label>" +
        '<label id="rw-order-label" hidden>' + esc(t("rw_order")) + ' <input id="rw-order" maxlength="100" data-wedge="off" placeholder="RW-' +
        esc(ncr) + '"></label>' +
        "<h3>" + esc(t("rw_operations")) + '</h3><div id="rw-ops">' + opRow + "</div>" +
        '<datalist id="rw-stations">' + stations.map(s => '<option value="' + esc(s) + '">').join("") + "</datalist>" +
        '<button class="ghost" data-v="add">+ ' + esc(t("rw_add_op")) + "</button>" +
        '<label>' + esc(t("rw_plan")) + ' <input id="rw-plan" list="rw-plans" maxlength="100" data-wedge="off" value="' +
        esc(plans[0] || "") + '"></label><datalist id="rw-plans">' + plans.map(p => '<option value="' + esc(p) + '">').join("") +
        "</datalist><h3>" + esc(t("rw_held")) + '</h3><div id="rw-subjects">' + (subjects.length ? subjects.map(s =>
          '<label><input type="checkbox" checked value="' + esc(s) + '"> ' + esc(s) + "</label>").join("")
          : '<span class="muted">' + esc(t("rw_held_default")) + "</span>") + "</div>" +
        '<div class="choices"><button class="go" data-v="send">' + esc(t("rework")) + '</button><button data-v="none">' +
        esc(t("rw_without")) + "</button></div>" +
        '<button class="ghost" data-v="">' + esc(t("cancel")) + "</button></div>";
      document.body.appendChild(overlay);
      $("#rw-mode", overlay).addEventListener("change", () => { $("#rw-order-label", overlay).hidden = $("#rw-mode", overlay).value !== "order"; });
      overlay.addEventListener("click", e => {
        const v = e.target.dataset && e.target.dataset.v;
        if (v === undefined) return;
        if (v === "add") { $("#rw-ops", overlay).insertAdjacentHTML("beforeend", opRow); return; }
        overlay.remove();
        if (!v) { resolve(undefined); return; }
        if (v === "none") { resolve(null); return; }
        const operations = [...overlay.querySelectorAll(".rw-op")].map(r => ({
          description: $(".rw-desc", r).value.trim(), workstation: $(".rw-ws", r).value.trim() }))
          .filter(o => o.description);
        const body = { mode: $("#rw-mode", overlay).value, operations, plan: $("#rw-plan", overlay).value.trim(),
          subjects: [...overlay.querySelectorAll("#rw-subjects input:checked")].map(x => x.value) };
        const order = $("#rw-order", overlay).value.trim();
        if (body.mode === "order" && order) body.rework_order = order;
        resolve(body);
      });
    });
  }
  async function dispose(ncr) {
    const choice = await Takt.choose(t("disposition") + " " + ncr, [["scrap", t("scrap_d")], ["rework", t("rework")],
      ["use_as_is", t("use_as_is")], ["return_to_supplier", t("return_to_supplier")]]);
    if (!choice) return;
    let comment = "", rework = null;
    if (choice === "rework") { // the rework it creates: operations, re-inspection plan, mode and the subjects held
      rework = await reworkDialog(ncr);
      if (rework === undefined) return;
    }
    if (choice === "use_as_is") { // use as is is signed with its justification
      comment = await Takt.askText(t("justification"));
      if (!comment) return;
    }
    const pin = await Takt.pinPad(t("sign_pin"));
    if (!pin) return;
    const r = await Takt.act("POST", "/api/v1/nonconformances/" + encodeURIComponent(ncr) + "/disposition",
      rework ? { disposition: choice, comment: comment, rework } : { disposition: choice, comment: comment }, { "X-Takt-Pin": pin });
    Takt.report(r, ncr + " · " + t(choice === "scrap" ? "scrap_d" : choice));
    refreshSoon(0);
  }

  // --- machine stopped: ask for a reason on the machine's reason tree ------------------------------------------
  // The first screen shows the reasons given most often on this machine (one tap) and the tree's top branches;
  // a branch opens its children. A stop shorter than the machine's micro-stop threshold is never asked about.
  const asked = new Set();
  async function chooseReason(m) {
    let tree;
    try { tree = await Takt.get("/api/v1/equipment/" + encodeURIComponent(m.equipment) + "/reason-tree?lang=" + Takt.lang); }
    catch (e) { return null; }
    if (!tree.reasons.length) return null;
    const title = t("machine_down") + " " + m.equipment;
    const level = (nodes, extra) => extra.concat(nodes.map(n => n.children
      ? ["branch:" + n.code, n.text + " ›"] : ["leaf:" + n.code, n.text]));
    const first = tree.frequent.map(f => ["leaf:" + f.code, "★ " + f.text]);
    const stack = [tree.reasons];
    for (;;) {
      const nodes = stack[stack.length - 1];
      const choice = await Takt.choose(title, stack.length === 1 ? level(nodes, first) : level(nodes, [["back", "‹ " + t("back")]]));
      if (!choice) return null;
      if (choice === "back") { stack.pop(); continue; }
      const [kind, code] = [choice.slice(0, choice.indexOf(":")), choice.slice(choice.indexOf(":") + 1)];
      if (kind === "leaf") return code;
      const branch = nodes.find(n => n.code === code);
      stack.push(branch.children);
    }
  }
  function promptDowntime() {
    if (!Takt.hasRole("operator", "supervisor")) return;
    for (const m of view.machines) {
      if (m.state !== "down" || m.reason || m.stop_reason || !m.since) continue;
      const key = m.equipment + "@" + m.since;
      if (asked.has(key)) continue;
      const wait = Math.max(view.downtime_prompt_s, m.micro_stop_s || 0) * 1000;
      if (Date.now() - Date.parse(m.since) < wait) { refreshSoon(wait); continue; }
      asked.add(key);
      chooseReason(m).then(async reason => {
        if (!reason) return;
        const r = await Takt.act("POST", "/api/v1/equipment/" + encodeURIComponent(m.equipment) + "/stops/reason",
          { stop_start: m.since, reason });
        Takt.report(r, t("downtime_saved"));
        refreshSoon(0);
      });
    }
  }

  // --- actions -----------------------------------------------------------------------------------------------
  function opPath(suffix) {
    const cur = view.current;
    return "/api/v1/work-orders/" + encodeURIComponent(cur.work_order) + "/operations/" + cur.operation.operation + "/" + suffix;
  }
  async function run(suffix, body, okText) {
    const r = await Takt.act("POST", opPath(suffix), body || {});
    Takt.report(r, okText);
    refreshSoon(0);
    return r;
  }
  async function selectOrder(work_order, operation) {
    chosen = { work_order, operation };
    await refresh();
  }
  $("#btn-start").addEventListener("click", async () => {
    const cur = view.current;
    const r = await run("start", {}, t("start") + " · " + cur.work_order + "/" + cur.operation.operation);
    if (r.ok) {
      await selectOrder(cur.work_order, cur.operation.operation);
      if (!mine()) run("clock-on", {}, t("clock_on") + " · " + Takt.session.name);
    }
  });
  $("#btn-pause").addEventListener("click", async () => {
    const reason = await Takt.choose(t("pause_reason"), ["r_material", "r_machine", "r_break", "r_quality", "r_changeover", "r_other"]
      .map(k => [k.slice(2), t(k)]));
    if (reason) run("pause", { reason }, t("pause") + " · " + t("r_" + reason));
  });
  $("#btn-resume").addEventListener("click", () => run("resume", {}, t("resume")));
  // --- maintenance: call a technician to a machine here, with a note and (the terminal has a camera) a photo ---
  function photoOf(file) { // the camera's picture made small: a JPEG data URL of at most 1024 px a side
    return new Promise(resolve => {
      if (!file) { resolve(null); return; }
      const img = new Image();
      img.onload = () => {
        const scale = Math.min(1, 1024 / Math.max(img.width, img.height));
        const canvas = document.createElement("canvas");
        canvas.width = Math.round(img.width * scale); canvas.height = Math.round(img.height * scale);
        canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
        URL.revokeObjectURL(img.src);
        resolve(canvas.toDataURL("image/jpeg", 0.7));
      };
      img.onerror = () => resolve(null);
      img.src = URL.createObjectURL(file);
    });
  }
  function maintenanceCall() {
    return new Promise(resolve => {
      const overlay = document.createElement("div");
      overlay.className = "overlay"; overlay.id = "maintenance-call";
      const camera = document.body.dataset.camera === "true";
      overlay.innerHTML = '<div class="dialog"><h1>' + esc(t("call_maintenance")) + "</h1>" +
        '<select id="mr-machine">' + view.machines.map(m => '<option value="' + esc(m.equipment) + '">' +
          esc(m.equipment) + " · " + esc(t(m.state || "offline")) + "</option>").join("") + "</select>" +
        '<textarea id="mr-note" rows="3" maxlength="200" data-wedge="off" placeholder="' + esc(t("maintenance_note")) +
        '"></textarea>' + (camera ? '<label>' + esc(t("maintenance_photo")) +
          ' <input id="mr-photo" type="file" accept="image/*" capture="environment"></label>' : "") +
        '<div class="choices"><button class="go" data-v="send">' + esc(t("send")) + "</button></div>" +
        '<button class="ghost" data-v="">' + esc(t("cancel")) + "</button></div>";
      document.body.appendChild(overlay);
      overlay.addEventListener("click", async e => {
        const v = e.target.dataset && e.target.dataset.v;
        if (v === undefined) return;
        if (!v) { overlay.remove(); resolve(null); return; }
        const file = camera && $("#mr-photo", overlay).files[0];
        const photo = await photoOf(file || null);
        const answer = { equipment: $("#mr-machine", overlay).value, note: $("#mr-note", overlay).value.trim(), photo };
        overlay.remove(); resolve(answer);
      });
    });
  }
  $("#btn-maintenance").addEventListener("click", async () => {
    const call = await maintenanceCall();
    if (!call) return;
    const body = { note: call.note };
    if (call.photo) body.photo = call.photo;
    const r = await Takt.act("POST", "/api/v1/equipment/" + encodeURIComponent(call.equipment) + "/maintenance-requests", body);
    Takt.report(r, t("maintenance_called", { equipment: call.equipment }));
  });
  $("#btn-complete").addEventListener("click", () => run("complete", {}, t("complete")));
  $("#btn-clock").addEventListener("click", () => mine() ? run("clock-off", {}, t("clock_off")) : run("clock-on", {}, t("clock_on")));
  $("#btn-good").addEventListener("click", () => run("production", { good: "1" }, t("reported") + ": " + t("good") + " 1"));
  $("#btn-good-n").addEventListener("click", async () => {
    const n = await Takt.choose(t("how_many"), ["2", "5", "10", "20"].map(x => [x, "+" + x]));
    if (n) run("production", { good: n }, t("reported") + ": " + t("good") + " " + n);
  });
  $("#btn-scrap").addEventListener("click", async () => {
    const reason = await Takt.choose(t("scrap_reason"), ["s_damaged", "s_dimension", "s_leak", "s_assembly", "s_material", "s_other"]
      .map(k => [k.slice(2), t(k)]));
    if (!reason) return;
    const n = await Takt.choose(t("how_many"), ["1", "2", "3", "5"].map(x => [x, x]));
    if (n) run("production", { scrap: n, scrap_reason: reason }, t("reported") + ": " + t("scrap") + " " + n + " · " + t("s_" + reason));
  });
  $("#dispatch").addEventListener("click", e => {
    const b = e.target.closest("button[data-wo]");
    if (b) selectOrder(b.dataset.wo, Number(b.dataset.op));
  });
  document.querySelectorAll(".tabs button").forEach(b => b.addEventListener("click", () => {
    tab = b.dataset.tab;
    document.querySelectorAll(".tabs button").forEach(x => x.classList.toggle("on", x === b));
    ["material", "inspection", "ncrs"].forEach(n => { $("#tab-" + n).hidden = n !== tab; });
  }));
  $("#tab-inspection").addEventListener("input", e => {
    const input = e.target.closest("input.measure");
    if (!input) return;
    const plan = input.closest(".plan").dataset.plan;
    drafts[plan][input.dataset.char] = input.value;
    updateCharacteristic(plan, input.dataset.char);
  });
  $("#tab-inspection").addEventListener("click", e => {
    const b = e.target.closest("button");
    if (!b) return;
    const plan = b.closest(".plan").dataset.plan;
    if (b.classList.contains("record")) recordInspection(plan);
    else if (b.dataset.char) { drafts[plan][b.dataset.char] = b.dataset.pass === "1"; updateCharacteristic(plan, b.dataset.char); }
  });
  $("#tab-ncrs").addEventListener("click", e => {
    const b = e.target.closest("button.dispose");
    if (b) dispose(b.dataset.ncr);
  });

  // --- scans: a badge logs on (or off); anything else goes through the node's scan pipeline ---------------
  const mineScans = [];
  Takt.onScan(async (text, at) => {
    if (!Takt.session) { await Takt.badge(text, device); return; }
    Takt.feedback(true, t("scanned") + ": " + text.replace(/\x1d/g, "⟨GS⟩"), null, "wait");
    mineScans.push({ text, at: Date.now() });
    const r = await Takt.act("POST", "/api/v1/scans", device ? { device, text } : { text });
    const s = r.ok ? r.body : (r.body.scan || r.body);
    // another person's badge needs their PIN: they take over the terminal by logging on with badge and PIN
    const takeover = !r.ok && s.label === "badge" && r.body.code === "BADGE_PIN_REQUIRED";
    if (!takeover) Takt.report(r);
    if ((r.ok || takeover) && s.label === "badge") { // the same badge logs off; another one takes over the terminal
      const same = r.ok && /logged off/.test(s.message || "");
      await Takt.logOff(device);
      if (!same) await Takt.badge(text, device);
      return;
    }
    if (r.ok && s.label === "work_order") {
      const wo = (s.message.match(/work order (\S+)/) || [])[1];
      const slot = wo && view && view.dispatch.find(d => d.work_order === wo);
      if (slot) chosen = { work_order: wo, operation: slot.operation };
    }
    refreshSoon(0);
  });
  // Scans from another reader at this workstation (a serial scanner, a camera) show here too.
  Takt.onScanEvent(s => {
    if (!device || s.device !== device) return;
    const i = mineScans.findIndex(m => m.text === s.text && Date.now() - m.at < 5000);
    if (i >= 0) { mineScans.splice(i, 1); return; }
    Takt.feedback(s.ok, s.message, s.ok ? null : s.code);
  });
  Takt.onRecorded(ev => {
    if (ev === null) synced = null; // (re)connected: the node may have restarted and forgotten the scanner's order
    refreshSoon();
  });
  Takt.onSession(s => {
    shownSignature = {};
    synced = null;
    if (s) refresh(); else { view = null; renderActions(null); }
    Takt.setLanguage(s ? s.language : "en");
  });
  Takt.bindLogon(device);
  Takt.start();
  if (Takt.session) refresh(); else if (!Takt.probes.interactiveAt) {
    document.body.dataset.ready = "true";
    Takt.interactive();
  }
})();
