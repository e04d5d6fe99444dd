"""Real races for the PostgreSQL tests: calls released together, each on its own connection."""

import threading
from collections.abc import Callable

from django.db import connection


def race(*calls: Callable[[], object]) -> list[tuple[str, object]]:
    """Run the calls in threads released together; each outcome is ("ok", result) or ("error", exception)."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[tuple[str, object] | None] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[index] = ("ok", call())
        except Exception as error:  # noqa: BLE001 - the outcome is what the test asserts
            outcomes[index] = ("error", error)
        finally:
            connection.close()  # each thread opened its own connection

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(outcome is not None for outcome in outcomes), "a thread did not finish"
    return outcomes
