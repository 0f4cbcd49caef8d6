"""🔊 Écouter: speech text, real synthesis, voice notes through the local Bot API server."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
import soundfile
import yaml

from bot.voice import VoiceService, VoiceUnavailable, synthesise
from dialogs.model import Event, Session
from knowledge.speech import load_said, speech_text
from tests.telegram_helpers import running_bot

CASES = Path(__file__).parent / "data" / "speech_cases.yaml"
CHAT = 7301


@pytest.mark.parametrize(
    "case",
    yaml.safe_load(CASES.read_text(encoding="utf-8"))["cases"],
    ids=lambda c: c["shown"][:30],
)
def test_speech_text_table(case):
    assert speech_text([case["shown"]], load_said()) == case["said"]


def test_speech_drops_buttons_and_markup_of_a_real_screen(engine):
    s = Session("v")
    engine.handle(s, Event("start"))
    engine.handle(s, Event("choice", "discover"))
    spoken = engine.handle(s, Event("choice", "listen")).replies
    assert len(spoken) == 1 and spoken[0].voice and s.state == "discover"
    said = spoken[0].voice
    assert said.startswith("Cléa est un certificat.")
    assert "Écouter" not in said and "Pour qui" not in said and "<b>" not in said


def test_real_synthesis_is_ogg_opus_and_longer_for_more_words():
    short, short_s = synthesise("Cléa est un certificat.")
    long, long_s = synthesise(
        "Cléa est un certificat. Il montre que vous maîtrisez les "
        "bases utiles au travail, dans tous les métiers."
    )
    for data in (short, long):
        assert data[:4] == b"OggS" and b"OpusHead" in data[:64]
        info = soundfile.info(io.BytesIO(data))
        assert info.format == "OGG" and info.subtype == "OPUS" and info.channels == 1
    assert 0.5 < short_s < long_s
    assert soundfile.info(io.BytesIO(long)).duration == pytest.approx(long_s, abs=0.1)


def test_cache_is_bounded_and_evicts_the_oldest(tmp_path):
    made = []

    def fake(text):
        made.append(text)
        return b"OggS" + b"\0" * 4000, 1.0

    service = VoiceService(tmp_path, max_bytes=10_000, synth=fake)
    for i in range(5):
        service.get_sync(f"texte {i}")
    assert len(list(tmp_path.glob("*.ogg"))) == 2  # 4 KB each, 10 KB at most
    service.get_sync("texte 4")  # still there: not made again
    assert made == [f"texte {i}" for i in range(5)]
    service.get_sync("texte 0")  # evicted: made again
    assert made[-1] == "texte 0"


async def test_listen_sends_a_voice_note_then_reuses_it(api, knowledge, tmp_path):
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3", voice=True) as channel:
        api.push_text(CHAT, "/start")
        assert await api.wait_async(lambda: len(api.sent(CHAT)) >= 1)
        api.press(CHAT, "discover")
        assert await api.wait_async(lambda: "listen" in api.sent(CHAT)[-1].callback_data())
        screen = api.sent(CHAT)[-1]
        edits = len(api.calls_of("editMessageText"))
        api.push_callback(CHAT, "listen", screen.params.get("_message_id"))
        assert await api.wait_async(lambda: api.calls_of("sendVoice"), 20)
        first = api.calls_of("sendVoice")[0]
        assert first.params["voice"]["ogg"] and first.params["voice"]["opus"]
        assert int(first.params["duration"]) >= 2
        assert len(api.calls_of("editMessageText")) == edits  # the screen stays as it is
        # A second listener of the same screen: no synthesis, Telegram's file_id reused.
        other = CHAT + 1
        api.push_text(other, "/start")
        assert await api.wait_async(lambda: len(api.sent(other)) >= 1)
        api.press(other, "discover")
        await asyncio.sleep(0.2)
        api.push_callback(other, "listen")
        assert await api.wait_async(lambda: len(api.calls_of("sendVoice")) == 2, 20)
        second = api.calls_of("sendVoice")[1]
        assert second.params["voice"] == first_file_id(api)
        assert channel.voice.synthesised == 1 and channel.voice.hit_rate == 0.5


def first_file_id(api) -> str:
    return f"voice-{api.calls_of('sendVoice')[0].params['_message_id']}"


async def test_always_read_aloud_brings_the_fit_result_with_its_voice(api, knowledge, tmp_path):
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3", voice=True):
        api.push_text(CHAT, "/voix")
        assert await api.wait_async(lambda: any("voix haute" in c.text for c in api.sent(CHAT)))
        for choice in (
            "fit",
            "answer:employee",
            "answer:none",
            "answer:job",
            "answer:hard",
            "answer:no",
        ):
            # Every screen is heard now: wait for the screen offering this choice.
            assert await api.wait_async(
                lambda c=choice: any(c in (m.callback_data() or []) for m in api.sent(CHAT)), 20
            )
            api.press(CHAT, choice) if choice != "fit" else api.push_callback(CHAT, "fit")
            await asyncio.sleep(0.05)
        assert await api.wait_async(lambda: any("ANLCI" in c.text for c in api.sent(CHAT)), 20)
        # One voice note per screen: /voix (with the menu), 5 questions and the result.
        assert await api.wait_async(lambda: len(api.calls_of("sendVoice")) >= 7, 30)
        assert any("ANLCI" in c.text for c in api.sent(CHAT))


async def test_a_broken_engine_leaves_the_text_and_says_so(api, knowledge, tmp_path):
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3", voice=True) as channel:

        def broken(text):
            raise RuntimeError("engine crashed")

        channel.voice.synth = broken
        api.push_text(CHAT, "/start")
        assert await api.wait_async(lambda: len(api.sent(CHAT)) >= 1)
        api.press(CHAT, "discover")
        await asyncio.sleep(0.2)
        api.push_callback(CHAT, "listen")
        assert await api.wait_async(
            lambda: any("le son ne marche pas" in c.text for c in api.sent(CHAT))
        )
        assert not api.calls_of("sendVoice")
        n = len(api.sent(CHAT))
        api.push_text(CHAT, "/menu")  # the conversation goes on
        assert await api.wait_async(lambda: len(api.sent(CHAT)) > n)


def test_voice_off_for_a_deployment(knowledge):
    from dialogs.engine import Engine

    engine = Engine(knowledge, voice_enabled=False)
    s = Session("q")
    engine.handle(s, Event("start"))
    replies = engine.handle(s, Event("choice", "discover")).replies
    assert not any(b.choice.startswith("listen") for r in replies for b in r.choices())
    assert "plus valable" in engine.handle(s, Event("choice", "listen")).replies[0].text
    # /voix promises nothing it cannot do: no "je lis chaque écran", nothing stored.
    said = " ".join(r.text for r in engine.handle(s, Event("text", "/voix")).replies)
    assert "le son ne marche pas" in said and "je lis chaque écran" not in said
    assert not s.data.get("voice")


def test_unavailable_engine_is_reported_as_such(tmp_path):
    def broken(text):
        raise OSError("no lingware")

    with pytest.raises(VoiceUnavailable):
        VoiceService(tmp_path, synth=broken).get_sync("Bonjour.")


def test_personal_notes_never_push_the_shared_ones_out(tmp_path):
    made = []

    def fake(text):
        made.append(text)
        return b"OggS" + b"\0" * 4000, 1.0

    service = VoiceService(tmp_path, max_bytes=10_000, max_personal_bytes=10_000, synth=fake)
    service.get_sync("écran fixe")
    for i in range(20):  # twenty recaps, each naming a different town
        service.get_sync(f"récapitulatif {i}", personal=True)
    service.get_sync("écran fixe")
    assert made.count("écran fixe") == 1
    assert len(list((tmp_path / "personal").glob("*.ogg"))) == 2


async def test_people_asking_for_the_same_note_at_once_wait_for_one_synthesis(tmp_path):
    made = []

    def slow(text):
        made.append(text)
        import time

        time.sleep(0.1)
        return b"OggS" + b"\0" * 100, 2.0

    service = VoiceService(tmp_path, synth=slow)
    notes = await asyncio.gather(*(service.get("même écran") for _ in range(10)))
    assert made == ["même écran"] and {n.key for n in notes} == {notes[0].key}


async def test_real_synthesis_runs_in_another_process(tmp_path):
    """The engine holds the GIL while it speaks: it must not be this process's GIL."""
    import os

    service = VoiceService(tmp_path)
    try:
        note = await service.get("Cléa est un certificat.")
        assert note.data()[:4] == b"OggS"
        workers = list(service._pool._processes.values())
        assert workers and all(p.pid != os.getpid() for p in workers)
    finally:
        service.close()


