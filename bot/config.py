"""Settings from environment variables, read once at start-up (see the README table)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import overload


class ConfigError(ValueError):
    pass


@overload
def _int(name: str, default: int) -> int: ...
@overload
def _int(name: str, default: None) -> int | None: ...


def _int(name: str, default: int | None) -> int | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} doit être un nombre entier (reçu « {raw} »)") from exc


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip().replace(",", ".")
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} doit être un nombre (reçu « {raw} »)") from exc


@overload
def _str(name: str, default: str) -> str: ...
@overload
def _str(name: str, default: None = None) -> str | None: ...


def _str(name: str, default: str | None = None) -> str | None:
    raw = os.environ.get(name, "").strip()
    return raw or default


@dataclass(frozen=True)
class Config:
    token: str | None
    api_base_url: str | None
    api_file_url: str | None
    db_path: Path
    webhook_url: str | None
    webhook_secret: str | None
    webhook_listen: str
    webhook_port: int
    directory_extra: Path | None
    local_directory: Path
    adviser_chat_id: int | None
    advisers_file: Path | None
    retention_days: int
    concurrency: int
    overall_rate: float
    log_level: str
    voice: bool = True
    stop_grace: int = 20  # seconds to finish the updates in hand after SIGTERM
    chat_rate: float = 1.0  # messages a second per private chat, sustained (0: no pacing)
    chat_burst: int = 3  # messages a private chat may get at once before the pacing

    @classmethod
    def from_env(cls) -> Config:
        extra = _str("CLEA_DIRECTORY_EXTRA")
        advisers = _str("CLEA_ADVISERS")
        cfg = cls(
            token=_str("TELEGRAM_BOT_TOKEN"),
            api_base_url=_str("TELEGRAM_API_BASE_URL"),
            api_file_url=_str("TELEGRAM_API_FILE_URL"),
            db_path=Path(_str("CLEA_DB_PATH", "data/clea-bot.sqlite3")),
            webhook_url=_str("CLEA_WEBHOOK_URL"),
            webhook_secret=_str("CLEA_WEBHOOK_SECRET"),
            # Behind the reverse proxy that holds the public address (see the README).
            webhook_listen=_str("CLEA_WEBHOOK_LISTEN", "127.0.0.1"),
            webhook_port=_int("CLEA_WEBHOOK_PORT", 8443),
            directory_extra=Path(extra) if extra else None,
            local_directory=Path(_str("CLEA_LOCAL_DIRECTORY", "data/local-directory.sqlite3")),
            adviser_chat_id=_int("CLEA_ADVISER_CHAT_ID", None),
            advisers_file=Path(advisers) if advisers else None,
            retention_days=_int("CLEA_RETENTION_DAYS", 90),
            concurrency=_int("CLEA_CONCURRENCY", 32),
            overall_rate=float(_int("CLEA_RATE_LIMIT", 30)),
            log_level=_str("CLEA_LOG_LEVEL", "INFO").upper(),
            voice=_str("CLEA_VOICE", "1") not in ("0", "false", "non", "no", "off"),
            stop_grace=_int("CLEA_STOP_GRACE", 20),
            chat_rate=_float("CLEA_CHAT_RATE", 1.0),
            chat_burst=_int("CLEA_CHAT_BURST", 3),
        )
        if cfg.retention_days < 1:
            raise ConfigError("CLEA_RETENTION_DAYS doit être au moins 1")
        if cfg.stop_grace < 0:
            raise ConfigError("CLEA_STOP_GRACE doit être positif ou nul")
        if cfg.chat_rate < 0 or cfg.chat_burst < 1:
            raise ConfigError("CLEA_CHAT_RATE doit être positif ou nul, CLEA_CHAT_BURST au moins 1")
        if cfg.concurrency < 1:
            raise ConfigError("CLEA_CONCURRENCY doit être au moins 1")
        if cfg.webhook_url and not cfg.webhook_secret:
            raise ConfigError("CLEA_WEBHOOK_SECRET est obligatoire avec CLEA_WEBHOOK_URL")
        return cfg
