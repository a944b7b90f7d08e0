"""Drop and re-create the database named in a PostgreSQL URL, so a test run starts empty.

Usage: python -m tests.fresh_database postgresql+psycopg://postgres@127.0.0.1:5432/judging_test
"""

import sys

import sqlalchemy as sa


def recreate(url: str) -> None:
    """Drop the URL's database if it exists and create it again, empty."""
    target = sa.make_url(url)
    if not target.get_backend_name().startswith("postgresql"):
        raise SystemExit(f"not a PostgreSQL URL: {url}")
    name = target.database
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    print(f"fresh database {name}")


if __name__ == "__main__":
    recreate(sys.argv[1])
