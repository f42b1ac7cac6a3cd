from enum import StrEnum


class FreeBusyAttendeesItemStatus(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"
    UNSUPPORTED = "unsupported"

    def __str__(self) -> str:
        return str(self.value)
