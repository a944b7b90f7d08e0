"""The app under test in bench/contest_day.py: production's ``wsgi:app``, wrapped in the
same ``name_worker`` middleware as the bare hello (bench/bare_hello.py)."""

from bench.bare_hello import name_worker
from wsgi import app as production

app = name_worker(production)
