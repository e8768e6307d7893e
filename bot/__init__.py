"""The core of the ASCS FAQ bot: everything that does not know about Telegram."""
