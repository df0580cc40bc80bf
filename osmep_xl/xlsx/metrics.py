"""How wide Thai and Latin text prints, and how many lines it wraps to: for row heights and print layout.

The advance widths (thousandths of an em) are those of Laksaman, the free TH Sarabun (PSK) of
fonts-thai-tlwg, which has TH Sarabun New's widths: they let the generator size rows and columns the
same on every machine, with or without the font installed. Tone marks and vowels above or below
take no width. Characters outside the tables count as a wide 0.6 em.
"""

from __future__ import annotations

import functools
import itertools
import math

_REGULAR_LATIN = (
    "324 221 312 606 543 879 636 180 285 285 428 618 243 324 243 406 544 544 544 544 544 544 544 544 544 544 243 "
    "243 618 618 618 425 806 601 568 610 648 527 527 639 663 221 397 565 530 824 663 731 568 732 570 529 570 700 "
    "586 884 628 550 637 294 394 294 619 529 306 517 603 497 603 562 309 467 586 215 233 475 300 904 586 598 603 "
    "603 326 424 357 586 512 762 478 506 482 312 230 312 625 "
)
_REGULAR_THAI = (
    "580 568 574 591 591 613 442 552 567 568 574 780 780 639 639 515 693 800 816 588 588 568 646 503 631 643 643 "
    "573 573 672 672 639 601 564 484 568 573 639 503 591 658 573 642 682 582 559 588 536 0 475 475 0 0 0 0 0 0 0 "
    "0 0 0 0 618 305 567 356 364 367 308 600 0 0 0 0 0 0 0 0 676 675 675 675 675 675 675 675 675 675 675 785 1048 "
)
_BOLD_LATIN = (
    "339 252 437 694 552 1034 731 254 367 367 515 627 258 339 258 415 568 568 568 568 568 568 568 568 568 568 258 "
    "258 627 627 627 434 860 678 595 649 690 538 538 682 709 245 424 618 540 863 709 779 586 779 594 549 633 725 "
    "634 920 640 595 678 351 403 351 628 565 315 552 654 521 654 588 382 499 636 245 257 511 320 956 636 619 648 "
    "648 370 445 388 628 538 722 524 543 538 383 266 383 634 "
)
_BOLD_THAI = (
    "588 624 648 606 606 681 478 586 609 624 648 849 849 639 639 559 740 828 866 609 609 588 658 538 651 669 669 "
    "622 622 725 725 639 627 580 494 588 600 639 570 606 693 600 658 703 592 579 571 511 0 505 505 0 0 0 0 0 0 0 "
    "0 0 0 0 585 312 594 379 404 379 314 657 0 0 0 0 0 0 0 0 676 685 685 685 685 685 685 685 685 685 685 789 1048 "
)


def _table(latin: str, thai: str) -> dict[str, int]:
    widths = {chr(0x20 + i): int(w) for i, w in enumerate(latin.split())}
    widths.update({chr(0xE01 + i): int(w) for i, w in enumerate(thai.split())})
    return widths


_WIDTHS = {False: _table(_REGULAR_LATIN, _REGULAR_THAI), True: _table(_BOLD_LATIN, _BOLD_THAI)}
UNKNOWN_WIDTH = 600
DIGIT_EM = 0.544  # width of "0": the unit of Excel column widths when the workbook font is TH Sarabun New
# Thai stacks marks above and below the letters: LibreOffice lays a line of Laksaman out in 1.66 em
# (measured on its PDF), and a row shorter than that runs its borders through the marks.
LINE_EM = 1.66
ROW_PADDING = 0.75  # points above and below the text inside a cell
CELL_INSET = 3.0  # points of a column's width that the text never uses (left and right insets)
# Thai is written without spaces between words, and renderers break it at dictionary word boundaries
# that this module does not know: a run wider than a line is counted as filling only this share of each line.
THAI_RUN_FILL = 0.75
ROOM_SAFETY = 0.98  # renderers round column widths and glyph positions
_LEADING_VOWELS = "เแโใไ"


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """Printed width of ``text`` in points at ``size`` points."""
    widths = _WIDTHS[bold]
    return sum(widths.get(ch, UNKNOWN_WIDTH) for ch in text) * size / 1000


