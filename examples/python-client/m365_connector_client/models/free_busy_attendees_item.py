from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.free_busy_attendees_item_status import FreeBusyAttendeesItemStatus

if TYPE_CHECKING:
    from ..models.free_busy_attendees_item_busy_item import (
        FreeBusyAttendeesItemBusyItem,
    )
    from ..models.free_busy_attendees_item_working_hours_type_1 import (
        FreeBusyAttendeesItemWorkingHoursType1,
    )


T = TypeVar("T", bound="FreeBusyAttendeesItem")


@_attrs_define
class FreeBusyAttendeesItem:
    """
    Attributes:
        address (str):
        status (FreeBusyAttendeesItemStatus): `unknown`: Graph does not know the address; `unsupported`: an on-premises
            mailbox.
        availability_view (None | str): Graph's availability view, one digit per interval.
        busy (list[FreeBusyAttendeesItemBusyItem]):
        working_hours (FreeBusyAttendeesItemWorkingHoursType1 | None):
    """

    address: str
    status: FreeBusyAttendeesItemStatus
    availability_view: None | str
    busy: list[FreeBusyAttendeesItemBusyItem]
    working_hours: FreeBusyAttendeesItemWorkingHoursType1 | None

    def to_dict(self) -> dict[str, Any]:
        from ..models.free_busy_attendees_item_working_hours_type_1 import (
            FreeBusyAttendeesItemWorkingHoursType1,
        )

        address = self.address

        status = self.status.value

        availability_view: None | str
        availability_view = self.availability_view

        busy = []
        for busy_item_data in self.busy:
            busy_item = busy_item_data.to_dict()
            busy.append(busy_item)

        working_hours: dict[str, Any] | None
        if isinstance(self.working_hours, FreeBusyAttendeesItemWorkingHoursType1):
            working_hours = self.working_hours.to_dict()
        else:
            working_hours = self.working_hours

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "address": address,
                "status": status,
                "availability_view": availability_view,
                "busy": busy,
                "working_hours": working_hours,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.free_busy_attendees_item_busy_item import (
            FreeBusyAttendeesItemBusyItem,
        )
        from ..models.free_busy_attendees_item_working_hours_type_1 import (
            FreeBusyAttendeesItemWorkingHoursType1,
        )

        d = dict(src_dict)
        address = d.pop("address")

        status = FreeBusyAttendeesItemStatus(d.pop("status"))

        def _parse_availability_view(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        availability_view = _parse_availability_view(d.pop("availability_view"))

        busy = []
        _busy = d.pop("busy")
        for busy_item_data in _busy:
            busy_item = FreeBusyAttendeesItemBusyItem.from_dict(busy_item_data)

            busy.append(busy_item)

        def _parse_working_hours(
            data: object,
        ) -> FreeBusyAttendeesItemWorkingHoursType1 | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                working_hours_type_1 = FreeBusyAttendeesItemWorkingHoursType1.from_dict(
                    data
                )

                return working_hours_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FreeBusyAttendeesItemWorkingHoursType1 | None, data)

        working_hours = _parse_working_hours(d.pop("working_hours"))

        free_busy_attendees_item = cls(
            address=address,
            status=status,
            availability_view=availability_view,
            busy=busy,
            working_hours=working_hours,
        )

        return free_busy_attendees_item
