from enum import StrEnum


class LinkBookingOnlineMeetingType3Type1(StrEnum):
    CREATED = "created"
    NOT_REQUESTED = "not_requested"
    UNAVAILABLE = "unavailable"

    def __str__(self) -> str:
        return str(self.value)
