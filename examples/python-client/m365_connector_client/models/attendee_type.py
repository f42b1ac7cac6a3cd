from enum import StrEnum


class AttendeeType(StrEnum):
    OPTIONAL = "optional"
    REQUIRED = "required"

    def __str__(self) -> str:
        return str(self.value)
