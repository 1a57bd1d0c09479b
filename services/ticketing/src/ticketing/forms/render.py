"""A filled form as a PDF (fpdf2, with the DejaVu Sans font shipped beside this module for Cyrillic)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fpdf import FPDF

from ticketing.forms.catalogue import CHOICE_LABELS, LINES, WORDS, Form

FONTS = Path(__file__).resolve().parent / "fonts"
FAMILY = "DejaVu"
LABEL_WIDTH = 62.0
LINE_HEIGHT = 7.0


@dataclass(frozen=True)
class Filled:
    """A form with its values: ``values`` by field key, ``lines`` the numbers it is about."""

    form: Form
    language: str
    values: dict[str, str]
    lines: tuple[str, ...]
    created_at: datetime


def _value(filled: Filled, key: str) -> str:
    value = filled.values.get(key, "")
    labels = CHOICE_LABELS.get(value)
    return labels[filled.language] if labels else value


def _height(pdf: FPDF, width: float, text: str) -> float:
    """How tall ``text`` wraps in ``width`` at the current font."""
    height = pdf.multi_cell(width, LINE_HEIGHT, text, align="L", dry_run=True, output="HEIGHT")
    assert isinstance(height, float | int)
    return float(height)


def render(filled: Filled) -> bytes:
    """The PDF's bytes (a few tens of kilobytes: the font is subset to the glyphs used)."""
    form, lang = filled.form, filled.language
    pdf = FPDF(format="A4")
    pdf.set_title(form.title[lang])
    pdf.set_creator("SIMfleet")
    pdf.set_creation_date(filled.created_at)
    pdf.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    width = pdf.epw

    pdf.set_font(FAMILY, "B", 15)
    pdf.multi_cell(width, 8, form.title[lang], align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    pdf.set_font(FAMILY, "", 9.5)
    pdf.set_text_color(70, 70, 70)
    pdf.multi_cell(width, 5, form.description[lang], align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(4)

    for field in form.fields:
        pdf.set_font(FAMILY, "B", 10)
        label = field.label[lang]
        if field.source == LINES:
            label = f"{label} ({len(filled.lines)} {WORDS['numbers_count'][lang]})"
            value = ", ".join(filled.lines)
        else:
            value = _value(filled, field.key)
        label_height = _height(pdf, LABEL_WIDTH - 3, label)
        pdf.set_font(FAMILY, "", 10)
        value_height = _height(pdf, width - LABEL_WIDTH, value or " ")
        if pdf.get_y() + max(label_height, value_height) > pdf.page_break_trigger:
            pdf.add_page()
        y = pdf.get_y()
        pdf.set_font(FAMILY, "B", 10)
        pdf.multi_cell(LABEL_WIDTH - 3, LINE_HEIGHT, label, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_xy(pdf.l_margin + LABEL_WIDTH, y)
        pdf.set_font(FAMILY, "", 10)
        pdf.multi_cell(width - LABEL_WIDTH, LINE_HEIGHT, value or " ", align="L", new_x="LMARGIN", new_y="NEXT")
        # Under the value a rule, as low as the taller of the two: a blank field is a line to write on by hand.
        bottom = y + max(label_height, value_height)
        pdf.line(pdf.l_margin + LABEL_WIDTH, bottom, pdf.l_margin + width, bottom)
        pdf.set_y(bottom + 1.5)

    pdf.ln(6)
    pdf.set_font(FAMILY, "", 9.5)
    pdf.multi_cell(width, 5, form.declaration[lang], align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(14)
    half = width / 2 - 5
    pdf.cell(half, 6, WORDS["signature"][lang], border="T")
    pdf.set_x(pdf.l_margin + half + 10)
    pdf.cell(half, 6, WORDS["stamp"][lang], border="T", new_x="LMARGIN", new_y="NEXT")

    pdf.set_auto_page_break(False)
    pdf.set_y(-16)
    pdf.set_font(FAMILY, "", 7.5)
    pdf.set_text_color(110, 110, 110)
    pdf.cell(width, 5, f"SIMfleet · {form.code} · {filled.created_at:%Y-%m-%d %H:%M} UTC")
    return bytes(pdf.output())
