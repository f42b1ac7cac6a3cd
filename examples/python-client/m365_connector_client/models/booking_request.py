from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.attendee import Attendee


T = TypeVar("T", bound="BookingRequest")


@_attrs_define
class BookingRequest:
    """A meeting of at most 24 hours.

    Attributes:
        subject (str):
        start (datetime.datetime): An RFC 3339 date-time with an offset (`Z` or `+01:00`).
        end (datetime.datetime): An RFC 3339 date-time with an offset (`Z` or `+01:00`).
        time_zone (str): An IANA time zone name (`Europe/Berlin`); a Windows name is refused.
        attendees (list[Attendee]):
        body (None | str | Unset): Plain text.
        location (None | str | Unset):
        online_meeting (bool | None | Unset):  Default: True.
    """

    subject: str
    start: datetime.datetime
    end: datetime.datetime
    time_zone: str
    attendees: list[Attendee]
    body: None | str | Unset = UNSET
    location: None | str | Unset = UNSET
    online_meeting: bool | None | Unset = True

    def to_dict(self) -> dict[str, Any]:
        subject = self.subject

        start = self.start.isoformat()

        end = self.end.isoformat()

        time_zone = self.time_zone

        attendees = []
        for componentsschemas_attendees_item_data in self.attendees:
            componentsschemas_attendees_item = (
                componentsschemas_attendees_item_data.to_dict()
            )
            attendees.append(componentsschemas_attendees_item)

        body: None | str | Unset
        if isinstance(self.body, Unset):
            body = UNSET
        else:
            body = self.body

        location: None | str | Unset
        if isinstance(self.location, Unset):
            location = UNSET
        else:
            location = self.location

        online_meeting: bool | None | Unset
        if isinstance(self.online_meeting, Unset):
            online_meeting = UNSET
        else:
            online_meeting = self.online_meeting

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "subject": subject,
                "start": start,
                "end": end,
                "time_zone": time_zone,
                "attendees": attendees,
            }
        )
        if body is not UNSET:
            field_dict["body"] = body
        if location is not UNSET:
            field_dict["location"] = location
        if online_meeting is not UNSET:
            field_dict["online_meeting"] = online_meeting

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.attendee import Attendee

        d = dict(src_dict)
        subject = d.pop("subject")

        start = datetime.datetime.fromisoformat(d.pop("start"))

        end = datetime.datetime.fromisoformat(d.pop("end"))

        time_zone = d.pop("time_zone")

        attendees = []
        _attendees = d.pop("attendees")
        for componentsschemas_attendees_item_data in _attendees:
            componentsschemas_attendees_item = Attendee.from_dict(
                componentsschemas_attendees_item_data
            )

            attendees.append(componentsschemas_attendees_item)

        def _parse_body(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        body = _parse_body(d.pop("body", UNSET))

        def _parse_location(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        location = _parse_location(d.pop("location", UNSET))

        def _parse_online_meeting(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        online_meeting = _parse_online_meeting(d.pop("online_meeting", UNSET))

        booking_request = cls(
            subject=subject,
            start=start,
            end=end,
            time_zone=time_zone,
            attendees=attendees,
            body=body,
            location=location,
            online_meeting=online_meeting,
        )

        return booking_request
