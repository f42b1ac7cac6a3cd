from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.scheduling_link_patch_candidate import SchedulingLinkPatchCandidate


T = TypeVar("T", bound="SchedulingLinkPatch")


@_attrs_define
class SchedulingLinkPatch:
    """
    Attributes:
        title (str | Unset):
        description (str | Unset):
        expires_at (datetime.datetime | Unset):
        candidate (SchedulingLinkPatchCandidate | Unset):
        location (str | Unset):
    """

    title: str | Unset = UNSET
    description: str | Unset = UNSET
    expires_at: datetime.datetime | Unset = UNSET
    candidate: SchedulingLinkPatchCandidate | Unset = UNSET
    location: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        title = self.title

        description = self.description

        expires_at: str | Unset = UNSET
        if not isinstance(self.expires_at, Unset):
            expires_at = self.expires_at.isoformat()

        candidate: dict[str, Any] | Unset = UNSET
        if not isinstance(self.candidate, Unset):
            candidate = self.candidate.to_dict()

        location = self.location

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if title is not UNSET:
            field_dict["title"] = title
        if description is not UNSET:
            field_dict["description"] = description
        if expires_at is not UNSET:
            field_dict["expires_at"] = expires_at
        if candidate is not UNSET:
            field_dict["candidate"] = candidate
        if location is not UNSET:
            field_dict["location"] = location

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.scheduling_link_patch_candidate import (
            SchedulingLinkPatchCandidate,
        )

        d = dict(src_dict)
        title = d.pop("title", UNSET)

        description = d.pop("description", UNSET)

        _expires_at = d.pop("expires_at", UNSET)
        expires_at: datetime.datetime | Unset
        if isinstance(_expires_at, Unset):
            expires_at = UNSET
        else:
            expires_at = datetime.datetime.fromisoformat(_expires_at)

        _candidate = d.pop("candidate", UNSET)
        candidate: SchedulingLinkPatchCandidate | Unset
        if isinstance(_candidate, Unset):
            candidate = UNSET
        else:
            candidate = SchedulingLinkPatchCandidate.from_dict(_candidate)

        location = d.pop("location", UNSET)

        scheduling_link_patch = cls(
            title=title,
            description=description,
            expires_at=expires_at,
            candidate=candidate,
            location=location,
        )

        return scheduling_link_patch
