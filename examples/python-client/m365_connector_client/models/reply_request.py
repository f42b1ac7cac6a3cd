from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.custom_headers import CustomHeaders
    from ..models.inline_attachment import InlineAttachment
    from ..models.outgoing_body_type_0 import OutgoingBodyType0
    from ..models.recipient import Recipient
    from ..models.uploaded_attachment import UploadedAttachment


T = TypeVar("T", bound="ReplyRequest")


@_attrs_define
class ReplyRequest:
    """A reply; recipients are the original's unless given.

    Attributes:
        reply_all (bool | None | Unset):  Default: False.
        to (list[Recipient] | Unset):
        cc (list[Recipient] | Unset):
        bcc (list[Recipient] | Unset):
        reply_to (list[Recipient] | Unset):
        subject (None | str | Unset):
        body (None | OutgoingBodyType0 | Unset):
        attachments (list[InlineAttachment | UploadedAttachment] | Unset):
        headers (CustomHeaders | Unset): Up to 20 custom `X-` headers; values at most 998 printable ASCII characters.
        save_to_sent_items (bool | None | Unset):  Default: True.
    """

    reply_all: bool | None | Unset = False
    to: list[Recipient] | Unset = UNSET
    cc: list[Recipient] | Unset = UNSET
    bcc: list[Recipient] | Unset = UNSET
    reply_to: list[Recipient] | Unset = UNSET
    subject: None | str | Unset = UNSET
    body: None | OutgoingBodyType0 | Unset = UNSET
    attachments: list[InlineAttachment | UploadedAttachment] | Unset = UNSET
    headers: CustomHeaders | Unset = UNSET
    save_to_sent_items: bool | None | Unset = True

    def to_dict(self) -> dict[str, Any]:
        from ..models.inline_attachment import InlineAttachment
        from ..models.outgoing_body_type_0 import OutgoingBodyType0

        reply_all: bool | None | Unset
        if isinstance(self.reply_all, Unset):
            reply_all = UNSET
        else:
            reply_all = self.reply_all

        to: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.to, Unset):
            to = []
            for componentsschemas_recipients_item_data in self.to:
                componentsschemas_recipients_item = (
                    componentsschemas_recipients_item_data.to_dict()
                )
                to.append(componentsschemas_recipients_item)

        cc: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.cc, Unset):
            cc = []
            for componentsschemas_recipients_item_data in self.cc:
                componentsschemas_recipients_item = (
                    componentsschemas_recipients_item_data.to_dict()
                )
                cc.append(componentsschemas_recipients_item)

        bcc: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.bcc, Unset):
            bcc = []
            for componentsschemas_recipients_item_data in self.bcc:
                componentsschemas_recipients_item = (
                    componentsschemas_recipients_item_data.to_dict()
                )
                bcc.append(componentsschemas_recipients_item)

        reply_to: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.reply_to, Unset):
            reply_to = []
            for componentsschemas_recipients_item_data in self.reply_to:
                componentsschemas_recipients_item = (
                    componentsschemas_recipients_item_data.to_dict()
                )
                reply_to.append(componentsschemas_recipients_item)

        subject: None | str | Unset
        if isinstance(self.subject, Unset):
            subject = UNSET
        else:
            subject = self.subject

        body: dict[str, Any] | None | Unset
        if isinstance(self.body, Unset):
            body = UNSET
        elif isinstance(self.body, OutgoingBodyType0):
            body = self.body.to_dict()
        else:
            body = self.body

        attachments: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.attachments, Unset):
            attachments = []
            for attachments_item_data in self.attachments:
                attachments_item: dict[str, Any]
                if isinstance(attachments_item_data, InlineAttachment):
                    attachments_item = attachments_item_data.to_dict()
                else:
                    attachments_item = attachments_item_data.to_dict()

                attachments.append(attachments_item)

        headers: dict[str, Any] | Unset = UNSET
        if not isinstance(self.headers, Unset):
            headers = self.headers.to_dict()

        save_to_sent_items: bool | None | Unset
        if isinstance(self.save_to_sent_items, Unset):
            save_to_sent_items = UNSET
        else:
            save_to_sent_items = self.save_to_sent_items

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if reply_all is not UNSET:
            field_dict["reply_all"] = reply_all
        if to is not UNSET:
            field_dict["to"] = to
        if cc is not UNSET:
            field_dict["cc"] = cc
        if bcc is not UNSET:
            field_dict["bcc"] = bcc
        if reply_to is not UNSET:
            field_dict["reply_to"] = reply_to
        if subject is not UNSET:
            field_dict["subject"] = subject
        if body is not UNSET:
            field_dict["body"] = body
        if attachments is not UNSET:
            field_dict["attachments"] = attachments
        if headers is not UNSET:
            field_dict["headers"] = headers
        if save_to_sent_items is not UNSET:
            field_dict["save_to_sent_items"] = save_to_sent_items

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.custom_headers import CustomHeaders
        from ..models.inline_attachment import InlineAttachment
        from ..models.outgoing_body_type_0 import OutgoingBodyType0
        from ..models.recipient import Recipient
        from ..models.uploaded_attachment import UploadedAttachment

        d = dict(src_dict)

        def _parse_reply_all(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        reply_all = _parse_reply_all(d.pop("reply_all", UNSET))

        _to = d.pop("to", UNSET)
        to: list[Recipient] | Unset = UNSET
        if _to is not UNSET:
            to = []
            for componentsschemas_recipients_item_data in _to:
                componentsschemas_recipients_item = Recipient.from_dict(
                    componentsschemas_recipients_item_data
                )

                to.append(componentsschemas_recipients_item)

        _cc = d.pop("cc", UNSET)
        cc: list[Recipient] | Unset = UNSET
        if _cc is not UNSET:
            cc = []
            for componentsschemas_recipients_item_data in _cc:
                componentsschemas_recipients_item = Recipient.from_dict(
                    componentsschemas_recipients_item_data
                )

                cc.append(componentsschemas_recipients_item)

        _bcc = d.pop("bcc", UNSET)
        bcc: list[Recipient] | Unset = UNSET
        if _bcc is not UNSET:
            bcc = []
            for componentsschemas_recipients_item_data in _bcc:
                componentsschemas_recipients_item = Recipient.from_dict(
                    componentsschemas_recipients_item_data
                )

                bcc.append(componentsschemas_recipients_item)

        _reply_to = d.pop("reply_to", UNSET)
        reply_to: list[Recipient] | Unset = UNSET
        if _reply_to is not UNSET:
            reply_to = []
            for componentsschemas_recipients_item_data in _reply_to:
                componentsschemas_recipients_item = Recipient.from_dict(
                    componentsschemas_recipients_item_data
                )

                reply_to.append(componentsschemas_recipients_item)

        def _parse_subject(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        subject = _parse_subject(d.pop("subject", UNSET))

        def _parse_body(data: object) -> None | OutgoingBodyType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_outgoing_body_type_0 = OutgoingBodyType0.from_dict(
                    data
                )

                return componentsschemas_outgoing_body_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | OutgoingBodyType0 | Unset, data)

        body = _parse_body(d.pop("body", UNSET))

        _attachments = d.pop("attachments", UNSET)
        attachments: list[InlineAttachment | UploadedAttachment] | Unset = UNSET
        if _attachments is not UNSET:
            attachments = []
            for attachments_item_data in _attachments:

                def _parse_attachments_item(
                    data: object,
                ) -> InlineAttachment | UploadedAttachment:
                    try:
                        if not isinstance(data, dict):
                            raise TypeError()
                        componentsschemas_attachment_type_0 = (
                            InlineAttachment.from_dict(data)
                        )

                        return componentsschemas_attachment_type_0
                    except (TypeError, ValueError, AttributeError, KeyError):
                        pass
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_attachment_type_1 = UploadedAttachment.from_dict(
                        data
                    )

                    return componentsschemas_attachment_type_1

                attachments_item = _parse_attachments_item(attachments_item_data)

                attachments.append(attachments_item)

        _headers = d.pop("headers", UNSET)
        headers: CustomHeaders | Unset
        if isinstance(_headers, Unset):
            headers = UNSET
        else:
            headers = CustomHeaders.from_dict(_headers)

        def _parse_save_to_sent_items(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        save_to_sent_items = _parse_save_to_sent_items(
            d.pop("save_to_sent_items", UNSET)
        )

        reply_request = cls(
            reply_all=reply_all,
            to=to,
            cc=cc,
            bcc=bcc,
            reply_to=reply_to,
            subject=subject,
            body=body,
            attachments=attachments,
            headers=headers,
            save_to_sent_items=save_to_sent_items,
        )

        return reply_request
