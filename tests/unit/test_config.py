"""Site configuration: a good file loads; a bad one is refused naming the file, the path inside it and why."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from takt.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "config" / "demo.yaml"
EXAMPLE = ROOT / "config" / "site.example.yaml"

MINIMAL = """\
node:
  id: n1
site:
  enterprise: acme
  site: eindhoven
  area: a1
  line: l1
"""


def write(tmp_path: Path, text: str, name: str = "site.yaml") -> Path:
    file = tmp_path / name
    file.write_text(text, encoding="utf-8")
    return file


def demo_with(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """The demo configuration with ``edit`` applied, written to a new file."""
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    edit(data)
    return write(tmp_path, yaml.safe_dump(data, sort_keys=False), "demo-changed.yaml")


def refused(file: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    return caught.value


def test_demo_configuration_loads_with_every_role_and_the_fixed_demo_tokens() -> None:
    cfg = load_config(DEMO)
    tokens = {u.user: u.token for u in cfg.users}
    assert tokens["admin"] == "demo-admin-token-0000000000"
    assert {r for u in cfg.users for r in u.roles} == {"operator", "warehouse", "quality", "supervisor", "admin",
                                                       "service", "maintenance"}
    assert all(len(t or "") >= 16 for t in tokens.values())
    lots = {lot.lot: lot for lot in cfg.master_data.opening_stock}
    # the FEFO demonstration: an expired lot and a fresher lot of the same item
    assert lots["L123"].item == lots["L118"].item
    assert lots["L123"].expiry is not None and lots["L123"].expiry < date(2026, 11, 25)
    assert lots["L118"].expiry is not None and lots["L118"].expiry > date(2027, 1, 1)
    assert all(wo.bom_revision for wo in cfg.master_data.work_orders)
    assert cfg.master_data.work_orders[0].bom[4].quantity_per == Decimal("0.05")


def test_broken_yaml_names_file_line_and_column(tmp_path: Path) -> None:
    file = write(tmp_path, "node:\n  id: n1\n site: [\n")
    err = refused(file)
    assert str(file) in str(err)
    assert err.problems[0].line == 3
    assert "line 3, column" in str(err)
    assert "invalid YAML" in str(err)


def test_unknown_key_is_an_error_with_its_path_line_and_a_suggestion(tmp_path: Path) -> None:
    file = write(tmp_path, MINIMAL + "master_data:\n  items:\n    - item: P1\n      revision: A\n      descripton: x\n")
    err = refused(file)
    [problem] = err.problems
    assert problem.path == "master_data.items[0].descripton"
    assert problem.line == 12
    assert "unknown key 'descripton'" in problem.reason and "did you mean description" in problem.reason
    assert str(err).startswith(f"{file}: master_data.items[0].descripton: unknown key")


def test_unknown_top_level_key_is_an_error(tmp_path: Path) -> None:
    err = refused(write(tmp_path, MINIMAL + "userz: []\n"))
    assert err.problems[0].path == "userz"
    assert "did you mean users" in err.problems[0].reason


def test_bad_role_names_the_user_and_the_role_position(tmp_path: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["users"][2]["roles"] = ["warehouse", "forklift"]

    file = demo_with(tmp_path, edit=edit)
    err = refused(file)
    [problem] = err.problems
    assert problem.path == "users[2].roles[1]"
    assert "'forklift'" in problem.reason and "operator" in problem.reason
    assert f"{file}: users[2].roles[1]:" in str(err)


def test_negative_capacity_names_the_bin(tmp_path: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["master_data"]["bins"][3]["capacity"] = -5

    err = refused(demo_with(tmp_path, edit=edit))
    assert [p.path for p in err.problems] == ["master_data.bins[3].capacity"]
    assert "greater than 0" in err.problems[0].reason


def test_every_problem_is_reported_not_just_the_first(tmp_path: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["users"][0]["roles"] = ["boss"]
        data["master_data"]["bins"][0]["capacity"] = 0
        del data["master_data"]["items"][0]["revision"]

    err = refused(demo_with(tmp_path, edit=edit))
    paths = {p.path for p in err.problems}
    assert paths == {"users[0].roles[0]", "master_data.bins[0].capacity", "master_data.items[0].revision"}
    assert "required but missing" in str(err)


def test_references_to_undefined_codes_are_errors_with_their_path(tmp_path: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["master_data"]["work_orders"][2]["bom"][2]["item"] = "MOTOR-15"
        data["master_data"]["opening_stock"][0]["bin"] = "Z-99"
        data["master_data"]["dispatch_lists"][0]["sequence"][0]["operation"] = 20

    err = refused(demo_with(tmp_path, edit=edit))
    reasons = {p.path: p.reason for p in err.problems}
    assert "did you mean MOTOR-150" in reasons["master_data.work_orders[2].bom[2].item"]
    assert "bin Z-99 is not in master_data.bins" in reasons["master_data.opening_stock[0].bin"]
    assert "runs on WS-20, not WS-10" in reasons["master_data.dispatch_lists[0].sequence[0]"]


def test_duplicate_codes_and_shared_tokens_are_errors(tmp_path: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["master_data"]["items"].append(dict(data["master_data"]["items"][0]))
        data["users"][1]["token"] = data["users"][0]["token"]

    err = refused(demo_with(tmp_path, edit=edit))
    paths = {p.path for p in err.problems}
    assert "master_data.items[9].item" in paths
    assert {"users[0]", "users[1]"} <= paths


def test_a_yaml_key_given_twice_is_an_error(tmp_path: Path) -> None:
    err = refused(write(tmp_path, MINIMAL + "api:\n  port: 8000\n  port: 9000\n"))
    assert "found the key 'port' twice" in str(err)
    assert err.problems[0].line == 10  # the second `port`


def test_expired_opening_lot_needs_its_receipt_date(tmp_path: Path) -> None:
    text = MINIMAL + """\
