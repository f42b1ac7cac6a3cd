from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.calendar_attendee_response import CalendarAttendeeResponse
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.calendar_attendee_proposed_new_time import (
        CalendarAttendeeProposedNewTime,
    )


T = TypeVar("T", bound="CalendarAttendee")


@_attrs_define
class CalendarAttendee:
    """
    Attributes:
        address (str):
        kind (str): `required`, `optional`, `resource`.
        response (CalendarAttendeeResponse):
        name (str | Unset):
        proposed_new_time (CalendarAttendeeProposedNewTime | Unset):
    """

    address: str
    kind: str
    response: CalendarAttendeeResponse
    name: str | Unset = UNSET
    proposed_new_time: CalendarAttendeeProposedNewTime | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        address = self.address

        kind = self.kind

        response = self.response.value

        name = self.name

        proposed_new_time: dict[str, Any] | Unset = UNSET
        if not isinstance(self.proposed_new_time, Unset):
            proposed_new_time = self.proposed_new_time.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "address": address,
                "kind": kind,
                "response": response,
            }
        )
        if name is not UNSET:
            field_dict["name"] = name
        if proposed_new_time is not UNSET:
            field_dict["proposed_new_time"] = proposed_new_time

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.calendar_attendee_proposed_new_time import (
            CalendarAttendeeProposedNewTime,
        )

        d = dict(src_dict)
        address = d.pop("address")

        kind = d.pop("kind")

        response = CalendarAttendeeResponse(d.pop("response"))

        name = d.pop("name", UNSET)

        _proposed_new_time = d.pop("proposed_new_time", UNSET)
        proposed_new_time: CalendarAttendeeProposedNewTime | Unset
        if isinstance(_proposed_new_time, Unset):
            proposed_new_time = UNSET
        else:
            proposed_new_time = CalendarAttendeeProposedNewTime.from_dict(
                _proposed_new_time
            )

        calendar_attendee = cls(
            address=address,
            kind=kind,
            response=response,
            name=name,
            proposed_new_time=proposed_new_time,
        )

        return calendar_attendee
