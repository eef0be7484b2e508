"""A spy for tests: records each call of a module's function (and what it returned) while the test runs."""

from __future__ import annotations


def record_calls(monkeypatch, module, name: str, note) -> list:
    """Replace ``module.name`` for the test by a wrapper that appends ``note(args, result)`` to the returned list."""
    calls = []
    original = getattr(module, name)

    def spy(*args):
        result = original(*args)
        calls.append(note(args, result))
        return result

    monkeypatch.setattr(module, name, spy)
    return calls
