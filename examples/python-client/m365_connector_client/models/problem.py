from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.problem_type import ProblemType
from ..types import UNSET, Unset

T = TypeVar("T", bound="Problem")


@_attrs_define
class Problem:
    """An RFC 9457 problem document.

    Attributes:
        type_ (ProblemType): The stable problem types (`shared/src/failures.rs`); match on these, not on `detail`.
        title (str): The status's reason phrase.
        status (int):
        detail (str | Unset): What went wrong, for a person; not for matching.
        field (str | Unset): The request field at fault (`to[1].address`, `tenant`, `Idempotency-Key`, ...).
        required_scope (str | Unset): The API-key scope the route needs (on `missing-scope`).
    """

    type_: ProblemType
    title: str
    status: int
    detail: str | Unset = UNSET
    field: str | Unset = UNSET
    required_scope: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_.value

        title = self.title

        status = self.status

        detail = self.detail

        field = self.field

        required_scope = self.required_scope

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "type": type_,
                "title": title,
                "status": status,
            }
        )
        if detail is not UNSET:
            field_dict["detail"] = detail
        if field is not UNSET:
            field_dict["field"] = field
        if required_scope is not UNSET:
            field_dict["required_scope"] = required_scope

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        type_ = ProblemType(d.pop("type"))

        title = d.pop("title")

        status = d.pop("status")

        detail = d.pop("detail", UNSET)

        field = d.pop("field", UNSET)

        required_scope = d.pop("required_scope", UNSET)

        problem = cls(
            type_=type_,
            title=title,
            status=status,
            detail=detail,
            field=field,
            required_scope=required_scope,
        )

        return problem
