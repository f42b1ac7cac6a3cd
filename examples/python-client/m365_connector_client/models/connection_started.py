from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="ConnectionStarted")


@_attrs_define
class ConnectionStarted:
    """
    Attributes:
        start_url (str): The connector's start URL: send the user's browser there; single use.
        expires_at (datetime.datetime):
    """

    start_url: str
    expires_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        start_url = self.start_url

        expires_at = self.expires_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "start_url": start_url,
                "expires_at": expires_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        start_url = d.pop("start_url")

        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))

        connection_started = cls(
            start_url=start_url,
            expires_at=expires_at,
        )

        return connection_started
