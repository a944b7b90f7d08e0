"""A signed-in judge on the public pages: the cached page is everyone's, the header's
personal part (name, the way back, signing out) comes from /account/header."""

from playwright.sync_api import expect

from judging.leaderboard.cache import cache
from tests.browser.conftest import CHROMIUM  # noqa: F401 - skips without Chromium
from tests.browser.test_scoring import _contest


def test_a_signed_in_judge_sees_their_name_on_the_cached_public_page(live_server, browser):
    cache.clear()
    link, _stage = _contest()
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    try:
        # Anonymous first: the page is rendered and cached, with a sign-in link.
        page.goto(f"{live_server}/results/dalian-2020")
        expect(page.locator(".account")).to_contain_text("登录")
        cached = page.content()

        page.goto(live_server + link[link.index("/login/") :])
        page.get_by_role("button", name="登录并开始评分").click()
        page.wait_for_url(f"{live_server}/judge/")

        page.goto(f"{live_server}/results/dalian-2020")
        account = page.locator(".account")
        expect(account).to_contain_text("(评委)")
        expect(account.get_by_role("link", name="我的评分")).to_be_visible()
        assert "(评委)" not in cached and "我的评分" not in cached

        account.get_by_role("button", name="退出登录").click()
        page.goto(f"{live_server}/results/dalian-2020")
        expect(page.locator(".account")).to_contain_text("登录")
        expect(page.locator(".account")).not_to_contain_text("(评委)")
        assert "signed_in" not in {c["name"] for c in context.cookies()}
    finally:
        context.close()
