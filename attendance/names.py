"""Vietnamese order for names and words, as lists in Vietnamese offices are read.

A list of people is sorted by given name (tên, the last word), then by family and middle
names (họ đệm); words compare letter by letter in the Vietnamese alphabet (a ă â b c d đ …),
and a tone decides only between words with the same letters.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_VI_ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
# Tones in dictionary order after the level tone (ngang): huyền, hỏi, ngã, sắc, nặng.
_VI_TONES = {"\u0300": 2, "\u0309": 3, "\u0303": 4, "\u0301": 5, "\u0323": 6}


@lru_cache(maxsize=4096)  # a few hundred distinct characters; each is normalized once
def _vi_letter(char: str) -> tuple[int, int]:
    decomposed = unicodedata.normalize("NFD", char.lower())
    tone = next((_VI_TONES[m] for m in decomposed if m in _VI_TONES), 1)
    base = unicodedata.normalize("NFC", "".join(m for m in decomposed if m not in _VI_TONES))
    position = _VI_ALPHABET.find(base) if len(base) == 1 else -1
    return (position if position >= 0 else 100 + ord(base[:1] or " "), tone)


def vi_sort_key(text: str) -> tuple:
    """Vietnamese dictionary order: letters first (a ă â b c d đ …), tones only on a tie."""
    letters = [_vi_letter(ch) for ch in unicodedata.normalize("NFC", text)]
    return (tuple(p for p, _ in letters), tuple(t for _, t in letters), text)


def name_sort_key(full_name: str) -> tuple:
    """Vietnamese lists sort by given name (tên), then family and middle names (họ đệm)."""
    parts = full_name.split()
    if not parts:
        return ((), ())
    return (vi_sort_key(parts[-1]), vi_sort_key(" ".join(parts[:-1])))
