"""The data-subject rights the engine knows, by their Korean names (the names the CLI and API speak)."""

from enum import StrEnum


class Right(StrEnum):
    """A right under 개인정보 보호법; the value is the Korean name used in every contract."""

    ACCESS = "열람"  # 법 35
    RECTIFICATION = "정정"  # 법 36
    ERASURE = "삭제"  # 법 36
    SUSPENSION = "처리정지"  # 법 37①②
    WITHDRAWAL = "동의철회"  # 법 37①③④, incl. 회원탈퇴
    PORTABILITY = "전송요구"  # 법 35-2
    AUTOMATED_DECISION = "자동화결정"  # 법 37-2

    @property
    def key(self) -> str:
        """English identifier, used in file names and code."""
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> "Right":
        """Accept the Korean name or the English key (`access`, `erasure` ...)."""
        for right in cls:
            if value in (right.value, right.key):
                return right
        raise ValueError(value)


ALL_RIGHTS: tuple[Right, ...] = tuple(Right)
