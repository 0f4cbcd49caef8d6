"""What the main screens offer, for the tests that check it through the engine and through
Telegram."""

from __future__ import annotations

# The main menu's buttons (their callback data), in order; the last offers to read aloud.
MAIN_MENU = ["discover", "fit", "steps", "modules", "ask", "where", "voice_on"]
