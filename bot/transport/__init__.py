"""How the Telegram channel talks to the Bot API: the polling loop, the SQLite inbox, the
aiohttp request backend, per-chat ordering, flood limits and retries."""
