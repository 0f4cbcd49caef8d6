"""Logs keep stack traces but never an exception's message (it may quote a person)."""

from __future__ import annotations

import logging
import sys

from bot.logs import NoMessageFormatter


def fail_on(typed: str, phone: str) -> None:
    try:
        {}[typed]
    except KeyError as exc:
        raise ValueError(phone) from exc


def test_exception_messages_are_not_logged():
    typed = " ".join(["je suis au", "chomage a saint-etienne"])
    phone = "".join(["06 12", " 34 56 78"])
    try:
        fail_on(typed, phone)
    except ValueError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "turn failed", None, sys.exc_info()
        )
    text = NoMessageFormatter("%(message)s").format(record)
    assert "turn failed" in text and "ValueError" in text and "KeyError" in text
    assert "chomage" not in text and "06 12" not in text
    assert "fail_on" in text  # the stack is still there


def test_debug_logs_hold_no_token_and_no_typed_text(api, knowledge, tmp_path):
    """A whole conversation through the local Bot API at CLEA_LOG_LEVEL=DEBUG: the log has
    neither the token (also not inside a URL) nor what the person typed or shared."""
    from tests.fake_bot_api import TOKEN
    from tests.telegram_helpers import kill_hard, start_bot_process

    log_file = tmp_path / "bot.log"
    typed = "ma question secrete sur clea"
    proc = start_bot_process(
        api,
        tmp_path / "db.sqlite3",
        CLEA_LOG_LEVEL="DEBUG",
        CLEA_ADVISER_CHAT_ID="-100",
        PYTHONUNBUFFERED="1",
    )
    try:
        api.push_text(4242, "/start")
        api.push_text(4242, typed)
        api.push_text(4242, "/contact")
        api.push_text(4242, "69003")
        api.push(
            {
                "message": api.message(
                    4242,
                    None,
                    contact={
                        "phone_number": "+33699887766",
                        "first_name": "Prenomsecret",
                        "user_id": 4242,
                    },
                )
            }
        )
        assert api.wait_until(lambda: len(api.sent(4242)) >= 6, 20)
    finally:
        kill_hard(proc)
    log = proc.stderr.read()
    log_file.write_text(log)
    assert " DEBUG bot.turn: turn " in log  # the level was really DEBUG
    assert " DEBUG dialogs.engine: reading in " in log  # the reading chosen, not the text
    assert TOKEN not in log and TOKEN.split(":")[1] not in log
    for secret in (typed, "secrete", "+33699887766", "99887766", "Prenomsecret", "69003"):
        assert secret not in log, secret


def test_the_token_is_blanked_even_inside_a_url():
    from bot.logs import PrivacyFilter

    token = "7012345678:AAH" + "x" * 32
    record = logging.LogRecord(
        "aiohttp.client",
        logging.INFO,
        __file__,
        1,
        "POST https://api.telegram.org/bot%s/getMe",
        (token,),
        None,
    )
    assert PrivacyFilter().filter(record)
    assert token not in record.getMessage() and "<token>" in record.getMessage()
    short = logging.LogRecord("x", logging.INFO, __file__, 1, "url bot1:short/x", None, None)
    PrivacyFilter("1:short").filter(short)
    assert "1:short" not in short.getMessage()


async def test_the_privacy_filter_keeps_library_dumps_out_at_debug(api, knowledge, tmp_path):
    """Every library at DEBUG too (as if the level clamp of bot.logs.setup were undone):
    python-telegram-bot then dumps each update received and each call's parameters. The
    privacy filter alone must keep the token, what was typed and the phone number out.
    (The test above passes with the filter removed: the clamp hides the dumps first.)"""
    import io

    from bot import logs
    from tests.telegram_helpers import running_bot, settled

    token = "7012345678:AAH" + "Zx9_q" * 7
    typed, phone = "ma question tres secrete", "+33699887766"
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level, {n: logging.getLogger(n).level for n in logs.CHATTY}
    logs.setup("DEBUG", stream, token)
    for name in logs.CHATTY:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        async with running_bot(api, knowledge, tmp_path / "db.sqlite3", token=token) as bot:
            api.push_text(4343, "/start")
            api.push_text(4343, typed)
            api.push(
                {
                    "message": api.message(
                        4343,
                        None,
                        contact={
                            "phone_number": phone,
                            "first_name": "Prenomsecret",
                            "user_id": 4343,
                        },
                    )
                }
            )
            # One message per screen: the welcome, the answer, the phone notice. Slow on a
            # busy machine: every library writes its DEBUG lines.
            assert await api.wait_async(lambda: len(api.sent(4343)) >= 3, 60)
            assert await settled(api, bot, 60)
    finally:
        root.handlers[:], level, chatty = saved
        root.setLevel(level)
        for name, value in chatty.items():
            logging.getLogger(name).setLevel(value)
    log = stream.getvalue()
    assert " DEBUG telegram." in log  # the libraries really spoke at DEBUG
    for secret in (
        token,
        token.split(":")[1],
        typed,
        "tres secrete",
        phone,
        "99887766",
        "Prenomsecret",
    ):
        assert secret not in log, secret


def test_the_reading_log_names_no_answer_the_person_gave_about_themselves():
    """A disability 'yes', a reading 'hard' or an age is health, literacy or situation data:
    the DEBUG line of a reading shows its kind, never that value; topics still show."""
    from dialogs.reading import Reading, Readings

    personal = (
        Reading("answer", "answer:yes"),
        Reading("fact", "hard", question="reading"),
        Reading("age", "67"),
        Reading("place", "69003"),
    )
    readings = Readings(
        all=(*personal, Reading("faq", "cost")), names_clea=True, is_question=True, words=5
    )
    line = readings.summary()
    for secret in ("yes", "hard", "67", "69003"):
        assert secret not in line, secret
    assert "faq:cost" in line and all(r.logged_value == "-" for r in personal)