master_data:
  items: [{item: G, revision: A}]
  bins: [{bin: B1, zone: storage}]
  opening_stock:
    - {lot: L1, item: G, quantity: 1, bin: B1, expiry: 2026-10-01}
"""
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "x.yaml", today=date(2026, 11, 25))
    assert caught.value.problems[0].path == "master_data.opening_stock[0].expiry"
    assert "received" in caught.value.problems[0].reason
    ok = parse_config(text.replace("expiry: 2026-10-01}", "expiry: 2026-10-01, received: 2026-04-01}"),
                      "x.yaml", today=date(2026, 11, 25))
    assert ok.master_data.opening_stock[0].received_at() is not None


def test_tokens_come_from_environment_or_files_and_must_be_long_enough(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tokens").mkdir()
    (tmp_path / "tokens" / "plc").write_text("file-token-1234567890\n")
    text = MINIMAL + """\
users:
  - {user: a, name: A, roles: [admin], token_env: T_A}
  - {user: plc, name: PLC gateway, roles: [service], token_file: tokens/plc}
  - {user: c, name: C, roles: [operator], token_env: T_C}
"""
    file = write(tmp_path, text)
    monkeypatch.setenv("T_A", "env-token-abcdefghijkl")
    monkeypatch.delenv("T_C", raising=False)
    err = refused(file)
    assert [(p.path, p.reason) for p in err.problems] == [("users[2].token_env", "environment variable T_C is not set")]
    monkeypatch.setenv("T_C", "short")
    assert "at least 16 characters" in refused(file).problems[0].reason
    monkeypatch.setenv("T_C", "long-enough-token-xyz")
    cfg = load_config(file)
    assert [u.token for u in cfg.users] == ["env-token-abcdefghijkl", "file-token-1234567890", "long-enough-token-xyz"]


def test_a_user_needs_exactly_one_token_source(tmp_path: Path) -> None:
    text = MINIMAL + "users:\n  - {user: a, name: A, roles: [admin], token: aaaaaaaaaaaaaaaaaaaa, token_env: X}\n"
    err = refused(write(tmp_path, text))
    assert err.problems[0].path == "users[0]"
    assert "exactly one of token_env, token_file" in err.problems[0].reason


def test_data_dir_is_relative_to_the_file_and_sqlite_is_the_default(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, MINIMAL))
    assert cfg.node.data_dir == (tmp_path / "data").resolve()
    assert cfg.node.url().startswith("sqlite:///") and str(tmp_path) in cfg.node.url()


def test_postgresql_url_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = write(tmp_path, MINIMAL.replace("  id: n1\n", "  id: n1\n  database_url_env: DB_URL\n"))
    assert refused(file).problems[0].path == "node.database_url_env"
    monkeypatch.setenv("DB_URL", "postgresql+psycopg://takt:pw@127.0.0.1:5432/takt")
    assert load_config(file).node.url() == "postgresql+psycopg://takt:pw@127.0.0.1:5432/takt"
    monkeypatch.setenv("DB_URL", "mysql://x")
    assert "sqlite:/// or postgresql" in refused(file).problems[0].reason


def test_site_example_is_valid_apart_from_its_secrets() -> None:
    cfg = load_config(EXAMPLE, resolve_secrets=False)
    assert cfg.api.host == "0.0.0.0"
    assert all(u.token is None for u in cfg.users)  # no literal tokens in a real site's file
    err = refused(EXAMPLE)
    assert all(p.path.startswith("users[") or p.path == "sync.token_env" for p in err.problems)
    assert "environment variable TAKT_SYNC_TOKEN is not set" in {p.path: p.reason for p in err.problems}["sync.token_env"]


def test_a_sync_section_needs_exactly_one_token_source(tmp_path: Path) -> None:
    def two(data: dict[str, Any]) -> None:
        data["sync"] = {"central_url": "https://erp.example.com", "token": "x" * 20, "token_env": "T"}

    def bad_url(data: dict[str, Any]) -> None:
        data["sync"] = {"central_url": "ftp://erp", "token": "x" * 20, "batch_events": 0}

    assert "exactly one of token_env" in refused(demo_with(tmp_path, edit=two)).problems[0].reason
    paths = {p.path for p in refused(demo_with(tmp_path, edit=bad_url)).problems}
    assert paths == {"sync.central_url", "sync.batch_events"}


def test_missing_file_and_empty_file(tmp_path: Path) -> None:
    assert "cannot read the file" in str(refused(tmp_path / "nope.yaml"))
    assert "empty" in str(refused(write(tmp_path, "")))
    assert "must be a mapping" in str(refused(write(tmp_path, "- a\n- b\n")))


def test_an_item_gtin_is_checked_and_named_by_its_path(tmp_path: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["master_data"]["items"][2]["gtin"] = "4012345000017"  # check digit is 6
        data["master_data"]["items"][3]["gtin"] = "40123"

    err = refused(demo_with(tmp_path, edit=edit))
    reasons = {p.path: p.reason for p in err.problems}
    assert set(reasons) == {"master_data.items[2].gtin", "master_data.items[3].gtin"}
    assert "expected 6" in reasons["master_data.items[2].gtin"] and "8, 12, 13 or 14" in reasons["master_data.items[3].gtin"]
    assert load_config(DEMO).master_data.items[7].gtin == "09501101530003"


def test_an_inspection_plans_sampling_in_the_site_file_becomes_its_command(tmp_path: Path) -> None:
    from edge.domain import commands as c
    from takt.runtime import seed_commands

    def edit(data: dict[str, Any]) -> None:
        data["master_data"]["inspection_plans"].append({
            "plan": "IPC-20", "item": "PUMP-100", "operation": 20, "kind": "in_process", "every_n_parts": 10,
            "every_minutes": 60, "sample_size": 2, "flag_overdue": True, "overdue_grace_parts": 3,
            "characteristics": [{"characteristic": "seal_seated", "kind": "attribute"}]})

    config = load_config(demo_with(tmp_path, edit=edit))
    [seed] = [s for s in seed_commands(config) if s.key == "seed:inspection-plan:IPC-20"]
    assert isinstance(seed.command, c.DefineInspectionPlan)
    cmd = seed.command
    assert (cmd.kind, cmd.every_n_parts, cmd.every_minutes, cmd.sample_size, cmd.flag_overdue,
            cmd.overdue_grace_parts) == ("in_process", 10, 60, 2, True, Decimal(3))

    def bad(data: dict[str, Any]) -> None:
        data["master_data"]["inspection_plans"][0]["kind"] = "sometimes"
        data["master_data"]["inspection_plans"][0]["sample_size"] = 0

    err = refused(demo_with(tmp_path, edit=bad))
    assert sorted(p.path for p in err.problems) == ["master_data.inspection_plans[0].kind",
                                                    "master_data.inspection_plans[0].sample_size"]


def test_warehouse_putaway_rules_bin_rules_and_the_sscc_prefix_load_and_bad_ones_are_named(tmp_path: Path) -> None:
    from edge.domain.putaway import PutawayRule
    from takt.api.app import putaway_rules

    good = MINIMAL + (
        "master_data:\n  bins:\n    - bin: A-1\n      zone: cold\n      max_per_item: 40\n      lot_policy: one_lot\n"
        "warehouse:\n  gs1_company_prefix: '4012345'\n  sscc_extension_digit: 3\n"
        "  putaway_rules:\n    - item: FROZEN-*\n      zones: [cold, overflow]\n    - zones: [storage]\n")
    cfg = load_config(write(tmp_path, good))
    [b] = cfg.master_data.bins
    assert (b.max_per_item, b.lot_policy) == (Decimal(40), "one_lot")
    assert (cfg.warehouse.gs1_company_prefix, cfg.warehouse.sscc_extension_digit) == ("4012345", 3)
    assert putaway_rules(cfg.warehouse) == (PutawayRule("FROZEN-*", ("cold", "overflow")), PutawayRule("*", ("storage",)))
    assert putaway_rules(None) == ()
    for bad, path in (("lot_policy: one_pallet", "master_data.bins[0].lot_policy"),
                      ("gs1_company_prefix: '12AB'", "warehouse.gs1_company_prefix"),
                      ("zones: []", "warehouse.putaway_rules[0].zones")):
        key, value = bad.split(": ", 1)
        text = "\n".join(ln if not ln.strip().startswith(key + ":") else ln.split(key)[0] + f"{key}: {value}"
                         for ln in good.splitlines()) + "\n"
        err = refused(write(tmp_path, text, "bad.yaml"))
        assert [p.path for p in err.problems] == [path], (bad, err)


def test_numbers_beyond_the_stores_bounds_are_named_by_their_path(tmp_path: Path) -> None:
    """The site file bounds its numbers with the API's types (edge.fields): a limit of 1E+1000000, an operation
    number beyond a routing's, a NaN, a count approval share above 1000 %."""
    def edit(data: dict[str, Any]) -> None:
        plan = data["master_data"]["inspection_plans"][0]
        plan["characteristics"][0]["usl"] = "1E+1000000"
        plan["operation"] = 9223372036854775808
        data["master_data"]["work_orders"][0]["quantity"] = "NaN"
        data.setdefault("warehouse", {})["count_approval_pct"] = 1001

    err = refused(demo_with(tmp_path, edit=edit))
    reasons = {p.path: p.reason for p in err.problems}
    assert "18 digits" in reasons["master_data.inspection_plans[0].characteristics[0].usl"]
    assert "99999" in reasons["master_data.inspection_plans[0].operation"]
    assert "finite" in reasons["master_data.work_orders[0].quantity"]
    assert "1000" in reasons["warehouse.count_approval_pct"]


def test_the_policy_section_sets_the_segregation_of_duties_and_names_a_bad_role(tmp_path: Path) -> None:
    cfg = load_config(DEMO)
    assert cfg.policy.count_approvers == ["supervisor"] and cfg.policy.second_signature == ["use_as_is"]
    good = write(tmp_path, MINIMAL + "policy:\n  counts_booked_at_once: [supervisor]\n"
                                     "  second_signature: [use_as_is, return_to_supplier]\n")
    policy = load_config(good).policy.duty_policy()
    assert policy.counts_booked_at_once == {"supervisor"}
    assert policy.second_signature == {"use_as_is", "return_to_supplier"}
    err = refused(write(tmp_path, MINIMAL + "policy:\n  count_approvers: [boss]\n", "bad.yaml"))
    assert [p.path for p in err.problems] == ["policy.count_approvers[0]"]
