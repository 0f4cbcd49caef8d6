"""Voice notes of key screens, for people who find reading hard.

Engine: SVOX Pico through py-nanotts (French voice fr-FR shipped inside its wheel, Apache
2.0), 16 kHz mono PCM, encoded to OGG/Opus (the format Telegram plays as a voice note) by
soundfile (libsndfile, shipped inside its wheel). Nothing is downloaded at run time.

Synthesis and encoding run in a worker thread, never on the event loop. Each note is kept
on disk under the hash of the text it says, so a screen heard by many people is synthesised
once; the cache is bounded and drops the oldest notes first. After the first upload,
Telegram's file_id is kept beside the note and reused: later sends upload nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
VOICE = "fr-FR"
MAX_CACHE_BYTES = 50 * 1024 * 1024
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
    pcm = NanoTTS().speak(text, voice=VOICE)
    samples = np.frombuffer(pcm, dtype="<i2")
    if not len(samples):
        raise VoiceUnavailable("empty synthesis")
    buffer = io.BytesIO()
    # libsndfile's level 0.8 (about 48 kbit/s) encodes a 20-second screen in about 0.3 s;
    # its default (about 22 kbit/s) took 0.8 s here. The note is made once, then cached.
    soundfile.write(buffer, samples, SAMPLE_RATE, format="OGG", subtype="OPUS",
                    compression_level=OPUS_LEVEL)
    return buffer.getvalue(), len(samples) / SAMPLE_RATE


class VoiceService:
    """Notes on disk by hash of the spoken text; `synth` is replaceable for tests."""

    def __init__(self, cache_dir: Path, max_bytes: int = MAX_CACHE_BYTES,
                 synth=synthesise):
        self.dir = cache_dir
        self.max_bytes = max_bytes
        self.synth = synth
        self.synthesised = 0  # how many notes were made (the rest came from the cache)
        self.served = 0
        self._lock = threading.Lock()

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(f"{VOICE}\n{text}".encode()).hexdigest()[:32]

    def get_sync(self, text: str) -> VoiceNote:
        """The note for `text`, made if needed (blocking: call it in a worker thread)."""
        key = self.key(text)
        path = self.dir / f"{key}.ogg"
        meta = self.dir / f"{key}.txt"
        with self._lock:
            self.served += 1
            if path.exists() and meta.exists():
                duration, _, file_id = meta.read_text(encoding="utf-8").partition("\n")
                os.utime(path)  # recently used: evicted last
                return VoiceNote(key, path, int(duration), file_id.strip() or None)
        try:
            data, seconds = self.synth(text)
        except VoiceUnavailable:
            raise
        except Exception as exc:  # the engine failed: text only, and say so kindly
            raise VoiceUnavailable(type(exc).__name__) from None
        duration = max(1, round(seconds))
        with self._lock:
            self.synthesised += 1
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".part")
            tmp.write_bytes(data)
            os.replace(tmp, path)
            meta.write_text(f"{duration}\n", encoding="utf-8")
            self._evict()
        return VoiceNote(key, path, duration)

    async def get(self, text: str) -> VoiceNote:
        return await asyncio.to_thread(self.get_sync, text)

    def remember_file_id(self, note: VoiceNote, file_id: str) -> None:
        with self._lock:
            meta = self.dir / f"{note.key}.txt"
            if note.path.exists():
                meta.write_text(f"{note.duration}\n{file_id}", encoding="utf-8")

    def _evict(self) -> None:
        notes = sorted(self.dir.glob("*.ogg"), key=lambda p: p.stat().st_mtime)
        total = sum(p.stat().st_size for p in notes)
        while notes and total > self.max_bytes:
            oldest = notes.pop(0)
            total -= oldest.stat().st_size
            oldest.unlink(missing_ok=True)
            oldest.with_suffix(".txt").unlink(missing_ok=True)

    @property
    def hit_rate(self) -> float:
        return 1 - self.synthesised / self.served if self.served else 0.0
