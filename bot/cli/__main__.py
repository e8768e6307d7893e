"""``python -m bot.cli``: the same as the ``ngo-faq-bot`` console script."""

import sys

from bot.cli import main

sys.exit(main())
