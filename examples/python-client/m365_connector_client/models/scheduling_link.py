from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.scheduling_link_status import SchedulingLinkStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.link_booking import LinkBooking
    from ..models.scheduling_link_pools_item import SchedulingLinkPoolsItem


T = TypeVar("T", bound="SchedulingLink")


@_attrs_define
class SchedulingLink:
    """
    Attributes:
        id (str):
        status (SchedulingLinkStatus):
        title (str):
        duration_minutes (int):
        window_start (datetime.datetime):
        window_end (datetime.datetime):
        time_zone (str):
        required (list[str]):
        pools (list[SchedulingLinkPoolsItem]):
        expires_at (datetime.datetime):
        booking (LinkBooking | None):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
        description (None | str | Unset):
        single_use (bool | Unset):
        online_meeting (bool | Unset):
    """

    id: str
    status: SchedulingLinkStatus
    title: str
    duration_minutes: int
    window_start: datetime.datetime
    window_end: datetime.datetime
    time_zone: str
    required: list[str]
    pools: list[SchedulingLinkPoolsItem]
    expires_at: datetime.datetime
    booking: LinkBooking | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    description: None | str | Unset = UNSET
    single_use: bool | Unset = UNSET
    online_meeting: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.link_booking import LinkBooking

        id = self.id

        status = self.status.value

        title = self.title

        duration_minutes = self.duration_minutes

        window_start = self.window_start.isoformat()

        window_end = self.window_end.isoformat()

        time_zone = self.time_zone

        required = self.required

        pools = []
        for pools_item_data in self.pools:
            pools_item = pools_item_data.to_dict()
            pools.append(pools_item)

        expires_at = self.expires_at.isoformat()

        booking: dict[str, Any] | None
        if isinstance(self.booking, LinkBooking):
            booking = self.booking.to_dict()
        else:
            booking = self.booking

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        description: None | str | Unset
        if isinstance(self.description, Unset):
            description = UNSET
        else:
            description = self.description

        single_use = self.single_use

        online_meeting = self.online_meeting

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "status": status,
                "title": title,
                "duration_minutes": duration_minutes,
                "window_start": window_start,
                "window_end": window_end,
                "time_zone": time_zone,
                "required": required,
                "pools": pools,
                "expires_at": expires_at,
                "booking": booking,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description
        if single_use is not UNSET:
            field_dict["single_use"] = single_use
        if online_meeting is not UNSET:
            field_dict["online_meeting"] = online_meeting

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.link_booking import LinkBooking
        from ..models.scheduling_link_pools_item import SchedulingLinkPoolsItem

        d = dict(src_dict)
        id = d.pop("id")

        status = SchedulingLinkStatus(d.pop("status"))

        title = d.pop("title")

        duration_minutes = d.pop("duration_minutes")

        window_start = datetime.datetime.fromisoformat(d.pop("window_start"))

        window_end = datetime.datetime.fromisoformat(d.pop("window_end"))

        time_zone = d.pop("time_zone")

        required = cast(list[str], d.pop("required"))

        pools = []
        _pools = d.pop("pools")
        for pools_item_data in _pools:
            pools_item = SchedulingLinkPoolsItem.from_dict(pools_item_data)

            pools.append(pools_item)

        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))

        def _parse_booking(data: object) -> LinkBooking | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                booking_type_1 = LinkBooking.from_dict(data)

                return booking_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(LinkBooking | None, data)

        booking = _parse_booking(d.pop("booking"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        def _parse_description(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        description = _parse_description(d.pop("description", UNSET))

        single_use = d.pop("single_use", UNSET)

        online_meeting = d.pop("online_meeting", UNSET)

        scheduling_link = cls(
            id=id,
            status=status,
            title=title,
            duration_minutes=duration_minutes,
            window_start=window_start,
            window_end=window_end,
            time_zone=time_zone,
            required=required,
            pools=pools,
            expires_at=expires_at,
            booking=booking,
            created_at=created_at,
            updated_at=updated_at,
            description=description,
            single_use=single_use,
            online_meeting=online_meeting,
        )

        scheduling_link.additional_properties = d
        return scheduling_link

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
