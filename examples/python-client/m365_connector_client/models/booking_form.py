from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="BookingForm")


@_attrs_define
class BookingForm:
    """
    Attributes:
        csrf (str):
        slot (str): `YYYYMMDDTHHMMZ`.
        name (str):
        email (str):
        tz (str | Unset):
    """

    csrf: str
    slot: str
    name: str
    email: str
    tz: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        csrf = self.csrf

        slot = self.slot

        name = self.name

        email = self.email

        tz = self.tz

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "csrf": csrf,
                "slot": slot,
                "name": name,
                "email": email,
            }
        )
        if tz is not UNSET:
            field_dict["tz"] = tz

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        csrf = d.pop("csrf")

        slot = d.pop("slot")

        name = d.pop("name")

        email = d.pop("email")

        tz = d.pop("tz", UNSET)

        booking_form = cls(
            csrf=csrf,
            slot=slot,
            name=name,
            email=email,
            tz=tz,
        )

        booking_form.additional_properties = d
        return booking_form

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
