"""The Telegram layer: turns updates into calls on the core (``bot``) and results into messages."""
