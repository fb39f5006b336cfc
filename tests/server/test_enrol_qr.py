"""Enrolment by QR code (issue 10, item 2): the code page and a whole site's printable sheet
show a server-rendered SVG of the link that opens the phone app with the code filled in."""

from __future__ import annotations

import html
import re

import segno

from sync.client import enrol
from tests.support.world import World

FIGURE = re.compile(r'<figure class="qr"[^>]*data-link="([^"]+)">(<svg.*?</svg>)', re.S)
CODE = re.compile(r'<p class="code" data-test="code">([^<]+)</p>')


def _expected_svg(link: str, name: str) -> str:
    """The library's own SVG of exactly this link (no decoder is installed to read it back)."""
    title = f"{name} 的激活码二维码 · enrolment QR code"
    return segno.make(link, error="m").svg_inline(scale=1, omitsize=True, title=title, border=4, light="#fff")


def test_the_code_page_shows_a_qr_code_of_the_link_that_enrols(world: World) -> None:
    world.account("staff1", "staff")
    world.sign_in("staff1")

    answer = world.client.post("/township/people/zhangwei/code", data={"_csrf_token": world.csrf()})

    code = CODE.search(answer.text)[1]
    link, svg = FIGURE.search(answer.text).groups()
    link = html.unescape(link)
    assert link == f"{world.client.base_url}/#/enrol/{code}"
    assert html.unescape(svg) == html.unescape(_expected_svg(link, "张伟"))
    assert "<script" not in answer.text


def test_a_site_sheet_gives_each_worker_of_the_site_a_new_code_that_enrols(world: World) -> None:
    world.account("staff1", "staff")
    world.sign_in("staff1")

    answer = world.client.post("/township/sites/dongfeng/codes", data={"_csrf_token": world.csrf()})

    assert answer.status_code == 200
    cards = re.findall(r'<section class="code-card".*?</section>', answer.text, re.S)
    assert [re.search(r"<h2>(.*?)</h2>", c)[1] for c in cards] == ["张伟"]  # not 李娜 of 城南社区
    code = CODE.search(cards[0])[1]
    link, svg = FIGURE.search(cards[0]).groups()
    assert html.unescape(link).endswith(f"/#/enrol/{code}")
    assert html.unescape(svg) == html.unescape(_expected_svg(html.unescape(link), "张伟"))
    assert "@media print" in world.client.get("/township/static/dashboard.css").text
    assert enrol("", code, world.client)["person"]["id"] == "zhangwei"


def _form(world: World) -> dict:
    return {"_csrf_token": world.csrf()}


def test_a_sheet_for_a_site_out_of_scope_or_by_care_staff_is_refused(world: World) -> None:
    world.account("care1", "care")
    world.sign_in("care1")
    assert world.client.post("/township/sites/dongfeng/codes", data=_form(world)).status_code == 403

    world.account("staff1", "staff")
    world.sign_in("staff1")
    assert world.client.post("/township/sites/nowhere/codes", data=_form(world)).status_code == 403
