from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="SchedulingLinkRequestPoolsItem")


@_attrs_define
class SchedulingLinkRequestPoolsItem:
    """
    Attributes:
        members (list[str]):
        pick (int):
    """

    members: list[str]
    pick: int

    def to_dict(self) -> dict[str, Any]:
        members = self.members

        pick = self.pick

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "members": members,
                "pick": pick,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        members = cast(list[str], d.pop("members"))

        pick = d.pop("pick")

        scheduling_link_request_pools_item = cls(
            members=members,
            pick=pick,
        )

        return scheduling_link_request_pools_item
