from enum import StrEnum


class CalendarAttendeeResponse(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    NONE = "none"
    NOTRESPONDED = "notResponded"
    ORGANIZER = "organizer"
    TENTATIVELYACCEPTED = "tentativelyAccepted"

    def __str__(self) -> str:
        return str(self.value)
