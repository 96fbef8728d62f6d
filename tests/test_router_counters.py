"""The router's counters as the agent reads them (issue 35), without a router: a scripted gateway whose
counters refresh on a clock or at every read, reset, or lie; time is the sampler's own reads."""

from __future__ import annotations

import asyncio
import random

import pytest

from dokiem.agent import router
from dokiem.agent.measure import others_over
from dokiem.agent.probes.http import PhaseResult
from dokiem.agent.router import Sampler, on_grid

MBIT = 1_000_000 // 8


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class ScriptedGateway:
    """Counters of a line carrying ``others`` bytes a second plus the agent's own, refreshed every ``period``
    seconds (0: at every read); each read takes ``read_s`` of the clock."""

    name = "snmp"
    where = "scripted"
    wrap = 2**64

    def __init__(self, clock: Clock, own: Own, others: int, period: float, read_s: float = 0.01) -> None:
        self.clock, self.own, self.others, self.period, self.read_s = clock, own, others, period, read_s
        self.offset = 0  # added to what the router says (a reset sets it negative)

    def total(self, at: float) -> tuple[int, int]:
        return round(self.others * (at - 1000.0)) + self.own.at(at)[0], self.own.at(at)[1]

    async def read(self) -> tuple[int, int]:
        self.clock.now += self.read_s / 2
        at = self.clock.now if not self.period else (self.clock.now // self.period) * self.period
        received, sent = self.total(at)
        self.clock.now += self.read_s / 2
        return received + self.offset, sent

    async def capacity(self) -> tuple[float | None, float | None]:
        return None, None

    async def close(self) -> None:
        return None


class Own:
    """The agent's own interface: quiet, then a download phase at ``rate`` bytes a second between two moments."""

    def __init__(self, clock: Clock, start: float, end: float, rate: int) -> None:
        self.clock, self.start, self.end, self.rate = clock, start, end, rate

    def at(self, moment: float) -> tuple[int, int]:
        moved = max(0.0, min(moment, self.end) - self.start) * self.rate
        return round(moved), round(moved / 50)  # its ACKs the other way

    def __call__(self) -> tuple[int, int]:
        return self.at(self.clock.now)


async def _sample(clock: Clock, gateway: ScriptedGateway, own: Own, until: float, poll: float) -> Sampler:
    sampler = Sampler(gateway, poll, own=own)
    await sampler.start()
    while clock.now < until:
        clock.now += poll
        await sampler._step()
    await sampler.stop()
    return sampler


@pytest.mark.parametrize("period", [0, 1.0, 3.0])
def testothers_over_a_window_are_what_others_moved_in_it(monkeypatch: pytest.MonkeyPatch, period: float) -> None:
    clock = Clock()
    monkeypatch.setattr(router.time, "monotonic", clock)
    own = Own(clock, start=1003.0, end=1013.0, rate=40 * MBIT)
    gateway = ScriptedGateway(clock, own, others=12 * MBIT, period=period)
    sampler = asyncio.run(_sample(clock, gateway, own, until=1020.0, poll=0.25))
    window = (1006.0, 1012.0)  # inside the phase: the agent's own rate changes nowhere near it
    others = sampler.others_between(*window)
    mine = sampler.own_between(*window)
    assert others is not None and mine is not None
    assert others.mbps()[0] == pytest.approx(12, rel=0.03)
    assert mine.mbps()[0] == pytest.approx(40, rel=0.01)


def test_a_window_at_the_edge_of_the_phase_is_not_taken_for_others(monkeypatch: pytest.MonkeyPatch) -> None:
    """The window opens just as the agent's own traffic starts, between two refreshes 3 s apart: the jump in the
    router's count is the agent's own, read on its interface, not others'."""
    clock = Clock()
    monkeypatch.setattr(router.time, "monotonic", clock)
    own = Own(clock, start=1004.5, end=1010.0, rate=45 * MBIT)
    gateway = ScriptedGateway(clock, own, others=0, period=3.0)
    sampler = asyncio.run(_sample(clock, gateway, own, until=1016.0, poll=0.25))
    others = sampler.others_between(1004.5, 1010.0)
    assert others is not None and others.mbps()[0] < 1.5  # of 45: the refresh placed within a few hundredths


def test_a_counter_that_goes_down_is_a_reset_not_traffic(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(router.time, "monotonic", clock)
    own = Own(clock, start=1001.0, end=1009.0, rate=30 * MBIT)
    gateway = ScriptedGateway(clock, own, others=1 * MBIT, period=0)

    async def run() -> Sampler:
        sampler = Sampler(gateway, 0.25, own=own)
        await sampler.start()
        while clock.now < 1010.0:
            clock.now += 0.25
            if clock.now > 1005.0:
                gateway.offset = -10 * MBIT  # the router rebooted: its counters began again lower
            await sampler._step()
        await sampler.stop()
        return sampler

    sampler = asyncio.run(run())
    assert sampler.jumped is not None and "reset" in sampler.jumped
    total = sampler.between(1001.0, 1009.0)
    assert total is not None and total.mbps()[0] < 40  # the wrapped step was not added


def test_refreshes_on_a_clock_are_placed_on_it() -> None:
    rng = random.Random(5)
    period, phase = 2.95, 1000.4
    bounds = [(1000.0, 1000.0)]
    for n in range(1, 10):
        refresh = phase + n * period
        lo = refresh - rng.uniform(0, 0.25)
        bounds.append((lo, lo + 0.25))
    placed = on_grid(bounds)
    error = [abs(t - (phase + n * period)) for n, t in enumerate(placed) if n]
    middle = [abs((lo + hi) / 2 - (phase + n * period)) for n, (lo, hi) in enumerate(bounds) if n]
    assert max(error) < 0.1 and sum(error) < sum(middle) / 2  # half a read interval would be up to 0.125
    assert placed[0] == pytest.approx(phase - period, abs=0.05)  # the first read goes to the refresh before it
    live = [(t, t) for t in (1000.0, 1000.3, 1000.6, 1000.9, 1001.2, 1001.5)]
    assert on_grid(live) == [t for t, _ in live]


@pytest.mark.parametrize(("plan", "unusable"), [(50.0, True), (30.0, False), (None, False)])
def test_own_and_others_above_the_line_make_the_router_unusable(
    monkeypatch: pytest.MonkeyPatch, plan: float | None, unusable: bool
) -> None:
    """A router counting 20 Mbit/s of others beside the run's 45 on a 50 Mbit/s plan is wrong; on a 30 Mbit/s plan
    the run alone went faster than the plan, which is then what is out of date (the collector flags it)."""
    clock = Clock()
    monkeypatch.setattr(router.time, "monotonic", clock)
    own = Own(clock, start=1003.0, end=1013.0, rate=45 * MBIT)
    gateway = ScriptedGateway(clock, own, others=20 * MBIT, period=0)
    sampler = asyncio.run(_sample(clock, gateway, own, until=1016.0, poll=0.25))
    phase = PhaseResult(direction="download", mbps=45.0, bytes=45 * MBIT * 6, measured_s=6.0, warmup_s=2.0, streams=4,
                        samples_mbps=[], loaded_rtts_ms=[], window=(1005.0, 1011.0))  # fmt: skip
    others = others_over(sampler, phase, 0, plan)
    assert (others is False) is unusable
    if not unusable:
        assert others == pytest.approx(20, rel=0.03)


async def test_a_description_over_its_cap_is_refused_not_read_whole() -> None:
    """A gateway (or a device posing as one) that sends a 100 MiB description: read up to the cap, then refused."""
    from aiohttp import web
    from aiohttp.test_utils import TestServer
    from async_upnp_client.const import HttpRequest
    from async_upnp_client.exceptions import UpnpCommunicationError

    async def huge(_request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/xml"})
        await response.prepare(_request)
        for _ in range(100):
            await response.write(b"<" * (1 << 20))
        return response

    async def small(_request: web.Request) -> web.Response:
        return web.Response(text="<root/>", content_type="text/xml")

    app = web.Application()
    app.router.add_get("/rootDesc.xml", huge)
    app.router.add_get("/small.xml", small)
    async with TestServer(app) as server:
        requester = router.capped_requester()
        small = await requester.async_http_request(HttpRequest("GET", str(server.make_url("/small.xml")), {}, None))
        assert small.status_code == 200 and small.body == "<root/>"
        with pytest.raises(UpnpCommunicationError, match="over"):
            await requester.async_http_request(HttpRequest("GET", str(server.make_url("/rootDesc.xml")), {}, None))
