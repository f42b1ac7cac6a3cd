from enum import StrEnum


class CalendarEventType(StrEnum):
    EXCEPTION = "exception"
    OCCURRENCE = "occurrence"
    SERIESMASTER = "seriesMaster"
    SINGLEINSTANCE = "singleInstance"

    def __str__(self) -> str:
        return str(self.value)
