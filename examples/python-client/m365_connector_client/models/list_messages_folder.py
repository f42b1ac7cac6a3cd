from enum import StrEnum


class ListMessagesFolder(StrEnum):
    INBOX = "inbox"
    SENTITEMS = "sentitems"

    def __str__(self) -> str:
        return str(self.value)
