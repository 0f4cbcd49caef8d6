"""Run the real Telegram channel against the fake Bot API, in-process or as a subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

from bot.channels.telegram import TelegramChannel
from bot.config import Config
from bot.storage import Storage
from bot.transport.polling import serve
from dialogs.engine import Engine
from knowledge.model import Knowledge
from tests.fake_bot_api import TOKEN, FakeBotApi

ROOT = Path(__file__).resolve().parent.parent


def make_config(api: FakeBotApi, db: Path, **overrides) -> Config:
    values = dict(
        token=TOKEN,
        api_base_url=api.base_url,
        api_file_url=api.file_url,
        db_path=db,
        webhook_url=None,
        webhook_secret=None,
        webhook_listen="127.0.0.1",
        webhook_port=0,
        directory_extra=None,
        local_directory=db.with_suffix(".no-directory"),
        adviser_chat_id=None,
        advisers_file=None,
        retention_days=90,
        concurrency=32,
        overall_rate=0.0,
        log_level="INFO",
        chat_rate=0.0,
    )  # no per-chat pacing unless a test asks for it
    values.update(overrides)
    return Config(**values)


@contextlib.asynccontextmanager
async def running_bot(
    api: FakeBotApi, knowledge: Knowledge, db: Path, **overrides
) -> AsyncIterator[TelegramChannel]:
    """The whole channel with polling, in this event loop."""
    advisers = overrides.pop("advisers", None) or {}
    clock = overrides.pop("clock", None) or time.time
    config = make_config(api, db, **overrides)
    storage = Storage(config.db_path)
    engine = Engine(
        knowledge,
        handoff_enabled=config.adviser_chat_id is not None,
        retention_days=config.retention_days,
        advisers=tuple(advisers.values()),
    )
    channel = TelegramChannel(engine, storage, config, advisers, clock=clock)
    app = channel.build_application()
    channel.app = app
    stop, started = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(app, stop, channel.fetch_updates, timeout=1, started=started))
    await asyncio.wait(
        {task, asyncio.create_task(started.wait())}, return_when=asyncio.FIRST_COMPLETED
    )
    if task.done():
        task.result()
    try:
        yield channel
    finally:
        stop.set()
        await task


def bot_env(api: FakeBotApi, db: Path, **extra: str) -> dict[str, str]:
    env = dict(
        os.environ,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=api.base_url,
        TELEGRAM_API_FILE_URL=api.file_url,
        CLEA_DB_PATH=str(db),
        CLEA_RATE_LIMIT="0",
        CLEA_CHAT_RATE="0",
        CLEA_LOCAL_DIRECTORY=str(db) + ".none",
    )
    env.update(extra)
    return env


def start_bot_process(api: FakeBotApi, db: Path, **extra: str) -> subprocess.Popen:
    before = api.get_updates_count
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "telegram"],
        cwd=ROOT,
        env=bot_env(api, db, **extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if not api.wait_until(lambda: api.get_updates_count > before or proc.poll() is not None, 30):
        proc.kill()
        raise RuntimeError("bot did not start polling")
    if proc.poll() is not None:
        raise RuntimeError(f"bot exited: {proc.stderr.read()}")
    return proc


def kill_hard(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)


async def settled(api: FakeBotApi, channel: TelegramChannel, timeout: float = 30.0) -> bool:
    """Every update pushed so far was fetched, handled and answered: nothing more can be
    sent for them. An update counts as in flight from the moment it is put in the queue
    until its last reply went out; Telegram keeps it pending until the poll after that."""
    queue = channel.app.update_queue
    return await api.wait_async(
        lambda: api.pending_updates() == 0 and queue.in_flight == 0 and queue.empty(), timeout
    )
