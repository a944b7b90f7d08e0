"""Excel at contest scale (issue 5): a 100,000-entry standings export, a 10,000-entry import.

Export. One contest of 100,000 entries in one group is generated into a SQLite file with
Core bulk inserts (5 submitted sheets per entry from 5 of 2,000 judges, 5 criteria in 0.5
steps, one closed stage under the default trimmed rule: 500,000 sheets, 2.5 million
points). Its standings are computed once through ``stage_result`` (``group_standings``,
as the results page does; reported as ``standings_s``, not part of the export). Then, on
the same data and alternating round by round, each the median of --rounds rounds:

1. export: the real path of the standings sheet, ``reports.standings_sheet`` over the
   cached ``stage_result`` (rank, code, title, organization, score, sheet count, dropped
   high, dropped low, tie notes in words, outcome) written by ``build_workbook`` — bold
   frozen header, fitted widths, 0.00 formats, CJK font, formula-safe text — to .xlsx
   bytes;
2. baseline: a bare openpyxl write-only loop, ``ws.append(row)`` for the same header and
   rows (built beforehand, untimed) and ``wb.save``; no styles.

Wall-clock and CPU times are both kept (CPU time is steadier on a shared machine): the
ratio of the wall-clock medians, the median of the round-by-round ratios (each round runs
the two back to back, so a slow spell of the machine hits both), and the ratio of the
CPU-time medians.

Import. A 10,000-entry registration sheet (a title row above the header, the SPEC's ten
columns with Chinese headers, phone numbers stored as numbers) is imported with
``import_workbook(kind="entries")`` and committed, into a fresh contest each round (SQLite
file). Baseline: openpyxl's own read-only ``iter_rows(values_only=True)`` over the file.

Memory: each of export, baseline and import runs again in a fresh subprocess, untimed,
twice: (a) the growth of the process's peak RSS (``VmHWM``, the counter ``ru_maxrss``
reports) across one call, the counter first reset to the current RSS through
/proc/self/clear_refs (otherwise it would still hold the standings computation's peak); the
whole process, C allocations included, but memory the process already holds (freed by the
standings computation) is reused without growing it; (b) the peak of Python's own
allocations across a second call, by tracemalloc (C buffers of zlib and the database driver
not counted). Both are reported; the target applies to each.

    .venv/bin/python bench/excel.py [--entries 100000] [--import-entries 10000] [--rounds 5]

Results: a few lines on stdout and bench/results/excel.json.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from functools import partial
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, fresh_database, median  # noqa: E402

JUDGES = 2_000
SHEETS_PER_ENTRY = 5
RUBRIC = [
    ("技术与产品", 30),
    ("商业模式", 20),
    ("行业与市场", 20),
    ("团队", 20),
    ("财务与融资", 10),
]
STAMP = "2024-05-01 08:00:00.000000"
TARGET_RATIO, TARGET_MIB, TARGET_IMPORT_S = 1.3, 150, 10.0
TITLES = [
    "智能巡检机器人",
    "海洋微塑料快速检测",
    "复合热塑性弹性体",
    "城市客流预测平台",
    "柔性储能材料",
]
SCHOOLS = ["大连理工大学", "大连海事大学", "辽宁师范大学", "大连海洋大学", "东北财经大学"]


def make_app(url: str):
    """A judging app bound to the bench database."""
    from judging import Config, create_app

    config = Config()
    config.SQLALCHEMY_DATABASE_URI = url
    return create_app(config)


# ------------------------------------------------------------------ the export contest


def generate(url: str, entries: int, seed: int = 5) -> dict:
    """Create the schema and a contest of this many entries; return its stage and group ids."""
    from judging.common.enums import AggregationRule, StageState
    from judging.contests.models import Contest, Criterion, Group, Stage
    from judging.extensions import db

    app = make_app(url)
    rng = random.Random(seed)
    with app.app_context():
        db.create_all()
        contest = Contest(slug="bench-excel", name="Excel bench", year=2024)
        stage = Stage(
            contest=contest,
            position=1,
            code="online",
            name="网评",
            state=StageState.CLOSED,
            rule=AggregationRule.TRIMMED,
        )
        group = Group(contest=contest, code="angel", name="天使组", position=1)
        criteria = [
            Criterion(
                stage=stage,
                group=group,
                position=n,
                name=name,
                max_points=Decimal(top),
                step=Decimal("0.5"),
            )
            for n, (name, top) in enumerate(RUBRIC, 1)
        ]
        db.session.add_all([contest, stage, group, *criteria])
        db.session.commit()
        ids = {"contest": contest.id, "stage": stage.id, "group": group.id}
        criterion_ids = [c.id for c in criteria]
        db.session.close()
        dbapi = db.engine.raw_connection()
        try:
            cur = dbapi.cursor()
            cur.execute("PRAGMA cache_size = -262144")
            cur.execute("BEGIN")  # one transaction (the app's connections autocommit otherwise)

            def insert(table: str, columns: tuple[str, ...], rows) -> None:
                marks = ", ".join("?" * len(columns))
                sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
                cur.executemany(sql, rows)

            insert(
                "users",
                ("id", "username", "display_name", "role", "is_enabled", "created_at"),
                ((j, f"judge{j:05d}", "", "judge", 1, STAMP) for j in range(1, JUDGES + 1)),
            )
            insert(
                "judges",
                ("id", "contest_id", "user_id", "name", "title", "organization", "email"),
                ((j, ids["contest"], j, f"评委{j:05d}", "", "", "") for j in range(1, JUDGES + 1)),
            )
            insert(
                "entries",
                (
                    "id",
                    "contest_id",
                    "code",
                    "title",
                    "group_id",
                    "organization",
                    "leader",
                    "is_student_team",
                    "phone",
                    "email",
                    "summary",
                    "status",
                    "created_at",
                ),
                (
                    (
                        e,
                        ids["contest"],
                        f"A-{e:06d}",
                        f"{TITLES[e % len(TITLES)]}{e}",
                        ids["group"],
                        SCHOOLS[e % len(SCHOOLS)],
                        "张三",
                        e % 3 == 0,
                        f"138{e:08d}",
                        f"a{e}@example.com",
                        "",
                        "registered",
                        STAMP,
                    )
                    for e in range(1, entries + 1)
                ),
            )
            panels = [rng.sample(range(1, JUDGES + 1), SHEETS_PER_ENTRY) for _ in range(entries)]

            def sheets():
                sheet_id = 0
                for entry_id, panel in enumerate(panels, 1):
                    for judge_id in panel:
                        sheet_id += 1
                        yield sheet_id, entry_id, judge_id

            insert(
                "assignments",
                ("id", "stage_id", "judge_id", "entry_id", "created_at"),
                ((s, ids["stage"], j, e, STAMP) for s, e, j in sheets()),
            )
            insert(
                "score_sheets",
                (
                    "id",
                    "stage_id",
                    "judge_id",
                    "entry_id",
                    "state",
                    "comment",
                    "version",
                    "created_at",
                    "updated_at",
                    "submitted_at",
                ),
                (
                    (s, ids["stage"], j, e, "submitted", "", 1, STAMP, STAMP, STAMP)
                    for s, e, j in sheets()
                ),
            )
            steps = [[k / 2 for k in range(top, 2 * top + 1)] for _, top in RUBRIC]

            def scores():
                score_id = 0
                for sheet_id, _, _ in sheets():
                    for criterion_id, values in zip(criterion_ids, steps, strict=True):
                        score_id += 1
                        yield score_id, sheet_id, criterion_id, rng.choice(values)

            insert("scores", ("id", "sheet_id", "criterion_id", "points"), scores())
            cur.execute("COMMIT")
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            dbapi.close()
        db.engine.dispose()
    return ids


def load(ids: dict):
    """The stage and group, read in the current app context."""
    from judging.contests.models import Group, Stage
    from judging.extensions import db

    return db.session.get(Stage, ids["stage"]), db.session.get(Group, ids["group"])


def export_standings(stage, group) -> bytes:
    """The real path: the standings sheet of (stage, group) from the cached standings."""
    from judging.awards.queries import stage_result
    from judging.exports import reports
    from judging.exports.workbook import build_workbook

    result = stage_result(stage)
    g = next(g for g in result.groups if g.group.id == group.id)
    return build_workbook([reports.standings_sheet(result, g, public=False)])


def standings_rows(stage, group) -> tuple[list, list]:
    """The header and the same rows as plain values, for the bare loop."""
    from judging.awards.queries import stage_result
    from judging.exports import reports
    from judging.exports.workbook import Styled

    result = stage_result(stage)
    g = next(g for g in result.groups if g.group.id == group.id)
    sheet = reports.standings_sheet(result, g, public=False)
    rows = [[v.value if type(v) is Styled else v for v in row] for row in sheet.rows]
    return list(sheet.header), rows


def bare_loop(header: list, rows: list) -> bytes:
    """openpyxl's write-only loop, nothing else."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("standings")
    ws.append(header)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ------------------------------------------------------------------ the import file


