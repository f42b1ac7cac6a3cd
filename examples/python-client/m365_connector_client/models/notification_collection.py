from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="NotificationCollection")


@_attrs_define
class NotificationCollection:
    """Graph's collection (required without `validationToken`, ignored with it). Items without `subscriptionId`,
    `clientState`, `tenantId` and a `changeType` or known `lifecycleEvent` are skipped; the others must match their
    subscription's `clientState` and tenant.

        Attributes:
            value (list[Any] | Unset): Graph's notification items (`subscriptionId`, `clientState`, `tenantId`, `changeType`
                or `lifecycleEvent`, `resource`, ...); any other item is skipped and counted, so one odd item does not make
                Graph retry the rest.
    """

    value: list[Any] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        value: list[Any] | Unset = UNSET
        if not isinstance(self.value, Unset):
            value = self.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if value is not UNSET:
            field_dict["value"] = value

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        value = cast(list[Any], d.pop("value", UNSET))

        notification_collection = cls(
            value=value,
        )

        notification_collection.additional_properties = d
        return notification_collection

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
