"""Money: an exact amount in one currency.

An amount is an integer count of the currency's minor units (tiyn, cents, fils) plus an ISO 4217 code.
Arithmetic is integer or Decimal, never float: a float given anywhere is refused with ``TypeError``.
Wherever a result can fall between two minor units (multiplying by a Decimal, converting at a rate) it is
rounded half to even (banker's rounding), and the method says so; nothing else rounds. Splitting an amount
is done by ``allocate``, which never loses or invents a minor unit.

Stored as two columns, a ``BigInteger`` of minor units and a ``String(3)`` code, mapped to one attribute::

    class Tranche(Base):
        amount_minor: Mapped[int] = mapped_column(BigInteger)
        currency: Mapped[str] = mapped_column(String(3))
        amount: Mapped[Money] = money_composite("amount_minor", "currency")

``Tranche.amount == Money(...)`` and the ordering operators work in queries (the ordering ones also
require the same currency); sums in SQL use the minor-unit column and are wrapped back with ``Money``.
"""

import copy
import re
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from fractions import Fraction
from functools import total_ordering
from math import lcm

from babel import Locale
from flask_babel import gettext as _
from sqlalchemy import and_, or_
from sqlalchemy.orm import Composite, composite

from fundapp.core.errors import DomainError

#: ISO 4217 minor units of the currencies that do not have two; every other code has two.
#: (Babel's CLDR "digits" are display conventions and differ for some, e.g. IQD, so they are not used here.)
MINOR_UNIT_EXPONENTS = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}
DEFAULT_EXPONENT = 2

_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
#: Wide enough that no product or quotient of stored amounts is rounded before we round it on purpose.
_EXACT = Context(prec=60, rounding=ROUND_HALF_EVEN)


class CurrencyMismatch(DomainError):
    """Two amounts in different currencies were added, subtracted or compared."""


class InvalidAmount(DomainError, ValueError):
    """An amount that cannot be held exactly: not a number, or finer than the currency's minor unit."""


def minor_unit_exponent(currency):
    """How many decimal places ``currency`` has (KZT 2, JPY 0, KWD 3)."""
    return MINOR_UNIT_EXPONENTS.get(_currency_code(currency), DEFAULT_EXPONENT)


def _currency_code(currency):
    if not isinstance(currency, str) or not _CURRENCY_CODE.fullmatch(currency):
        raise ValueError(f"currency must be an ISO 4217 code of three capital letters, not {currency!r}")
    return currency


def _refuse_float(value, what):
    if isinstance(value, float):
        raise TypeError(f"{what} must be exact (int or Decimal), not float: {value!r}")
    if isinstance(value, bool):
        raise TypeError(f"{what} must be a number, not bool")


