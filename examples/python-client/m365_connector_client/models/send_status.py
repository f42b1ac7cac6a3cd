from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.send_status_status import SendStatusStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.send_status_error import SendStatusError


T = TypeVar("T", bound="SendStatus")


@_attrs_define
class SendStatus:
    """A send's status resource.

    Attributes:
        key (str): The `Idempotency-Key`: the client's, or the UUID the connector made.
        status (SendStatusStatus):
        internet_message_id (str): The `Message-ID` the message has (fixed when it is accepted).
        attempts (int): How many times a worker took it.
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
        id (str | Unset): When `sent`: the message's immutable Graph id.
        conversation_id (str | Unset):
        error (SendStatusError | Unset): When `failed`: the problem (RFC 9457), e.g. `message-too-large`, `mailbox-
            full`, `sending-blocked`, `invalid-request`, `connection-not-active`, `not-found`, `unavailable`.
    """

    key: str
    status: SendStatusStatus
    internet_message_id: str
    attempts: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    id: str | Unset = UNSET
    conversation_id: str | Unset = UNSET
    error: SendStatusError | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        key = self.key

        status = self.status.value

        internet_message_id = self.internet_message_id

        attempts = self.attempts

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        id = self.id

        conversation_id = self.conversation_id

        error: dict[str, Any] | Unset = UNSET
        if not isinstance(self.error, Unset):
            error = self.error.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "key": key,
                "status": status,
                "internet_message_id": internet_message_id,
                "attempts": attempts,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )
        if id is not UNSET:
            field_dict["id"] = id
        if conversation_id is not UNSET:
            field_dict["conversation_id"] = conversation_id
        if error is not UNSET:
            field_dict["error"] = error

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.send_status_error import SendStatusError

        d = dict(src_dict)
        key = d.pop("key")

        status = SendStatusStatus(d.pop("status"))

        internet_message_id = d.pop("internet_message_id")

        attempts = d.pop("attempts")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        id = d.pop("id", UNSET)

        conversation_id = d.pop("conversation_id", UNSET)

        _error = d.pop("error", UNSET)
        error: SendStatusError | Unset
        if isinstance(_error, Unset):
            error = UNSET
        else:
            error = SendStatusError.from_dict(_error)

        send_status = cls(
            key=key,
            status=status,
            internet_message_id=internet_message_id,
            attempts=attempts,
            created_at=created_at,
            updated_at=updated_at,
            id=id,
            conversation_id=conversation_id,
            error=error,
        )

        return send_status
