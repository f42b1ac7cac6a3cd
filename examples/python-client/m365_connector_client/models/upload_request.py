from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="UploadRequest")


@_attrs_define
class UploadRequest:
    """
    Attributes:
        name (str): A file name without control characters or slashes.
        content_type (str): A MIME type such as `application/pdf`.
        size (int): Bytes (150 MiB at most).
    """

    name: str
    content_type: str
    size: int

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        content_type = self.content_type

        size = self.size

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "content_type": content_type,
                "size": size,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        name = d.pop("name")

        content_type = d.pop("content_type")

        size = d.pop("size")

        upload_request = cls(
            name=name,
            content_type=content_type,
            size=size,
        )

        return upload_request
