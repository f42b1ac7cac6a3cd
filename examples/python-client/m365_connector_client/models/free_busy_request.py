from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="FreeBusyRequest")


@_attrs_define
class FreeBusyRequest:
    """A window of at most one year; no address twice (case-insensitive).

    Attributes:
        attendees (list[str]):
        start (datetime.datetime): An RFC 3339 date-time with an offset (`Z` or `+01:00`).
        end (datetime.datetime): An RFC 3339 date-time with an offset (`Z` or `+01:00`).
        time_zone (str): An IANA time zone name (`Europe/Berlin`); a Windows name is refused.
        interval_minutes (int | None | Unset): Minutes per digit of `availability_view`; at most the window (Graph
            refuses a longer one). Default: 30.
    """

    attendees: list[str]
    start: datetime.datetime
    end: datetime.datetime
    time_zone: str
    interval_minutes: int | None | Unset = 30

    def to_dict(self) -> dict[str, Any]:
        attendees = self.attendees

        start = self.start.isoformat()

        end = self.end.isoformat()

        time_zone = self.time_zone

        interval_minutes: int | None | Unset
        if isinstance(self.interval_minutes, Unset):
            interval_minutes = UNSET
        else:
            interval_minutes = self.interval_minutes

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "attendees": attendees,
                "start": start,
                "end": end,
                "time_zone": time_zone,
            }
        )
        if interval_minutes is not UNSET:
            field_dict["interval_minutes"] = interval_minutes

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        attendees = cast(list[str], d.pop("attendees"))

        start = datetime.datetime.fromisoformat(d.pop("start"))

        end = datetime.datetime.fromisoformat(d.pop("end"))

        time_zone = d.pop("time_zone")

        def _parse_interval_minutes(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        interval_minutes = _parse_interval_minutes(d.pop("interval_minutes", UNSET))

        free_busy_request = cls(
            attendees=attendees,
            start=start,
            end=end,
            time_zone=time_zone,
            interval_minutes=interval_minutes,
        )

        return free_busy_request
