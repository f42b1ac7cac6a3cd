from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.message_summary_folder import MessageSummaryFolder

if TYPE_CHECKING:
    from ..models.address import Address


T = TypeVar("T", bound="MessageSummary")


@_attrs_define
class MessageSummary:
    """A synced message's metadata (also the `message` of every `message.*` event).

    Attributes:
        id (str): Graph's immutable id.
        folder (MessageSummaryFolder):
        subject (str):
        from_ (Address | None):
        to (list[Address]):
        cc (list[Address]):
        sent_at (datetime.datetime | None):
        received_at (datetime.datetime):
        conversation_id (None | str):
        internet_message_id (None | str):
        preview (str):
        has_attachments (bool):
        is_read (bool):
        web_link (None | str):
        deleted (bool): Graph reported it removed from the folder (deleted or moved away).
        truncated (bool): The message was bounded when synced: `to`/`cc` hold at most 100 each (`to_count`/`cc_count`
            give the true numbers) and long text is shortened.
        to_count (int):
        cc_count (int):
    """

    id: str
    folder: MessageSummaryFolder
    subject: str
    from_: Address | None
    to: list[Address]
    cc: list[Address]
    sent_at: datetime.datetime | None
    received_at: datetime.datetime
    conversation_id: None | str
    internet_message_id: None | str
    preview: str
    has_attachments: bool
    is_read: bool
    web_link: None | str
    deleted: bool
    truncated: bool
    to_count: int
    cc_count: int

    def to_dict(self) -> dict[str, Any]:
        from ..models.address import Address

        id = self.id

        folder = self.folder.value

        subject = self.subject

        from_: dict[str, Any] | None
        if isinstance(self.from_, Address):
            from_ = self.from_.to_dict()
        else:
            from_ = self.from_

        to = []
        for to_item_data in self.to:
            to_item = to_item_data.to_dict()
            to.append(to_item)

        cc = []
        for cc_item_data in self.cc:
            cc_item = cc_item_data.to_dict()
            cc.append(cc_item)

        sent_at: None | str
        if isinstance(self.sent_at, datetime.datetime):
            sent_at = self.sent_at.isoformat()
        else:
            sent_at = self.sent_at

        received_at = self.received_at.isoformat()

        conversation_id: None | str
        conversation_id = self.conversation_id

        internet_message_id: None | str
        internet_message_id = self.internet_message_id

        preview = self.preview

        has_attachments = self.has_attachments

        is_read = self.is_read

        web_link: None | str
        web_link = self.web_link

        deleted = self.deleted

        truncated = self.truncated

        to_count = self.to_count

        cc_count = self.cc_count

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "folder": folder,
                "subject": subject,
                "from": from_,
                "to": to,
                "cc": cc,
                "sent_at": sent_at,
                "received_at": received_at,
                "conversation_id": conversation_id,
                "internet_message_id": internet_message_id,
                "preview": preview,
                "has_attachments": has_attachments,
                "is_read": is_read,
                "web_link": web_link,
                "deleted": deleted,
                "truncated": truncated,
                "to_count": to_count,
                "cc_count": cc_count,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.address import Address

        d = dict(src_dict)
        id = d.pop("id")

        folder = MessageSummaryFolder(d.pop("folder"))

        subject = d.pop("subject")

        def _parse_from_(data: object) -> Address | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                from_type_0 = Address.from_dict(data)

                return from_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Address | None, data)

        from_ = _parse_from_(d.pop("from"))

        to = []
        _to = d.pop("to")
        for to_item_data in _to:
            to_item = Address.from_dict(to_item_data)

            to.append(to_item)

        cc = []
        _cc = d.pop("cc")
        for cc_item_data in _cc:
            cc_item = Address.from_dict(cc_item_data)

            cc.append(cc_item)

        def _parse_sent_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                sent_at_type_0 = datetime.datetime.fromisoformat(data)

                return sent_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        sent_at = _parse_sent_at(d.pop("sent_at"))

        received_at = datetime.datetime.fromisoformat(d.pop("received_at"))

        def _parse_conversation_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        conversation_id = _parse_conversation_id(d.pop("conversation_id"))

        def _parse_internet_message_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        internet_message_id = _parse_internet_message_id(d.pop("internet_message_id"))

        preview = d.pop("preview")

        has_attachments = d.pop("has_attachments")

        is_read = d.pop("is_read")

        def _parse_web_link(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        web_link = _parse_web_link(d.pop("web_link"))

        deleted = d.pop("deleted")

        truncated = d.pop("truncated")

        to_count = d.pop("to_count")

        cc_count = d.pop("cc_count")

        message_summary = cls(
            id=id,
            folder=folder,
            subject=subject,
            from_=from_,
            to=to,
            cc=cc,
            sent_at=sent_at,
            received_at=received_at,
            conversation_id=conversation_id,
            internet_message_id=internet_message_id,
            preview=preview,
            has_attachments=has_attachments,
            is_read=is_read,
            web_link=web_link,
            deleted=deleted,
            truncated=truncated,
            to_count=to_count,
            cc_count=cc_count,
        )

        return message_summary
