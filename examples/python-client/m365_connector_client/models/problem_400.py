from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.problem_400_status import Problem400Status
from ..models.problem_400_type import Problem400Type
from ..types import UNSET, Unset

T = TypeVar("T", bound="Problem400")


@_attrs_define
class Problem400:
    """A problem with status 400.

    Attributes:
        type_ (Problem400Type):
        title (str):
        status (Problem400Status):
        detail (str | Unset):
        field (str | Unset):
        required_scope (str | Unset):
    """

    type_: Problem400Type
    title: str
    status: Problem400Status
    detail: str | Unset = UNSET
    field: str | Unset = UNSET
    required_scope: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_.value

        title = self.title

        status = self.status.value

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
        type_ = Problem400Type(d.pop("type"))

        title = d.pop("title")

        status = Problem400Status(d.pop("status"))

        detail = d.pop("detail", UNSET)

        field = d.pop("field", UNSET)

        required_scope = d.pop("required_scope", UNSET)

        problem_400 = cls(
            type_=type_,
            title=title,
            status=status,
            detail=detail,
            field=field,
            required_scope=required_scope,
        )

        return problem_400
