"""A stage's assignment from the database and `flask assign` (judging/scoring/assigning.py)."""

from __future__ import annotations

import sqlalchemy as sa

from judging.common.audit import AuditEvent, verify_chain
from judging.common.enums import EntryStatus, StageState
from judging.entries.models import Participation
from judging.extensions import db
from judging.judges.models import Assignment
from judging.scoring.assigning import apply_plan, plan_assignment
from tests.conftest import (
    create_assignment,
    create_conflict,
    create_contest,
    create_entry,
    create_field,
    create_group,
    create_judge,
    create_sheet,
    create_stage,
)


def _contest(entries=6, judges=4, per_entry=2):
    contest = create_contest("asg")
    angel = create_group(contest)
    growth = create_group(contest, "growth", "成长组", position=1)
    iot, bio = create_field(contest, "物联网"), create_field(contest, "生物")
    prelim = create_stage(contest, "prelim", state=StageState.DRAFT, judges_per_entry=per_entry)
    final = create_stage(contest, "final", state=StageState.DRAFT, judges_per_entry=per_entry)
    es = [
        create_entry(
            contest, angel if i % 2 else growth, f"A{i:02d}", field_id=(iot if i % 3 else bio).id
        )
        for i in range(entries)
    ]
    js = [create_judge(contest, name=f"J{i}") for i in range(judges)]
    js[0].expertise.append(iot)
    js[1].expertise.append(bio)
    db.session.flush()
    return contest, prelim, final, es, js


def _pairs(stage):
    return set(
        db.session.execute(
            sa.select(Assignment.entry_id, Assignment.judge_id).where(
                Assignment.stage_id == stage.id
            )
        ).all()
    )


def test_first_stage_covers_every_registered_entry(app):
    _contest_, prelim, _final, es, js = _contest()
    es[5].status = EntryStatus.WITHDRAWN
    create_conflict(js[0], es[1])
    plan = plan_assignment(prelim)
    apply_plan(prelim, plan)
    pairs = _pairs(prelim)
    assert {e for e, _j in pairs} == {e.id for e in es[:5]}
    assert all(sum(1 for e, _j in pairs if e == x.id) == 2 for x in es[:5])
    assert (es[1].id, js[0].id) not in pairs
    loads = [sum(1 for _e, j in pairs if j == x.id) for x in js]
    assert max(loads) - min(loads) <= 1
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "assignment_save")
    ).one()
    assert event.new["added"] == 10 and event.new["expertise_matches"] == plan.proposal.matches
    assert verify_chain(prelim.contest_id).ok


def test_later_stage_covers_its_advanced_entries(app):
    _c, _prelim, final, es, _js = _contest()
    for entry in es[:3]:
        db.session.add(Participation(stage_id=final.id, entry_id=entry.id, source="advanced"))
    db.session.flush()
    apply_plan(final, plan_assignment(final))
    assert {e for e, _j in _pairs(final)} == {e.id for e in es[:3]}


def test_incremental_keeps_every_assignment_and_fills_the_rest(app):
    _c, prelim, _f, es, js = _contest()
    create_assignment(prelim, js[3], es[0])
    create_assignment(prelim, js[3], es[1])
    plan = plan_assignment(prelim)
    assert plan.remove == ()
    apply_plan(prelim, plan)
    pairs = _pairs(prelim)
    assert {(es[0].id, js[3].id), (es[1].id, js[3].id)} <= pairs
    assert len(pairs) == 12


def test_fresh_plan_keeps_assignments_with_a_sheet(app):
    _c, prelim, _f, es, js = _contest(entries=4, judges=4, per_entry=1)
    for entry in es:
        create_assignment(prelim, js[0], entry)
    create_sheet(prelim, js[0], es[0], submitted=False)
    plan = plan_assignment(prelim, keep=False)
    apply_plan(prelim, plan)
    pairs = _pairs(prelim)
    assert (es[0].id, js[0].id) in pairs  # has a sheet: kept
    assert sorted(sum(1 for _e, j in pairs if j == x.id) for x in js) == [1, 1, 1, 1]


