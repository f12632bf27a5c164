"""Overview figures on a hand-built inventory whose groups and counts are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tasks.artifacts.overview import overview_artifacts
from tasks.assessment.overview_figures import (
    application_overview,
    breakdown,
    dependency_groups,
    engagement_overview,
)

ASSETS = pd.DataFrame(
    {
        "id": ["s1", "s2", "s3", "c1", "n1", "i1"],
        "application_name": ["shop", "shop", "shop", "crm", None, "lonely"],
    }
)
EDGES = pd.DataFrame(
    {
        "source_asset_id": ["s1", "s1", "c1", "s3", "s1"],
        "target_asset_id": ["s2", "c1", "n1", "s3", "gone"],  # a self-loop and an unknown end
    }
)


def test_groups_per_application_and_for_the_engagement() -> None:
    groups = dependency_groups(ASSETS, EDGES)
    per_app = groups.per_application.set_index("application_name")
    # groups, assets in them, largest; internal, cross-application, tied named applications
    assert per_app.loc["shop"].tolist() == [2, 5, 4, 2, 1, 1]  # the 4-asset group and s3 (self-loop)
    assert per_app.loc["crm"].tolist() == [1, 4, 4, 0, 2, 1]
    assert per_app.loc["lonely"].tolist() == [1, 1, 1, 0, 0, 0]
    no_app = groups.per_application[groups.per_application["application_name"].isna()]
    assert no_app.iloc[0, 1:].tolist() == [1, 4, 4, 0, 1, 1]
    assert (groups.groups, groups.isolated_assets, groups.largest_group) == (3, 2, 4)
    assert groups.multi_application_groups == 1
    assert groups.cross_app_dependencies == 2  # shop -> crm, crm -> (no application)


def test_row_order_does_not_change_the_figures() -> None:
    shuffled = ASSETS.sample(frac=1.0, random_state=3).reset_index(drop=True)
    a, b = dependency_groups(ASSETS, EDGES), dependency_groups(shuffled, EDGES)
    key = ["application_name"]
    pd.testing.assert_frame_equal(
        a.per_application.sort_values(key, na_position="last").reset_index(drop=True),
        b.per_application.sort_values(key, na_position="last").reset_index(drop=True),
    )
    assert (a.groups, a.isolated_assets, a.cross_app_dependencies) == (
        b.groups,
        b.isolated_assets,
        b.cross_app_dependencies,
    )


def test_no_assets_and_duplicate_ids() -> None:
    empty = dependency_groups(ASSETS.head(0), EDGES.head(0))
    assert empty.groups == 0 and empty.per_application.empty
    with pytest.raises(ValueError, match="unique"):
        dependency_groups(pd.concat([ASSETS, ASSETS.head(1)]), EDGES)


def sql_rows() -> pd.DataFrame:
    """What ``overview_rollups`` returns per application for the hand-built inventory (see the DB test)."""
    return pd.DataFrame(
        {
            "application_name": ["shop", "crm", None, "lonely"],
            "assets": [3, 1, 1, 1],
            "with_completeness": [2, 1, 1, 0],
            "completeness_sum": [1.5, 0.8, 0.2, 0.0],
            "end_of_support": [1, 0, 0, 0],
            "nearing_end_of_support": [1, 0, 1, 0],
            "lifecycle_unknown": [1, 0, 0, 0],
        }
    )


def test_application_and_engagement_overview() -> None:
    groups = dependency_groups(ASSETS, EDGES)
    apps = application_overview(sql_rows(), groups)
    shop = apps.iloc[0]
    assert shop["completeness_avg"] == 0.75 and shop["dependency_groups"] == 2
    assert np.isnan(apps.iloc[3]["completeness_avg"])  # no scored asset: unknown, not zero
    engagement = engagement_overview(sql_rows(), groups)
    assert engagement["assets"] == 6 and engagement["applications"] == 3
    assert engagement["assets_without_application"] == 1
    assert engagement["completeness_avg"] == 0.625  # 2.5 over the 4 scored assets
    assert (engagement["end_of_support"], engagement["nearing_end_of_support"]) == (1, 2)
    assert engagement["dependency_groups"] == 3 and engagement["cross_app_dependencies"] == 2


def test_artifacts_hold_the_table_and_a_png() -> None:
    groups = dependency_groups(ASSETS, EDGES)
    apps = application_overview(sql_rows(), groups)
    rows = pd.DataFrame({"asset_type": ["server", "database", None], "assets": [4, 1, 1]})
    envs = pd.DataFrame({"environment": ["production", "development"], "assets": [4, 2]})
    table, chart = overview_artifacts(engagement_overview(sql_rows(), groups), apps, rows, envs)
    assert [r["application_name"] for r in table.rows] == ["shop", "crm", "(no application)", "lonely"]
    assert "data:image/png;base64," in chart.markdown
    assert "dependency groups spanning more than one application | 1" in chart.markdown


def test_breakdown_sums_the_view_rows() -> None:
    rows = pd.DataFrame({"environment": ["prod", "dev", "prod", None], "assets": [2, 1, 3, 4]})
    counts = breakdown(rows, "environment")
    assert counts["assets"].tolist() == [5, 4, 1]
    assert counts["environment"].iloc[0] == "prod" and pd.isna(counts["environment"].iloc[1])
