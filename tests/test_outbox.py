"""The outbox: committed before sending, removed only after PUBACK, bounded, crash-safe."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from dokiem.agent.outbox import Outbox
from dokiem.agent.schedule import estimate_run_bytes, month_key, over_budget, period_bounds, pick_slot
from testkit.agentkit import make_result


def test_put_oldest_remove(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db")
    results = [make_result(i) for i in range(5)]
    for r in results:
        box.put(r)
    assert [q.result_id for q in box.oldest(3)] == [str(r.result_id) for r in results[:3]]
    box.remove(str(results[0].result_id))
    assert box.depth() == 4 and box.stats().sent == 1


def test_a_duplicate_is_a_no_op(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db")
    r = make_result()
    box.put(r)
    box.put(r)
    assert box.depth() == 1


def test_survives_reopening(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db")
    box.put(make_result())
    box.close()
    assert Outbox(tmp_path / "o.db").depth() == 1


def test_bounded_by_count_oldest_dropped_and_counted(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", max_results=10)
    results = [make_result(i) for i in range(15)]
    for r in results:
        box.put(r)
    assert box.depth() == 10 and box.stats().dropped_size == 5
    assert box.oldest(1)[0].result_id == str(results[5].result_id)


def test_bounded_by_age(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", max_age_s=3600)
    box.put(make_result(1), now=1_000_000.0)
    box.put(make_result(2), now=1_000_000.0 + 7200)
    assert box.depth() == 1 and box.stats().dropped_age == 1


def test_acknowledged_results_are_kept_a_while_and_sent_again_once_per_request(tmp_path: Path) -> None:
    """Issue 32: a collector restored from a backup asks for what the broker acknowledged since; the agent puts
    it back in the outbox, oldest first, each request once (a retained request is seen at every connect)."""
    box = Outbox(tmp_path / "o.db")
    results = [make_result(n) for n in range(5)]
    for r in results:
        box.put(r)
    for r in results[:2]:
        box.remove(str(r.result_id))
    since = time.time()
    for r in results[2:]:
        box.remove(str(r.result_id))
    assert box.depth() == 0 and box.kept_sent() == 5 and box.stats().sent == 5
    assert box.resend("request-1", since) == 3
    assert [q.result_id for q in box.oldest()] == [str(r.result_id) for r in results[2:]]
    assert box.resend("request-1", 0) is None  # served already
    box.close()
    reopened = Outbox(tmp_path / "o.db")
    assert reopened.resend("request-1", 0) is None and reopened.depth() == 3  # across a restart too
    assert reopened.resend("request-2", 0) == 2  # what is still kept, the three already queued again not doubled
    assert reopened.depth() == 5


def test_kept_acknowledged_results_are_bounded_by_age_and_count(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", keep_sent_s=3600, keep_sent_max=3)
    results = [make_result(n) for n in range(5)]
    for r in results:
        box.put(r)
        box.remove(str(r.result_id))
    assert box.kept_sent() == 3  # the newest three
    box._db.execute("UPDATE sent SET acked_at = acked_at - 7200")  # two hours ago
    extra = make_result(9)
    box.put(extra)
    box.remove(str(extra.result_id))
    assert box.kept_sent() == 1  # past the hour: dropped
    none = Outbox(tmp_path / "none.db", keep_sent_s=0)
    none.put(extra)
    none.remove(str(extra.result_id))
    assert none.kept_sent() == 0 and none.resend("r", 0) == 0


def test_usage_adds_up_per_month(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db")
    box.add_usage("2026-11", 100)
    box.add_usage("2026-11", 50)
    assert box.usage("2026-11") == 150 and box.usage("2026-12") == 0


WRITER = """
import sys
from dokiem.agent.outbox import Outbox
from testkit.agentkit import make_result
box = Outbox(__import__("pathlib").Path(sys.argv[1]))
while True:
    r = make_result()
    box.put(r)
    print(r.result_id, flush=True)  # printed only once committed
"""


def test_kill_9_never_loses_a_committed_result_nor_corrupts_the_file(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    committed: list[str] = []
    rng = random.Random(7)
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        for _ in range(rng.randint(5, 60)):  # a random moment, counted in commits
            committed.append(proc.stdout.readline().strip())
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        committed += [line.strip() for line in proc.stdout.read().splitlines() if line.strip()]
    box = Outbox(db)
    assert box.integrity_ok()
    stored = {q.result_id for q in box.oldest(100_000)}
    assert set(committed) <= stored


def test_slots_stay_inside_the_period_and_leave_room_for_the_run() -> None:
    rng = random.Random(1)
    period = 3600.0
    for now in (0.0, 1800.0, 3599.0, 7300.0):
        slot = pick_slot(now, period, 45, rng)
        start, end = period_bounds(now, period)
        assert max(now, start) <= slot <= max(max(now, start), end - 45)


def test_a_fleet_spreads_over_the_period() -> None:
    slots = {round(pick_slot(0.0, 3600, 45, random.Random(seed))) for seed in range(50)}
    assert len(slots) > 40 and max(slots) - min(slots) > 1800


def test_budget() -> None:
    assert not over_budget(0, 10**9, 0)  # no budget
    assert over_budget(900_000_000, 200_000_000, 1000)
    assert not over_budget(700_000_000, 200_000_000, 1000)
    assert estimate_run_bytes(123, 100, 100, 10) == 123
    assert estimate_run_bytes(None, 80, 20, 10) == 125_000_000
    assert len(month_key(0)) == 7
