from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.outgoing_body_type_0_content_type import OutgoingBodyType0ContentType

T = TypeVar("T", bound="OutgoingBodyType0")


@_attrs_define
class OutgoingBodyType0:
    """
    Attributes:
        content_type (OutgoingBodyType0ContentType):
        content (str):
    """

    content_type: OutgoingBodyType0ContentType
    content: str

    def to_dict(self) -> dict[str, Any]:
        content_type = self.content_type.value

        content = self.content

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "content_type": content_type,
                "content": content,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        content_type = OutgoingBodyType0ContentType(d.pop("content_type"))

        content = d.pop("content")

        outgoing_body_type_0 = cls(
            content_type=content_type,
            content=content,
        )

        return outgoing_body_type_0
