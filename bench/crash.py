"""The crash campaign at size: 300 people walk whole journeys (buttons, FAQ answers,
/demande), 12 kill -9 of the bot process at random moments, random 500s from Telegram.
Every transcript is compared with the crash-free one computed in-process: lost messages
(must be 0) and repeated ones (at most one per chat per crash).

    python -m bench.crash [--people 300] [--kills 12] [--seed 25]

Writes bench/results/crash.json. Not part of `make bench` (it takes minutes)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from pathlib import Path

from knowledge.loader import load
from tests.crash_harness import run_campaign
from tests.fake_bot_api import FakeBotApi

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--kills", type=int, default=12)
    parser.add_argument("--seed", type=int, default=25)
    args = parser.parse_args()
    api = FakeBotApi().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            campaign = run_campaign(api, load(), Path(tmp), args.people, args.kills, args.seed)
    finally:
        api.stop()
    result = dataclasses.asdict(campaign)
    result["chats_over_limit"] = len(campaign.chats_over_limit)
    result["chats_with_loss"] = len(campaign.chats_with_loss)
    print(json.dumps(result, indent=1))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "crash.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
