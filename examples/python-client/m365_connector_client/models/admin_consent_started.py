from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

T = TypeVar("T", bound="AdminConsentStarted")


@_attrs_define
class AdminConsentStarted:
    """
    Attributes:
        consent_url (str): Microsoft's admin consent URL: send the administrator there.
        expires_at (datetime.datetime):
        tenant_id (UUID): `tenant`, resolved.
    """

    consent_url: str
    expires_at: datetime.datetime
    tenant_id: UUID

    def to_dict(self) -> dict[str, Any]:
        consent_url = self.consent_url

        expires_at = self.expires_at.isoformat()

        tenant_id = str(self.tenant_id)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "consent_url": consent_url,
                "expires_at": expires_at,
                "tenant_id": tenant_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        consent_url = d.pop("consent_url")

        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))

        tenant_id = UUID(d.pop("tenant_id"))

        admin_consent_started = cls(
            consent_url=consent_url,
            expires_at=expires_at,
            tenant_id=tenant_id,
        )

        return admin_consent_started