def test_cli_dry_run_changes_nothing_and_infeasible_exits_1(app, runner):
    _c, prelim, _f, es, js = _contest(entries=2, judges=2, per_entry=2)
    create_conflict(js[1], es[0])
    db.session.commit()
    result = runner.invoke(args=["assign", "--contest", "asg", "--stage", "prelim"])
    assert result.exit_code == 1
    assert "A00: 1 eligible judges for 2 places" in result.output
    assert _pairs(prelim) == set()


def test_cli_assigns(app, runner):
    _c, prelim, _f, _es, _js = _contest()
    db.session.commit()
    dry = runner.invoke(args=["assign", "--contest", "asg", "--stage", "prelim", "--dry-run"])
    assert dry.exit_code == 0 and "+12 new" in dry.output and "3–3" in dry.output
    assert _pairs(prelim) == set()
    done = runner.invoke(args=["assign", "--contest", "asg", "--stage", "prelim"])
    assert done.exit_code == 0, done.output
    db.session.expire_all()
    assert len(_pairs(prelim)) == 12
    again = runner.invoke(args=["assign", "--contest", "asg", "--stage", "prelim", "--dry-run"])
    assert "+0 new" in again.output


# ------------------------------------------------------------------ the organizer's page


def _grid_form(client, url):
    import re

    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    checked = re.findall(r'name="pair" value="(\d+-\d+)"[^>]*checked', html)
    hidden = re.findall(r'type="hidden" name="pair" value="(\d+-\d+)"', html)
    return html, token, checked + hidden


def test_page_proposes_and_saves(organizer_client):
    _c, prelim, _f, es, js = _contest()
    db.session.commit()
    url = "/contests/asg/stages/prelim/assignment"
    html, token, cells = _grid_form(organizer_client, url)
    assert "Load per judge" in html or "评委工作量" in html
    assert len(cells) == 12
    answer = organizer_client.post(url, data={"csrf_token": token, "pair": cells})
    assert answer.status_code == 302
    db.session.expire_all()
    assert len(_pairs(prelim)) == 12


def test_page_refuses_a_broken_grid_and_writes_nothing(organizer_client):
    _c, prelim, _f, es, js = _contest()
    create_conflict(js[0], es[0])
    db.session.commit()
    url = "/contests/asg/stages/prelim/assignment"
    _html, token, cells = _grid_form(organizer_client, url)
    bad = [c for c in cells if not c.startswith(f"{es[1].id}-")]  # A01 loses its judges
    bad.append(f"{es[0].id}-{js[0].id}")  # a conflicted pair
    bad.append("x-1")
    answer = organizer_client.post(url, data={"csrf_token": token, "pair": bad})
    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    assert "A01" in text and "A00" in text
    assert _pairs(prelim) == set()


def test_page_without_csrf_is_refused(organizer_client):
    _contest()
    db.session.commit()
    answer = organizer_client.post("/contests/asg/stages/prelim/assignment", data={"pair": []})
    assert answer.status_code == 400


def test_page_is_for_organizers(judge_client):
    _contest()
    db.session.commit()
    answer = judge_client.get("/contests/asg/stages/prelim/assignment")
    assert answer.status_code in (403, 404)


def test_judges_on_a_panel_get_only_their_groups_entries(app):
    """Two judges sit on the angel panel, two on every panel: angel entries may go to any
    of the four, growth entries only to the two without a panel."""
    contest, prelim, _final, es, js = _contest(entries=6, judges=4, per_entry=2)
    angel = contest.group("angel")
    js[0].panel_group_id = js[1].panel_group_id = angel.id
    db.session.flush()
    plan = plan_assignment(prelim)
    assert plan.proposal.feasible
    apply_plan(prelim, plan)
    on_panel = {js[0].id, js[1].id}
    for entry_id, judge_id in _pairs(prelim):
        entry = next(e for e in es if e.id == entry_id)
        if judge_id in on_panel:
            assert entry.group_id == angel.id, (entry.code, judge_id)
    growth = [e for e in es if e.group_id != angel.id]
    assert {(e.id, j.id) for e in growth for j in js[2:]} <= _pairs(prelim)
