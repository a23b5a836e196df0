"""The Jira reader on real issues (Apache, Duraspace; see tests/data/jira/PROVENANCE.md).

Teams and settings are the demo company's: capacity per quarter backend 88, frontend 55,
mobile 33, data 33, ux 22, qa 44 pw (275 in all); velocity backend 1.2 SP/pw.
"""

from __future__ import annotations

import csv
import io

import pytest
from sources_testkit import APACHE, DURASPACE, demo_settings, demo_teams

from models.errors import InputError
from pipelines.paths import project_root
from pipelines.sources import read_jira_csv

SHARED = project_root().parent / "shared" / "validation" / "jira" / "ase2015"


@pytest.fixture(scope="module")
def apache():
    return read_jira_csv(APACHE, demo_teams(), demo_settings())


@pytest.fixture(scope="module")
def duraspace():
    return read_jira_csv(DURASPACE, demo_teams(), demo_settings())


def test_apache_only_items_with_an_estimate_are_planned(apache):
    # 501 issues, none with story points, 49 with an Original Estimate
    assert len(apache.backlog) == 49
    assert apache.backlog["story_points"].isna().all()
    assert any(n.startswith("452 items have no estimate") for n in apache.notes)
    assert any(n.startswith("49 items without story points: Original Estimate") for n in apache.notes)


def test_apache_original_estimate_in_person_weeks(apache):
    rows = apache.backlog.set_index("item_id")
    # CB-5754: 1,814,400 s = 504 h = 12.6 pw; components Android (-> mobile) and CordovaJS (no skill)
    assert rows.loc["CB-5754", "effort_mobile"] == pytest.approx(12.6)
    assert rows.loc["CB-5754", ["effort_backend", "effort_frontend", "effort_qa"]].sum() == 0
    # CB-214: 3,628,800 s = 25.2 pw, component Bada names no skill -> capacity share 88/275 backend
    assert rows.loc["CB-214", "effort_backend"] == pytest.approx(25.2 * 88 / 275)
    assert rows.loc["CB-214", "deadline_period"] == 1  # due 29/Mar/12, long before the plan starts


def test_apache_link_types_are_classified(apache):
    assert any(
        n.startswith("issue links read as dependencies: Blocker (inward) 13, Blocker (outward) 10, Required (inward) 3")
        for n in apache.notes
    )
    assert any("not dependencies ignored" in n and "Reference 76" in n for n in apache.notes)


def test_duraspace_excerpt_story_points(duraspace):
    # 585 rows: 580 with story points (11 of them zero) + 5 linked rows without estimate
    assert len(duraspace.backlog) == 569
    assert duraspace.backlog["story_points"].gt(0).all()
    assert any(n.startswith("11 items are estimated at zero") for n in duraspace.notes)
    assert any(n.startswith("5 items have no estimate") for n in duraspace.notes)
    rows = duraspace.backlog.set_index("item_id")
    # DURACLOUD-101: 21 SP, no component -> backend share 88/275 of 21 SP at 1.2 SP/pw = 5.6 pw
    assert rows.loc["DURACLOUD-101", "story_points"] == 21
    assert rows.loc["DURACLOUD-101", "effort_backend"] == pytest.approx(21 * 88 / 275 / 1.2)
    assert rows["status_category"].value_counts().to_dict() == {"Done": 452, "To Do": 117}


def test_duraspace_dependency_links(duraspace):
    rows = duraspace.backlog.set_index("item_id")
    # "Shibboleth: Logout" has an outward Dependency link to "Integrate with Shibboleth-based systems"
    assert rows.loc["DURACLOUD-802", "depends_on"] == ["DURACLOUD-615"]
    assert rows.loc["DURACLOUD-615", "title"] == "Integrate with Shibboleth-based systems"
    assert sum(len(d) for d in rows["depends_on"]) == 6
    assert any("dropped (no estimate)" in n and "DURACLOUD-70->DURACLOUD-54" in n for n in duraspace.notes)
    assert any(n.startswith("27 dependencies point at items that are already done") for n in duraspace.notes)
    every = {d for deps in rows["depends_on"] for d in deps}
    assert every <= set(rows.index)


def test_duraspace_bad_cell_names_the_physical_line(tmp_path):
    # Descriptions span several lines: DURACLOUD-534 starts on line 1217 of the excerpt
    text = DURASPACE.read_text(encoding="utf-8")
    lines = text.split("\n")
    assert ",DURACLOUD-534," in lines[1216]
    lines[1216] = lines[1216].replace(",8.0,UI,", ",eight,UI,")
    broken = tmp_path / "duraspace.csv"
    broken.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_jira_csv(broken, demo_teams(), demo_settings())
    assert str(err.value).startswith(
        f"{broken}, line 1217, column 'Custom field (Story Points)': story points 'eight' is not a number"
    )


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/validation is not next to this clone")
def test_vendored_files_match_their_source():
    assert APACHE.read_bytes() == (SHARED / APACHE.name).read_bytes()
    source = list(
        csv.reader(
            io.StringIO(
                (SHARED / "duraspace_3036_issues_export_style_DERIVED.csv").read_text(encoding="utf-8"), newline=""
            )
        )
    )
    excerpt = list(csv.reader(io.StringIO(DURASPACE.read_text(encoding="utf-8"), newline="")))
    assert excerpt[0] == source[0]
    by_key = {row[1]: row for row in source[1:]}
    assert all(by_key[row[1]] == row for row in excerpt[1:])
