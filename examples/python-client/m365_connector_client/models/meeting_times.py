from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.meeting_times_slots_item import MeetingTimesSlotsItem


T = TypeVar("T", bound="MeetingTimes")


@_attrs_define
class MeetingTimes:
    """
    Attributes:
        time_zone (str):
        slots (list[MeetingTimesSlotsItem]):
        reason (str | Unset): Why there are no slots (only with an empty list).
    """

    time_zone: str
    slots: list[MeetingTimesSlotsItem]
    reason: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        time_zone = self.time_zone

        slots = []
        for slots_item_data in self.slots:
            slots_item = slots_item_data.to_dict()
            slots.append(slots_item)

        reason = self.reason

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "time_zone": time_zone,
                "slots": slots,
            }
        )
        if reason is not UNSET:
            field_dict["reason"] = reason

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.meeting_times_slots_item import MeetingTimesSlotsItem

        d = dict(src_dict)
        time_zone = d.pop("time_zone")

        slots = []
        _slots = d.pop("slots")
        for slots_item_data in _slots:
            slots_item = MeetingTimesSlotsItem.from_dict(slots_item_data)

            slots.append(slots_item)

        reason = d.pop("reason", UNSET)

        meeting_times = cls(
            time_zone=time_zone,
            slots=slots,
            reason=reason,
        )

        return meeting_times
