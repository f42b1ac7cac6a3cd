from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="CalendarAttendeeProposedNewTime")


@_attrs_define
class CalendarAttendeeProposedNewTime:
    """
    Attributes:
        start (datetime.datetime):
        end (datetime.datetime):
    """

    start: datetime.datetime
    end: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        start = self.start.isoformat()

        end = self.end.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "start": start,
                "end": end,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        start = datetime.datetime.fromisoformat(d.pop("start"))

        end = datetime.datetime.fromisoformat(d.pop("end"))

        calendar_attendee_proposed_new_time = cls(
            start=start,
            end=end,
        )

        return calendar_attendee_proposed_new_time
