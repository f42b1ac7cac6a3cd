from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.tenant_access import TenantAccess

T = TypeVar("T", bound="TenantPolicyRequest")


@_attrs_define
class TenantPolicyRequest:
    """
    Attributes:
        access (TenantAccess):
    """

    access: TenantAccess

    def to_dict(self) -> dict[str, Any]:
        access = self.access.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "access": access,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        access = TenantAccess(d.pop("access"))

        tenant_policy_request = cls(
            access=access,
        )

        return tenant_policy_request
