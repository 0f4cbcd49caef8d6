"""kill -9 under load with random 500s: every person's transcript is the crash-free one,
but for at most one repeated message per chat per crash; nothing lost. The large run
(300 people, 12 kills) is `python -m bench.crash`."""

from __future__ import annotations

import pytest

from tests.crash_harness import compare, run_campaign


def test_compare_counts_losses_and_repeats():
    assert compare(["a", "b", "c"], ["a", "b", "c"]) == (0, 0)
    assert compare(["a", "b", "c"], ["a", "a", "b", "c", "c"]) == (0, 2)
    assert compare(["a", "b", "c"], ["a", "c"])[0] > 0  # "b" lost
    assert compare(["a", "b"], ["a", "b", "x"])[0] > 0  # something else sent
    assert compare(["a", "b"], ["b", "a"])[0] > 0  # out of order


@pytest.mark.slow
@pytest.mark.integration
def test_kill_9_under_load_loses_nothing_and_repeats_at_most_one_per_crash(
    api, knowledge, tmp_path
):
    campaign = run_campaign(api, knowledge, tmp_path, people=60, kills=5)
    assert campaign.kills == 5 and campaign.faults >= 10
    assert campaign.updates >= 60 * 9  # whole journeys: FAQ answers, /demande, requests
    assert campaign.lost == 0, (campaign.chats_with_loss[:5], campaign)
    assert not campaign.chats_over_limit, campaign  # at most one repeat per chat per crash
    assert campaign.worst_repeats_per_chat_per_crash <= 1
    # Contact requests: each note reached the advisers' chat, at most once more per crash.
    assert campaign.requests == 12 and campaign.notes_lost == 0
    assert campaign.notes_repeated <= campaign.kills
