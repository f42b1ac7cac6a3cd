from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.calendar_event import CalendarEvent


T = TypeVar("T", bound="CalendarEventList")


@_attrs_define
class CalendarEventList:
    """
    Attributes:
        calendar_events (list[CalendarEvent]):
        next_cursor (None | str):
    """

    calendar_events: list[CalendarEvent]
    next_cursor: None | str

    def to_dict(self) -> dict[str, Any]:
        calendar_events = []
        for calendar_events_item_data in self.calendar_events:
            calendar_events_item = calendar_events_item_data.to_dict()
            calendar_events.append(calendar_events_item)

        next_cursor: None | str
        next_cursor = self.next_cursor

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "calendar_events": calendar_events,
                "next_cursor": next_cursor,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.calendar_event import CalendarEvent

        d = dict(src_dict)
        calendar_events = []
        _calendar_events = d.pop("calendar_events")
        for calendar_events_item_data in _calendar_events:
            calendar_events_item = CalendarEvent.from_dict(calendar_events_item_data)

            calendar_events.append(calendar_events_item)

        def _parse_next_cursor(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        next_cursor = _parse_next_cursor(d.pop("next_cursor"))

        calendar_event_list = cls(
            calendar_events=calendar_events,
            next_cursor=next_cursor,
        )

        return calendar_event_list
