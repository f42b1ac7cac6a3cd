from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..models.calendar_event_type import CalendarEventType

if TYPE_CHECKING:
    from ..models.address import Address
    from ..models.calendar_attendee import CalendarAttendee


T = TypeVar("T", bound="CalendarEvent")


@_attrs_define
class CalendarEvent:
    """A synced calendar event instance (metadata only, never the body). Times are UTC instants; `time_zone` is the zone
    Graph reported them in.

        Attributes:
            id (str):
            connection_id (UUID):
            subject (str):
            start (datetime.datetime):
            end (datetime.datetime):
            time_zone (str):
            is_all_day (bool):
            organizer (Address | None):
            attendees (list[CalendarAttendee]):
            is_cancelled (bool):
            is_online_meeting (bool):
            join_url (None | str):
            location (None | str):
            ical_uid (None | str):
            series_master_id (None | str):
            type_ (CalendarEventType):
            transaction_id (None | str):
            booked_by_connector (bool): The connector booked it (its `transactionId` has the connector's layout).
            web_link (None | str):
            deleted (bool): Graph reported it removed (deleted
    """

    id: str
    connection_id: UUID
    subject: str
    start: datetime.datetime
    end: datetime.datetime
    time_zone: str
    is_all_day: bool
    organizer: Address | None
    attendees: list[CalendarAttendee]
    is_cancelled: bool
    is_online_meeting: bool
    join_url: None | str
    location: None | str
    ical_uid: None | str
    series_master_id: None | str
    type_: CalendarEventType
    transaction_id: None | str
    booked_by_connector: bool
    web_link: None | str
    deleted: bool

    def to_dict(self) -> dict[str, Any]:
        from ..models.address import Address

        id = self.id

        connection_id = str(self.connection_id)

        subject = self.subject

        start = self.start.isoformat()

        end = self.end.isoformat()

        time_zone = self.time_zone

        is_all_day = self.is_all_day

        organizer: dict[str, Any] | None
        if isinstance(self.organizer, Address):
            organizer = self.organizer.to_dict()
        else:
            organizer = self.organizer

        attendees = []
        for attendees_item_data in self.attendees:
            attendees_item = attendees_item_data.to_dict()
            attendees.append(attendees_item)

        is_cancelled = self.is_cancelled

        is_online_meeting = self.is_online_meeting

        join_url: None | str
        join_url = self.join_url

        location: None | str
        location = self.location

        ical_uid: None | str
        ical_uid = self.ical_uid

        series_master_id: None | str
        series_master_id = self.series_master_id

        type_ = self.type_.value

        transaction_id: None | str
        transaction_id = self.transaction_id

        booked_by_connector = self.booked_by_connector

        web_link: None | str
        web_link = self.web_link

        deleted = self.deleted

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "connection_id": connection_id,
                "subject": subject,
                "start": start,
                "end": end,
                "time_zone": time_zone,
                "is_all_day": is_all_day,
                "organizer": organizer,
                "attendees": attendees,
                "is_cancelled": is_cancelled,
                "is_online_meeting": is_online_meeting,
                "join_url": join_url,
                "location": location,
                "ical_uid": ical_uid,
                "series_master_id": series_master_id,
                "type": type_,
                "transaction_id": transaction_id,
                "booked_by_connector": booked_by_connector,
                "web_link": web_link,
                "deleted": deleted,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.address import Address
        from ..models.calendar_attendee import CalendarAttendee

        d = dict(src_dict)
        id = d.pop("id")

        connection_id = UUID(d.pop("connection_id"))

        subject = d.pop("subject")

        start = datetime.datetime.fromisoformat(d.pop("start"))

        end = datetime.datetime.fromisoformat(d.pop("end"))

        time_zone = d.pop("time_zone")

        is_all_day = d.pop("is_all_day")

        def _parse_organizer(data: object) -> Address | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                organizer_type_0 = Address.from_dict(data)

                return organizer_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Address | None, data)

        organizer = _parse_organizer(d.pop("organizer"))

        attendees = []
        _attendees = d.pop("attendees")
        for attendees_item_data in _attendees:
            attendees_item = CalendarAttendee.from_dict(attendees_item_data)

            attendees.append(attendees_item)

        is_cancelled = d.pop("is_cancelled")

        is_online_meeting = d.pop("is_online_meeting")

        def _parse_join_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        join_url = _parse_join_url(d.pop("join_url"))

        def _parse_location(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        location = _parse_location(d.pop("location"))

        def _parse_ical_uid(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        ical_uid = _parse_ical_uid(d.pop("ical_uid"))

        def _parse_series_master_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        series_master_id = _parse_series_master_id(d.pop("series_master_id"))

        type_ = CalendarEventType(d.pop("type"))

        def _parse_transaction_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        transaction_id = _parse_transaction_id(d.pop("transaction_id"))

        booked_by_connector = d.pop("booked_by_connector")

        def _parse_web_link(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        web_link = _parse_web_link(d.pop("web_link"))

        deleted = d.pop("deleted")

        calendar_event = cls(
            id=id,
            connection_id=connection_id,
            subject=subject,
            start=start,
            end=end,
            time_zone=time_zone,
            is_all_day=is_all_day,
            organizer=organizer,
            attendees=attendees,
            is_cancelled=is_cancelled,
            is_online_meeting=is_online_meeting,
            join_url=join_url,
            location=location,
            ical_uid=ical_uid,
            series_master_id=series_master_id,
            type_=type_,
            transaction_id=transaction_id,
            booked_by_connector=booked_by_connector,
            web_link=web_link,
            deleted=deleted,
        )

        return calendar_event
