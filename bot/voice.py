"""Voice notes of key screens, for people who find reading hard.

Engine: SVOX Pico through py-nanotts (French voice fr-FR shipped inside its wheel, Apache
2.0), 16 kHz mono PCM, encoded to OGG/Opus (the format Telegram plays as a voice note) by
soundfile (libsndfile, shipped inside its wheel). Nothing is downloaded at run time.

Synthesis and encoding run in a separate process (one worker, started at the first note):
in a thread they held the event loop's GIL, 72 ms of lag for everyone per note and 418 ms
with four at once. Several people asking for the same note at once wait for one synthesis.

Each note is kept on disk under the hash of the text it says, so a screen heard by many
people is synthesised once. Two bounded caches, each dropping its oldest notes first: the
fixed screens, shared by everyone, and the personal ones (a recap names the person's town,
a fit result follows their answers), so that personal notes never push the shared ones
out. After the first upload, Telegram's file_id is kept beside the note and reused: later
sends upload nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
VOICE = "fr-FR"
# Speech rate (1.0 is the engine's own): 0.65 says about 105-115 words a minute on the key
# screens, under the 125 these readers can follow (the engine's own rate: about 165).
# Measured by tests/test_voice_screens.py (words ÷ audio seconds).
SPEED = 0.65
MAX_CACHE_BYTES = 50 * 1024 * 1024  # fixed screens: about 440 notes of 20 seconds
MAX_PERSONAL_BYTES = 20 * 1024 * 1024  # recaps and fit results, apart
OPUS_LEVEL = 0.8


class VoiceUnavailable(RuntimeError):
    """The engine could not speak (missing library, broken input): text only."""


@dataclass(frozen=True)
class VoiceNote:
    key: str
    path: Path
    duration: int  # whole seconds, as Telegram wants it
    file_id: str | None = None

    def data(self) -> bytes:
        return self.path.read_bytes()


def synthesise(text: str) -> tuple[bytes, float]:
    """(OGG/Opus bytes, duration in seconds) of `text` said by the French voice."""
    try:
        import numpy as np
        import soundfile
        from py_nanotts import NanoTTS
    except ImportError as exc:  # a deployment without the voice packages
        raise VoiceUnavailable(type(exc).__name__) from None
    pcm = NanoTTS().speak(text, voice=VOICE, speed=SPEED)
    samples = np.frombuffer(pcm, dtype="<i2")
    if not len(samples):
        raise VoiceUnavailable("empty synthesis")
    buffer = io.BytesIO()
    # libsndfile's level 0.8 (about 48 kbit/s) encodes a 20-second screen in about 0.3 s;
    # its default (about 22 kbit/s) took 0.8 s here. The note is made once, then cached.
    soundfile.write(
        buffer, samples, SAMPLE_RATE, format="OGG", subtype="OPUS", compression_level=OPUS_LEVEL
    )
    return buffer.getvalue(), len(samples) / SAMPLE_RATE


class VoiceService:
    """Notes on disk by hash of the spoken text; `synth` is replaceable for tests (a
    replacement runs in a worker thread; the real engine in its own process)."""

    def __init__(
        self,
        cache_dir: Path,
        max_bytes: int = MAX_CACHE_BYTES,
        synth=synthesise,
        max_personal_bytes: int = MAX_PERSONAL_BYTES,
    ):
        self.dir = cache_dir
        self.max_bytes = max_bytes
        self.max_personal_bytes = max_personal_bytes
        self.synth = synth
        self.synthesised = 0  # how many notes were made (the rest came from the cache)
        self.served = 0
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._making: dict[str, asyncio.Future] = {}

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(f"{VOICE}\n{SPEED}\n{text}".encode()).hexdigest()[:32]

    def _paths(self, text: str, personal: bool) -> tuple[str, Path, Path]:
        key = self.key(text)
        folder = self.dir / "personal" if personal else self.dir
        return key, folder / f"{key}.ogg", folder / f"{key}.txt"

    def cached(self, text: str, personal: bool = False) -> VoiceNote | None:
        """The note when it is on disk (blocking file access: call it in a thread)."""
        key, path, meta = self._paths(text, personal)
        with self._lock:
            self.served += 1
            if path.exists() and meta.exists():
                try:
                    duration, _, file_id = meta.read_text(encoding="utf-8").partition("\n")
                    if path.stat().st_size == 0:
                        raise ValueError("empty note")
                    os.utime(path)  # recently used: evicted last
                    return VoiceNote(key, path, int(duration), file_id.strip() or None)
                except (OSError, ValueError):
                    # Left broken (a full disk, a crash mid-write): made again, not served
                    # broken to every later listener.
                    log.warning("voice cache entry %s unreadable: dropped", key)
                    path.unlink(missing_ok=True)
                    meta.unlink(missing_ok=True)
        return None

    def store(self, text: str, data: bytes, seconds: float, personal: bool = False) -> VoiceNote:
        """Keep a new note in its cache (blocking: call it in a thread)."""
        key, path, meta = self._paths(text, personal)
        duration = max(1, round(seconds))
        with self._lock:
            self.synthesised += 1
            tmp, meta_tmp = path.with_suffix(".part"), meta.with_suffix(".txt.part")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp.write_bytes(data)
                meta_tmp.write_text(f"{duration}\n", encoding="utf-8")
                os.replace(tmp, path)
                os.replace(meta_tmp, meta)  # the note counts once its duration is there
            except OSError as exc:  # a full disk, a read-only folder: no entry at all
                for leftover in (tmp, meta_tmp, meta, path):
                    leftover.unlink(missing_ok=True)
                raise VoiceUnavailable(f"cache not writable ({type(exc).__name__})") from None
            self._evict(path.parent, self.max_personal_bytes if personal else self.max_bytes)
        return VoiceNote(key, path, duration)

    def get_sync(self, text: str, personal: bool = False) -> VoiceNote:
        """The note for `text`, made if needed (blocking, in this process: the console and
        the benchmarks)."""
        note = self.cached(text, personal)
        if note is not None:
            return note
        data, seconds = self._synthesise(text)
        return self.store(text, data, seconds, personal)

    def _synthesise(self, text: str) -> tuple[bytes, float]:
        try:
            return self.synth(text)
        except VoiceUnavailable:
            raise
        except Exception as exc:  # the engine failed: text only, and say so kindly
            raise VoiceUnavailable(type(exc).__name__) from None

    async def get(self, text: str, personal: bool = False) -> VoiceNote:
        """The note for `text`; the synthesis never runs on the event loop's GIL."""
        note = await asyncio.to_thread(self.cached, text, personal)
        if note is not None:
            return note
        key = ("p" if personal else "s") + self.key(text)
        making = self._making.get(key)
        if making is not None:  # someone else asked for it a moment ago: wait for theirs
            return await asyncio.shield(making)
        making = self._making[key] = asyncio.get_running_loop().create_future()
        try:
            data, seconds = await self._synthesise_elsewhere(text)
            note = await asyncio.to_thread(self.store, text, data, seconds, personal)
            making.set_result(note)
            return note
        except asyncio.CancelledError:
            making.cancel()
            raise
        except Exception as exc:
            making.set_exception(exc)
            making.exception()  # retrieved: no "never retrieved" warning when alone
            raise
        finally:
            del self._making[key]

    async def _synthesise_elsewhere(self, text: str) -> tuple[bytes, float]:
        if self.synth is not synthesise:  # a test's engine: a thread is enough
            return await asyncio.to_thread(self._synthesise, text)
        if self._pool is None:
            # forkserver: a clean child, not a fork of this process and its threads; it
            # preloads only this module (the speech libraries come at the first note).
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["bot.voice"])
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=context)
        try:
            # Submitted from a worker thread: the first submission starts the forkserver and
            # the worker (a new Python, a few hundred ms), which must not hold the loop.
            future = await asyncio.to_thread(self._pool.submit, synthesise, text)
            return await asyncio.wrap_future(future)
        except VoiceUnavailable:
            raise
        except Exception as exc:  # a crashed worker included: the next note starts another
            if self._pool is not None and getattr(self._pool, "_broken", False):
                self._pool.shutdown(wait=False)
                self._pool = None
            raise VoiceUnavailable(type(exc).__name__) from None

    def close(self) -> None:
        """Stop the synthesis process (at the bot's shutdown)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def remember_file_id(self, note: VoiceNote, file_id: str) -> None:
        """Telegram's id of the uploaded note, reused instead of uploading it again; ""
        forgets it (Telegram refused it: another bot, another Bot API server)."""
        with self._lock:
            meta = note.path.with_suffix(".txt")
            if note.path.exists():
                try:
                    tmp = meta.with_suffix(".txt.part")
                    tmp.write_text(f"{note.duration}\n{file_id}", encoding="utf-8")
                    os.replace(tmp, meta)
                except OSError as exc:  # the note stays usable without it
                    log.warning("voice file id not kept: %s", type(exc).__name__)

    @staticmethod
    def _evict(folder: Path, max_bytes: int) -> None:
        notes = sorted(folder.glob("*.ogg"), key=lambda p: p.stat().st_mtime)
        total = sum(p.stat().st_size for p in notes)
        while notes and total > max_bytes:
            oldest = notes.pop(0)
            total -= oldest.stat().st_size
            oldest.unlink(missing_ok=True)
            oldest.with_suffix(".txt").unlink(missing_ok=True)

    @property
    def hit_rate(self) -> float:
        return 1 - self.synthesised / self.served if self.served else 0.0