async def test_a_file_id_telegram_refuses_is_dropped_and_the_note_uploaded_again(
    api, knowledge, tmp_path
):
    """The cache came from another bot or another Bot API server: its file_id is refused.
    The note is uploaded again and the new id kept, instead of failing every listener."""
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3", voice=True) as channel:
        channel.voice.synth = lambda text: (b"OggS" + b"\0" * 2000, 3.0)
        listeners = iter(range(CHAT + 10, CHAT + 20))

        async def listen() -> None:
            chat = next(listeners)
            api.push_text(chat, "/start")
            assert await api.wait_async(lambda: len(api.sent(chat)) >= 1)
            api.press(chat, "discover")
            assert await api.wait_async(lambda: "listen" in api.sent(chat)[-1].callback_data())
            n = len([c for c in api.calls_of("sendVoice") if c.ok])
            api.push_callback(chat, "listen")
            assert await api.wait_async(
                lambda: len([c for c in api.calls_of("sendVoice") if c.ok]) == n + 1, 20
            )

        await listen()
        meta = next((tmp_path / "voice").rglob("*.txt"))
        assert await api.wait_async(lambda: "voice-" in meta.read_text(encoding="utf-8"))
        meta.write_text("3\nAwACAgQAAxkBAAIC-from-another-bot", encoding="utf-8")
        await listen()
        voices = api.calls_of("sendVoice")
        assert [c.ok for c in voices] == [True, False, True]
        assert isinstance(voices[2].params["voice"], dict)  # uploaded again
        kept = f"voice-{voices[2].params['_message_id']}"
        assert await api.wait_async(lambda: meta.read_text(encoding="utf-8").endswith(kept))
        await listen()  # the new id is used
        assert api.calls_of("sendVoice")[-1].params["voice"] == kept
        assert channel.voice.synthesised == 1


