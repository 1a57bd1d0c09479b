"""The forms library (TK-3): the application forms customers download, fill in and attach to a ticket.

A form is a list of fields. Each field is filled from what SIMfleet knows about the
caller and the account the form is for (its ``source``), or from what the caller
typed (``input``), or left as a blank line to write on by hand. The texts are in
every language of :data:`LANGUAGES`; ``tests/test_forms.py`` holds each form to that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

LANGUAGES: Final = ("en", "ru")
"""The forms' languages. Persian needs text shaping the PDF writer does not do here; a Persian
user's form is written in English (the language the operator's desk reads in every case)."""

# Where a field's value comes from.
COMPANY: Final = "company"
"""The company's name (the root of the hierarchy)."""
ACCOUNT_NAME: Final = "account_name"
ACCOUNT_NUMBER: Final = "account_number"
APPLICANT_NAME: Final = "applicant_name"
APPLICANT_PHONE: Final = "applicant_phone"
APPLICANT_EMAIL: Final = "applicant_email"
LINES: Final = "lines"
"""The numbers the form is about, as the caller listed them."""
TODAY: Final = "today"
INPUT: Final = "input"
"""What the caller typed for this field (optional: a blank line when not given)."""
SOURCES: Final = (COMPANY, ACCOUNT_NAME, ACCOUNT_NUMBER, APPLICANT_NAME, APPLICANT_PHONE, APPLICANT_EMAIL, LINES, TODAY)


@dataclass(frozen=True)
class Field:
    key: str
    label: dict[str, str]
    source: str = INPUT
    choices: tuple[str, ...] = ()
    """For an input: the only values accepted (empty: any text)."""
    max_length: int = 300


@dataclass(frozen=True)
class Form:
    code: str
    title: dict[str, str]
    description: dict[str, str]
    fields: tuple[Field, ...]
    declaration: dict[str, str]
    """The sentence the applicant signs under."""
    needs_lines: bool = True

    def field(self, key: str) -> Field | None:
        return next((f for f in self.fields if f.key == key), None)

    @property
    def inputs(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.source == INPUT)


def _f(key: str, en: str, ru: str, source: str = INPUT, **kw: object) -> Field:
    return Field(key, {"en": en, "ru": ru}, source, **kw)  # type: ignore[arg-type]


_COMMON = (
    _f("company", "Company", "Организация", COMPANY),
    _f("tax_number", "Tax number (INN)", "ИНН", max_length=20),
    _f("account_name", "Account", "Лицевой счёт", ACCOUNT_NAME),
    _f("account_number", "Account number", "Номер лицевого счёта", ACCOUNT_NUMBER),
)
_APPLICANT = (
    _f("applicant_name", "Applicant", "Заявитель", APPLICANT_NAME),
    _f("applicant_phone", "Applicant's phone", "Телефон заявителя", APPLICANT_PHONE),
    _f("applicant_email", "Applicant's email", "Электронная почта заявителя", APPLICANT_EMAIL),
    _f("date", "Date", "Дата", TODAY),
)
_DECLARATION = {
    "en": "I confirm that the details above are correct and that I am authorised to make this request "
    "on behalf of the company.",
    "ru": "Подтверждаю, что указанные сведения верны и что я уполномочен подать это заявление от имени организации.",
}

FORMS: Final[dict[str, Form]] = {
    form.code: form
    for form in (
        Form(
            code="sim_replacement",
            title={"en": "Application for SIM card replacement", "ru": "Заявление на замену SIM-карты"},
            description={
                "en": "Replace the SIM cards of the lines listed (lost, stolen, damaged or another format); "
                "the numbers stay.",
                "ru": "Замена SIM-карт перечисленных номеров (утеряна, украдена, повреждена или нужен другой "
                "формат); номера сохраняются.",
            },
            fields=(
                *_COMMON,
                _f("lines", "Numbers", "Номера", LINES),
                _f(
                    "reason",
                    "Reason",
                    "Причина",
                    choices=("lost", "stolen", "damaged", "format"),
                ),
                _f("delivery_address", "Where to deliver the new SIM cards", "Адрес доставки новых SIM-карт"),
                *_APPLICANT,
            ),
            declaration=_DECLARATION,
        ),
        Form(
            code="number_transfer",
            title={
                "en": "Application for the transfer of numbers to another holder",
                "ru": "Заявление о переоформлении номеров на другого владельца",
            },
            description={
                "en": "Hand the numbers listed over to another company or person, who signs as the recipient.",
                "ru": "Передача перечисленных номеров другой организации или лицу; получатель подписывает заявление.",
            },
            fields=(
                *_COMMON,
                _f("lines", "Numbers", "Номера", LINES),
                _f("recipient_name", "Recipient", "Получатель"),
                _f("recipient_tax_number", "Recipient's tax number (INN)", "ИНН получателя", max_length=20),
                _f("transfer_date", "Transfer from", "Дата переоформления", max_length=20),
                *_APPLICANT,
            ),
            declaration=_DECLARATION,
        ),
        Form(
            code="contract_details_change",
            title={
                "en": "Application to change the contract's details",
                "ru": "Заявление об изменении реквизитов договора",
            },
            description={
                "en": "Change the company's name, address, bank details or signatory in the contract.",
                "ru": "Изменение наименования, адреса, банковских реквизитов или подписанта в договоре.",
            },
            fields=(
                *_COMMON,
                _f(
                    "detail",
                    "Detail to change",
                    "Изменяемый реквизит",
                    choices=("name", "legal_address", "postal_address", "bank_details", "signatory"),
                ),
                _f("old_value", "As it is now", "Прежнее значение"),
                _f("new_value", "As it should be", "Новое значение"),
                *_APPLICANT,
            ),
            declaration=_DECLARATION,
            needs_lines=False,
        ),
    )
}

CHOICE_LABELS: Final[dict[str, dict[str, str]]] = {
    "lost": {"en": "lost", "ru": "утеряна"},
    "stolen": {"en": "stolen", "ru": "украдена"},
    "damaged": {"en": "damaged", "ru": "повреждена"},
    "format": {"en": "another format", "ru": "другой формат"},
    "name": {"en": "the company's name", "ru": "наименование"},
    "legal_address": {"en": "legal address", "ru": "юридический адрес"},
    "postal_address": {"en": "postal address", "ru": "почтовый адрес"},
    "bank_details": {"en": "bank details", "ru": "банковские реквизиты"},
    "signatory": {"en": "signatory", "ru": "подписант"},
}

WORDS: Final[dict[str, dict[str, str]]] = {
    "signature": {"en": "Signature", "ru": "Подпись"},
    "stamp": {"en": "Company stamp", "ru": "М.П."},
    "numbers_count": {"en": "numbers", "ru": "номеров"},
}


def language(value: str) -> str:
    """The form's language for a user's (``fa`` and unknown: English)."""
    return value if value in LANGUAGES else "en"