def _to_integer(value):
    """Round a Decimal number of minor units half to even."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN, context=_EXACT))


def _code_glued(text, code):
    """True when ``code`` is written straight against the number, as in ``"KZT1.00"``."""
    index = text.find(code)
    after = index + len(code)
    return index >= 0 and after < len(text) and (text[after].isdigit() or text[after] == "-")


@total_ordering
class Money:
    """An immutable amount: ``minor`` units of ``currency`` (``Money(123456, "KZT")`` is 1 234.56 KZT)."""

    __slots__ = ("currency", "minor")

    minor: int
    currency: str

    def __init__(self, minor, currency):
        _refuse_float(minor, "minor units")
        if not isinstance(minor, int):
            raise TypeError(f"minor units must be an int, not {type(minor).__name__}: {minor!r}")
        object.__setattr__(self, "minor", int(minor))
        object.__setattr__(self, "currency", _currency_code(currency))

    def __setattr__(self, name, value):
        raise AttributeError("Money is immutable; arithmetic returns a new value")

    def __delattr__(self, name):
        raise AttributeError("Money is immutable")

    def __reduce__(self):
        return (type(self), (self.minor, self.currency))

    # -- constructing ---------------------------------------------------------------------------------

    @classmethod
    def from_decimal(cls, value, currency):
        """The amount ``value`` (Decimal, str or int, in major units) of ``currency``.

        Refuses with ``InvalidAmount`` (a ``DomainError`` and a ``ValueError``) anything that is not a
        finite number or has more decimal places than the currency has: 10.005 KZT is an error, not
        10.00 or 10.01. Trailing zeros are fine ("10.500" KZT is 10.50).
        """
        _refuse_float(value, "an amount")
        if isinstance(value, str):
            text = value.strip()
            try:
                number = Decimal(text)
            except InvalidOperation:
                raise InvalidAmount(_("%(value)s is not an amount.", value=value)) from None
        elif isinstance(value, int | Decimal):
            number = Decimal(value)
        else:
            raise TypeError(f"an amount must be a Decimal, str or int, not {type(value).__name__}")
        if not number.is_finite():
            raise InvalidAmount(_("%(value)s is not an amount.", value=value))
        exponent = minor_unit_exponent(currency)
        minor = number.scaleb(exponent, context=_EXACT)
        if minor != minor.to_integral_value(context=_EXACT):
            if exponent == 0:
                message = _(
                    "%(value)s %(currency)s has decimals, but %(currency)s amounts are whole numbers.",
                    value=value,
                    currency=currency,
                )
            else:
                message = _(
                    "%(value)s %(currency)s has more than %(places)d decimal places; "
                    "%(currency)s amounts go down to %(smallest)s.",
                    value=value,
                    currency=currency,
                    places=exponent,
                    smallest=Decimal(1).scaleb(-exponent),
                )
            raise InvalidAmount(message)
        return cls(int(minor), currency)

    @classmethod
    def zero(cls, currency):
        return cls(0, currency)

    @classmethod
    def sum(cls, amounts, currency):
        """The total of ``amounts``, all in ``currency`` (zero for none); a different currency raises."""
        total = cls.zero(currency)
        for amount in amounts:
            total = total + amount
        return total

    # -- reading --------------------------------------------------------------------------------------

    @property
    def exponent(self):
        """Decimal places of this currency."""
        return minor_unit_exponent(self.currency)

    @property
    def amount(self):
        """The amount in major units as a Decimal with exactly the currency's decimal places."""
        return Decimal(self.minor).scaleb(-self.exponent, context=_EXACT)

    def __composite_values__(self):
        return self.minor, self.currency

    def __str__(self):
        return f"{self.amount:f} {self.currency}"

    def __repr__(self):
        return f"Money({self.minor}, {self.currency!r})"

    def format(self, locale="en", *, format_type="standard"):
        """The amount as a reader of ``locale`` expects it, e.g. ``"1 234,56 ₸"`` in ``kk``.

        Always shows all the currency's decimal places (CLDR would round some currencies for display).
        ``format_type`` is Babel's: ``"standard"`` or ``"accounting"`` (negatives in brackets).
        """
        if isinstance(locale, str):
            locale = locale.replace("-", "_")
        babel_locale = Locale.parse(locale)
        pattern = copy.copy(babel_locale.currency_formats[format_type])  # the original is shared
        pattern.frac_prec = (self.exponent, self.exponent)
        text = pattern.apply(self.amount, babel_locale, currency=self.currency, currency_digits=False)
        # Where the locale has no symbol for the currency, CLDR glues the code to the number ("KZT1.00").
        if _code_glued(text, self.currency):
            text = text.replace(self.currency, self.currency + "\u00a0", 1)
        return text

    # -- arithmetic -----------------------------------------------------------------------------------

    def _same_currency(self, other):
        if self.currency != other.currency:
            raise CurrencyMismatch(
                _(
                    "Amounts in different currencies cannot be added, subtracted or compared: "
                    "%(first)s and %(second)s. Convert one of them first.",
                    first=self.currency,
                    second=other.currency,
                )
            )

    def __add__(self, other):
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other):
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.minor - other.minor, self.currency)

    def __mul__(self, factor):
        """Multiply by an int (exact) or a Decimal (rounded half to even to the minor unit)."""
        _refuse_float(factor, "a factor")
        if isinstance(factor, int):
            return Money(self.minor * factor, self.currency)
        if isinstance(factor, Decimal):
            if not factor.is_finite():
                raise ValueError(f"cannot multiply money by {factor}")
            return Money(_to_integer(_EXACT.multiply(Decimal(self.minor), factor)), self.currency)
        return NotImplemented

    __rmul__ = __mul__

    def __neg__(self):
        return Money(-self.minor, self.currency)

    def __pos__(self):
        return self

    def __abs__(self):
        return Money(abs(self.minor), self.currency)

    def __bool__(self):
        return self.minor != 0

    def __eq__(self, other):
        if not isinstance(other, Money):
            return NotImplemented
        return self.minor == other.minor and self.currency == other.currency

    def __hash__(self):
        return hash((self.minor, self.currency))

    def __lt__(self, other):
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self.minor < other.minor

    # -- splitting and converting ---------------------------------------------------------------------

    def allocate(self, ratios):
        """Split into parts proportional to ``ratios`` (ints or Decimals), losing no minor unit.

        Each part gets the whole minor units of its share; the units left over go one each to the parts
        with the largest remainders (ties to the earlier part). The parts always add up to this amount:
        ``Money(10000, "KZT").allocate([40, 40, 20])`` is 40.00, 40.00 and 20.00;
        ``Money(1, "KZT").allocate([1, 1, 1])`` is 0.01, 0.00, 0.00. A negative amount splits like its
        absolute value, negated.
        """
        ratios = list(ratios)
        if not ratios:
            raise ValueError("allocate needs at least one ratio")
        fractions = []
        for ratio in ratios:
            _refuse_float(ratio, "a ratio")
            if not isinstance(ratio, int | Decimal):
                raise TypeError(f"a ratio must be an int or Decimal, not {type(ratio).__name__}")
            if isinstance(ratio, Decimal) and not ratio.is_finite():
                raise ValueError(f"a ratio must be a finite number, not {ratio}")
            if ratio < 0:
                raise ValueError(f"ratios cannot be negative: {ratio}")
            fractions.append(Fraction(ratio))
        # Scale the ratios to integers so the rest is integer arithmetic.
        denominator = lcm(*(fraction.denominator for fraction in fractions))
        weights = [int(fraction * denominator) for fraction in fractions]
        total_weight = sum(weights)
        if total_weight == 0:
            raise ValueError("at least one ratio must be positive")

        units = abs(self.minor)
        shares = [divmod(units * weight, total_weight) for weight in weights]
        parts = [whole for whole, _remainder in shares]
        left_over = units - sum(parts)
        by_remainder = sorted(range(len(shares)), key=lambda index: (-shares[index][1], index))
        for index in by_remainder[:left_over]:
            parts[index] += 1
        sign = -1 if self.minor < 0 else 1
        return [Money(sign * part, self.currency) for part in parts]

    def convert(self, rate, to_currency):
        """This amount in ``to_currency`` at ``rate`` (units of ``to_currency`` per one unit of this one).

        ``rate`` is a Decimal, int or numeric string; the result is rounded half to even to the minor
        unit of ``to_currency``: ``Money(1000, "USD").convert(Decimal("512.345"), "KZT")`` is 5 123.45 KZT.
        """
        _refuse_float(rate, "an exchange rate")
        if isinstance(rate, str):
            try:
                rate = Decimal(rate.strip())
            except InvalidOperation:
                raise ValueError(f"{rate!r} is not an exchange rate") from None
        elif isinstance(rate, int):
            rate = Decimal(rate)
        elif not isinstance(rate, Decimal):
            raise TypeError(f"an exchange rate must be a Decimal, not {type(rate).__name__}")
        if not rate.is_finite() or rate <= 0:
            raise ValueError(f"an exchange rate must be a positive number, not {rate}")
        target_exponent = minor_unit_exponent(to_currency)
        target_minor = _EXACT.multiply(self.amount, rate).scaleb(target_exponent, context=_EXACT)
        return Money(_to_integer(target_minor), to_currency)


