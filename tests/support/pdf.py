"""Reading a PDF the way a viewer finds its way through it, for tests: the header, the
cross-reference table `startxref` points at, every object where the table says it is, the
trailer's catalogue and page tree, and the text its (deflated) content streams draw.

No PDF library is a dependency of the project; this reads the classic cross-reference table
that fpdf2 writes and fails loudly on anything it does not understand."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_SUBSECTION = re.compile(rb"(\d+) (\d+)\r?\n")
_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])\s{1,2}")
_OBJECT = re.compile(rb"(\d+) (\d+) obj\s*")
_STREAM = re.compile(rb"(<<.*>>)\s*stream\r?\n$", re.S)
_REF = rb"/%s (\d+) 0 R"
_SHOWN = re.compile(rb"\((.*?)(?<!\\)\)\s*Tj", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"(": b"(", b")": b")", b"\\": b"\\"}


@dataclass(frozen=True)
class ParsedPdf:
    version: str
    objects: dict[int, bytes]
    pages: int
    title: str | None
    created: str | None  # the /CreationDate of the document information, e.g. "D:20261101Z"
    text: str


def _unescape(raw: bytes) -> bytes:
    return re.sub(rb"\\([nrt()\\])", lambda m: _ESCAPES[m.group(1)], raw)


def _ref(body: bytes, key: str) -> int:
    found = re.search(_REF % key.encode(), body)
    assert found, f"no /{key} reference in {body[:200]!r}"
    return int(found.group(1))


def parse_pdf(data: bytes) -> ParsedPdf:
    header = re.match(rb"%PDF-(\d\.\d)\r?\n", data)
    assert header, f"not a PDF: starts {data[:16]!r}"
    end = _STARTXREF.search(data)
    assert end, "no startxref / %%EOF at the end"
    xref = int(end.group(1))
    assert data[xref : xref + 4] == b"xref", "startxref does not point at the xref table"

    offsets: dict[int, int] = {}
    pos = xref + len(b"xref") + (2 if data[xref + 4 : xref + 6] == b"\r\n" else 1)
    while subsection := _SUBSECTION.match(data, pos):
        first, count = int(subsection.group(1)), int(subsection.group(2))
        pos = subsection.end()
        for number in range(first, first + count):
            entry = _ENTRY.match(data, pos)
            assert entry, f"bad xref entry at byte {pos}"
            if entry.group(3) == b"n":
                offsets[number] = int(entry.group(1))
            pos = entry.end()
    assert data[pos : pos + 7] == b"trailer", "no trailer after the xref table"
    trailer = data[pos : end.start()]
    size = re.search(rb"/Size (\d+)", trailer)
    assert size and int(size.group(1)) == max(offsets) + 1, "trailer /Size disagrees"

    objects: dict[int, bytes] = {}
    streams: dict[int, tuple[bytes, bytes]] = {}  # object number: (its dictionary, its data)
    for number, offset in offsets.items():
        found = _OBJECT.match(data, offset)
        assert found and int(found.group(1)) == number, f"object {number} is not at {offset}"
        keyword, closing = data.find(b"stream", found.end()), data.find(b"endobj", found.end())
        line_end = data.find(b"\n", keyword) + 1
        stream = _STREAM.match(data[found.end() : line_end]) if -1 < keyword < closing else None
        if stream is not None:
            length = re.search(rb"/Length (\d+)", stream.group(1))
            assert length, f"stream {number} has no direct /Length"
            start = line_end
            stop = start + int(length.group(1))
            assert re.match(rb"\s*endstream\s*endobj", data[stop:]), f"stream {number} length"
            objects[number] = stream.group(1)
            streams[number] = (stream.group(1), data[start:stop])
        else:
            objects[number] = data[found.end() : closing].strip()

    catalogue = objects[_ref(trailer, "Root")]
    assert b"/Type /Catalog" in catalogue, "the trailer's /Root is no catalogue"
    tree = objects[_ref(catalogue, "Pages")]
    assert b"/Type /Pages" in tree, "the catalogue's /Pages is no page tree"
    pages = re.search(rb"/Count (\d+)", tree)
    assert pages and int(pages.group(1)) >= 1, "no pages"

    info = objects.get(_ref(trailer, "Info"), b"") if b"/Info" in trailer else b""
    title, created = (
        _unescape(found.group(1)).decode("latin-1") if found else None
        for found in (
            re.search(rb"/Title \((.*?)(?<!\\)\)", info, re.S),
            re.search(rb"/CreationDate \((.*?)\)", info),
        )
    )

    shown: list[str] = []
    for dictionary, content in streams.values():
        if b"/FlateDecode" in dictionary:
            content = zlib.decompress(content)
        shown += [_unescape(s).decode("latin-1") for s in _SHOWN.findall(content)]
    return ParsedPdf(
        version=header.group(1).decode(),
        objects=objects,
        pages=int(pages.group(1)),
        title=title,
        created=created,
        text="\n".join(shown),
    )
