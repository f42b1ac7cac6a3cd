from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..models.tenant_access import TenantAccess
from ..types import UNSET, Unset

T = TypeVar("T", bound="TenantPolicy")


@_attrs_define
class TenantPolicy:
    """
    Attributes:
        tenant (UUID):
        access (TenantAccess):
        updated_at (datetime.datetime | None):
        disconnected (int | Unset): How many connections this request disconnected (`off` only).
    """

    tenant: UUID
    access: TenantAccess
    updated_at: datetime.datetime | None
    disconnected: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        tenant = str(self.tenant)

        access = self.access.value

        updated_at: None | str
        if isinstance(self.updated_at, datetime.datetime):
            updated_at = self.updated_at.isoformat()
        else:
            updated_at = self.updated_at

        disconnected = self.disconnected

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "tenant": tenant,
                "access": access,
                "updated_at": updated_at,
            }
        )
        if disconnected is not UNSET:
            field_dict["disconnected"] = disconnected

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        tenant = UUID(d.pop("tenant"))

        access = TenantAccess(d.pop("access"))

        def _parse_updated_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                updated_at_type_0 = datetime.datetime.fromisoformat(data)

                return updated_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        updated_at = _parse_updated_at(d.pop("updated_at"))

        disconnected = d.pop("disconnected", UNSET)

        tenant_policy = cls(
            tenant=tenant,
            access=access,
            updated_at=updated_at,
            disconnected=disconnected,
        )

        return tenant_policy
