"""Micro benchmarks: one dialog turn (restore a stored session + handle one event), one
FAQ match, and start-up costs. Run by hand: python -m bench.micro"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import yaml

from bench.faq_eval import EVAL_FILE
from bot.storage import Storage
from dialogs.engine import Engine
from dialogs.model import Event, Session
from knowledge import geography
from knowledge.faq import FaqMatcher
from knowledge.loader import load

RESULTS = Path(__file__).parent / "results"


def per_call_us(fn, calls: list, repeat: int = 5) -> dict[str, float]:
    for c in calls:  # warm caches
        fn(c)
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        for c in calls:
            fn(c)
        samples.append((time.perf_counter() - t) / len(calls) * 1e6)
    return {"median_us": round(statistics.median(samples), 1), "min_us": round(min(samples), 1)}


def main() -> dict:
    out: dict[str, object] = {}
    t = time.perf_counter()
    knowledge = load()
    out["load_content_ms"] = round((time.perf_counter() - t) * 1000, 1)
    t = time.perf_counter()
    geography.warm()
    out["geo_index_ms"] = round((time.perf_counter() - t) * 1000, 1)
    t = time.perf_counter()
    engine = Engine(knowledge)
    out["engine_build_ms"] = round((time.perf_counter() - t) * 1000, 1)
    t = time.perf_counter()
    FaqMatcher(knowledge)
    out["faq_index_ms"] = round((time.perf_counter() - t) * 1000, 1)

    # A dialog turn: JSON → Session, handle one event, Session → JSON.
    s = Session("bench")
    engine.handle(s, Event("start"))
    engine.handle(s, Event("choice", "fit"))
    stored = s.to_json()
    events = [
        Event("choice", "answer:employee"),
        Event("choice", "domain:3"),
        Event("choice", "step:2"),
        Event("choice", "menu"),
        Event("text", "42000"),
        Event("choice", "where"),
        Event("choice", "zz:forged"),
    ]

    def turn(event: Event) -> None:
        session = Session.from_json("bench", stored)
        engine.handle(session, event)
        session.to_json()

    out["dialog_turn"] = per_call_us(turn, events * 50)
    data = yaml.safe_load(EVAL_FILE.read_text(encoding="utf-8"))
    texts = [i["text"] for i in data["in_scope"]] + data["out_of_scope"]
    out["faq_match"] = per_call_us(engine.matcher.match, texts)

    def free_text_turn(text: str) -> None:
        session = Session.from_json("bench", stored)
        engine.handle(session, Event("text", text))

    out["free_text_turn"] = per_call_us(free_text_turn, texts)
    out["geo_lookup"] = per_call_us(
        geography.lookup, ["42000", "st etienne", "marseile", "75 011", "Saint-Denis", "abc"] * 20
    )
    store = Storage(":memory:")
    session = Session.from_json("bench", stored)
    out["stored_session_bytes"] = len(stored.encode())

    def save(_: object) -> None:
        store.save(session)

    out["sqlite_save"] = per_call_us(save, list(range(500)))
    out["voice"] = voice_bench(engine)
    return out


def voice_bench(engine: Engine) -> dict[str, object]:
    """Synthesis time per key screen (cold, in a fresh cache), then the cache hit rate
    when 20 people listen to the same 7 screens."""
    import tempfile

    from bot.voice import VoiceService

    screens: list[tuple[str, dict[str, object]]] = [
        ("discover", {}),
        ("about", {"about": "audience"}),
        ("domain", {"domain": 2}),
        ("step", {"step": 3}),
        ("fit_result", {}),
        ("about", {"about": "cost"}),
        ("domain", {"domain": 7}),
    ]
    answers = {"situation": "employee", "diploma": "none", "goal": "job", "reading": "hard"}
    texts = []
    for state, data in screens:
        s = Session("v", state=state, answers=answers, data=data)
        texts.append(engine.views.voice_of(engine.screen(s)).voice or "")
    with tempfile.TemporaryDirectory() as tmp:
        service = VoiceService(Path(tmp))
        cold = []
        for text in texts:
            t = time.perf_counter()
            note = service.get_sync(text)
            cold.append(((time.perf_counter() - t) * 1000, note.duration))
        for _ in range(19):
            for text in texts:
                service.get_sync(text)
        return {
            "synthesis_ms_per_screen": round(statistics.median(c[0] for c in cold), 1),
            "synthesis_ms_max": round(max(c[0] for c in cold), 1),
            "audio_seconds_per_screen": statistics.median(c[1] for c in cold),
            "cache_hit_rate_20_listeners": round(service.hit_rate, 3),
        }


if __name__ == "__main__":
    result = main()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "micro.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
