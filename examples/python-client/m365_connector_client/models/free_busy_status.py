from enum import StrEnum


class FreeBusyStatus(StrEnum):
    BUSY = "busy"
    FREE = "free"
    OOF = "oof"
    TENTATIVE = "tentative"
    UNKNOWN = "unknown"
    WORKING_ELSEWHERE = "working_elsewhere"

    def __str__(self) -> str:
        return str(self.value)
