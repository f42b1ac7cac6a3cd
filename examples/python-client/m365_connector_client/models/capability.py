from enum import StrEnum


class Capability(StrEnum):
    CALENDAR = "calendar"
    MAIL_READ = "mail_read"
    MAIL_SEND = "mail_send"

    def __str__(self) -> str:
        return str(self.value)
