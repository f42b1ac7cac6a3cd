from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.scheduling_link_request_buffers import SchedulingLinkRequestBuffers
    from ..models.scheduling_link_request_candidate import (
        SchedulingLinkRequestCandidate,
    )
    from ..models.scheduling_link_request_pools_item import (
        SchedulingLinkRequestPoolsItem,
    )
    from ..models.scheduling_link_request_window import SchedulingLinkRequestWindow


T = TypeVar("T", bound="SchedulingLinkRequest")


@_attrs_define
class SchedulingLinkRequest:
    """
    Attributes:
        title (str):
        duration_minutes (int): A multiple of 15.
        window (SchedulingLinkRequestWindow):
        time_zone (str): The organiser's IANA zone.
        required (list[str]): Interviewers who must all attend.
        description (str | Unset):
        pools (list[SchedulingLinkRequestPoolsItem] | Unset):
        buffers (SchedulingLinkRequestBuffers | Unset):
        min_notice_minutes (int | Unset):
        granularity_minutes (int | Unset): A multiple of 15.
        max_slots_per_day (int | Unset):
        candidate (SchedulingLinkRequestCandidate | Unset):
        online_meeting (bool | Unset):  Default: True.
        location (str | Unset):
        expires_at (datetime.datetime | Unset): Defaults to the window's end.
        single_use (bool | Unset): Only `true` for now (one booking per link). Default: True.
    """

    title: str
    duration_minutes: int
    window: SchedulingLinkRequestWindow
    time_zone: str
    required: list[str]
    description: str | Unset = UNSET
    pools: list[SchedulingLinkRequestPoolsItem] | Unset = UNSET
    buffers: SchedulingLinkRequestBuffers | Unset = UNSET
    min_notice_minutes: int | Unset = UNSET
    granularity_minutes: int | Unset = UNSET
    max_slots_per_day: int | Unset = UNSET
    candidate: SchedulingLinkRequestCandidate | Unset = UNSET
    online_meeting: bool | Unset = True
    location: str | Unset = UNSET
    expires_at: datetime.datetime | Unset = UNSET
    single_use: bool | Unset = True

    def to_dict(self) -> dict[str, Any]:
        title = self.title

        duration_minutes = self.duration_minutes

        window = self.window.to_dict()

        time_zone = self.time_zone

        required = self.required

        description = self.description

        pools: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.pools, Unset):
            pools = []
            for pools_item_data in self.pools:
                pools_item = pools_item_data.to_dict()
                pools.append(pools_item)

        buffers: dict[str, Any] | Unset = UNSET
        if not isinstance(self.buffers, Unset):
            buffers = self.buffers.to_dict()

        min_notice_minutes = self.min_notice_minutes

        granularity_minutes = self.granularity_minutes

        max_slots_per_day = self.max_slots_per_day

        candidate: dict[str, Any] | Unset = UNSET
        if not isinstance(self.candidate, Unset):
            candidate = self.candidate.to_dict()

        online_meeting = self.online_meeting

        location = self.location

        expires_at: str | Unset = UNSET
        if not isinstance(self.expires_at, Unset):
            expires_at = self.expires_at.isoformat()

        single_use = self.single_use

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "title": title,
                "duration_minutes": duration_minutes,
                "window": window,
                "time_zone": time_zone,
                "required": required,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description
        if pools is not UNSET:
            field_dict["pools"] = pools
        if buffers is not UNSET:
            field_dict["buffers"] = buffers
        if min_notice_minutes is not UNSET:
            field_dict["min_notice_minutes"] = min_notice_minutes
        if granularity_minutes is not UNSET:
            field_dict["granularity_minutes"] = granularity_minutes
        if max_slots_per_day is not UNSET:
            field_dict["max_slots_per_day"] = max_slots_per_day
        if candidate is not UNSET:
            field_dict["candidate"] = candidate
        if online_meeting is not UNSET:
            field_dict["online_meeting"] = online_meeting
        if location is not UNSET:
            field_dict["location"] = location
        if expires_at is not UNSET:
            field_dict["expires_at"] = expires_at
        if single_use is not UNSET:
            field_dict["single_use"] = single_use

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.scheduling_link_request_buffers import (
            SchedulingLinkRequestBuffers,
        )
        from ..models.scheduling_link_request_candidate import (
            SchedulingLinkRequestCandidate,
        )
        from ..models.scheduling_link_request_pools_item import (
            SchedulingLinkRequestPoolsItem,
        )
        from ..models.scheduling_link_request_window import SchedulingLinkRequestWindow

        d = dict(src_dict)
        title = d.pop("title")

        duration_minutes = d.pop("duration_minutes")

        window = SchedulingLinkRequestWindow.from_dict(d.pop("window"))

        time_zone = d.pop("time_zone")

        required = cast(list[str], d.pop("required"))

        description = d.pop("description", UNSET)

        _pools = d.pop("pools", UNSET)
        pools: list[SchedulingLinkRequestPoolsItem] | Unset = UNSET
        if _pools is not UNSET:
            pools = []
            for pools_item_data in _pools:
                pools_item = SchedulingLinkRequestPoolsItem.from_dict(pools_item_data)

                pools.append(pools_item)

        _buffers = d.pop("buffers", UNSET)
        buffers: SchedulingLinkRequestBuffers | Unset
        if isinstance(_buffers, Unset):
            buffers = UNSET
        else:
            buffers = SchedulingLinkRequestBuffers.from_dict(_buffers)

        min_notice_minutes = d.pop("min_notice_minutes", UNSET)

        granularity_minutes = d.pop("granularity_minutes", UNSET)

        max_slots_per_day = d.pop("max_slots_per_day", UNSET)

        _candidate = d.pop("candidate", UNSET)
        candidate: SchedulingLinkRequestCandidate | Unset
        if isinstance(_candidate, Unset):
            candidate = UNSET
        else:
            candidate = SchedulingLinkRequestCandidate.from_dict(_candidate)

        online_meeting = d.pop("online_meeting", UNSET)

        location = d.pop("location", UNSET)

        _expires_at = d.pop("expires_at", UNSET)
        expires_at: datetime.datetime | Unset
        if isinstance(_expires_at, Unset):
            expires_at = UNSET
        else:
            expires_at = datetime.datetime.fromisoformat(_expires_at)

        single_use = d.pop("single_use", UNSET)

        scheduling_link_request = cls(
            title=title,
            duration_minutes=duration_minutes,
            window=window,
            time_zone=time_zone,
            required=required,
            description=description,
            pools=pools,
            buffers=buffers,
            min_notice_minutes=min_notice_minutes,
            granularity_minutes=granularity_minutes,
            max_slots_per_day=max_slots_per_day,
            candidate=candidate,
            online_meeting=online_meeting,
            location=location,
            expires_at=expires_at,
            single_use=single_use,
        )

        return scheduling_link_request
