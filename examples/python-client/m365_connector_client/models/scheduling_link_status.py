from enum import StrEnum


class SchedulingLinkStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    OPEN = "open"

    def __str__(self) -> str:
        return str(self.value)
