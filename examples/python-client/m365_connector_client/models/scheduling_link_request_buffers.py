from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="SchedulingLinkRequestBuffers")


@_attrs_define
class SchedulingLinkRequestBuffers:
    """
    Attributes:
        before_minutes (int | Unset):
        after_minutes (int | Unset):
    """

    before_minutes: int | Unset = UNSET
    after_minutes: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        before_minutes = self.before_minutes

        after_minutes = self.after_minutes

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if before_minutes is not UNSET:
            field_dict["before_minutes"] = before_minutes
        if after_minutes is not UNSET:
            field_dict["after_minutes"] = after_minutes

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        before_minutes = d.pop("before_minutes", UNSET)

        after_minutes = d.pop("after_minutes", UNSET)

        scheduling_link_request_buffers = cls(
            before_minutes=before_minutes,
            after_minutes=after_minutes,
        )

        return scheduling_link_request_buffers
