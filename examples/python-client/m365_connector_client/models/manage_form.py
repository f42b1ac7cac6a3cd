from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.manage_form_action import ManageFormAction
from ..types import UNSET, Unset

T = TypeVar("T", bound="ManageForm")


@_attrs_define
class ManageForm:
    """
    Attributes:
        csrf (str):
        action (ManageFormAction):
        slot (str | Unset):
        tz (str | Unset):
        comment (str | Unset):
    """

    csrf: str
    action: ManageFormAction
    slot: str | Unset = UNSET
    tz: str | Unset = UNSET
    comment: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        csrf = self.csrf

        action = self.action.value

        slot = self.slot

        tz = self.tz

        comment = self.comment

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "csrf": csrf,
                "action": action,
            }
        )
        if slot is not UNSET:
            field_dict["slot"] = slot
        if tz is not UNSET:
            field_dict["tz"] = tz
        if comment is not UNSET:
            field_dict["comment"] = comment

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        csrf = d.pop("csrf")

        action = ManageFormAction(d.pop("action"))

        slot = d.pop("slot", UNSET)

        tz = d.pop("tz", UNSET)

        comment = d.pop("comment", UNSET)

        manage_form = cls(
            csrf=csrf,
            action=action,
            slot=slot,
            tz=tz,
            comment=comment,
        )

        manage_form.additional_properties = d
        return manage_form

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
