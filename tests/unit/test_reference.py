"""The pinned reference data (edge.reference): the manifest, the lookup order (site folder, data dir, user dir,
$TAKT_SHARED_DATA), altered and incomplete copies passed over, and the GS1 / B2MML code finding it there."""
from __future__ import annotations

import logging
import re
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge import reference
from tests.shared_data import SHARED_DATA

GS1 = reference.GS1_SET


@pytest.fixture(autouse=True)
def nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No reference data anywhere but where a test puts it: an empty user dir, no mirror, no node configured (and
    the process's default GS1 parser put back afterwards)."""
    import scanners.gs1

    monkeypatch.setattr(scanners.gs1, "_default", scanners.gs1._default)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("TAKT_SHARED_DATA", "")
    monkeypatch.delenv("TAKT_GS1_SYNTAX_DICTIONARY", raising=False)
    monkeypatch.delenv("TAKT_B2MML_SCHEMAS", raising=False)
    reference.configure(site_folder=None, data_dir=None)
    yield
    reference.configure(site_folder=None, data_dir=None)


def install(folder: Path, name: str = GS1) -> Path:
    """Copy set ``name`` from the mirror into ``folder`` (skips the test without the mirror)."""
    for file in reference.pinned()[name].files:
        source = SHARED_DATA / file.path
        if not source.is_file():
            pytest.skip(f"{file.path} is not in the mirror (set TAKT_SHARED_DATA; scripts/test does)")
        (folder / file.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, folder / file.path)
    return folder


def test_every_pinned_file_names_its_upstream_commit_licence_and_hash() -> None:
    sets = reference.pinned()
    assert list(sets) == ["gs1-syntax-dictionary", "b2mml-schemas", "opcua-nodesets"]
    for reference_set in sets.values():
        assert reference_set.files and reference_set.used_for and reference_set.version and reference_set.licence
        for file in reference_set.files:
            assert re.fullmatch(r"https://raw\.githubusercontent\.com/[\w.-]+/[\w.-]+/[0-9a-f]{40}/\S+", file.url), file
            assert re.fullmatch(r"[0-9a-f]{64}", file.sha256) and file.size > 0 and file.licence
    paths = [f.path for s in sets.values() for f in s.files]
    assert len(paths) == len(set(paths))
    assert {"gs1/gs1-syntax-dictionary.txt", "b2mml/V0600/B2MML-V0600-ProductionSchedule.xsd",
            "opcua/nodesets/PackML/Opc.Ua.PackML.NodeSet2.xml"} <= set(paths)


def test_the_mirror_holds_what_is_pinned() -> None:
    if not SHARED_DATA.is_dir():
        pytest.skip("no reference data mirror (set TAKT_SHARED_DATA; scripts/test does)")
    where = [reference.Place("mirror", SHARED_DATA)]
    assert [s.state for s in reference.statuses(where)] == ["ok", "ok", "ok"]


def test_nothing_installed_is_missing_and_gs1_validation_is_degraded() -> None:
    found = reference.status(GS1)
    assert found.state == "missing" and found.place is None
    assert "takt reference fetch" in found.describe()
    assert reference.gs1_syntax_dictionary() is None and reference.b2mml_schemas() is None
    health = reference.health()
    assert health["status"] == "degraded" and health["gs1_validation"].startswith("biip only")
    assert health["sets"][GS1]["status"] == "missing"


def test_the_places_are_looked_in_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site, data, user, mirror = tmp_path / "site", tmp_path / "data", tmp_path / "xdg/takt/reference", tmp_path / "m"
    monkeypatch.setenv("TAKT_SHARED_DATA", str(mirror))
    assert [p.name for p in reference.places(site_folder=site, data_dir=data)] == [
        "site folder", "data dir", "user dir", "TAKT_SHARED_DATA"]
    assert reference.places(data_dir=data)[0].folder == data / "reference"
    install(mirror)
    assert reference.locate(GS1) == mirror
    install(user)
    assert reference.locate(GS1) == user
    install(data / "reference")
    reference.configure(site_folder=site, data_dir=data)  # what a node does when it is built
    assert reference.locate(GS1) == data / "reference"
    install(site)
    assert reference.gs1_syntax_dictionary() == site / "gs1" / "gs1-syntax-dictionary.txt"
    assert reference.health()["status"] == "ok" and reference.health()["gs1_validation"] == "syntax dictionary"


def test_an_altered_copy_is_never_used(tmp_path: Path) -> None:
    site, user = install(tmp_path / "site"), install(tmp_path / "xdg/takt/reference")
    (site / reference.GS1_DICTIONARY).write_text("# not GS1's dictionary\n")
    found = reference.status(GS1, reference.places(site_folder=site))
    assert found.ok and found.place is not None and found.place.folder == user
    assert found.passed_over == (f"site folder {site}: altered",)
    shutil.rmtree(user)
    altered = reference.status(GS1, reference.places(site_folder=site))
    assert altered.state == "altered" and altered.altered == (reference.GS1_DICTIONARY,)
    assert "differ from the pinned sha256" in altered.describe()
    reference.configure(site_folder=site, data_dir=None)
    assert reference.gs1_syntax_dictionary() is None
    assert reference.health()["status"] == "degraded" and reference.health()["sets"][GS1]["altered"]


def test_an_incomplete_copy_says_what_is_missing(tmp_path: Path) -> None:
    site = install(tmp_path / "site")
    (site / "gs1" / "LICENSE-gs1-syntax-dictionary").unlink()
    found = reference.status(GS1, reference.places(site_folder=site))
    assert found.state == "incomplete" and found.missing == ("gs1/LICENSE-gs1-syntax-dictionary",)


def test_the_gs1_parser_and_the_b2mml_schemas_find_the_installed_copy(tmp_path: Path,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    from erp_sync.b2mml import Schemas, SchemasMissing, default_schema_dir
    from scanners.gs1_syntax import default_path, load_syntax_dictionary

    data = tmp_path / "data"
    reference.configure(site_folder=None, data_dir=data)
    with caplog.at_level(logging.WARNING):
        assert load_syntax_dictionary() is None
    assert "takt reference fetch" in caplog.text and "biip only" in caplog.text
    with pytest.raises(SchemasMissing, match="takt reference fetch"):
        Schemas()
    install(data / "reference")
    install(data / "reference", reference.B2MML_SET)
    assert default_path() == data / "reference" / reference.GS1_DICTIONARY
    assert load_syntax_dictionary() is not None
    assert default_schema_dir() == data / "reference" / "b2mml"


def test_a_node_looks_in_its_site_folder_and_data_dir(tmp_path: Path) -> None:
    from takt.config import load_config
    from takt.runtime import Node

    site_file = tmp_path / "site.yaml"
    site_file.write_text(textwrap.dedent("""
        node: {id: ref-node, data_dir: data}
        site: {enterprise: acme, site: eindhoven, area: a1, line: l1}
        reference: shared/reference
        """))
    config = load_config(site_file)
    assert config.reference == tmp_path / "shared" / "reference"  # relative to the site file's folder
    Node(config)
    assert [(p.name, p.folder) for p in reference.places()][:2] == [
        ("site folder", tmp_path / "shared" / "reference"), ("data dir", tmp_path / "data" / "reference")]
