"""``takt audit export``: the audit trail of a period (who did what, for whom, from which device, with the electronic
signatures over each event) as a PDF or CSV an auditor can read, headed by the result of the journal's hash chain
check (the same check and wording as ``takt store verify --chain-only``: edge.store.verify, takt.cli.support)."""
from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated

import typer
from fpdf import FPDF
from fpdf.fonts import FontFace
from sqlalchemy import select

from edge.store import Store, schema
from edge.store.audit import AuditEntry, SignatureSeen, audit_trail, signatures
from edge.store.verify import verify_chain
from takt.cli.support import (
    ConfigOption,
    DataDirOption,
    UrlOption,
    chain_result,
    checkpoint_key,
    fail,
    open_store,
    store_url,
)

audit_app = typer.Typer(no_args_is_help=True, help="The audit trail: who did what, with the signatures over it.")


def _moment(text: str, option: str) -> datetime:
    """A day (its start, UTC) or a time with a zone."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
        found = datetime.fromisoformat(text)
    except ValueError:
        raise fail(f"{option} {text!r}: give a day (2026-12-07) or a time with its zone (2026-12-07T08:00:00Z)",
                   2) from None
    if found.tzinfo is None:
        raise fail(f"{option} {text!r}: give the time zone (…Z or +01:00)", 2)
    return found.astimezone(UTC)


def _signed(sig: SignatureSeen) -> str:
    state = f", superseded by {sig.superseded_by}" if sig.superseded_by else ""
    return (f"{sig.meaning} by {sig.signer_name} ({sig.signer}) at {sig.at.isoformat(timespec='seconds')} "
            f"[{sig.signature}{state}]")


def _who(entry: AuditEntry) -> str:
    who = entry.recorded_by or entry.actor
    parts = [entry.actor if who == entry.actor else f"{entry.actor} (recorded by {who})"]
    if entry.on_behalf_of:
        parts.append(f"for {entry.on_behalf_of}")
    if entry.device:
        parts.append(f"on {entry.device}")
    return " ".join(parts)


def write_csv(path: Path, heading: list[str], entries: list[AuditEntry]) -> None:
    out = io.StringIO()
    for line in heading:
        out.write(f"# {line}\n")
    writer = csv.writer(out)
    writer.writerow(["seq", "recorded_at", "occurred_at", "type", "subject", "actor", "recorded_by", "on_behalf_of",
                     "device", "origin", "chain_hash", "signatures", "data"])
    for e in entries:
        writer.writerow([e.seq, e.recorded_at.isoformat(), e.occurred_at.isoformat(), e.type, e.subject, e.actor,
                         e.recorded_by or e.actor, e.on_behalf_of or "", e.device or "", e.origin, e.chain_hash or "",
                         "; ".join(_signed(s) for s in e.signatures), e.payload])
    path.write_text(out.getvalue(), encoding="utf-8")


def _latin(text: str) -> str:
    """The PDF's core font (Helvetica) holds Latin-1: other characters are shown as '?' (the CSV keeps them)."""
    return text.replace("…", "...").replace("—", "-").encode("latin-1", "replace").decode("latin-1")


class _Report(FPDF):
    title_text = ""

    def header(self) -> None:
        self.set_font("helvetica", "B", 9)
        self.cell(0, 6, _latin(self.title_text), new_x="LMARGIN", new_y="NEXT")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("helvetica", "", 8)
        self.cell(0, 6, f"page {self.page_no()} of {{nb}}", align="R")