def test_a_cache_that_cannot_be_written_leaves_no_entry(tmp_path, monkeypatch):
    """A full disk: the listener gets the text notice (VoiceUnavailable), and nothing is
    left in the cache that would fail the next listener of that screen."""
    import errno

    import bot.voice

    service = VoiceService(tmp_path, synth=lambda text: (b"OggS" + b"\0" * 100, 1.0))
    real_replace = bot.voice.os.replace

    def full(src, dst):
        if str(dst).endswith(".txt"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(bot.voice.os, "replace", full)
    with pytest.raises(VoiceUnavailable):
        service.get_sync("texte")
    assert list(tmp_path.rglob("*")) == []
    monkeypatch.setattr(bot.voice.os, "replace", real_replace)
    assert service.get_sync("texte").data().startswith(b"OggS")  # the disk has room again


def test_a_broken_cache_entry_is_made_again(tmp_path):
    """An empty note and an empty duration, as a crash or a full disk left them before."""
    service = VoiceService(tmp_path, synth=lambda text: (b"OggS" + b"\0" * 100, 2.0))
    key = service.key("texte")
    (tmp_path / f"{key}.ogg").write_bytes(b"")
    (tmp_path / f"{key}.txt").write_text("", encoding="utf-8")
    note = service.get_sync("texte")
    assert note.duration == 2 and note.data().startswith(b"OggS")
    assert service.synthesised == 1


def test_warming_the_speech_imports_the_number_speller_before_any_note():
    """The Telegram bot warms it before polling (bot/channels/telegram.py run): imported by
    the first voice note, on the event loop, it held everyone 30-38 ms (bench.stalls)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from knowledge.speech import warm\n"
        "assert 'num2words' not in sys.modules\n"
        "warm()\n"
        "assert 'num2words' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()[-500:]
