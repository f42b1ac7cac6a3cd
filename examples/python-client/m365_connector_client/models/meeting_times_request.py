from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="MeetingTimesRequest")


@_attrs_define
class MeetingTimesRequest:
    """
    Attributes:
        required (list[str]):
        duration_minutes (int):
        start (datetime.datetime): An RFC 3339 date-time with an offset (`Z` or `+01:00`).
        end (datetime.datetime): An RFC 3339 date-time with an offset (`Z` or `+01:00`).
        time_zone (str): An IANA time zone name (`Europe/Berlin`); a Windows name is refused.
        optional (list[str] | Unset):
        granularity_minutes (int | None | Unset):  Default: 15.
        buffer_before_minutes (int | None | Unset):  Default: 0.
        buffer_after_minutes (int | None | Unset):  Default: 0.
        min_notice_minutes (int | None | Unset):
        within_working_hours (bool | None | Unset):  Default: True.
        treat_tentative_as_busy (bool | None | Unset):  Default: True.
        max_results (int | None | Unset):  Default: 20.
    """

    required: list[str]
    duration_minutes: int
    start: datetime.datetime
    end: datetime.datetime
    time_zone: str
    optional: list[str] | Unset = UNSET
    granularity_minutes: int | None | Unset = 15
    buffer_before_minutes: int | None | Unset = 0
    buffer_after_minutes: int | None | Unset = 0
    min_notice_minutes: int | None | Unset = UNSET
    within_working_hours: bool | None | Unset = True
    treat_tentative_as_busy: bool | None | Unset = True
    max_results: int | None | Unset = 20

    def to_dict(self) -> dict[str, Any]:
        required = self.required

        duration_minutes = self.duration_minutes

        start = self.start.isoformat()

        end = self.end.isoformat()

        time_zone = self.time_zone

        optional: list[str] | Unset = UNSET
        if not isinstance(self.optional, Unset):
            optional = self.optional

        granularity_minutes: int | None | Unset
        if isinstance(self.granularity_minutes, Unset):
            granularity_minutes = UNSET
        else:
            granularity_minutes = self.granularity_minutes

        buffer_before_minutes: int | None | Unset
        if isinstance(self.buffer_before_minutes, Unset):
            buffer_before_minutes = UNSET
        else:
            buffer_before_minutes = self.buffer_before_minutes

        buffer_after_minutes: int | None | Unset
        if isinstance(self.buffer_after_minutes, Unset):
            buffer_after_minutes = UNSET
        else:
            buffer_after_minutes = self.buffer_after_minutes

        min_notice_minutes: int | None | Unset
        if isinstance(self.min_notice_minutes, Unset):
            min_notice_minutes = UNSET
        else:
            min_notice_minutes = self.min_notice_minutes

        within_working_hours: bool | None | Unset
        if isinstance(self.within_working_hours, Unset):
            within_working_hours = UNSET
        else:
            within_working_hours = self.within_working_hours

        treat_tentative_as_busy: bool | None | Unset
        if isinstance(self.treat_tentative_as_busy, Unset):
            treat_tentative_as_busy = UNSET
        else:
            treat_tentative_as_busy = self.treat_tentative_as_busy

        max_results: int | None | Unset
        if isinstance(self.max_results, Unset):
            max_results = UNSET
        else:
            max_results = self.max_results

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "required": required,
                "duration_minutes": duration_minutes,
                "start": start,
                "end": end,
                "time_zone": time_zone,
            }
        )
        if optional is not UNSET:
            field_dict["optional"] = optional
        if granularity_minutes is not UNSET:
            field_dict["granularity_minutes"] = granularity_minutes
        if buffer_before_minutes is not UNSET:
            field_dict["buffer_before_minutes"] = buffer_before_minutes
        if buffer_after_minutes is not UNSET:
            field_dict["buffer_after_minutes"] = buffer_after_minutes
        if min_notice_minutes is not UNSET:
            field_dict["min_notice_minutes"] = min_notice_minutes
        if within_working_hours is not UNSET:
            field_dict["within_working_hours"] = within_working_hours
        if treat_tentative_as_busy is not UNSET:
            field_dict["treat_tentative_as_busy"] = treat_tentative_as_busy
        if max_results is not UNSET:
            field_dict["max_results"] = max_results

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        required = cast(list[str], d.pop("required"))

        duration_minutes = d.pop("duration_minutes")

        start = datetime.datetime.fromisoformat(d.pop("start"))

        end = datetime.datetime.fromisoformat(d.pop("end"))

        time_zone = d.pop("time_zone")

        optional = cast(list[str], d.pop("optional", UNSET))

        def _parse_granularity_minutes(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        granularity_minutes = _parse_granularity_minutes(
            d.pop("granularity_minutes", UNSET)
        )

        def _parse_buffer_before_minutes(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        buffer_before_minutes = _parse_buffer_before_minutes(
            d.pop("buffer_before_minutes", UNSET)
        )

        def _parse_buffer_after_minutes(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        buffer_after_minutes = _parse_buffer_after_minutes(
            d.pop("buffer_after_minutes", UNSET)
        )

        def _parse_min_notice_minutes(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        min_notice_minutes = _parse_min_notice_minutes(
            d.pop("min_notice_minutes", UNSET)
        )

        def _parse_within_working_hours(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        within_working_hours = _parse_within_working_hours(
            d.pop("within_working_hours", UNSET)
        )

        def _parse_treat_tentative_as_busy(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        treat_tentative_as_busy = _parse_treat_tentative_as_busy(
            d.pop("treat_tentative_as_busy", UNSET)
        )

        def _parse_max_results(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_results = _parse_max_results(d.pop("max_results", UNSET))

        meeting_times_request = cls(
            required=required,
            duration_minutes=duration_minutes,
            start=start,
            end=end,
            time_zone=time_zone,
            optional=optional,
            granularity_minutes=granularity_minutes,
            buffer_before_minutes=buffer_before_minutes,
            buffer_after_minutes=buffer_after_minutes,
            min_notice_minutes=min_notice_minutes,
            within_working_hours=within_working_hours,
            treat_tentative_as_busy=treat_tentative_as_busy,
            max_results=max_results,
        )

        return meeting_times_request
