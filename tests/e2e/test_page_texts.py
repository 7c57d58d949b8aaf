"""The pages' texts and markup, read from the package: every text in every language, no text that nothing shows,
and no inline script or inline event handler anywhere (the node's Content-Security-Policy allows scripts from its
own static files only)."""
from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

from takt.pages.views import texts

PAGES = Path(str(resources.files("takt.pages")))
SCRIPTS = sorted((PAGES / "static").glob("*.js"))
TEMPLATES = sorted((PAGES / "templates").glob("*.html"))


def _source() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in [*SCRIPTS, *TEMPLATES])


def test_every_text_exists_in_every_language() -> None:
    languages = texts()
    assert {"en", "nl"} <= set(languages)  # the pages speak English and Dutch (English is the fallback)
    english = set(languages["en"])
    for language, found in languages.items():
        assert set(found) == english, (language, sorted(set(found) ^ english))
        assert all(isinstance(v, str) and v.strip() for v in found.values()), language
        # The same placeholders in every language: a translation cannot drop or rename one.
        for key, text in found.items():
            assert set(re.findall(r"\{(\w+)\}", text)) == set(re.findall(r"\{(\w+)\}", languages["en"][key])), key


def test_every_text_the_pages_ask_for_exists_and_every_text_is_used() -> None:
    keys = set(texts()["en"])
    source = _source()
    asked = set(re.findall(r"""\bt\(\s*["']([a-z][a-z0-9_]*)["']\s*[,)]""", source))
    asked |= set(re.findall(r'data-t(?:-placeholder)?="([a-z][a-z0-9_]*)"', source))
    assert asked and asked <= keys, sorted(asked - keys)
    # A key is used where the scripts or templates name it as a string (a key chosen at run time, such as a
    # state or a reason, is still spelt out in a list of choices or a status there).
    named = set(re.findall(r"""["']([a-z][a-z0-9_]*)["']""", source))
    assert keys <= named, sorted(keys - named)


def test_the_texts_are_files_one_a_language_and_not_in_the_scripts() -> None:
    files = sorted(p.name for p in (PAGES / "static" / "i18n").glob("*.json"))
    assert [f"{language}.json" for language in sorted(texts())] == files
    for name in files:
        json.loads((PAGES / "static" / "i18n" / name).read_text(encoding="utf-8"))
    for script in SCRIPTS:
        assert "Scan your badge" not in script.read_text(encoding="utf-8"), script.name


def test_no_inline_script_and_no_inline_event_handler() -> None:
    for template in TEMPLATES:
        html = template.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (template.name, tag)
        assert not re.search(r"\son[a-z]+\s*=", html), template.name
        assert "javascript:" not in html, template.name
    for script in SCRIPTS:  # the markup the scripts build
        js = script.read_text(encoding="utf-8")
        assert not re.search(r"""<[a-z][^<>]*\son[a-z]+=""", js), script.name
        assert "javascript:" not in js and "<script" not in js, script.name
        assert not re.search(r"\beval\(|new Function\(|setTimeout\(\s*[\"']", js), script.name


def test_what_the_node_puts_into_a_page_is_escaped() -> None:
    from takt.pages.views import _templates

    page = _templates().get_template("terminal.html").render(
        title="<b>", line="L&1", node="n", texts={"en": {"x": "</script><script>alert(1)</script>"}},
        page="terminal-WS\"1", page_class="terminal", script="terminal.js", workstation='WS"1',
        description="<img src=x onerror=alert(1)>", device="", bin="")
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert 'data-workstation="WS&#34;1"' in page and "<title>&lt;b&gt;</title>" in page and "L&amp;1" in page
    assert "</script><script>alert(1)" not in page  # the texts' JSON cannot close its script element
    stations = [{"workstation": "<WS>", "description": "a & b"}]
    index = _templates().get_template("index.html").render(title="Takt", line="", node="", stations=stations)
    assert "<b>&lt;WS&gt;</b><span>a &amp; b</span>" in index
