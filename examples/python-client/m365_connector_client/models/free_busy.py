from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.free_busy_attendees_item import FreeBusyAttendeesItem


T = TypeVar("T", bound="FreeBusy")


@_attrs_define
class FreeBusy:
    """
    Attributes:
        time_zone (str):
        attendees (list[FreeBusyAttendeesItem]):
    """

    time_zone: str
    attendees: list[FreeBusyAttendeesItem]

    def to_dict(self) -> dict[str, Any]:
        time_zone = self.time_zone

        attendees = []
        for attendees_item_data in self.attendees:
            attendees_item = attendees_item_data.to_dict()
            attendees.append(attendees_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "time_zone": time_zone,
                "attendees": attendees,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.free_busy_attendees_item import FreeBusyAttendeesItem

        d = dict(src_dict)
        time_zone = d.pop("time_zone")

        attendees = []
        _attendees = d.pop("attendees")
        for attendees_item_data in _attendees:
            attendees_item = FreeBusyAttendeesItem.from_dict(attendees_item_data)

            attendees.append(attendees_item)

        free_busy = cls(
            time_zone=time_zone,
            attendees=attendees,
        )

        return free_busy
