from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.connection import Connection


T = TypeVar("T", bound="Claimed")


@_attrs_define
class Claimed:
    """
    Attributes:
        connection (Connection): A connected mailbox, as the app sees it (no token material).
        reconnected (bool): Whether the mailbox was connected before.
        transferred_from (str | Unset): The app user the mailbox was moved from.
    """

    connection: Connection
    reconnected: bool
    transferred_from: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        connection = self.connection.to_dict()

        reconnected = self.reconnected

        transferred_from = self.transferred_from

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "connection": connection,
                "reconnected": reconnected,
            }
        )
        if transferred_from is not UNSET:
            field_dict["transferred_from"] = transferred_from

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.connection import Connection

        d = dict(src_dict)
        connection = Connection.from_dict(d.pop("connection"))

        reconnected = d.pop("reconnected")

        transferred_from = d.pop("transferred_from", UNSET)

        claimed = cls(
            connection=connection,
            reconnected=reconnected,
            transferred_from=transferred_from,
        )

        return claimed