def column_points(width: float, font_size: float) -> float:
    """Printed width in points of a column ``width`` characters wide (as XlsxWriter stores it, plus its
    5-pixel padding), in a workbook whose default font is ``font_size`` points of TH Sarabun New."""
    return (width + 5 / 7) * DIGIT_EM * font_size


# Thai words at whose edges every renderer may break a line: the words of the templates' headers and lists
# and of common report vocabulary. Text between them is treated as one unbreakable piece, so a line count
# is never lower than a renderer's (at worst a row gets a spare line).
_WORD_LIST = """
ปีงบประมาณ งบประมาณ และ เงินกองทุน งบกลาง ร้อยละ เป้าหมาย คงเหลือ ผูกพัน ยอดรวม เบิกจ่าย รหัส ระดับ
หน่วยงาน รับผิดชอบ ถัดไป สูงสุด แหล่ง รายงาน หน่วยนับ ยุทธศาสตร์ กลยุทธ์ โครงการ ตัวชี้วัด ดำเนินงาน
ระบบ ข้อมูล พัฒนา ส่งเสริม สนับสนุน ผู้ประกอบการ วิสาหกิจ สำนักงาน ไม่น้อยกว่า ไม่เกิน ตรวจสอบ
รายละเอียด แผนงาน บูรณาการ ประจำปี ไตรมาส ค่าใช้จ่าย บริหาร กิจกรรม มาตรการ
"""
THAI_WORDS = frozenset(_WORD_LIST.split())
_MARKS = "ะัาำิีึืฺุู็่้๊๋์ํ๎ๅ"  # vowels and marks that belong to the letter before them
_NO_BREAK_BEFORE = _MARKS + "ฯๆ.,;:!?)]}%+-/"
_NO_BREAK_AFTER = _LEADING_VOWELS + ".([{+-$"


@functools.lru_cache(maxsize=1 << 16)  # words repeat from row to row: a 50,000-row sheet measures few distinct ones
def _atoms(word: str) -> tuple[str, ...]:
    """``word`` (no spaces) cut where a renderer surely may break: at the edges of :data:`THAI_WORDS`,
    never next to punctuation that binds (``พ.ร.บ.งบประมาณ``, ``เบิกจ่าย+ผูกพัน`` stay whole, as in Unicode's
    line breaking)."""
    cuts = {0, len(word)}
    i = 0
    while i < len(word):
        found = ""
        if i == 0 or word[i - 1] not in _LEADING_VOWELS:
            for known in THAI_WORDS:
                end = i + len(known)
                if len(known) > len(found) and word.startswith(known, i) and (
                        end == len(word) or word[end] not in _MARKS):
                    found = known
        if found:
            cuts.update((i, i + len(found)))
            i += len(found)
        else:
            i += 1
    at = sorted(c for c in cuts if c in (0, len(word)) or (word[c] not in _NO_BREAK_BEFORE
                                                           and word[c - 1] not in _NO_BREAK_AFTER))
    return tuple(word[a:b] for a, b in itertools.pairwise(at))


def wrap_lines(text: str, room: float, size: float, *, bold: bool = False) -> int:
    """Lines ``text`` takes when wrapped in ``room`` points: greedy at spaces, line breaks and the edges of
    known Thai words; a piece wider than the room is cut at :data:`THAI_RUN_FILL` of each line."""
    if room <= 0:
        return 1
    room *= ROOM_SAFETY
    lines = 0
    space = text_width(" ", size, bold=bold)
    for paragraph in str(text).split("\n"):
        lines += 1
        used = 0.0
        for word in paragraph.split():
            for k, atom in enumerate(_atoms(word)):
                w = text_width(atom, size, bold=bold)
                gap = space if k == 0 else 0.0
                if used and used + gap + w <= room:
                    used += gap + w
                elif w <= room:
                    if used:
                        lines += 1
                    used = w
                else:  # an unknown long Thai run, a URL...: broken somewhere inside, where the renderer can
                    if used:
                        lines += 1
                    pieces = math.ceil(w / (room * THAI_RUN_FILL))
                    lines += pieces - 1
                    used = w - (pieces - 1) * room * THAI_RUN_FILL
    return max(lines, 1)


def row_height(lines: int, size: float) -> float:
    """Height in points of a row holding ``lines`` lines of ``size``-point Thai, on Excel's 0.75-point grid."""
    points = lines * LINE_EM * size + 2 * ROW_PADDING
    return math.ceil(points / 0.75 - 1e-9) * 0.75