def write_pdf(path: Path, title: str, heading: list[str], chain: list[str], tampered: bool,
              sigs: list[SignatureSeen], entries: list[AuditEntry]) -> None:
    pdf = _Report(orientation="L", format="A4")
    pdf.title_text = title
    pdf.set_title(_latin(title))
    pdf.set_creator("Takt")
    pdf.alias_nb_pages()
    pdf.set_auto_page_break(auto=True, margin=14)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 14)
    pdf.cell(0, 9, _latin(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 9)
    for line in heading:
        pdf.multi_cell(0, 5, _latin(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("helvetica", "B", 11)
    pdf.set_text_color(180, 0, 0) if tampered else pdf.set_text_color(0, 110, 0)
    pdf.cell(0, 7, "Journal hash chain: " + ("TAMPERED" if tampered else "intact"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("helvetica", "", 9)
    for line in chain:
        pdf.multi_cell(0, 5, _latin(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    bold = FontFace(emphasis="BOLD", fill_color=(230, 230, 230))
    pdf.set_font("helvetica", "B", 11)
    pdf.cell(0, 7, f"Electronic signatures ({len(sigs)})", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 8)
    if sigs:
        with pdf.table(col_widths=(32, 40, 18, 60, 60, 40), headings_style=bold, line_height=4.5) as table:
            table.row(["signed at (UTC)", "signer", "meaning", "signed events (seq: type, subject)", "signature",
                       "device"])
            for s in sigs:
                records = "; ".join(f"{r['seq']}: {r['type']}, {r['subject']}" for r in s.records)
                state = (f"supersedes {s.supersedes}; " if s.supersedes else "") + (
                    f"superseded by {s.superseded_by}" if s.superseded_by else "")
                table.row([s.at.isoformat(timespec="seconds"), _latin(f"{s.signer_name} ({s.signer})"), s.meaning,
                           _latin(records), _latin(f"{s.signature} {state}".strip() + (
                               f"; {s.comment}" if s.comment else "")), _latin(s.device or "")])
    else:
        pdf.cell(0, 5, "none in this period", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("helvetica", "B", 11)
    pdf.cell(0, 7, f"Events ({len(entries)})", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 7)
    with pdf.table(col_widths=(12, 30, 40, 36, 46, 62, 24), headings_style=bold, line_height=3.8) as table:
        table.row(["seq", "recorded at (UTC)", "event", "subject", "who (for whom, device)", "signatures",
                   "chain hash"])
        for e in entries:
            table.row([str(e.seq), e.recorded_at.isoformat(timespec="seconds"), e.type, _latin(e.subject),
                       _latin(_who(e)), _latin("; ".join(_signed(s) for s in e.signatures)),
                       (e.chain_hash or "")[:16] + "..."])
    pdf.output(str(path))


@audit_app.command("export")
def export(since: Annotated[str, typer.Option("--from", help="the first day (2026-12-01) or time (with zone)")],
           until: Annotated[str | None, typer.Option("--to", help="the last day (through its end) or a time "
                                                     "(exclusive); default now")] = None,
           fmt: Annotated[str, typer.Option("--format", help="pdf or csv")] = "pdf",
           subject: Annotated[str | None, typer.Option("--subject", help="only this subject: lot:L118, ncr:NCR-7, "
                                                       "...")] = None,
           out: Annotated[Path | None, typer.Option("--out", "-o", help="the file to write (default: "
                                                    "audit-<from>-<to>.<format> here)")] = None,
           config: ConfigOption = None, data_dir: DataDirOption = None, database_url: UrlOption = None,
           secret_file: Annotated[Path | None, typer.Option(
               "--checkpoint-secret-file", help="check the checkpoints' signatures with the secret in this file "
               "(default: the site file's journal: section, or the data folder's key)")] = None) -> None:
    """Write the audit trail of a period (events recorded from --from to --to, the signatures given then) as PDF or
    CSV, headed by the journal's hash chain check; exit 1 (the file still written) when the chain is broken."""
    if fmt not in ("pdf", "csv"):
        raise fail(f"--format {fmt!r}: pdf or csv", 2)
    start = _moment(since, "--from")
    end = _moment(until, "--to") if until is not None else datetime.now(UTC)
    if until is not None and len(until) == 10:  # a day: through its end
        end += timedelta(days=1)
    if end <= start:
        raise fail("--to is before --from", 2)
    target = out or Path(f"audit-{start.date().isoformat()}-{end.date().isoformat()}.{fmt}")
    store = open_store(store_url(config, data_dir, database_url, must_exist=True))
    try:
        key = checkpoint_key(config, data_dir, secret_file)
        chain = verify_chain(store, key)
        entries = audit_trail(store, subject=subject, since=start, until=end)
        with store.engine.connect() as conn:
            sigs = signatures(conn, since=start, until=end)
        node = _node_id(store)
    finally:
        store.close()
    if subject is not None:
        sigs = [s for s in sigs if any(r["subject"] == subject for r in s.records)]
    problems, chain_lines = chain_result(chain, key)
    title = f"Audit trail of node {node}"
    heading = [f"period (UTC): {start.isoformat(timespec='seconds')} to {end.isoformat(timespec='seconds')}"
               + (f"; subject {subject}" if subject else ""),
               f"written {datetime.now(UTC).isoformat(timespec='seconds')} by takt audit export; "
               f"{len(entries)} events, {len(sigs)} signatures"]
    if fmt == "csv":
        write_csv(target, [title, *heading, *chain_lines], entries)
    else:
        write_pdf(target, title, heading, chain_lines, bool(problems), sigs, entries)
    typer.echo(f"wrote {target}: {len(entries)} events, {len(sigs)} signatures; {chain_lines[0]}")
    if problems:
        raise typer.Exit(1)


def _node_id(store: Store) -> str:
    with store.engine.connect() as conn:
        found = conn.execute(select(schema.node_settings.c.value).where(
            schema.node_settings.c.name == "node_id")).scalar_one_or_none()
    return str(found or "?")

