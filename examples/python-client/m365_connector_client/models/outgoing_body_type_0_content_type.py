from enum import StrEnum


class OutgoingBodyType0ContentType(StrEnum):
    HTML = "html"
    TEXT = "text"

    def __str__(self) -> str:
        return str(self.value)
