"""The Bot API test server the Telegram tests drive the real Application against."""

from botapi.server import ApiError, BotApiServer, Call, check_html, visible_text

__all__ = ["ApiError", "BotApiServer", "Call", "check_html", "visible_text"]
