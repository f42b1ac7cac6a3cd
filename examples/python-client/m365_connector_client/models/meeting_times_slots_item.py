from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="MeetingTimesSlotsItem")


@_attrs_define
class MeetingTimesSlotsItem:
    """
    Attributes:
        start (datetime.datetime):
        end (datetime.datetime):
        required_free (list[str]):
        optional_free (list[str]):
    """

    start: datetime.datetime
    end: datetime.datetime
    required_free: list[str]
    optional_free: list[str]

    def to_dict(self) -> dict[str, Any]:
        start = self.start.isoformat()

        end = self.end.isoformat()

        required_free = self.required_free

        optional_free = self.optional_free

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "start": start,
                "end": end,
                "required_free": required_free,
                "optional_free": optional_free,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        start = datetime.datetime.fromisoformat(d.pop("start"))

        end = datetime.datetime.fromisoformat(d.pop("end"))

        required_free = cast(list[str], d.pop("required_free"))

        optional_free = cast(list[str], d.pop("optional_free"))

        meeting_times_slots_item = cls(
            start=start,
            end=end,
            required_free=required_free,
            optional_free=optional_free,
        )

        return meeting_times_slots_item
