/* The quality role's page of electronic signatures by day (GET /api/v1/signatures): who signed, when, meaning what,
   which recorded events (by journal seq, type and subject), and which signature superseded which. Read only: a
   signature is given where the decision is made, with the PIN again. */
"use strict";
(() => {
  const { t, esc, $ } = Takt;
  // The site's meanings have texts in every language; a meaning of the site's own is shown as it is written.
  const MEANINGS = { reviewed: "meaning_reviewed", approved: "meaning_approved", released: "meaning_released",
    rejected: "meaning_rejected" };
  const meaning = m => MEANINGS[m] ? t(MEANINGS[m]) : m;
  const today = () => new Date().toISOString().slice(0, 10);
  function shift(day, days) {
    const d = new Date(day + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + days);
    return d.toISOString().slice(0, 10);
  }
  async function refresh() {
    const body = $("#signatures tbody");
    if (!Takt.session) { body.innerHTML = ""; return; }
    const allowed = Takt.hasRole("quality", "supervisor");
    $("#sig-forbidden").hidden = allowed;
    $("#signatures").hidden = !allowed;
    if (!allowed) { document.body.dataset.ready = "true"; return; }
    const day = $("#day").value || today();
    let data;
    try { data = await Takt.get("/api/v1/signatures?day=" + encodeURIComponent(day)); } catch (e) { return; }
    $("#sig-count").textContent = t("sig_count", { n: data.signatures.length });
    body.innerHTML = data.signatures.map(s => {
      const records = s.records.map(r => '<li data-seq="' + r.seq + '">' + r.seq + ": " + esc(r.type) + " · " +
        esc(r.subject) + ' <code class="muted" title="' + esc(r.hash) + '">#' + esc(r.hash.slice(0, 12)) + "</code></li>").join("");
      const state = (s.supersedes ? '<div class="muted">' + esc(t("supersedes", { id: s.supersedes })) + "</div>" : "") +
        (s.superseded_by ? '<div class="tag superseded">' + esc(t("superseded_by", { id: s.superseded_by })) + "</div>" : "");
      return '<tr data-signature="' + esc(s.signature) + '"><td>' + esc(s.at.slice(11, 19)) + "</td><td><b>" +
        esc(s.signer_name) + '</b> <span class="muted">' + esc(s.signer) + '</span></td><td class="meaning">' +
        esc(meaning(s.meaning)) + "</td><td><ul>" + records + "</ul>" + (s.comment ? '<div class="muted">' +
        esc(s.comment) + "</div>" : "") + "</td><td><code>" + esc(s.signature) + "</code>" + state + "</td><td>" +
        esc(s.device || "") + "</td></tr>";
    }).join("") || '<tr class="none"><td colspan="6">' + esc(t("no_signatures")) + "</td></tr>";
    document.body.dataset.ready = "true";
  }
  function go(day) { $("#day").value = day; refresh(); }
  $("#day").value = today();
  $("#day").addEventListener("change", refresh);
  $("#day-before").addEventListener("click", () => go(shift($("#day").value || today(), -1)));
  $("#day-after").addEventListener("click", () => go(shift($("#day").value || today(), 1)));
  Takt.onScan(text => { if (!Takt.session) Takt.badge(text, null); });
  Takt.onRecorded(refresh);
  Takt.onSession(refresh);
  Takt.bindLogon(null);
  Takt.start();
  refresh();
})();
