/* The supervisor's line view: every workstation's machines, current order and progress, and open alerts, live. */
"use strict";
(() => {
  const { t, esc, $ } = Takt;
  let timer = null;
  function soon() { clearTimeout(timer); timer = setTimeout(refresh, 150); }
  async function refresh() {
    if (!Takt.session) return;
    let data;
    try { data = await Takt.get("/api/v1/pages/line"); } catch (e) { return; }
    $("#stations").innerHTML = data.workstations.map(w => {
      const states = w.machines.map(m => m.state || "offline");
      const worst = ["down", "offline", "setup", "idle", "running"].find(s => states.includes(s)) || "idle";
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
        '<ul class="alerts">' + (w.alerts.map(a => '<li class="' + esc(a.kind) + '">' + esc(a.text) + "</li>").join("") ||
          '<li style="background: var(--ok-bg); color: var(--ok)">' + esc(t("no_alerts")) + "</li>") + "</ul></section>";
    }).join("");
    document.body.dataset.ready = "true";
  }
  Takt.onScan(text => { if (!Takt.session) Takt.badge(text, null); });
  Takt.onRecorded(soon);
  Takt.onSession(s => { if (s) refresh(); else $("#stations").innerHTML = ""; });
  Takt.bindLogon(null);
  Takt.start();
  refresh();
})();
