from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.free_busy_status import FreeBusyStatus

T = TypeVar("T", bound="FreeBusyAttendeesItemBusyItem")


@_attrs_define
class FreeBusyAttendeesItemBusyItem:
    """
    Attributes:
        start (datetime.datetime):
        end (datetime.datetime):
        status (FreeBusyStatus):
    """

    start: datetime.datetime
    end: datetime.datetime
    status: FreeBusyStatus

    def to_dict(self) -> dict[str, Any]:
        start = self.start.isoformat()

        end = self.end.isoformat()

        status = self.status.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "start": start,
                "end": end,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        start = datetime.datetime.fromisoformat(d.pop("start"))

        end = datetime.datetime.fromisoformat(d.pop("end"))

        status = FreeBusyStatus(d.pop("status"))

        free_busy_attendees_item_busy_item = cls(
            start=start,
            end=end,
            status=status,
        )

        return free_busy_attendees_item_busy_item
