"""Codes of an ISO list that people type (currencies, countries): stored in capitals, and
anything else refused with a message that states the rule."""

from collections.abc import Callable

from django import forms
from django.core.exceptions import ValidationError


class IsoCodes:
    """One list's rule: ``normalise`` what was typed, ``validate`` what is stored (a model
    validator), ``form_field()`` for forms (lower case becomes capitals, anything else is an
    error on the field)."""

    def __init__(self, codes: Callable[[], frozenset[str]], *, noun: str, rule: str, code: str):
        self.codes, self.noun, self.rule, self.code = codes, noun, rule, code

    def normalise(self, value: object) -> str:
        """'usd' and ' USD ' give 'USD'; ValidationError for what is not a code of the list."""
        text = value.strip() if isinstance(value, str) else ""
        # ASCII only: str.upper() maps some letters to two ('ß' -> 'SS'), which could make a code
        code = text.upper() if text.isascii() else text
        if code not in self.codes():
            shown = repr(value) if isinstance(value, str) and value else "nothing"
            raise ValidationError(f"{self.rule}; got {shown}.", code=self.code)
        return code

    def validate(self, value: str) -> None:
        """The stored value is already a code in capitals."""
        if value not in self.codes():
            self.normalise(value)  # raises with the rule
            raise ValidationError(
                f"{self.noun} must be stored in capitals ({value.strip().upper()}).",
                code=self.code,
            )

    def form_field(self) -> type[forms.CharField]:
        normalise = self.normalise

        class CodeField(forms.CharField):
            def to_python(self, value):
                value = super().to_python(value)
                return normalise(value) if value else value

        return CodeField
