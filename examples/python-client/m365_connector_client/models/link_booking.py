from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.link_booking_online_meeting_type_1 import LinkBookingOnlineMeetingType1
from ..models.link_booking_online_meeting_type_2_type_1 import (
    LinkBookingOnlineMeetingType2Type1,
)
from ..models.link_booking_online_meeting_type_3_type_1 import (
    LinkBookingOnlineMeetingType3Type1,
)
from ..types import UNSET, Unset

T = TypeVar("T", bound="LinkBooking")


@_attrs_define
class LinkBooking:
    """
    Attributes:
        booking_id (str):
        start (datetime.datetime):
        end (datetime.datetime):
        interviewers (list[str]):
        candidate_name (str):
        candidate_email (str):
        event_id (None | str): The organiser's Graph event; null for the moment between the booking and Graph's answer.
        candidate_time_zone (str | Unset):
        join_url (None | str | Unset):
        online_meeting (LinkBookingOnlineMeetingType1 | LinkBookingOnlineMeetingType2Type1 |
            LinkBookingOnlineMeetingType3Type1 | None | Unset):
        booked_at (datetime.datetime | Unset):
    """

    booking_id: str
    start: datetime.datetime
    end: datetime.datetime
    interviewers: list[str]
    candidate_name: str
    candidate_email: str
    event_id: None | str
    candidate_time_zone: str | Unset = UNSET
    join_url: None | str | Unset = UNSET
    online_meeting: (
        LinkBookingOnlineMeetingType1
        | LinkBookingOnlineMeetingType2Type1
        | LinkBookingOnlineMeetingType3Type1
        | None
        | Unset
    ) = UNSET
    booked_at: datetime.datetime | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        booking_id = self.booking_id

        start = self.start.isoformat()

        end = self.end.isoformat()

        interviewers = self.interviewers

        candidate_name = self.candidate_name

        candidate_email = self.candidate_email

        event_id: None | str
        event_id = self.event_id

        candidate_time_zone = self.candidate_time_zone

        join_url: None | str | Unset
        if isinstance(self.join_url, Unset):
            join_url = UNSET
        else:
            join_url = self.join_url

        online_meeting: None | str | Unset
        if isinstance(self.online_meeting, Unset):
            online_meeting = UNSET
        elif (
            isinstance(self.online_meeting, LinkBookingOnlineMeetingType1)
            or isinstance(self.online_meeting, LinkBookingOnlineMeetingType2Type1)
            or isinstance(self.online_meeting, LinkBookingOnlineMeetingType3Type1)
        ):
            online_meeting = self.online_meeting.value
        else:
            online_meeting = self.online_meeting

        booked_at: str | Unset = UNSET
        if not isinstance(self.booked_at, Unset):
            booked_at = self.booked_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "booking_id": booking_id,
                "start": start,
                "end": end,
                "interviewers": interviewers,
                "candidate_name": candidate_name,
                "candidate_email": candidate_email,
                "event_id": event_id,
            }
        )
        if candidate_time_zone is not UNSET:
            field_dict["candidate_time_zone"] = candidate_time_zone
        if join_url is not UNSET:
            field_dict["join_url"] = join_url
        if online_meeting is not UNSET:
            field_dict["online_meeting"] = online_meeting
        if booked_at is not UNSET:
            field_dict["booked_at"] = booked_at

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        booking_id = d.pop("booking_id")

        start = datetime.datetime.fromisoformat(d.pop("start"))

        end = datetime.datetime.fromisoformat(d.pop("end"))

        interviewers = cast(list[str], d.pop("interviewers"))

        candidate_name = d.pop("candidate_name")

        candidate_email = d.pop("candidate_email")

        def _parse_event_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        event_id = _parse_event_id(d.pop("event_id"))

        candidate_time_zone = d.pop("candidate_time_zone", UNSET)

        def _parse_join_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        join_url = _parse_join_url(d.pop("join_url", UNSET))

        def _parse_online_meeting(
            data: object,
        ) -> (
            LinkBookingOnlineMeetingType1
            | LinkBookingOnlineMeetingType2Type1
            | LinkBookingOnlineMeetingType3Type1
            | None
            | Unset
        ):
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                online_meeting_type_1 = LinkBookingOnlineMeetingType1(data)

                return online_meeting_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                online_meeting_type_2_type_1 = LinkBookingOnlineMeetingType2Type1(data)

                return online_meeting_type_2_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                online_meeting_type_3_type_1 = LinkBookingOnlineMeetingType3Type1(data)

                return online_meeting_type_3_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(
                LinkBookingOnlineMeetingType1
                | LinkBookingOnlineMeetingType2Type1
                | LinkBookingOnlineMeetingType3Type1
                | None
                | Unset,
                data,
            )

        online_meeting = _parse_online_meeting(d.pop("online_meeting", UNSET))

        _booked_at = d.pop("booked_at", UNSET)
        booked_at: datetime.datetime | Unset
        if isinstance(_booked_at, Unset):
            booked_at = UNSET
        else:
            booked_at = datetime.datetime.fromisoformat(_booked_at)

        link_booking = cls(
            booking_id=booking_id,
            start=start,
            end=end,
            interviewers=interviewers,
            candidate_name=candidate_name,
            candidate_email=candidate_email,
            event_id=event_id,
            candidate_time_zone=candidate_time_zone,
            join_url=join_url,
            online_meeting=online_meeting,
            booked_at=booked_at,
        )

        link_booking.additional_properties = d
        return link_booking

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
