from enum import StrEnum


class MessageSummaryFolder(StrEnum):
    INBOX = "inbox"
    SENTITEMS = "sentitems"

    def __str__(self) -> str:
        return str(self.value)
