"""The data of bench/contest_day.py: the demo contest with its live final made a contest
day's, an entry put on stage, and the cookies of real visitors."""

from __future__ import annotations

from bench.common import ROOT, Client
from bench.crowd import sign_in

SLUG = "dalian-2020"
PAGE = f"/results/{SLUG}/prelim/angel"


def demo_passwords() -> dict[str, str]:
    """The demo's password of each role: the organizer's, the judges' (one for all)."""
    from judging.seed import demo_sign_ins

    return {role: password for role, _user, password, _name in demo_sign_ins(ROOT / "seed")}


def build(url: str) -> dict:
    """The demo contest with its live final made a contest day's; what the crowd needs."""
    import sqlalchemy as sa

    from judging import Config, create_app
    from judging.contests.models import Contest
    from judging.extensions import db
    from judging.judges.models import Assignment, Judge
    from judging.live.queries import stage_entries
    from judging.scoring.models import Score, ScoreSheet
    from judging.scoring.rubric import rubric_specs
    from judging.seed import load_demo
    from judging.standings.progress import needed_sheets

    config = Config()
    config.SQLALCHEMY_DATABASE_URI = url
    app = create_app(config)
    with app.app_context():
        db.create_all()
        load_demo(ROOT / "seed")
        db.session.commit()
        contest = db.session.scalar(sa.select(Contest).where(Contest.slug == SLUG))
        final = contest.stage("final")
        finalists = stage_entries(final)
        judges = list(db.session.scalars(sa.select(Judge).where(Judge.contest_id == contest.id)))
        sheets = sa.select(ScoreSheet.id).where(ScoreSheet.stage_id == final.id)
        db.session.execute(sa.delete(Score).where(Score.sheet_id.in_(sheets)))
        db.session.execute(sa.delete(ScoreSheet).where(ScoreSheet.stage_id == final.id))
        have = set(
            db.session.execute(
                sa.select(Assignment.judge_id, Assignment.entry_id).where(
                    Assignment.stage_id == final.id
                )
            ).all()
        )
        db.session.add_all(
            Assignment(stage_id=final.id, judge_id=j.id, entry_id=e.id)
            for j in judges
            for e in finalists
            if (j.id, e.id) not in have and j.organization != e.organization
        )
        db.session.flush()
        need = needed_sheets(Assignment.stage_id == final.id)
        pairs = {(j, e) for j, e in db.session.execute(sa.select(need.c.judge_id, need.c.entry_id))}
        criteria = {
            g.id: [(c.id, str(c.max_points), str(c.step)) for c in rubric_specs(final.id, g.id)]
            for g in contest.groups
        }
        db.session.commit()
        passwords = demo_passwords()
        plan = {
            "slug": SLUG,
            "final": final.id,
            "finalists": [(e.id, e.group_id) for e in finalists],
            "entry_groups": {e.id: e.group_id for e in finalists},
            "on_stage": finalists[0].id,
            "criteria": criteria,
            "judges": sorted((j.id, j.user.username) for j in judges),
            "pairs": pairs,
            "judge_password": passwords["judge"],
            "organizer_password": passwords["organizer"],
        }
        db.engine.dispose()
    return plan


def put_on_stage(organizer: Client, plan: dict) -> None:
    """Put the first entry of the running order on stage through the live control."""
    control = f"/contests/{SLUG}/live/final"
    token = organizer.csrf(control)
    form = {"csrf_token": token, "entry": str(plan["on_stage"])}
    status, _, _ = organizer.request("POST", f"{control}/on-stage", form)
    if status != 302:
        raise RuntimeError(f"putting an entry on stage answered {status}")


def visitors(host: str, port: int, plan: dict) -> dict[str, str]:
    """Cookie headers of real sessions: a judge and the organizer signed in, and a visitor
    who switched the language; each checked to be what it claims."""
    judge = sign_in(host, port, "judge02", plan["judge_password"])
    organizer = sign_in(host, port, "organizer", plan["organizer_password"])
    language = Client(host, port)
    token = language.csrf("/sign-in")
    status, _, _ = language.request(
        "POST", "/language", {"csrf_token": token, "lang": "en", "next": PAGE}
    )
    assert status == 302, f"language switch answered {status}"
    checks = [
        (judge, "/judge/", 200, None),
        (organizer, f"/contests/{SLUG}/live/final", 200, None),
        (language, PAGE, 200, '<html lang="en"'),
    ]
    for client, path, expected, marker in checks:
        status, text, _ = client.request("GET", path)
        assert status == expected, f"{path} with a visitor's cookie answered {status}"
        assert marker is None or marker in text, f"{path}: not in English"
    return {
        name: "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        for name, client in (("judge", judge), ("organizer", organizer), ("language", language))
    }
