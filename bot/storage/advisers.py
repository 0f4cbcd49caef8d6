"""Advisers' private chats: Telegram lets a bot write to a person only after they opened
it, so the chat of each adviser who did is kept, and marked unreachable when it refused a
message for good (the adviser blocked the bot) until they open the bot again."""

from __future__ import annotations

import sqlite3
import time

from dialogs.model import Reach


class AdviserChats:
    """The `adviser_chats` table."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def opened(self, code: str, chat_id: int, now: float | None = None) -> bool:
        """Record that an adviser opened the bot. True the first time, and the first time
        after their chat refused a message (they blocked the bot, then opened it again)."""
        cur = self.db.execute(
            "INSERT INTO adviser_chats (code, chat_id, opened) VALUES (?, ?, ?) "
            "ON CONFLICT(code) DO UPDATE SET chat_id=excluded.chat_id, opened=excluded.opened,"
            " unreachable=0 WHERE unreachable=1 OR chat_id<>excluded.chat_id",
            (code, chat_id, now or time.time()),
        )
        return bool(cur.rowcount)

    def mark_unreachable(self, chat_id: int) -> str | None:
        """The adviser whose private chat refused a message for good (403: they blocked
        the bot): not named nor sent requests until they open the bot again. Their code,
        or None when the chat is no adviser's."""
        row = self.db.execute(
            "UPDATE adviser_chats SET unreachable=1 WHERE chat_id=? RETURNING code", (chat_id,)
        ).fetchone()
        return str(row[0]) if row else None

    def reach(self) -> Reach:
        """Whom the bot can write to and who blocked it, for the next turn (dialogs.Reach)."""
        rows = self.db.execute("SELECT code, unreachable FROM adviser_chats").fetchall()
        return Reach(
            open=frozenset(str(code) for code, unreachable in rows if not unreachable),
            blocked=frozenset(str(code) for code, unreachable in rows if unreachable),
        )

    def chat(self, code: str) -> int | None:
        """The private chat of an adviser who opened the bot and did not block it since."""
        row = self.db.execute(
            "SELECT chat_id FROM adviser_chats WHERE code=? AND unreachable=0", (code,)
        ).fetchone()
        return int(row[0]) if row else None
