from __future__ import annotations

from collections.abc import Mapping
from typing import (
    Any,
    Literal,
    Self,
    TypeVar,
    cast,
)

from attrs import define as _attrs_define

T = TypeVar("T", bound="Sent")


@_attrs_define
class Sent:
    """
    Attributes:
        id (str): The sent message's Graph id.
        internet_message_id (str):
        conversation_id (None | str):
        status (Literal['sent']):
    """

    id: str
    internet_message_id: str
    conversation_id: None | str
    status: Literal["sent"]

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        internet_message_id = self.internet_message_id

        conversation_id: None | str
        conversation_id = self.conversation_id

        status = self.status

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "internet_message_id": internet_message_id,
                "conversation_id": conversation_id,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = d.pop("id")

        internet_message_id = d.pop("internet_message_id")

        def _parse_conversation_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        conversation_id = _parse_conversation_id(d.pop("conversation_id"))

        status = cast(Literal["sent"], d.pop("status"))
        if status != "sent":
            raise ValueError(f"status must match const 'sent', got '{status}'")

        sent = cls(
            id=id,
            internet_message_id=internet_message_id,
            conversation_id=conversation_id,
            status=status,
        )

        return sent