class MoneyComparator(Composite.Comparator):
    """SQL comparisons of a Money composite: ``==``/``!=`` on both columns, ordering within one currency."""

    def _columns(self):
        minor, currency = self.__clause_element__().clauses
        return minor, currency

    def __eq__(self, other):
        minor, currency = self._columns()
        if other is None:
            return and_(minor.is_(None), currency.is_(None))
        return and_(minor == other.minor, currency == other.currency)

    def __ne__(self, other):
        minor, currency = self._columns()
        if other is None:
            return or_(minor.is_not(None), currency.is_not(None))
        return or_(minor != other.minor, currency != other.currency)

    def _ordered(self, operator, other):
        minor, currency = self._columns()
        return and_(currency == other.currency, operator(minor, other.minor))

    def __lt__(self, other):
        return self._ordered(lambda column, value: column < value, other)

    def __le__(self, other):
        return self._ordered(lambda column, value: column <= value, other)

    def __gt__(self, other):
        return self._ordered(lambda column, value: column > value, other)

    def __ge__(self, other):
        return self._ordered(lambda column, value: column >= value, other)


def money_composite(minor_column, currency_column, **kwargs):
    """Map a minor-units column and a currency column to one ``Money`` attribute.

    The columns may be attribute names of the same class, ``mapped_column(...)`` objects or ``Column``
    objects (use ``BigInteger`` and ``String(3)``). When both columns are NULL the attribute is ``None``.
    """
    kwargs.setdefault("comparator_factory", MoneyComparator)
    kwargs.setdefault("return_none_on", lambda minor, currency: minor is None and currency is None)
    return composite(Money, minor_column, currency_column, **kwargs)
