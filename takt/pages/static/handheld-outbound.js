/* The handheld's outbound tasks, used by handheld.js: wave picking (the open waves; one wave's walk stop by stop in
   the bins' sequence, each scan checked: the bin, the lot, the order's tote, then the quantity; a short pick with
   its reason; cluster picking puts each order in its own tote) and replenishment (the line-side bins' tasks by
   priority, each done by scanning the bin it comes from and the lot). The node checks every booking again. */
"use strict";
window.TaktOutbound = (ui) => {
  const { t, esc, $ } = Takt;
  const { step, back, details, redraw } = ui;
  let s = {};
  const CHOSEN_AT_RUN_TIME = ["short", "below_min", "kanban", "ahead"];  // texts of a pick's status, a task's reason

  // --- waves ------------------------------------------------------------------------------------------------
  async function loadWaves() {
    try { s.waves = (await Takt.get("/api/v1/waves?status=open")).waves; } catch (e) { s.waves = []; }
  }
  async function openWave(wave) {
    try {
      s.wave = await Takt.get("/api/v1/waves/" + encodeURIComponent(wave));
      s.scanned = {}; s.confirm = false;
      const stop = current();
      Takt.feedback(true, t("wave") + " " + wave + (stop ? " · " + t("go_to_bin", { bin: stop.bin }) : ""));
    } catch (e) { Takt.report(e); }
  }
  function current() {
    const w = s.wave;
    return w && w.next_pick ? w.picks.find(p => p.pick === w.next_pick) : null;
  }
  function toteOf(order) {
    const o = s.wave.orders.find(x => x.sales_order === order);
    return o ? o.tote : null;
  }
  function waveView() {
    if (!s.wave) {
      const waves = s.waves || [];
      return step(t("choose_wave")) + '<div class="card" id="wave-list">' + (waves.length ? waves.map(w =>
        '<button class="pick-task" data-wave="' + esc(w.wave) + '"><b>' + esc(w.wave) + "</b> · " + esc(w.group) +
        '<span class="muted">' + esc(t("wave_left", { n: w.open_picks, orders: w.orders })) + "</span></button>").join("")
        : '<p class="muted">' + esc(t("no_waves")) + "</p>") + "</div>";
    }
    const w = s.wave, stop = current(), sc = s.scanned;
    const head = stop ? step(
      !sc.bin ? t("go_to_bin", { bin: stop.bin }) : !sc.lot ? t("pick_take", { q: stop.quantity, lot: stop.lot, bin: stop.bin })
        : !sc.tote ? t("put_in_tote", { order: stop.sales_order, tote: toteOf(stop.sales_order) || t("empty_tote") })
        : t("confirm_quantity"),
      t("wave") + " " + w.wave + " · " + stop.sales_order + " / " + stop.line + " · " + stop.item)
      : step(t("wave_done", { wave: w.wave }), w.group);
    const confirm = stop && s.confirm ? '<div class="card" id="wave-confirm" style="display: grid; gap: 8px">' +
      details([["bin", sc.bin], ["lot", sc.lot], ["tote", sc.tote], ["quantity", stop.quantity]]) +
      '<input id="wave-qty" inputmode="decimal" aria-label="' + esc(t("quantity")) + '" value="' + esc(sc.quantity || stop.quantity) + '">' +
      '<input id="wave-reason" placeholder="' + esc(t("why_short")) + '" aria-label="' + esc(t("why_short")) + '">' +
      '<button class="go" id="wave-go">' + esc(t("picked")) + "</button></div>" : "";
    const totes = '<div class="card" id="wave-totes">' + w.orders.map(o => '<div data-order="' + esc(o.sales_order) + '"><b>' +
      esc(o.sales_order) + "</b> → " + esc(o.tote || "—") + "</div>").join("") + "</div>";
    const list = '<div class="card"><ol class="po-lines" id="wave-picks">' + w.picks.map(p => '<li data-stop="' + p.pick + '" class="' +
      esc(p.status) + (stop && p.pick === stop.pick ? " current" : "") + '"' + (stop && p.pick === stop.pick ? ' style="color: var(--info)"' : "") +
      "><b>" + esc(p.bin) + "</b> · " + esc(p.lot) + " · " + esc(p.status === "open" ? p.quantity : p.picked + " / " + p.quantity) +
      ' <span class="muted">' + esc(p.sales_order) + " · " + esc(t(p.status === "open" ? "to_pick" : p.status)) + "</span></li>").join("") + "</ol></div>";
    return head + confirm + totes + list;
  }
  async function waveScan(lab, text) {
    if (!s.wave) {
      Takt.feedback(false, t("choose_wave")); return;
    }
    const stop = current(), sc = s.scanned;
    if (!stop) { Takt.feedback(false, t("wave_done", { wave: s.wave.wave })); return; }
    if (lab.kind === "bin") {
      if (lab.value !== stop.bin) { Takt.feedback(false, t("wrong_bin", { bin: stop.bin, scanned: lab.value }), "WRONG_BIN"); return; }
      s.scanned = { bin: lab.value };
      Takt.feedback(true, t("bin") + " " + lab.value);
    } else if (lab.lot) {
      if (!sc.bin) { Takt.feedback(false, t("go_to_bin", { bin: stop.bin }), "WRONG_BIN"); return; }
      const order = s.wave.orders.find(o => o.sales_order === stop.sales_order) || {};
      if (lab.lot !== stop.lot && !order.allow_substitution) {
        Takt.feedback(false, t("wrong_lot", { lot: lab.lot, planned: stop.lot, bin: stop.bin }), "WRONG_LOT"); return;
      }
      sc.lot = lab.lot; sc.quantity = lab.quantity && Number(lab.quantity) < Number(stop.quantity) ? String(lab.quantity) : null;
      Takt.feedback(true, t("lot") + " " + lab.lot);
    } else if (lab.kind === "tote") {
      if (!sc.lot) { Takt.feedback(false, t("pick_take", { q: stop.quantity, lot: stop.lot, bin: stop.bin })); return; }
      const bound = toteOf(stop.sales_order);
      if (bound && bound !== lab.value) { Takt.feedback(false, t("wrong_tote", { tote: bound, scanned: lab.value }), "WRONG_TOTE"); return; }
      const other = s.wave.orders.find(o => o.tote === lab.value && o.sales_order !== stop.sales_order);
      if (other) { Takt.feedback(false, t("tote_in_use", { tote: lab.value, order: other.sales_order }), "TOTE_IN_USE"); return; }
      sc.tote = lab.value; s.confirm = true;
      Takt.feedback(true, t("tote") + " " + lab.value);
    } else { Takt.feedback(false, t("scan_any")); return; }
    redraw();
  }
  async function recordWavePick() {
    const stop = current(), sc = s.scanned;
    const typed = ($("#wave-qty").value || "").trim(), qty = Takt.measured(typed) || typed;
    const reason = ($("#wave-reason").value || "").trim();
    const body = { bin: sc.bin, lot: sc.lot, tote: sc.tote, quantity: qty };
    if (reason) body.short_reason = reason;
    const r = await Takt.act("POST", "/api/v1/waves/" + encodeURIComponent(s.wave.wave) + "/picks/" + stop.pick, body);
    Takt.report(r, t("picked_into", { q: qty, lot: sc.lot, tote: sc.tote }) + (reason ? " · " + t("short_pick") : ""));
    if (r.ok) {
      const wave = s.wave.wave;
      await openWave(wave);
      const next = current();
      Takt.feedback(true, t("picked_into", { q: qty, lot: sc.lot, tote: sc.tote }) +
        (next ? " · " + t("go_to_bin", { bin: next.bin }) : " · " + t("wave_done", { wave })));
    } else s.scanned = { bin: sc.bin };
    redraw();
  }

  // --- replenishment ------------------------------------------------------------------------------------------
  async function loadTasks() {
    try { s.tasks = (await Takt.get("/api/v1/replenishment-tasks")).tasks; } catch (e) { s.tasks = []; }
  }
  function replView() {
    const task = s.task;
    if (!task) {
      const tasks = s.tasks || [];
      return step(t("choose_task")) + '<div class="card" id="task-list">' + (tasks.length ? tasks.map(x =>
        '<button class="pick-task" data-repl="' + esc(x.task) + '"><b>' + esc(x.bin) + "</b> · " + esc(x.quantity) + " " + esc(x.item) +
        '<span class="muted">' + esc(t("priority_n", { n: x.priority })) + " · " + esc(t(x.reason)) +
        (x.from_bin ? " · " + esc(x.from_bin) + " / " + esc(x.lot) : "") + "</span></button>").join("")
        : '<p class="muted">' + esc(t("no_tasks")) + "</p>") + "</div>";
    }
    const sc = s.scanned;
    return step(!sc.bin ? t("go_to_bin", { bin: task.from_bin || "?" }) : !sc.lot ? t("pick_take", { q: task.quantity, lot: task.lot || task.item, bin: sc.bin })
      : t("bring_to", { bin: task.bin }), task.task + " · " + task.item + " → " + task.bin) +
      (sc.lot ? '<div class="card" id="repl-confirm" style="display: grid; gap: 8px">' +
        details([["bin", sc.bin], ["lot", sc.lot], ["to_bin", task.bin]]) +
        '<input id="repl-qty" inputmode="decimal" aria-label="' + esc(t("quantity")) + '" value="' + esc(sc.quantity || task.quantity) + '">' +
        '<button class="go" id="repl-go">' + esc(t("replenished")) + "</button></div>" : "");
  }
  // A kanban card (the line-side bin's label) scanned with no task open: its container is empty.
  async function kanbanCard(bin) {
    let rules = [];
    try { rules = (await Takt.get("/api/v1/line-side-bins")).bins.filter(b => b.bin === bin); } catch (e) { rules = []; }
    if (rules.length !== 1) { Takt.feedback(false, t("choose_task")); return; }
    const r = await Takt.act("POST", "/api/v1/line-side-bins/" + encodeURIComponent(bin) + "/empty", { item: rules[0].item });
    Takt.report(r, t("kanban") + ": " + bin + " · " + rules[0].item);
    if (r.ok) { await loadTasks(); redraw(); }
  }
  async function replScan(lab) {
    const task = s.task;
    if (!task && lab.kind === "bin") { await kanbanCard(lab.value); return; }
    if (!task) { Takt.feedback(false, t("choose_task")); return; }
    if (lab.kind === "bin") { s.scanned = { bin: lab.value }; Takt.feedback(task.from_bin ? lab.value === task.from_bin : true, t("bin") + " " + lab.value); }
    else if (lab.lot && s.scanned.bin) { s.scanned.lot = lab.lot; s.scanned.quantity = lab.quantity ? String(lab.quantity) : null; Takt.feedback(true, t("lot") + " " + lab.lot); }
    else { Takt.feedback(false, t("go_to_bin", { bin: task.from_bin || "?" })); return; }
    redraw();
  }
  async function recordReplenishment() {
    const task = s.task, sc = s.scanned;
    const typed = ($("#repl-qty").value || "").trim(), qty = Takt.measured(typed) || typed;
    const r = await Takt.act("POST", "/api/v1/replenishment-tasks/" + encodeURIComponent(task.task) + "/done",
      { lot: sc.lot, from_bin: sc.bin, quantity: qty });
    Takt.report(r, t("replenished_to", { q: qty, lot: sc.lot, bin: task.bin }));
    if (r.ok) { s.task = null; s.scanned = {}; await loadTasks(); }
    redraw();
  }

  return {
    async start(name) { s = { scanned: {} }; if (name === "wave") await loadWaves(); else await loadTasks(); },
    view(name) { return (name === "wave" ? waveView() : replView()) + back(); },
    async scan(name, lab, text) { if (name === "wave") await waveScan(lab, text); else await replScan(lab); },
    // true when the click was one of these tasks'
    async click(name, b) {
      if (name === "wave") {
        if (b.dataset.wave) { await openWave(b.dataset.wave); redraw(); return true; }
        if (b.id === "wave-go") { await recordWavePick(); return true; }
        if (b.id === "back" && s.wave) { s.wave = null; await loadWaves(); redraw(); return true; }
      } else {
        if (b.dataset.repl) { s.task = (s.tasks || []).find(x => x.task === b.dataset.repl) || null; s.scanned = {}; redraw(); return true; }
        if (b.id === "repl-go") { await recordReplenishment(); return true; }
        if (b.id === "back" && s.task) { s.task = null; await loadTasks(); redraw(); return true; }
      }
      return false;
    },
  };
};
