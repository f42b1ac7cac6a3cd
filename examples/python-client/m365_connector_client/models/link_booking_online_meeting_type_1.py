from enum import StrEnum


class LinkBookingOnlineMeetingType1(StrEnum):
    CREATED = "created"
    NOT_REQUESTED = "not_requested"
    UNAVAILABLE = "unavailable"

    def __str__(self) -> str:
        return str(self.value)
