from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="AdminConsentRequest")


@_attrs_define
class AdminConsentRequest:
    """
    Attributes:
        tenant (str): The tenant id (GUID) or a domain verified in the tenant.
        return_url (str): An http(s) URL without credentials on one of the deployment's allowed origins
            (`AllowedReturnOrigins`), at most 2,048 characters.
    """

    tenant: str
    return_url: str

    def to_dict(self) -> dict[str, Any]:
        tenant = self.tenant

        return_url = self.return_url

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "tenant": tenant,
                "return_url": return_url,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        tenant = d.pop("tenant")

        return_url = d.pop("return_url")

        admin_consent_request = cls(
            tenant=tenant,
            return_url=return_url,
        )

        return admin_consent_request
