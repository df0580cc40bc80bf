"""The safety check's quick look at each XML part (inflated straight from the file) sees what zipfile's
reading sees, and leaves to zipfile every part it cannot vouch for, so a damaged file is refused as before."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import pytest

from osmep_xl.data import load_report
from osmep_xl.spec import TEMPLATES
from osmep_xl.xlsx.generate import write_workbook
from osmep_xl.xlsx.safety import HEAD, _heads

BROKEN = (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError, ValueError)


def _xml(zf: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    return [i for i in zf.infolist() if i.filename.endswith((".xml", ".rels", ".vml"))]


def _zipfile_head(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | None:
    """What zipfile reads of the part, None when it raises."""
    try:
        with zf.open(info) as part:
            return part.read(HEAD)
    except (*BROKEN, Exception):
        return None


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    template = next(iter(TEMPLATES))
    return write_workbook(load_report(template), tmp_path_factory.mktemp("heads") / "b.xlsx").read_bytes()


def test_a_clean_package_is_looked_at_without_zipfile(workbook: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(workbook)) as zf:
        infos = _xml(zf)
        heads = _heads(zf, infos)
        assert len(infos) > 5 and None not in heads
        assert heads == [_zipfile_head(zf, info) for info in infos]


def test_damaged_packages_are_seen_as_zipfile_sees_them(workbook: bytes) -> None:
    rng = random.Random(4)
    compared = declined = 0
    for _ in range(300):
        data = bytearray(workbook)
        for _ in range(rng.randint(1, 4)):  # bytes flipped anywhere, or the file cut short
            at = rng.randrange(len(data))
            data[at] ^= 1 << rng.randrange(8)
        if rng.random() < 0.2:
            del data[rng.randrange(len(data) // 2, len(data)):-200]
        try:
            zf = zipfile.ZipFile(io.BytesIO(bytes(data)))
        except BROKEN:
            continue
        with zf:
            infos = _xml(zf)
            for info, head in zip(infos, _heads(zf, infos), strict=True):
                expected = _zipfile_head(zf, info)
                if head is None:
                    declined += 1
                else:
                    assert head == expected, info.filename  # zipfile would not have raised, and reads the same
                    compared += 1
    assert compared > 1000 and declined > 0


def test_a_part_whose_checksum_fails_is_left_to_zipfile(tmp_path: Path) -> None:
    path = tmp_path / "p.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.xml", b"<a>" + b"x" * 100 + b"</a>")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.infolist()[0]
        data[info.header_offset + 14] ^= 0xFF  # the CRC in the local header is not read; the directory's is
    central = bytes(data).rfind(b"PK\x01\x02")
    data[central + 16] ^= 0xFF  # the directory's CRC
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        assert _heads(zf, zf.infolist()) == [None]
        with pytest.raises(zipfile.BadZipFile, match="CRC"):
            zf.read("a.xml")
