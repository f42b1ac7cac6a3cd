from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="ItemBody")


@_attrs_define
class ItemBody:
    """The body as Graph returns it (Graph's spelling: `contentType` is `text` or `html`).

    Attributes:
        content_type (str):
        content (str):
    """

    content_type: str
    content: str

    def to_dict(self) -> dict[str, Any]:
        content_type = self.content_type

        content = self.content

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "contentType": content_type,
                "content": content,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        content_type = d.pop("contentType")

        content = d.pop("content")

        item_body = cls(
            content_type=content_type,
            content=content,
        )

        return item_body
