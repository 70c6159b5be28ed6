"""Decode raw bytes: UTF-8 (with or without BOM), UTF-16 (BOM, or NUL bytes on one side of
every ASCII character), else GB18030 or Big5; when none reads the whole file, the one that
reads it with a few bytes replaced (see `_damaged`).

GB18030 (a superset of GBK and GB2312) accepts almost any Big5 byte sequence, so "it decodes"
is not enough to choose: each candidate is scored by how much of the decoded text consists of
the most frequent Chinese characters, which garbage decodings almost never produce.
"""

from __future__ import annotations

import codecs
from functools import lru_cache

from curate.errors import InputError, UndecodableError

LEGACY = ("gb18030", "big5")
# A damaged GB18030/Big5 reading is taken only when it reads as Chinese: real text scores about
# 0.5 (see _FREQUENT), GB18030 accepts most bytes of a binary file and scores near 0.
DAMAGED_MIN_SCORE = 0.2
# About 300 of the most frequent characters in modern Chinese (simplified); their traditional
# forms are added by OpenCC at first use. Real text hits this set for roughly half of its Han
# characters; a Big5 file decoded as GB18030 (or the reverse) hits it a few percent of the time.
_FREQUENT = (
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家"
    "学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见"
    "经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话"
    "儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真"
    "听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立"
    "马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制"
    "解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎"
    "元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武"
    "半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱"
    "党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似斯"
    "专石若兵弟谁校读志飞观争究包组造落视济喜离虽坐集编宝谈府拉黑且随格尽剑讲布杀微怕母调局根"
    "曾准团段终乐切级克精哪官示冷域读吗谜猜底答怎么样东西"
)


@lru_cache(maxsize=1)
def _frequent() -> frozenset[str]:
    chars = set(_FREQUENT)
    try:
        import opencc

        chars |= set(opencc.OpenCC("s2t").convert(_FREQUENT))
    except ImportError:  # pragma: no cover - opencc is a dependency; the set still works
        pass
    return frozenset(chars)


def chinese_score(text: str) -> float:
    """Fraction of the non-ASCII characters that are frequent Chinese characters (0..1)."""
    frequent = _frequent()
    wide = [ch for ch in text if ord(ch) > 0x7F]
    if not wide:
        return 0.0
    return sum(ch in frequent for ch in wide) / len(wide)


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _bom(data: bytes) -> str | None:
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def decode(data: bytes, name: str, encoding: str | None = None) -> tuple[str, str]:
    """Decode a file's bytes; return (text, encoding used). `encoding` forces one.

    >>> decode("謎底".encode("big5"), "a.txt")  # Big5 holds traditional characters only
    ('謎底', 'big5')
    """
    if encoding:
        return _forced(data, name, encoding), encoding
    first = _bom(data) or "utf-8"
    text = _strict(data, first)
    if text is not None:
        return text, first
    utf16 = _utf16(data)
    if utf16 is not None:
        return utf16
    # Score on a prefix: enough text to tell, and fast on large files.
    sample = data[: 1 << 16]
    best: tuple[float, str, str] | None = None
    for enc in LEGACY:
        text = _strict(data, enc)
        if text is not None:
            score = chinese_score(_strict_prefix(sample, enc))
            best = best if best and best[0] >= score else (score, enc, text)
    if best is None:  # no encoding reads it all: the one that reads it with fewest faults
        for enc in ("utf-8", *LEGACY):
            damaged = _damaged(data, enc)
            if damaged is not None:
                score = chinese_score(sample.decode(enc, errors="replace"))
                if enc == "utf-8" or score >= DAMAGED_MIN_SCORE:
                    best = best if best and best[0] >= score else (score, *damaged)
    elif (damaged := _damaged(data, "utf-8")) is not None:
        score = chinese_score(sample.decode("utf-8", errors="replace"))
        best = best if best[0] >= score else (score, *damaged)
    if best is None:
        raise _undecodable(data, name)
    return best[2], best[1]


def _utf16(data: bytes) -> tuple[str, str] | None:
    """UTF-16 without a BOM (Windows "Unicode" text). Its ASCII characters (line breaks,
    commas) put NUL bytes on one side of the byte pairs, which no 8-bit encoding of text
    does; that side gives the byte order, and the text must then read as Chinese or ASCII
    (random bytes, or the wrong order, read as characters from all over Unicode)."""
    if len(data) % 2 or b"\0" not in data:
        return None
    even, odd = data[0::2].count(0), data[1::2].count(0)
    if even == odd:
        return None
    encoding = "utf-16-le" if odd > even else "utf-16-be"
    text = _strict(data, encoding)
    if text is None:
        return None
    plain = sum(ord(ch) < 0x80 or "\u3000" <= ch <= "\u9fff" or ch >= "\uff00" for ch in text)
    return (text, encoding) if plain >= 0.9 * len(text) else None


def _damaged(data: bytes, encoding: str) -> tuple[str, str] | None:
    """Text with a few corrupt bytes (UTF-8, or GB18030/Big5): decoded with U+FFFD in their
    place, so that only the records holding them are lost (the mojibake filter rejects them),
    not the whole file."""
    text = data.decode(encoding, errors="replace")
    try:  # U+FFFD written in the file is text, not damage (Big5 has no U+FFFD)
        written = data.count("\ufffd".encode(encoding))
    except UnicodeEncodeError:
        written = 0
    bad = text.count("\ufffd") - written
    wide = sum(ord(ch) > 0x7F for ch in text)
    # Mostly not this encoding (another one, or binary): many bad sequences for its Chinese
    # text (GBK read as UTF-8 gives one for most characters; a small file cut short inside a
    # character, one in dozens), and more than one in a thousand characters (a JSON file with
    # \u escapes has hardly any wide characters, yet one damaged line should not cost it the
    # whole file).
    if bad > 0.2 * wide and bad * 1000 > len(text):
        return None
    return f"{encoding} ({bad} invalid byte sequence{'s' * (bad > 1)} replaced)", text


def _strict_prefix(sample: bytes, encoding: str) -> str:
    """Decode a byte prefix that may end mid-character."""
    return codecs.getincrementaldecoder(encoding)().decode(sample, final=False)


def _forced(data: bytes, name: str, encoding: str) -> str:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(
            f"unknown encoding {encoding!r}; try --encoding gbk, big5 or utf-8"
        ) from None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name}: cannot be decoded as {encoding} (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start}); try another --encoding (utf-8, gbk, gb18030, big5), or leave it "
            "out to detect the encoding"
        ) from None


def _undecodable(data: bytes, name: str) -> UndecodableError:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = f"byte 0x{data[exc.start]:02x} at offset {exc.start}"
    problem = f"not valid UTF-8 ({where}), and not GB18030/GBK or Big5 either"
    return UndecodableError(
        f"{name}: {problem}; convert it to UTF-8, or pass its encoding with --encoding (e.g. "
        "--encoding gbk, --encoding big5, --encoding shift_jis, --encoding latin-1)",
        problem,
    )
