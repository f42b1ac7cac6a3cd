from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.start_connection_prompt_type_1 import StartConnectionPromptType1
from ..models.start_connection_prompt_type_2_type_1 import (
    StartConnectionPromptType2Type1,
)
from ..models.start_connection_prompt_type_3_type_1 import (
    StartConnectionPromptType3Type1,
)
from ..types import UNSET, Unset

T = TypeVar("T", bound="StartConnection")


@_attrs_define
class StartConnection:
    """
    Attributes:
        user_id (str): The client app's own id for its user; 1-128 printable ASCII characters without spaces or `#`.
        return_url (str): An http(s) URL without credentials on one of the deployment's allowed origins
            (`AllowedReturnOrigins`), at most 2,048 characters.
        login_hint (None | str | Unset): Prefills Microsoft's sign-in; 1-256 bytes without control characters.
        prompt (None | StartConnectionPromptType1 | StartConnectionPromptType2Type1 | StartConnectionPromptType3Type1 |
            Unset): Microsoft's `prompt`; `select_account` by default, so the user sees which account is being connected.
        transfer (bool | Unset): Let the sign-in move a mailbox connected under another app user to this one. Default:
            False.
    """

    user_id: str
    return_url: str
    login_hint: None | str | Unset = UNSET
    prompt: (
        None
        | StartConnectionPromptType1
        | StartConnectionPromptType2Type1
        | StartConnectionPromptType3Type1
        | Unset
    ) = UNSET
    transfer: bool | Unset = False

    def to_dict(self) -> dict[str, Any]:
        user_id = self.user_id

        return_url = self.return_url

        login_hint: None | str | Unset
        if isinstance(self.login_hint, Unset):
            login_hint = UNSET
        else:
            login_hint = self.login_hint

        prompt: None | str | Unset
        if isinstance(self.prompt, Unset):
            prompt = UNSET
        elif (
            isinstance(self.prompt, StartConnectionPromptType1)
            or isinstance(self.prompt, StartConnectionPromptType2Type1)
            or isinstance(self.prompt, StartConnectionPromptType3Type1)
        ):
            prompt = self.prompt.value
        else:
            prompt = self.prompt

        transfer = self.transfer

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "user_id": user_id,
                "return_url": return_url,
            }
        )
        if login_hint is not UNSET:
            field_dict["login_hint"] = login_hint
        if prompt is not UNSET:
            field_dict["prompt"] = prompt
        if transfer is not UNSET:
            field_dict["transfer"] = transfer

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        user_id = d.pop("user_id")

        return_url = d.pop("return_url")

        def _parse_login_hint(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        login_hint = _parse_login_hint(d.pop("login_hint", UNSET))

        def _parse_prompt(
            data: object,
        ) -> (
            None
            | StartConnectionPromptType1
            | StartConnectionPromptType2Type1
            | StartConnectionPromptType3Type1
            | Unset
        ):
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                prompt_type_1 = StartConnectionPromptType1(data)

                return prompt_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                prompt_type_2_type_1 = StartConnectionPromptType2Type1(data)

                return prompt_type_2_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                prompt_type_3_type_1 = StartConnectionPromptType3Type1(data)

                return prompt_type_3_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(
                None
                | StartConnectionPromptType1
                | StartConnectionPromptType2Type1
                | StartConnectionPromptType3Type1
                | Unset,
                data,
            )

        prompt = _parse_prompt(d.pop("prompt", UNSET))

        transfer = d.pop("transfer", UNSET)

        start_connection = cls(
            user_id=user_id,
            return_url=return_url,
            login_hint=login_hint,
            prompt=prompt,
            transfer=transfer,
        )

        return start_connection
