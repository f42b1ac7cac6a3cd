from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.attendee_type import AttendeeType
from ..types import UNSET, Unset

T = TypeVar("T", bound="Attendee")


@_attrs_define
class Attendee:
    """
    Attributes:
        address (str): `local@domain.tld`, at most 254 characters (compared case-insensitively).
        type_ (AttendeeType | Unset):  Default: AttendeeType.REQUIRED.
    """

    address: str
    type_: AttendeeType | Unset = AttendeeType.REQUIRED

    def to_dict(self) -> dict[str, Any]:
        address = self.address

        type_: str | Unset = UNSET
        if not isinstance(self.type_, Unset):
            type_ = self.type_.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "address": address,
            }
        )
        if type_ is not UNSET:
            field_dict["type"] = type_

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        address = d.pop("address")

        _type_ = d.pop("type", UNSET)
        type_: AttendeeType | Unset
        if isinstance(_type_, Unset):
            type_ = UNSET
        else:
            type_ = AttendeeType(_type_)

        attendee = cls(
            address=address,
            type_=type_,
        )

        return attendee
