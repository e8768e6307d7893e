"""What the names in :mod:`bot.config`'s annotations mean, for mypy and pydantic alike.

The sections' annotations are strings that pydantic evaluates in ``bot.config``'s
namespace on the first check: :func:`bot.config._schema` imports this module then
and puts its :data:`__all__` there, and mypy reads the same names from here (they are
imported under ``TYPE_CHECKING``). One table, so the two views cannot drift apart;
kept out of ``bot.config`` because importing pydantic costs a tenth of a second.
"""

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainValidator,
    StrictBool,
    StrictInt,
    StrictStr,
)

from bot.config import parse_duration, parse_path

__all__ = [
    "AfterValidator", "BeforeValidator", "Field", "PlainValidator", "StrictBool", "StrictInt",
    "StrictStr", "Score", "Points", "Count", "Duration", "OptionalPath", "TelegramId",
    "UserId",
]


def _positive(value: Any) -> Any:
    if not value > type(value)():
        raise ValueError("must be more than 0")
    return value


def _not_a_fraction(value: float) -> float:
    if 0 < value < 1:
        raise ValueError(f"{value} looks like a fraction: scores are 0 to 100, write "
                         f"{value * 100:g} for {value * 100:g}%")
    return value


Score = Annotated[float, Field(strict=True, ge=0, le=100), AfterValidator(_not_a_fraction)]
Points = Annotated[float, Field(strict=True, ge=0, le=100)]
Count = Annotated[StrictInt, Field(ge=1, le=50)]
Duration = Annotated[timedelta, BeforeValidator(parse_duration), AfterValidator(_positive)]
OptionalPath = Annotated[Path | None, BeforeValidator(parse_path)]
TelegramId = Annotated[StrictInt, Field(ge=-2**63, lt=2**63)]


def _a_person(value: int) -> int:
    if value <= 0:
        raise ValueError(f"{value} is a group's or a channel's chat id: a person's "
                         "Telegram user id is a positive number")
    return value


UserId = Annotated[StrictInt, Field(lt=2**63), AfterValidator(_a_person)]
