from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="ClaimRequest")


@_attrs_define
class ClaimRequest:
    """
    Attributes:
        result (str): The `result` the browser brought back to the return URL.
        user_id (str): The client app's own id for its user; 1-128 printable ASCII characters without spaces or `#`.
    """

    result: str
    user_id: str

    def to_dict(self) -> dict[str, Any]:
        result = self.result

        user_id = self.user_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "result": result,
                "user_id": user_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        result = d.pop("result")

        user_id = d.pop("user_id")

        claim_request = cls(
            result=result,
            user_id=user_id,
        )

        return claim_request
