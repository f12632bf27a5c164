"""The Prefect UI as front end: headless Chromium opens a master run and finds its summary rendered.

Debian's Chromium (installed by scripts/install-test-tools.sh) is driven by Playwright against the
session's real Prefect server. With MFACTORY_UPDATE_SCREENSHOTS=1 the screenshot replaces the one
in the docs (docs/img/master-run-ui.png).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import sync_playwright

from mfactory.settings import PROJECT_ROOT
from tests.flows.test_master_discovery import SAMPLE_DEPENDENCIES, SAMPLE_INVENTORY, Engagement
from tests.ops.conftest import TERMINAL, PrefectServer

SCREENSHOT = PROJECT_ROOT / "docs" / "img" / "master-run-ui.png"


def test_master_run_page_shows_the_summary_artifact(
    deployed_server: PrefectServer, new_engagement: Callable[[], Engagement], tmp_path: Path
) -> None:
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is missing: run scripts/install-test-tools.sh"
    engagement = new_engagement()
    run_id = deployed_server.trigger(
        "master",
        {
            "client": engagement.client,
            "engagement": engagement.name,
            "inventory": str(SAMPLE_INVENTORY),
            "dependencies": [str(SAMPLE_DEPENDENCIES)],
        },
    )
    assert deployed_server.wait_for_state(run_id, TERMINAL)["state_type"] == "COMPLETED"
    ui = deployed_server.api.removesuffix("/api")
    shot = tmp_path / "master-run-ui.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{ui}/runs/flow-run/{run_id}", wait_until="networkidle")
        page.get_by_text("Artifacts", exact=True).first.click()
        page.get_by_text(f"master-summary-{str(engagement.tenant.engagement_id)[:8]}").first.click()
        heading = page.locator("h1", has_text=f"{engagement.client} / {engagement.name}")
        heading.wait_for(timeout=30_000)
        assert page.get_by_text(f"Master run {run_id}: completed").first.is_visible()
        assert [h.inner_text() for h in page.locator("h2").all()][:5] == [
            "discovery",
            "assessment",
            "planning",
            "execution",
            "modernization",
        ]
        page.screenshot(path=str(shot))
        browser.close()
    assert shot.stat().st_size > 10_000
    if os.environ.get("MFACTORY_UPDATE_SCREENSHOTS"):
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)
