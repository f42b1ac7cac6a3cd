from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="SchedulingLinkCreated")


@_attrs_define
class SchedulingLinkCreated:
    """
    Attributes:
        id (str):
        url (str): The page's address with the link's credential; shown once.
        expires_at (datetime.datetime):
    """

    id: str
    url: str
    expires_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        url = self.url

        expires_at = self.expires_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "url": url,
                "expires_at": expires_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = d.pop("id")

        url = d.pop("url")

        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))

        scheduling_link_created = cls(
            id=id,
            url=url,
            expires_at=expires_at,
        )

        return scheduling_link_created
