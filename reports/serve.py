"""``dokiem publish --serve``: the site just written, over HTTP on this machine, until Ctrl+C."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click
from aiohttp import web

from dokiem.i18n import Translator


async def _index(_request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/index.html")


def site_app(folder: Path) -> web.Application:
    app = web.Application()
    app.router.add_get("/", _index)
    app.router.add_static("/", folder, show_index=False, follow_symlinks=False)
    return app


async def serve_site(folder: Path, listen: tuple[str, int], tr: Translator) -> None:
    runner = web.AppRunner(site_app(folder), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, *listen)
    await site.start()
    host, port = runner.addresses[0][:2]
    click.echo(tr("pub_serving", listen=f"{'[' + host + ']' if ':' in host else host}:{port}"), err=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
