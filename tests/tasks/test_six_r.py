"""6R treatment on small hand-built frames whose right answer is known (no Prefect, no database)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mfactory.errors import ImportFormatError
from tasks.assessment.questionnaire import answers
from tasks.assessment.six_r_decide import application_rollup, decide
from tasks.assessment.six_r_rules import rule_set

TODAY = dt.date(2025, 1, 1)


def asset(name: str, **fields: Any) -> dict[str, Any]:
    """A healthy, busy, supported Linux production VM unless ``fields`` say otherwise."""
    base: dict[str, Any] = {
        "id": name,
        "asset_name": name,
        "asset_type": "virtual_machine",
        "application_name": "app",
        "os_family": "linux",
        "os_name": "Red Hat Enterprise Linux 9",
        "power_state": "on",
        "environment": "production",
        "description": "batch server",
        "virtualization_platform": None,
        "database_engine": None,
        "database_version": None,
        "cpu_utilization_avg": 40.0,
        "cpu_utilization_peak": 70.0,
        "end_of_support_date": None,
        "custom_attributes": None,
        "six_r_strategy": None,
        "six_r_confidence": None,
        "six_r_rationale": None,
        "six_r_decided_by": None,
        "six_r_locked": False,
    }
    return {**base, **fields}


def run(rows: list[dict[str, Any]], override: Any = None, questionnaire: Any = None) -> pd.DataFrame:
    rules = rule_set(override)
    table = answers(questionnaire, rules["questions"]) if questionnaire is not None else None
    return decide(pd.DataFrame(rows), rules, TODAY, table).set_index("id")


def test_each_classic_signal_gets_its_strategy_and_rule() -> None:
    decided = run(
        [
            asset(
                "eos-os",
                os_family="windows",
                os_name="Windows Server 2008 R2",
                end_of_support_date=dt.date(2020, 1, 14),
                cpu_utilization_avg=12.0,
            ),
            asset(
                "eos-db",
                asset_type="database",
                database_engine="PostgreSQL",
                database_version="10",
                end_of_support_date=dt.date(2022, 11, 10),
            ),
            asset("db", asset_type="database", database_engine="PostgreSQL", database_version="16"),
            asset("off-long", power_state="off", custom_attributes={"last_powered_on": "2024-06-01"}),
            asset("off-days", power_state="off", custom_attributes={"days_powered_off": "120"}),
            asset("off-recent", power_state="off", custom_attributes={"last_powered_on": "2024-12-20"}),
            asset("idle-test", environment="test", cpu_utilization_avg=1.0, cpu_utilization_peak=3.0),
            asset("idle-prod", cpu_utilization_avg=1.0, cpu_utilization_peak=3.0),
            asset("sap", description="SAP ERP central instance"),
            asset("mainframe", os_family="other", os_name="IBM z/OS 2.5", asset_type="server"),
            asset("aix", os_family="unix", os_name="AIX 7.3"),
            asset("tomcat", description="Tomcat 9 application server"),
            asset("plain"),
        ]
    )
    expected = {
        "eos-os": ("replatform", "replatform-eos-os"),
        "eos-db": ("replatform", "replatform-eos-db"),
        "db": ("replatform", "replatform-db"),
        "off-long": ("retire", "retire-powered-off-long"),
        "off-days": ("retire", "retire-powered-off-long"),
        "off-recent": ("retire", "retire-powered-off"),
        "idle-test": ("retire", "retire-idle-non-production"),
        "idle-prod": ("rehost", "rehost-default"),
        "sap": ("repurchase", "repurchase-packaged"),
        "mainframe": ("retain", "retain-mainframe"),
        "aix": ("retain", "retain-unix"),
        "tomcat": ("replatform", "replatform-containerisable"),
        "plain": ("rehost", "rehost-default"),
    }
    got = {name: (row.six_r_strategy, row.six_r_rule) for name, row in decided.iterrows()}
    assert got == expected
    assert set(decided["six_r_decided_by"]) == {"rules"}
    assert decided.loc["off-long", "six_r_confidence"] > decided.loc["off-recent", "six_r_confidence"]


def test_rationale_lists_the_facts_with_the_assets_own_values() -> None:
    decided = run(
        [
            asset(
                "w2008",
                os_family="windows",
                os_name="Windows Server 2008 R2",
                end_of_support_date=dt.date(2020, 1, 14),
                cpu_utilization_avg=12.0,
                cpu_utilization_peak=31.5,
            ),
            asset("off", power_state="off", custom_attributes={"last_powered_on": "2024-06-01"}),
            asset("nocpu", cpu_utilization_avg=None, cpu_utilization_peak=None),
        ]
    )
    w2008 = decided.loc["w2008", "six_r_rationale"]
    assert "OS Windows Server 2008 R2 ended support 2020-01-14" in w2008
    assert "environment production" in w2008
    assert "cpu avg 12%, peak 31.5%" in w2008
    assert "rule replatform-eos-os" in w2008 and "rules v2" in w2008
    assert "inactive 214 days" in decided.loc["off", "six_r_rationale"]
    assert "cpu avg unknown%, peak unknown%" in decided.loc["nocpu", "six_r_rationale"]


def test_first_matching_rule_by_priority_wins() -> None:
    both = asset(
        "off-and-eos",
        power_state="off",
        os_name="Windows Server 2008",
        end_of_support_date=dt.date(2020, 1, 14),
    )
    assert run([both]).loc["off-and-eos", "six_r_rule"] == "retire-powered-off"
    moved_up = {"rules": [{"id": "replatform-eos-os", "priority": 1}]}
    assert run([both], override=moved_up).loc["off-and-eos", "six_r_rule"] == "replatform-eos-os"


def test_engagement_override_inline_and_as_a_file(tmp_path: Path) -> None:
    rows = [
        asset("vm", virtualization_platform="VMware vSphere 7.0"),
        asset("off", power_state="off", custom_attributes={"last_powered_on": "2024-12-01"}),
    ]
    shipped = run(rows)
    assert shipped.loc["vm", "six_r_strategy"] == "rehost"
    assert shipped.loc["off", "six_r_rule"] == "retire-powered-off"

    override = tmp_path / "engagement.yaml"
    override.write_text(
        "version: acme-1\n"
        "parameters: {retire_after_days: 30}\n"
        "rules:\n"
        "  - {id: relocate-vmware, enabled: true}\n"
        "  - {id: retain-regulated, priority: 5, strategy: retain, confidence: 1.0,\n"
        "     when: \"asset_name == 'vm'\", rationale: regulated, facts: [environment]}\n",
        encoding="utf-8",
    )
    changed = run(rows, override=str(override))
    assert changed.loc["vm", "six_r_rule"] == "retain-regulated"
    assert changed.loc["off", "six_r_rule"] == "retire-powered-off-long"  # 31 days >= 30
    assert "rules v2+acme-1" in changed.loc["off", "six_r_rationale"]

    relocated = run(rows, override={"rules": [{"id": "relocate-vmware", "enabled": True}]})
    assert relocated.loc["vm", "six_r_strategy"] == "relocate"
    assert "platform VMware vSphere 7.0" in relocated.loc["vm", "six_r_rationale"]
    disabled = run(rows, override={"disable": ["retire-powered-off"]})
    assert disabled.loc["off", "six_r_strategy"] == "rehost"


def test_bad_override_is_refused_with_where() -> None:
    with pytest.raises(ImportFormatError, match="strategy 'lift' is not one of"):
        rule_set({"rules": [{"id": "rehost-default", "strategy": "lift"}]})
    with pytest.raises(ImportFormatError, match="lacks"):
        rule_set({"rules": [{"id": "new-rule", "strategy": "retire"}]})
    with pytest.raises(ImportFormatError, match="unknown 6R rule 'nope'"):
        rule_set({"disable": ["nope"]})
    with pytest.raises(ImportFormatError, match="rule 'broken': cannot evaluate"):
        run(
            [asset("a")],
            override={
                "rules": [
                    {
                        "id": "broken",
                        "priority": 1,
                        "strategy": "retire",
                        "confidence": 0.5,
                        "when": "no_such_column > 3",
                        "rationale": "x",
                    }
                ]
            },
        )


def test_questionnaire_answers_change_the_outcome(tmp_path: Path) -> None:
    rows = [
        asset("erp1", application_name="erp", description="SAP ERP application server"),
        asset("shop1", application_name="shop", description="Tomcat 9 application server"),
        asset("old1", application_name="old"),
        asset("quiet1", application_name="quiet", cpu_utilization_avg=2.0, cpu_utilization_peak=4.0),
    ]
    before = run(rows)
    assert before["six_r_rule"].to_dict() == {
        "erp1": "repurchase-packaged",
        "shop1": "replatform-containerisable",
        "old1": "rehost-default",
        "quiet1": "rehost-default",
    }
    questionnaire = tmp_path / "questionnaire.yaml"
    questionnaire.write_text(
        "version: 1\n"
        "applications:\n"
        "  erp: {license_ends: 2025-06-30}\n"
        "  shop: {business_value: high, team_skills: [Java, containers]}\n"
        "  old: {decommission_planned: true}\n"
        "  quiet: {business_value: low}\n",
        encoding="utf-8",
    )
    after = run(rows, questionnaire=str(questionnaire))
    assert after["six_r_rule"].to_dict() == {
        "erp1": "repurchase-license-ends",
        "shop1": "refactor-containerisable-skilled",
        "old1": "retire-decommission-planned",
        "quiet1": "retire-low-value-idle",
    }
    assert "licence ends 2025-06-30 (questionnaire)" in after.loc["erp1", "six_r_rationale"]
    assert "team skills java, containers (questionnaire)" in after.loc["shop1", "six_r_rationale"]
    far = run(rows, questionnaire={"applications": {"erp": {"license_ends": "2030-01-01"}}})
    assert far.loc["erp1", "six_r_rule"] == "repurchase-packaged"


def test_bad_questionnaire_answer_names_file_application_and_question(tmp_path: Path) -> None:
    questions = rule_set()["questions"]
    path = tmp_path / "q.yaml"
    path.write_text("applications:\n  erp: {business_value: huge}\n", encoding="utf-8")
    with pytest.raises(ImportFormatError, match="business_value") as caught:
        answers(str(path), questions)
    assert (
        caught.value.file == str(path) and caught.value.row == 1 and caught.value.column == "business_value"
    )
    with pytest.raises(ImportFormatError, match="unknown question"):
        answers({"applications": {"erp": {"colour": "blue"}}}, questions)
    with pytest.raises(ImportFormatError, match="not a date"):
        answers({"applications": {"erp": {"license_ends": "soon"}}}, questions)


def test_locked_assets_keep_the_users_decision() -> None:
    locked = asset(
        "mine",
        power_state="off",
        six_r_strategy="refactor",
        six_r_confidence=1.0,
        six_r_rationale="set by ann in the editor",
        six_r_decided_by="user",
        six_r_locked=True,
    )
    decided = run([locked, asset("other", power_state="off")])
    mine = decided.loc["mine"]
    assert (mine.six_r_strategy, mine.six_r_decided_by, mine.six_r_rationale, mine.six_r_confidence) == (
        "refactor",
        "user",
        "set by ann in the editor",
        1.0,
    )
    assert bool(mine.six_r_locked) and not bool(decided.loc["other", "six_r_locked"])
    assert decided.loc["other", "six_r_strategy"] == "retire"


def test_application_rollup_majority_share_and_ties_by_priority() -> None:
    rows = [
        asset("a1", application_name="a", power_state="off"),
        asset("a2", application_name="a"),
        asset("a3", application_name="a"),
        asset("b1", application_name="b", power_state="off"),  # retire, priority 25
        asset("b2", application_name="b"),  # rehost, priority 1000
        asset(
            "c1", application_name="c", six_r_strategy="retain", six_r_decided_by="user", six_r_locked=True
        ),
        asset("c2", application_name="c", description="SAP ERP"),
        asset("x", application_name=None),
    ]
    rollup = application_rollup(run(rows).reset_index()).set_index("application_name")
    assert rollup.loc["a", "six_r_strategy"] == "rehost" and rollup.loc["a", "confidence"] == pytest.approx(
        2 / 3
    )
    assert rollup.loc["b", "six_r_strategy"] == "retire" and rollup.loc["b", "confidence"] == 0.5
    assert rollup.loc["c", "six_r_strategy"] == "retain"  # a person's decision wins a tie
    assert rollup["assets"].to_dict() == {"a": 3, "b": 2, "c": 2}
