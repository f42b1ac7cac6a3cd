from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.upload_created_upload_headers import UploadCreatedUploadHeaders


T = TypeVar("T", bound="UploadCreated")


@_attrs_define
class UploadCreated:
    """
    Attributes:
        upload_id (UUID):
        upload_url (str): A presigned PUT URL (15 minutes).
        upload_headers (UploadCreatedUploadHeaders): Headers the PUT must carry (they are part of the signature).
        expires_at (datetime.datetime):
    """

    upload_id: UUID
    upload_url: str
    upload_headers: UploadCreatedUploadHeaders
    expires_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        upload_id = str(self.upload_id)

        upload_url = self.upload_url

        upload_headers = self.upload_headers.to_dict()

        expires_at = self.expires_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "upload_id": upload_id,
                "upload_url": upload_url,
                "upload_headers": upload_headers,
                "expires_at": expires_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.upload_created_upload_headers import UploadCreatedUploadHeaders

        d = dict(src_dict)
        upload_id = UUID(d.pop("upload_id"))

        upload_url = d.pop("upload_url")

        upload_headers = UploadCreatedUploadHeaders.from_dict(d.pop("upload_headers"))

        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))

        upload_created = cls(
            upload_id=upload_id,
            upload_url=upload_url,
            upload_headers=upload_headers,
            expires_at=expires_at,
        )

        return upload_created
