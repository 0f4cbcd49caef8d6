"""Sessions, the inbox, the outbox and contact requests, anonymous figures and dead letters,
in one SQLite file: a small class per concern (one module each), and `Storage`, the one
object the rest of the bot holds (bot/storage/facade.py). All the bot's SQL lives here."""

from bot.storage.counters import STAGES, week_of
from bot.storage.facade import PURGE_BATCH, Storage
from bot.storage.outbox import Buttons, OutboxRow, Outgoing
from bot.storage.requests import NewRequest, RequestRow
from bot.storage.schema import MIGRATIONS, SCHEMA_VERSION, is_busy

__all__ = [
    "MIGRATIONS",
    "PURGE_BATCH",
    "SCHEMA_VERSION",
    "STAGES",
    "Buttons",
    "NewRequest",
    "OutboxRow",
    "Outgoing",
    "RequestRow",
    "Storage",
    "is_busy",
    "week_of",
]
