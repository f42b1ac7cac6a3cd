from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.event_online_meeting import EventOnlineMeeting

T = TypeVar("T", bound="Event")


@_attrs_define
class Event:
    """
    Attributes:
        id (str): The event's Graph id.
        web_link (None | str):
        join_url (None | str): The Teams link (when `online_meeting` is `created`).
        ical_uid (None | str):
        online_meeting (EventOnlineMeeting):
    """

    id: str
    web_link: None | str
    join_url: None | str
    ical_uid: None | str
    online_meeting: EventOnlineMeeting

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        web_link: None | str
        web_link = self.web_link

        join_url: None | str
        join_url = self.join_url

        ical_uid: None | str
        ical_uid = self.ical_uid

        online_meeting = self.online_meeting.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "web_link": web_link,
                "join_url": join_url,
                "ical_uid": ical_uid,
                "online_meeting": online_meeting,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = d.pop("id")

        def _parse_web_link(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        web_link = _parse_web_link(d.pop("web_link"))

        def _parse_join_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        join_url = _parse_join_url(d.pop("join_url"))

        def _parse_ical_uid(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        ical_uid = _parse_ical_uid(d.pop("ical_uid"))

        online_meeting = EventOnlineMeeting(d.pop("online_meeting"))

        event = cls(
            id=id,
            web_link=web_link,
            join_url=join_url,
            ical_uid=ical_uid,
            online_meeting=online_meeting,
        )

        return event
