"""The deployment's settings (GET /api/config) reach the phone and stay there for offline use.

The session's server is shared by every test, so instead of changing its settings this test
changes the answer on its way to one phone (the server side has its own tests).
"""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page

from tests.browser.phone_support import (
    approve_shift,
    config_with,
    enrol,
    go_offline,
    new_worker,
    now_ms,
    reload_offline,
    save,
    site_of,
    wait_config,
    wait_controlled,
    wait_synced,
    zone_with_month_begun,
)
from tests.support.server_process import ServerProcess

HOUR = 3_600_000
SETTINGS = {
    "rest": {"max_shift_hours": 2, "min_rest_hours": 9, "max_days_without_rest": 6},
    "rates": {"day": 18, "night": 25, "on_call": 12},
    "items": [
        {"id": "mask", "zh": "医用外科口罩", "en": "Surgical masks", "unit": "个"},
        {"id": "soap", "zh": "肥皂", "en": "Soap", "unit": "块"},
    ],
}


def test_the_deployments_rules_rates_and_items_are_used_and_kept_offline(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    page = new_phone()
    # The approved shift must fall in this month in the deployment's zone, whatever the hour.
    page.context.route("**/api/config", config_with(**SETTINGS, timezone=zone_with_month_begun(15)))
    enrol(page, server, new_worker(server, site="测试村"))
    wait_controlled(page)
    wait_config(page)
    site, now = site_of(page), now_ms()
    done = save(
        page, "shift", {"site": site, "post": "东门卡口", "start": now - 14 * HOUR, "end": now - 12 * HOUR}
    )  # then 9 hours' rest: not too short
    save(page, "shift", {"site": site, "post": "东门卡口", "start": now - 3 * HOUR, "kind": "night"})
    page.evaluate("window.nuanxin.syncNow()")
    wait_synced(page)
    approve_shift(server, done)
    page.evaluate("window.nuanxin.syncNow()")

    # On duty 3 hours: over this deployment's 2; 2 approved day hours at ¥18.
    page.wait_for_selector("[data-test=subsidy-amount]:has-text('¥36.00')")
    assert page.get_attribute("[data-test=rest-status]", "data-rest") == "long"
    assert "超过 2 小时了" in page.text_content("[data-test=rest-status]")

    def supplies_screen() -> tuple[list[str], list[str]]:
        page.click("[data-test=nav-supplies]")
        page.wait_for_selector("[data-test=supply-submit]")
        chips = page.eval_on_selector_all(
            "form:has([data-test=supply-submit]) fieldset.items label", "ls => ls.map(l => l.textContent)"
        )
        sites = page.eval_on_selector_all(
            "[data-test=supply-to-site] option", "os => os.map(o => o.textContent)"
        )
        return chips, sites

    chips, sites = supplies_screen()
    assert chips == ["医用外科口罩", "肥皂"]
    assert "东风村" in sites and "城南社区" in sites and "测试村" not in sites  # the township's other sites

    go_offline(page)
    reload_offline(page)
    assert supplies_screen() == (chips, sites)
    page.click("[data-test=nav-shifts]")
    page.wait_for_selector("[data-test=rest-status][data-rest=long]")
    assert "超过 2 小时了" in page.text_content("[data-test=rest-status]")
