"""The application class: Flask, with ``ensure_sync`` asked once per function."""

from __future__ import annotations

import inspect

from judging import App


def test_ensure_sync_asks_once_per_function_and_answers_as_flask(monkeypatch):
    app = App(__name__)
    asked = []
    real = inspect.iscoroutinefunction

    def counting(func):
        asked.append(func)
        return real(func)

    monkeypatch.setattr("flask.app.iscoroutinefunction", counting)

    def hook():
        return "plain"

    assert app.ensure_sync(hook) is hook
    assert app.ensure_sync(hook) is hook
    assert asked == [hook], "the second answer is remembered"


def test_ensure_sync_takes_callables_it_cannot_remember():
    class Unhashable:
        __hash__ = None

        def __call__(self):
            return "called"

    app = App(__name__)
    target = Unhashable()
    assert app.ensure_sync(target) is target
    assert app.ensure_sync(target)() == "called"


def test_ensure_sync_remembers_a_bounded_number_of_functions():
    app = App(__name__)
    app.SYNC_CACHE_SIZE = 3
    functions = [lambda n=n: n for n in range(10)]
    for func in functions:
        assert app.ensure_sync(func) is func
    assert len(app._sync) == 3
