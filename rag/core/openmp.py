"""How OpenMP threads wait, decided once per process before llama.cpp, FAISS or torch loads libgomp.

libgomp's idle threads spin by default (OMP_WAIT_POLICY=ACTIVE behaviour).
On an idle machine that is fastest: measured on 2 cores, `rag ask` took
2.8 s spinning and 3.8 s waiting passively (llama.cpp synchronises its
threads after every layer, and a sleeping thread is slow to wake). On a
machine whose cores are already busy it is a disaster: a spinning thread
holds a core while the thread it waits for is descheduled, and the same
answer took 28-42 s instead of 8-10 s (bench/results.md). So: spin when the
cores are free, wait passively when the load average says they are not.
An OMP_WAIT_POLICY in the environment always wins.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping


def choose_wait_policy(env: MutableMapping[str, str] | None = None) -> str | None:
    """Set OMP_WAIT_POLICY=PASSIVE in `env` when the machine is busy; the policy set, or None."""
    env = os.environ if env is None else env
    if "OMP_WAIT_POLICY" in env:
        return None
    try:
        busy = os.getloadavg()[0] >= (os.cpu_count() or 1)
    except OSError:  # no load average on this platform
        return None
    if not busy:
        return None
    env["OMP_WAIT_POLICY"] = "PASSIVE"
    return "PASSIVE"
