/* The quality role's CAPA page: each CAPA's problem, the NCRs it answers and their containment; its root cause by
   5-why and fishbone category (the 6M); its corrective and preventive actions with owner and due date (overdue ones
   marked); the effectiveness check that closes it. Reads GET /api/v1/capa; books through the command routes. */
"use strict";
(() => {
  const { t, esc, $ } = Takt;
  const SIX_M = { man: "capa_6m_man", machine: "capa_6m_machine", method: "capa_6m_method", material: "capa_6m_material",
    measurement: "capa_6m_measurement", environment: "capa_6m_environment" };
  let timer = null;
  function soon() { clearTimeout(timer); timer = setTimeout(refresh, 150); }
  const input = (name, label, extra) => '<label><span>' + esc(t(label)) + '</span> <input name="' + name + '" ' + (extra || "") + "></label>";
  function card(c) {
    const open = c.status === "open";
    const whys = c.whys.map((w, i) => "<li>" + esc(t("capa_why_n", { n: i + 1 })) + ": " + esc(w) + "</li>").join("");
    const actions = c.actions.map(a => '<tr data-action="' + a.action + '" class="' + (a.overdue ? "overdue" : "") + '"><td>' + a.action +
      "</td><td>" + esc(t(a.kind === "corrective" ? "capa_corrective" : "capa_preventive")) + "</td><td>" + esc(a.description) + "</td><td>" + esc(a.owner) + "</td><td>" + esc(a.due) +
      (a.overdue ? ' <span class="tag fail">' + esc(t("capa_overdue_tag")) + "</span>" : "") + "</td><td>" +
      (a.status === "done" ? '<span class="tag pass">' + esc(t("capa_done")) + "</span> " + esc(a.result || "") :
        open ? '<button data-complete="' + a.action + '">' + esc(t("capa_mark_done")) + "</button>" : "") + "</td></tr>").join("") ||
      '<tr class="none"><td colspan="6">' + esc(t("capa_no_actions")) + "</td></tr>";
    const cause = c.root_cause ? '<p><b>' + esc(t("capa_root_cause")) + ":</b> " + esc(c.root_cause) +
      (c.fishbone ? ' <span class="tag fishbone">' + esc(t(SIX_M[c.fishbone] || c.fishbone)) + "</span>" : "") + "</p><ol>" + whys + "</ol>" : "";
    const forms = !open ? "" :
      '<form class="row root-cause">' + input("root_cause", "capa_root_cause", 'required maxlength="200"') +
      '<label><span>' + esc(t("capa_fishbone")) + '</span> <select name="fishbone"><option value="">–</option>' +
      Object.entries(SIX_M).map(([m, key]) => '<option value="' + m + '">' + esc(t(key)) + "</option>").join("") + "</select></label>" +
      '<label class="grow"><span>' + esc(t("capa_whys")) + '</span> <textarea name="whys" rows="3" maxlength="1000"></textarea></label>' +
      '<button type="submit">' + esc(t("capa_record_cause")) + "</button></form>" +
      '<form class="row add-action"><label><span>' + esc(t("capa_kind")) + '</span> <select name="kind"><option value="corrective">' +
      esc(t("capa_corrective")) + '</option><option value="preventive">' + esc(t("capa_preventive")) + "</option></select></label>" +
      input("description", "capa_action", 'required maxlength="200"') + input("owner", "capa_owner", 'required maxlength="100"') +
      input("due", "capa_due", 'type="date" required') + '<button type="submit">' + esc(t("capa_add_action")) + "</button></form>" +
      '<form class="row effectiveness"><label><input type="checkbox" name="effective"> ' + esc(t("capa_effective")) + "</label>" +
      input("comment", "capa_effectiveness", 'required maxlength="200"') + '<button type="submit">' + esc(t("capa_check")) + "</button></form>";
    return '<section class="card capa" data-capa="' + esc(c.capa) + '"><div class="row"><h3>' + esc(c.capa) + '</h3><span class="tag ' +
      (open ? "open" : "pass") + '">' + esc(t(open ? "capa_status_open" : "capa_status_closed")) + '</span><span class="grow">' +
      esc(c.problem) + '</span><span class="muted">' + esc(c.ncrs.join(", ")) + "</span></div>" +
      (c.containment ? '<p><b>' + esc(t("capa_containment")) + ":</b> " + esc(c.containment) + "</p>" : "") + cause +
      (c.effectiveness ? '<p><b>' + esc(t("capa_effectiveness")) + ":</b> " + esc(c.effectiveness) + "</p>" : "") +
      '<table class="lines"><thead><tr><th>#</th><th>' + esc(t("capa_kind")) + "</th><th>" + esc(t("capa_action")) + "</th><th>" +
      esc(t("capa_owner")) + "</th><th>" + esc(t("capa_due")) + "</th><th></th></tr></thead><tbody>" + actions + "</tbody></table>" +
      forms + "</section>";
  }
  async function refresh() {
    if (!Takt.session) { $("#capas").innerHTML = ""; return; }
    const allowed = Takt.hasRole("quality");
    $("#capa-forbidden").hidden = allowed;
    $("#capa-new").hidden = !allowed;
    if (!allowed) { $("#capas").innerHTML = ""; document.body.dataset.ready = "true"; return; }
    let data;
    try { data = await Takt.get("/api/v1/capa"); } catch (e) { return; }
    $("#capas").innerHTML = data.capas.map(card).join("") || '<p class="muted none">' + esc(t("capa_none")) + "</p>";
    document.body.dataset.ready = "true";
  }
  const path = capa => "/api/v1/capa/" + encodeURIComponent(capa);
  async function booked(answer) { Takt.report(answer, t("done_ok")); soon(); }
  $("#capa-open-form").addEventListener("submit", async e => {
    e.preventDefault();
    const ncrs = $("#capa-ncrs").value.split(",").map(x => x.trim()).filter(Boolean);
    await booked(await Takt.act("POST", "/api/v1/capa", { capa: $("#capa-id").value.trim(), problem: $("#capa-problem").value,
      ncrs, containment: $("#capa-containment").value }));
  });
  document.addEventListener("submit", async e => {
    const form = e.target, box = form.closest("[data-capa]");
    if (!box) return;
    e.preventDefault();
    const capa = box.dataset.capa, f = form.elements;
    if (form.classList.contains("root-cause")) {
      await booked(await Takt.act("POST", path(capa) + "/root-cause", { root_cause: f.root_cause.value,
        fishbone: f.fishbone.value || null, whys: f.whys.value.split("\n").map(x => x.trim()).filter(Boolean) }));
    } else if (form.classList.contains("add-action")) {
      await booked(await Takt.act("POST", path(capa) + "/actions", { kind: f.kind.value, description: f.description.value,
        owner: f.owner.value, due: f.due.value }));
    } else if (form.classList.contains("effectiveness")) {
      await booked(await Takt.act("POST", path(capa) + "/effectiveness", { effective: f.effective.checked, comment: f.comment.value }));
    }
  });
  document.addEventListener("click", async e => {
    const b = e.target.closest("button[data-complete]");
    if (!b) return;
    const capa = b.closest("[data-capa]").dataset.capa;
    const result = await Takt.askText(t("capa_result"));
    if (result === null) return;
    await booked(await Takt.act("POST", path(capa) + "/actions/" + b.dataset.complete + "/complete", { result }));
  });
  Takt.onScan(text => { if (!Takt.session) Takt.badge(text, null); });
  Takt.onRecorded(soon);
  Takt.onSession(refresh);
  Takt.bindLogon(null);
  Takt.start();
  refresh();
})();
