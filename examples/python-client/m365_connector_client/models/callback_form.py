from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="CallbackForm")


@_attrs_define
class CallbackForm:
    """
    Attributes:
        state (str):
        code (str | Unset): A callback parameter as Microsoft sends it (at most 4,096 bytes).
        error (str | Unset): A callback parameter as Microsoft sends it (at most 4,096 bytes).
        error_description (str | Unset): A callback parameter as Microsoft sends it (at most 4,096 bytes).
        error_subcode (str | Unset): A callback parameter as Microsoft sends it (at most 4,096 bytes).
        session_state (str | Unset):
    """

    state: str
    code: str | Unset = UNSET
    error: str | Unset = UNSET
    error_description: str | Unset = UNSET
    error_subcode: str | Unset = UNSET
    session_state: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        state = self.state

        code = self.code

        error = self.error

        error_description = self.error_description

        error_subcode = self.error_subcode

        session_state = self.session_state

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "state": state,
            }
        )
        if code is not UNSET:
            field_dict["code"] = code
        if error is not UNSET:
            field_dict["error"] = error
        if error_description is not UNSET:
            field_dict["error_description"] = error_description
        if error_subcode is not UNSET:
            field_dict["error_subcode"] = error_subcode
        if session_state is not UNSET:
            field_dict["session_state"] = session_state

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        state = d.pop("state")

        code = d.pop("code", UNSET)

        error = d.pop("error", UNSET)

        error_description = d.pop("error_description", UNSET)

        error_subcode = d.pop("error_subcode", UNSET)

        session_state = d.pop("session_state", UNSET)

        callback_form = cls(
            state=state,
            code=code,
            error=error,
            error_description=error_description,
            error_subcode=error_subcode,
            session_state=session_state,
        )

        callback_form.additional_properties = d
        return callback_form

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
