from enum import IntEnum


class Problem413Status(IntEnum):
    VALUE_413 = 413

    def __str__(self) -> str:
        return str(self.value)
