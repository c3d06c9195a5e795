"""Zip bomb detection for e-mail attachments, without extracting anything to disk.

The central directory states every member's uncompressed size, so a bomb that expands to gigabytes is seen
from a few kilobytes of metadata. Layered bombs (a zip of zips) hide their size one level down, so nested
`.zip` members are opened too, within a decompression budget and a depth limit; `zipfile` stops reading a
member at its declared size, so the budget holds even when the directory lies.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

MiB = 1024 * 1024
RATIO_FLOOR = MiB  # below this total, a high ratio is just a small text file
MAX_MEMBERS = 10_000
MAX_NESTING = 3


def human_size(n: float) -> str:
    return f"{n / MiB:.1f}MB" if n >= MiB else f"{n / 1024:.0f}KB" if n >= 1024 else f"{int(n)}바이트"


def zip_bomb_reason(
    data: bytes, *, max_total: int, max_ratio: float, max_member: int, warn: Callable[[str], None]
) -> str | None:
    """Why `data` looks like a zip bomb (Korean, for the quarantine message), or None when it does not."""
    budget = [max_total]  # bytes that nested archives may still decompress
    return _inspect(data, max_total, max_ratio, max_member, warn, depth=0, budget=budget)


def _inspect(
    data: bytes, max_total: int, max_ratio: float, max_member: int, warn: Callable[[str], None], *,
    depth: int, budget: list[int],
) -> str | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except Exception:  # damaged or not a zip at all: nothing to expand
        warn("압축 첨부를 읽을 수 없습니다(손상되었거나 zip 형식이 아님). 직접 확인하세요.")
        return None
    total = sum(info.file_size for info in infos)
    ratio = total / max(1, len(data))
    if len(infos) > MAX_MEMBERS:
        return f"파일 {len(infos)}개"
    if total > max_total:
        return f"압축 해제 크기 {human_size(total)}, 한도 {human_size(max_total)}"
    if total > RATIO_FLOOR and ratio > max_ratio:
        return f"압축률 {ratio:.0f}배, 한도 {max_ratio:.0f}배"
    for info in infos:
        if not info.filename.lower().endswith(".zip"):
            continue
        if depth >= MAX_NESTING:
            return f"압축 파일 안에 압축 파일이 {MAX_NESTING + 1}단계 넘게 들어 있음"
        if info.file_size > max_member or info.file_size > budget[0]:
            return f"안쪽 압축 파일 '{info.filename}' 크기 {human_size(info.file_size)}"
        budget[0] -= info.file_size
        try:
            inner = archive.read(info)
        except Exception:  # unreadable member (bad CRC, encryption): nothing more to learn from it
            continue
        found = _inspect(inner, max_total, max_ratio, max_member, warn, depth=depth + 1, budget=budget)
        if found:
            return f"안쪽 '{info.filename}': {found}"
    return None
