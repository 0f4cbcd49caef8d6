"""Channels: each turns its input into dialog `Event`s and renders `Reply`s, nothing else.
The turn itself (load, handle, save, what to send to others) is bot/turn.py."""
