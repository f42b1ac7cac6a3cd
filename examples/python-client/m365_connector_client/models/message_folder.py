from enum import StrEnum


class MessageFolder(StrEnum):
    INBOX = "inbox"
    SENTITEMS = "sentitems"

    def __str__(self) -> str:
        return str(self.value)
