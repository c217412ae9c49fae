"""The OpenMP wait policy: spin on a free machine, wait passively on a busy one, the user's choice wins."""

from __future__ import annotations

import os

from rag.core.openmp import choose_wait_policy


def test_busy_machine_waits_passively(monkeypatch):
    monkeypatch.setattr(os, "getloadavg", lambda: (float(os.cpu_count() or 1), 0.0, 0.0))
    env = {}
    assert choose_wait_policy(env) == "PASSIVE" and env == {"OMP_WAIT_POLICY": "PASSIVE"}


def test_free_machine_keeps_the_spinning_default(monkeypatch):
    monkeypatch.setattr(os, "getloadavg", lambda: (0.1, 0.0, 0.0))
    env = {}
    assert choose_wait_policy(env) is None and env == {}


def test_the_environment_wins(monkeypatch):
    monkeypatch.setattr(os, "getloadavg", lambda: (99.0, 0.0, 0.0))
    env = {"OMP_WAIT_POLICY": "ACTIVE"}
    assert choose_wait_policy(env) is None and env == {"OMP_WAIT_POLICY": "ACTIVE"}


def test_no_load_average(monkeypatch):
    def unavailable():
        raise OSError("no load average")

    monkeypatch.setattr(os, "getloadavg", unavailable)
    env = {}
    assert choose_wait_policy(env) is None and env == {}
