from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

T = TypeVar("T", bound="UploadedAttachment")


@_attrs_define
class UploadedAttachment:
    """
    Attributes:
        upload_id (UUID): From `POST /connections/{id}/uploads`, uploaded within a day.
    """

    upload_id: UUID

    def to_dict(self) -> dict[str, Any]:
        upload_id = str(self.upload_id)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "upload_id": upload_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        upload_id = UUID(d.pop("upload_id"))

        uploaded_attachment = cls(
            upload_id=upload_id,
        )

        return uploaded_attachment
