"""The Excel page: organizers only, uploads that import all or nothing (with the problem
table on the page), downloads, and the public standings of a published stage."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa

from judging.common.enums import StageState
from judging.entries.models import Entry
from judging.extensions import db
from tests.conftest import csrf_token
from tests.exports.conftest import counts, read, xlsx
from tests.fixtures.excel.make_bad_files import BASE, SLUG, base_contest

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE = f"/contests/{SLUG}/excel"


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _upload(client, url: str, data: bytes, prefix: str, **fields):
    form = {
        "csrf_token": csrf_token(client, PAGE if "/contests/" in url else "/excel/import"),
        f"{prefix}-file": (io.BytesIO(data), "upload.xlsx"),
        **{f"{prefix}-{k}": v for k, v in fields.items()},
    }
    return client.post(url, data=form, content_type="multipart/form-data")


def test_the_page_is_for_organizers_only(base, organizer_client, judge_client, client):
    assert PAGE in organizer_client.get(f"/contests/{SLUG}").get_data(as_text=True)
    response = organizer_client.get(PAGE)
    assert response.status_code == 200
    text = _text(response)
    assert "upload.xlsx" not in text
    for url in (
        f"/contests/{SLUG}/export.xlsx",
        f"/contests/{SLUG}/stages/prelim/export.xlsx",
        f"/contests/{SLUG}/stages/final/scores-template.xlsx",
        "/excel/templates/entries.xlsx",
    ):
        assert url in response.get_data(as_text=True)
    assert judge_client.get(PAGE).status_code == 404
    assert judge_client.get(f"/contests/{SLUG}/export.xlsx").status_code == 404
    assert client.get(PAGE).status_code in (302, 401)
    assert client.get(f"/contests/{SLUG}/export.xlsx").status_code in (302, 401)
    assert organizer_client.get("/contests/nope/excel").status_code == 404
    assert organizer_client.get(f"/contests/{SLUG}/stages/nope/export.xlsx").status_code == 404
    assert organizer_client.get("/excel/templates/nope.xlsx").status_code == 404


def test_uploading_entries_imports_them(base, organizer_client):
    data = xlsx({"项目": [BASE["项目"][0], ["A-020", "新项目", "天使组", None, None, "是", None]]})
    response = _upload(organizer_client, f"{PAGE}/import/entries", data, "entries")
    assert response.status_code == 302 and response.location.endswith(PAGE)
    assert db.session.scalar(sa.select(Entry.title).where(Entry.code == "A-020")) == "新项目"
    # The same file again: a success that changes nothing.
    before = counts()
    response = _upload(organizer_client, f"{PAGE}/import/entries", data, "entries")
    assert response.status_code == 302
    assert counts() == before


def test_a_bad_upload_shows_the_problem_table_and_writes_nothing(base, organizer_client):
    before = counts()
    data = xlsx(
        {
            "项目": [
                BASE["项目"][0],
                ["A-021", "甲", "天使组"],
                ["A-022", "乙", "老年组"],
                ["A-021", "丙", "angel"],
            ]
        }
    )
    response = _upload(organizer_client, f"{PAGE}/import/entries", data, "entries")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    rows = re.findall(r"<tr><td>(.*?)</td><td class=\"num\">(\d*)</td><td>(.*?)</td>", html)
    assert ("项目", "3", "C 组别") in rows
    assert ("项目", "4", "A 编号") in rows
    assert "老年组" in html
    assert counts() == before


def test_an_untouched_template_is_refused_on_the_pages_even_for_a_dry_run(base, organizer_client):
    before = counts()
    for kind, url in (
        ("contest", "/excel/import"),
        ("contest", f"{PAGE}/import/contest"),
        ("entries", f"{PAGE}/import/entries"),
        ("judges", f"{PAGE}/import/judges"),
        ("scores", f"{PAGE}/import/scores"),
    ):
        template = organizer_client.get(f"/excel/templates/{kind}.xlsx").data
        for dry_run in ({}, {"dry_run": "y"}):
            fields = {"stage": "prelim"} if kind == "scores" else {}
            response = _upload(organizer_client, url, template, kind, **fields, **dry_run)
            assert response.status_code == 422, (url, dry_run)
            html = response.get_data(as_text=True)
            rows = re.findall(r"<tr><td>(.*?)</td><td class=\"num\">(\d*)</td><td>(.*?)</td>", html)
            assert rows and {place for _, _, place in rows} == {"A 示例行"}, (url, rows)
            assert "This is an example row" in html or "这是模板中的示例行" in html
    assert counts() == before


def test_a_hostile_upload_is_refused_on_the_page(base, organizer_client, bad_files):
    before = counts()
    data = bad_files["zip_bomb.xlsx"].read_bytes()
    response = _upload(organizer_client, f"{PAGE}/import/entries", data, "entries")
    assert response.status_code == 422
    assert counts() == before


def test_uploads_need_the_csrf_token(base, organizer_client):
    data = {"entries-file": (io.BytesIO(base_contest()), "x.xlsx")}
    response = organizer_client.post(
        f"{PAGE}/import/entries", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 400


def test_paper_scores_for_a_chosen_stage(base, organizer_client):
    data = xlsx({"评分": [["评委", "编号", "路演"], ["zhang", "A-001", 77]]})
    response = _upload(organizer_client, f"{PAGE}/import/scores", data, "scores", stage="final")
    assert response.status_code == 302
    final = base.stage("final")
    from judging.scoring.models import ScoreSheet

    assert db.session.scalar(sa.select(sa.func.count()).where(ScoreSheet.stage_id == final.id)) == 1


def test_a_new_contest_from_a_workbook(organizer_client):
    assert organizer_client.get("/excel/import").status_code == 200
    response = _upload(organizer_client, "/excel/import", base_contest(), "contest")
    assert response.status_code == 302 and response.location.endswith(f"/contests/{SLUG}")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Entry)) == 3


def test_a_dry_run_on_the_page_writes_nothing(organizer_client):
    response = _upload(organizer_client, "/excel/import", base_contest(), "contest", dry_run="y")
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Entry)) == 0


def test_downloads(base, organizer_client):
    response = organizer_client.get(f"/contests/{SLUG}/export.xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    assert "attachment" in response.headers["Content-Disposition"]
    assert len(read(response.data).sheetnames) > 12
    response = organizer_client.get(f"/contests/{SLUG}/stages/prelim/export.xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    for kind in ("contest", "entries", "judges", "scores"):
        response = organizer_client.get(f"/excel/templates/{kind}.xlsx")
        assert response.status_code == 200 and response.mimetype == XLSX
    response = organizer_client.get(f"/contests/{SLUG}/stages/prelim/scores-template.xlsx")
    assert response.status_code == 200
    # Taking the contact data out is recorded.
    from judging.common.audit import AuditEvent

    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.action == "excel_export")
    ).all()
    assert len(actions) == 2


def test_public_standings_only_for_a_published_stage(base, client):
    url = f"/results/{SLUG}/prelim.xlsx"
    assert client.get(url).status_code == 404
    base.stage("prelim").state = StageState.PUBLISHED
    db.session.commit()
    # a contest made by an import is a draft until the organizer makes it public
    assert not base.is_public and client.get(url).status_code == 404
    base.is_public = True
    db.session.commit()
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == XLSX
    assert client.get(f"/results/{SLUG}/final.xlsx").status_code == 404
