from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.free_busy_attendees_item_working_hours_type_1_days_item import (
    FreeBusyAttendeesItemWorkingHoursType1DaysItem,
)

T = TypeVar("T", bound="FreeBusyAttendeesItemWorkingHoursType1")


@_attrs_define
class FreeBusyAttendeesItemWorkingHoursType1:
    """
    Attributes:
        days (list[FreeBusyAttendeesItemWorkingHoursType1DaysItem]):
        start (str):
        end (str):
        time_zone (str):
    """

    days: list[FreeBusyAttendeesItemWorkingHoursType1DaysItem]
    start: str
    end: str
    time_zone: str

    def to_dict(self) -> dict[str, Any]:
        days = []
        for days_item_data in self.days:
            days_item = days_item_data.value
            days.append(days_item)

        start = self.start

        end = self.end

        time_zone = self.time_zone

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "days": days,
                "start": start,
                "end": end,
                "time_zone": time_zone,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        days = []
        _days = d.pop("days")
        for days_item_data in _days:
            days_item = FreeBusyAttendeesItemWorkingHoursType1DaysItem(days_item_data)

            days.append(days_item)

        start = d.pop("start")

        end = d.pop("end")

        time_zone = d.pop("time_zone")

        free_busy_attendees_item_working_hours_type_1 = cls(
            days=days,
            start=start,
            end=end,
            time_zone=time_zone,
        )

        return free_busy_attendees_item_working_hours_type_1