def registration_file(entries: int, seed: int = 6) -> bytes:
    """A registration sheet of this many entries, as organizers get them."""
    from openpyxl import Workbook

    rng = random.Random(seed)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("报名表")
    ws.append(["2024年创新创业大赛报名汇总"])
    ws.append(
        [
            "编号",
            "项目名称",
            "组别",
            "领域",
            "单位",
            "负责人",
            "学生团队",
            "联系电话",
            "邮箱",
            "简介",
        ]
    )
    for n in range(1, entries + 1):
        ws.append(
            [
                f"A-{n:05d}",
                f"{rng.choice(TITLES)}{n}",
                rng.choice(["天使组", "成长组"]),
                rng.choice(["物联网", "大数据", "新材料", "生物技术"]),
                rng.choice(SCHOOLS),
                "张三",
                rng.choice(["是", "否"]),
                13_800_000_000 + n,
                f"a{n}@example.com",
                "项目简介：面向产业的关键技术攻关与成果转化，团队具备完整的研发与市场能力。",
            ]
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def import_contest(slug: str):
    """A fresh contest with the registration sheet's groups and fields."""
    from judging.contests.models import Contest, Field, Group
    from judging.extensions import db

    contest = Contest(slug=slug, name=slug, year=2024)
    db.session.add(contest)
    db.session.add_all(
        [
            Group(contest=contest, code=c, name=n, position=p)
            for p, (c, n) in enumerate([("angel", "天使组"), ("growth", "成长组")], 1)
        ]
    )
    db.session.add_all(
        [
            Field(contest=contest, name=n, position=p)
            for p, n in enumerate(["物联网", "大数据", "新材料", "生物技术"], 1)
        ]
    )
    db.session.commit()
    return contest


def run_import(data: bytes, slug: str) -> tuple[float, int]:
    """Seconds to import the file into a fresh contest and commit; entries created."""
    from judging.extensions import db
    from judging.imports.service import import_workbook

    contest = import_contest(slug)
    started = time.perf_counter()
    result = import_workbook(data=data, kind="entries", contest=contest, filename="bench.xlsx")
    db.session.commit()
    return time.perf_counter() - started, result.created.get("entries", 0)


def read_baseline(data: bytes) -> tuple[float, int]:
    """Seconds for openpyxl's read-only mode to go through every row of the file."""
    from openpyxl import load_workbook

    started = time.perf_counter()
    wb = load_workbook(io.BytesIO(data), read_only=True)
    count = sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    return time.perf_counter() - started, count


# ------------------------------------------------------------------ memory


def _status(field: str) -> int:
    """A /proc/self/status figure in KiB (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _reset_peak() -> int:
    """Reset the peak RSS to the current RSS; return the current RSS in KiB."""
    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:  # not Linux, or not allowed: the growth then includes earlier peaks
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return _status("VmRSS")


def _peak() -> int:
    try:
        return _status("VmHWM")
    except (OSError, KeyError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def memory_child(what: str, url: str, ids_json: str, data_path: str) -> None:
    """(In a fresh process) print the peak memory of one call of what, in MiB: the peak RSS
    growth across it, and the peak of Python's allocations (tracemalloc) across a second,
    separate call."""
    import tracemalloc

    from flask_babel import force_locale

    from judging.extensions import db

    app = make_app(url)
    ids = json.loads(ids_json)
    with app.app_context(), force_locale("zh_CN"):
        if what == "import":
            from judging.imports.service import import_workbook

            data = Path(data_path).read_bytes()

            def call(n=iter(range(2))):
                contest = import_contest(f"bench-import-memory-{next(n)}")
                import_workbook(data=data, kind="entries", contest=contest)
                db.session.commit()

        else:
            stage, group = load(ids)
            header, rows = standings_rows(stage, group)  # also warms the standings cache
            if what == "export":
                del header, rows

                def call():
                    export_standings(stage, group)

            else:

                def call():
                    bare_loop(header, rows)

        before = _reset_peak()
        call()
        after = _peak()
        gc.collect()
        tracemalloc.start()
        call()
        python_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    print(json.dumps({"peak_mib": (after - before) / 1024, "python_peak_mib": python_peak / 2**20}))


def peak_memory(what: str, url: str, ids: dict, data_path: Path) -> dict:
    """Peak memory in MiB of export, baseline or import, measured in a fresh subprocess."""
    cmd = [sys.executable, __file__, "--memory-child", what, url, json.dumps(ids), str(data_path)]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


# ------------------------------------------------------------------ main


def main() -> int:
    """Run the benchmark and print the medians."""
    if len(sys.argv) > 1 and sys.argv[1] == "--memory-child":
        memory_child(*sys.argv[2:6])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--import-entries", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from flask_babel import force_locale

    from judging.extensions import db
    from judging.standings.groups import clear_cache

    results: dict = {
        "meta": {
            "python": platform.python_version(),
            "sqlalchemy": sa.__version__,
            "openpyxl": __import__("openpyxl").__version__,
            "rounds": args.rounds,
            "targets": {
                "export_ratio": TARGET_RATIO,
                "export_peak_mib": TARGET_MIB,
                "import_s": TARGET_IMPORT_S,
            },
            "memory_method": "fresh subprocess: peak RSS (VmHWM) growth across one call, the "
            "peak first reset to the current RSS via /proc/self/clear_refs; and tracemalloc's "
            "peak across a second, separate call",
        }
    }
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        url = fresh_database("sqlite", tmp_path, "bench_excel")
        started = time.perf_counter()
        ids = generate(url, args.entries)
        generated = time.perf_counter() - started
        app = make_app(url)
        with app.app_context(), force_locale("zh_CN"):
            stage, group = load(ids)
            clear_cache()
            started = time.perf_counter()
            header, rows = standings_rows(stage, group)
            standings_s = time.perf_counter() - started
            export_bytes = export_standings(stage, group)  # warm-up, and a check
            baseline_bytes = bare_loop(header, rows)
            assert len(rows) == args.entries
            exports, baselines, export_cpu, baseline_cpu = [], [], [], []
            for _ in range(args.rounds):
                for call, wall, cpu in (
                    (partial(export_standings, stage, group), exports, export_cpu),
                    (partial(bare_loop, header, rows), baselines, baseline_cpu),
                ):
                    gc.collect()
                    started, started_cpu = time.perf_counter(), time.process_time()
                    call()
                    wall.append(time.perf_counter() - started)
                    cpu.append(time.process_time() - started_cpu)
            tied = sum(1 for row in rows if row[8])
            del header, rows
            db.session.close()
        db_path = Path(url.removeprefix("sqlite:///"))
        results["export"] = {
            "entries": args.entries,
            "tied_rows": tied,
            "database": "sqlite",
            "generate_s": generated,
            "db_mib": db_path.stat().st_size / 2**20,
            "standings_s": standings_s,
            "export_s": median(exports),
            "baseline_s": median(baselines),
            "ratio": median(exports) / median(baselines),
            "export_cpu_s": median(export_cpu),
            "baseline_cpu_s": median(baseline_cpu),
            "cpu_ratio": median(export_cpu) / median(baseline_cpu),
            "paired_ratio": median([a / b for a, b in zip(exports, baselines, strict=True)]),
            "export_all_s": exports,
            "baseline_all_s": baselines,
            "export_bytes": len(export_bytes),
            "baseline_bytes": len(baseline_bytes),
        }
        file_path = tmp_path / "registration.xlsx"
        data = registration_file(args.import_entries)
        file_path.write_bytes(data)
        for what, key in (("export", "peak"), ("baseline", "baseline_peak")):
            memory = peak_memory(what, url, ids, file_path)
            results["export"][f"{key}_mib"] = memory["peak_mib"]
            results["export"][f"{key}_python_mib"] = memory["python_peak_mib"]
        e = results["export"]
        print(
            f"export   {e['entries']:>7} standings rows ({e['tied_rows']} with tie notes): "
            f"{e['export_s']:.2f} s | bare openpyxl loop {e['baseline_s']:.2f} s | "
            f"ratio {e['ratio']:.2f} (target {TARGET_RATIO}; round by round "
            f"{e['paired_ratio']:.2f}; CPU time {e['export_cpu_s']:.2f} s / "
            f"{e['baseline_cpu_s']:.2f} s = {e['cpu_ratio']:.2f}) | "
            f"peak +{e['peak_mib']:.0f} MiB RSS, {e['peak_python_mib']:.0f} MiB Python "
            f"(loop +{e['baseline_peak_mib']:.0f}, {e['baseline_peak_python_mib']:.0f}; "
            f"target {TARGET_MIB}) | standings computed "
            f"once in {e['standings_s']:.1f} s | contest generated in {e['generate_s']:.0f} s",
            flush=True,
        )

        with app.app_context(), force_locale("zh_CN"):
            run_import(data, "bench-import-warmup")
            imports, reads = [], []
            for n in range(args.rounds):
                seconds, created = run_import(data, f"bench-import-{n}")
                assert created == args.import_entries, created
                imports.append(seconds)
                reads.append(read_baseline(data)[0])
        results["import"] = {
            "entries": args.import_entries,
            "file_bytes": len(data),
            "import_s": median(imports),
            "read_only_baseline_s": median(reads),
            "ratio": median(imports) / median(reads),
            "import_all_s": imports,
            "baseline_all_s": reads,
        }
        memory = peak_memory("import", url, ids, file_path)
        results["import"]["peak_mib"] = memory["peak_mib"]
        results["import"]["peak_python_mib"] = memory["python_peak_mib"]
        i = results["import"]
        print(
            f"import   {i['entries']:>7} entries ({i['file_bytes'] / 1024:.0f} KiB): "
            f"{i['import_s']:.2f} s (target {TARGET_IMPORT_S:.0f} s) | openpyxl read-only "
            f"iter_rows {i['read_only_baseline_s']:.2f} s | ratio {i['ratio']:.2f} | "
            f"peak +{i['peak_mib']:.0f} MiB RSS, {i['peak_python_mib']:.0f} MiB Python "
            f"(median of {args.rounds})",
            flush=True,
        )
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "excel.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
