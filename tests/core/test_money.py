"""Money: exact amounts, one currency at a time, splits that lose nothing, and the two-column mapping."""

import pickle
from decimal import Decimal

import pytest
from sqlalchemy import BigInteger, Integer, MetaData, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fundapp.core.errors import DomainError
from fundapp.core.money import CurrencyMismatch, InvalidAmount, Money, minor_unit_exponent, money_composite

NBSP = "\xa0"


def kzt(text):
    return Money.from_decimal(text, "KZT")


# -- constructing and reading ----------------------------------------------------------------------------


def test_amount_is_minor_units_scaled_by_the_currency_exponent():
    assert Money(123456, "KZT").amount == Decimal("1234.56")
    assert str(Money(123456, "KZT").amount) == "1234.56"
    assert str(Money(1234, "JPY").amount) == "1234"
    assert str(Money(1234, "KWD").amount) == "1.234"


def test_str_and_repr_show_the_exact_amount():
    assert str(Money(123456, "KZT")) == "1234.56 KZT"
    assert str(Money(-5, "KZT")) == "-0.05 KZT"
    assert str(Money(0, "JPY")) == "0 JPY"
    assert repr(Money(123456, "KZT")) == "Money(123456, 'KZT')"


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [
        ("KZT", 2),
        ("USD", 2),
        ("EUR", 2),
        ("GBP", 2),
        ("JPY", 0),
        ("KWD", 3),
        ("IQD", 3),
        ("CLF", 4),
        ("UZS", 2),
    ],
)
def test_minor_unit_exponent_follows_iso_4217(currency, exponent):
    assert minor_unit_exponent(currency) == exponent


@pytest.mark.parametrize("currency", ["kzt", "KZ", "KZTT", "K1T", "", None, 398])
def test_a_malformed_currency_code_is_refused(currency):
    with pytest.raises(ValueError, match="ISO 4217"):
        Money(100, currency)


def test_minor_units_must_be_an_integer():
    with pytest.raises(TypeError):
        Money(Decimal("100"), "KZT")
    with pytest.raises(TypeError):
        Money(True, "KZT")


def test_money_is_immutable():
    amount = Money(100, "KZT")
    with pytest.raises(AttributeError):
        amount.minor = 200
    assert amount == Money(100, "KZT")


def test_money_survives_pickling():
    assert pickle.loads(pickle.dumps(Money(123456, "KZT"))) == Money(123456, "KZT")  # noqa: S301


def test_zero():
    assert Money.zero("KZT") == Money(0, "KZT")
    assert not Money.zero("KZT")
    assert Money(1, "KZT")


# -- from_decimal ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "minor"),
    [
        ("1234.56", 123456),
        (Decimal("10.500"), 1050),
        (7, 700),
        (" 0.01 ", 1),
        ("-25.5", -2550),
        ("1E+3", 100000),
    ],
)
def test_from_decimal_takes_exact_amounts(value, minor):
    assert Money.from_decimal(value, "KZT") == Money(minor, "KZT")


def test_from_decimal_refuses_more_decimals_than_the_currency_has():
    with pytest.raises(InvalidAmount) as refused:
        Money.from_decimal("10.005", "KZT")

    assert refused.value.message == "10.005 KZT has more than 2 decimal places; KZT amounts go down to 0.01."
    assert isinstance(refused.value, DomainError)
    assert isinstance(refused.value, ValueError)


def test_from_decimal_refuses_decimals_for_a_currency_without_minor_units():
    with pytest.raises(InvalidAmount, match="JPY amounts are whole numbers"):
        Money.from_decimal("1500.5", "JPY")


def test_from_decimal_keeps_all_three_decimals_of_a_three_decimal_currency():
    assert Money.from_decimal("1.234", "KWD") == Money(1234, "KWD")
    with pytest.raises(InvalidAmount):
        Money.from_decimal("1.2345", "KWD")


@pytest.mark.parametrize("value", ["abc", "", "NaN", "Infinity", Decimal("-Infinity")])
def test_from_decimal_refuses_what_is_not_an_amount(value):
    with pytest.raises(InvalidAmount, match="is not an amount"):
        Money.from_decimal(value, "KZT")


# -- float is refused everywhere -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "operation",
    [
        lambda: Money(100.0, "KZT"),
        lambda: Money.from_decimal(1.5, "KZT"),
        lambda: Money(100, "KZT") * 1.5,
        lambda: 1.5 * Money(100, "KZT"),
        lambda: Money(100, "KZT").allocate([0.5, 0.5]),
        lambda: Money(100, "USD").convert(512.3, "KZT"),
    ],
    ids=["constructor", "from_decimal", "multiply", "reflected-multiply", "allocate", "convert"],
)
def test_float_is_refused(operation):
    with pytest.raises(TypeError, match="float"):
        operation()


# -- arithmetic and comparison ---------------------------------------------------------------------------


def test_addition_and_subtraction_in_one_currency():
    assert kzt("100.50") + kzt("0.75") == kzt("101.25")
    assert kzt("100.50") - kzt("200") == kzt("-99.50")


def test_adding_different_currencies_raises_naming_both():
    with pytest.raises(CurrencyMismatch) as refused:
        Money(100, "KZT") + Money(100, "USD")

    assert "KZT" in refused.value.message
    assert "USD" in refused.value.message
    assert isinstance(refused.value, DomainError)


def test_subtracting_different_currencies_raises():
    with pytest.raises(CurrencyMismatch):
        Money(100, "KZT") - Money(100, "EUR")


def test_adding_a_plain_number_is_a_type_error():
    with pytest.raises(TypeError):
        Money(100, "KZT") + 1


@pytest.mark.parametrize(
    "compare",
    [lambda a, b: a < b, lambda a, b: a <= b, lambda a, b: a > b, lambda a, b: a >= b],
    ids=["lt", "le", "gt", "ge"],
)
def test_ordering_different_currencies_raises(compare):
    with pytest.raises(CurrencyMismatch):
        compare(Money(100, "KZT"), Money(100, "USD"))


def test_ordering_within_one_currency():
    assert kzt("1.00") < kzt("1.01") <= kzt("1.01")
    assert kzt("2") > kzt("-2") >= kzt("-2")
    assert max([kzt("3"), kzt("30"), kzt("0.30")]) == kzt("30")


def test_equality_across_currencies_is_false_not_an_error():
    assert Money(100, "KZT") != Money(100, "USD")
    assert Money(100, "KZT") == Money(100, "KZT")
    assert Money(0, "KZT") != 0


def test_equal_amounts_hash_alike():
    assert {Money(100, "KZT"), Money(100, "KZT"), Money(100, "USD")} == {Money(100, "KZT"), Money(100, "USD")}


def test_negation_and_absolute_value():
    assert -Money(250, "KZT") == Money(-250, "KZT")
    assert abs(Money(-250, "KZT")) == Money(250, "KZT")
    assert +Money(250, "KZT") == Money(250, "KZT")


def test_multiplying_by_an_int_is_exact():
    assert Money(12345, "KZT") * 3 == Money(37035, "KZT")
    assert 3 * Money(12345, "KZT") == Money(37035, "KZT")


def test_multiplying_by_a_decimal_rounds_half_to_even():
    # 2.5 and 7.5 tiyn: halves go to the even neighbour, so repeated roundings do not drift upwards.
    assert Money(5, "KZT") * Decimal("0.5") == Money(2, "KZT")
    assert Money(15, "KZT") * Decimal("0.5") == Money(8, "KZT")
    assert Money(100000, "KZT") * Decimal("0.12") == Money(12000, "KZT")
    assert Money(-5, "KZT") * Decimal("0.5") == Money(-2, "KZT")


def test_multiplying_two_amounts_is_a_type_error():
    with pytest.raises(TypeError):
        Money(100, "KZT") * Money(2, "KZT")


def test_sum_adds_amounts_of_one_currency():
    assert Money.sum([kzt("1.10"), kzt("2.20"), kzt("3.30")], "KZT") == kzt("6.60")
    assert Money.sum([], "USD") == Money.zero("USD")
    assert Money.sum((Money(n, "KZT") for n in range(5)), "KZT") == Money(10, "KZT")


def test_sum_refuses_a_different_currency():
    with pytest.raises(CurrencyMismatch):
        Money.sum([kzt("1"), Money(100, "USD")], "KZT")


# -- allocate --------------------------------------------------------------------------------------------


def test_allocate_splits_into_40_40_20_tranches():
    assert kzt("100.00").allocate([40, 40, 20]) == [kzt("40.00"), kzt("40.00"), kzt("20.00")]


def test_allocate_one_tiyn_into_three_parts_gives_it_to_the_first():
    parts = Money(1, "KZT").allocate([1, 1, 1])

    assert parts == [Money(1, "KZT"), Money(0, "KZT"), Money(0, "KZT")]


def test_allocate_gives_left_over_units_to_the_largest_remainders():
    # 10 by 1:2:3 is 1.67, 3.33, 5: whole parts 1, 3, 5 and the one left over goes to 1.67.
    assert Money(10, "KZT").allocate([1, 2, 3]) == [Money(2, "KZT"), Money(3, "KZT"), Money(5, "KZT")]


def test_allocate_by_decimal_ratios():
    parts = kzt("1000000.01").allocate([Decimal("0.4"), Decimal("0.4"), Decimal("0.2")])

    assert parts == [kzt("400000.01"), kzt("400000.00"), kzt("200000.00")]


def test_allocate_pro_rata_by_contributions_loses_nothing():
    contributions = [Money(333_333, "KZT"), Money(333_333, "KZT"), Money(333_334, "KZT"), Money(17, "KZT")]
    for minor in (0, 1, 2, 99, 100, 101, 999_999, 12_345_678_901):
        expense = Money(minor, "KZT")

        parts = expense.allocate([contribution.minor for contribution in contributions])

        assert Money.sum(parts, "KZT") == expense
        assert all(part.minor >= 0 for part in parts)


def test_allocate_a_negative_amount_mirrors_the_positive_split():
    assert Money(-100, "KZT").allocate([1, 1, 1]) == [Money(-34, "KZT"), Money(-33, "KZT"), Money(-33, "KZT")]


def test_allocate_gives_nothing_to_a_zero_ratio():
    assert Money(100, "KZT").allocate([0, 3, 1]) == [Money(0, "KZT"), Money(75, "KZT"), Money(25, "KZT")]


@pytest.mark.parametrize("ratios", [[], [0, 0], [1, -1]], ids=["none", "all-zero", "negative"])
def test_allocate_refuses_ratios_that_split_nothing(ratios):
    with pytest.raises(ValueError):
        Money(100, "KZT").allocate(ratios)


# -- convert ---------------------------------------------------------------------------------------------


def test_convert_at_a_rate():
    assert Money(1000, "USD").convert(Decimal("512.345"), "KZT") == kzt("5123.45")


def test_convert_rounds_half_to_even_to_the_target_minor_unit():
    assert Money(1, "USD").convert(Decimal("0.5"), "EUR") == Money(0, "EUR")  # 0.005 -> 0.00
    assert Money(3, "USD").convert(Decimal("0.5"), "EUR") == Money(2, "EUR")  # 0.015 -> 0.02
    assert Money(123456, "KZT").convert(Decimal("0.3"), "JPY") == Money(370, "JPY")  # 370.368
    assert Money(100000, "KZT").convert(Decimal("0.000642"), "KWD") == Money(642, "KWD")


def test_convert_accepts_a_rate_written_as_text():
    assert Money(100, "EUR").convert("545.10", "KZT") == kzt("545.10")


@pytest.mark.parametrize("rate", [Decimal(0), Decimal("-1"), Decimal("NaN"), "abc"])
def test_convert_refuses_a_rate_that_is_not_positive(rate):
    with pytest.raises(ValueError):
        Money(100, "USD").convert(rate, "KZT")


# -- format ----------------------------------------------------------------------------------------------


def test_format_in_english():
    assert Money(123456, "USD").format("en") == "$1,234.56"
    assert Money(123456, "KZT").format("en") == f"KZT{NBSP}1,234.56"
    assert Money(-150, "USD").format("en") == "-$1.50"


def test_format_in_russian_and_kazakh():
    assert Money(123456, "KZT").format("ru") == f"1{NBSP}234,56{NBSP}KZT"
    assert Money(123456, "KZT").format("kk") == f"1{NBSP}234,56{NBSP}₸"


def test_format_shows_every_decimal_the_currency_has():
    assert Money(1234, "JPY").format("en") == "¥1,234"
    assert Money(1234, "KWD").format("en") == f"KWD{NBSP}1.234"
    # CLDR shows Iraqi dinars without decimals; an amount held in fils must not be rounded away.
    assert Money(1234, "IQD").format("en") == f"IQD{NBSP}1.234"


def test_format_accepts_region_locales_and_the_accounting_style():
    assert Money(-150, "USD").format("en-US", format_type="accounting") == "($1.50)"
    assert Money(123456, "KZT").format("ru_KZ") == f"1{NBSP}234,56{NBSP}₸"


def test_format_does_not_change_babels_shared_patterns():
    Money(1234, "KWD").format("en")

    assert Money(123456, "USD").format("en") == "$1,234.56"


# -- stored in two columns -------------------------------------------------------------------------------


class _ThrowawayBase(DeclarativeBase):
    """A metadata of its own, so this table never joins the app's schema."""

    metadata = MetaData()


class Holding(_ThrowawayBase):
    __tablename__ = "test_money_holding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    amount: Mapped[Money] = money_composite("amount_minor", "currency")
    ceiling_minor: Mapped[int | None] = mapped_column(BigInteger)
    ceiling_currency: Mapped[str | None] = mapped_column(String(3))
    ceiling: Mapped[Money | None] = money_composite("ceiling_minor", "ceiling_currency")


@pytest.fixture
def holdings(db):
    """The throwaway table, created inside the test's transaction (rolled back with it)."""
    _ThrowawayBase.metadata.create_all(db.session.connection())
    return db.session


def test_money_round_trips_through_the_database(holdings):
    large = Money(9_000_000_000_000_01, "KZT")  # beyond 32 bits: the column is a BigInteger
    holding = Holding(amount=large, ceiling=Money(1234, "KWD"))
    holdings.add(holding)
    holdings.flush()
    holdings.expire_all()

    stored = holdings.get(Holding, holding.id)

    assert stored.amount == large
    assert stored.ceiling == Money(1234, "KWD")
    row = holdings.execute(
        select(Holding.amount_minor, Holding.currency).where(Holding.id == holding.id)
    ).one()
    assert tuple(row) == (9_000_000_000_000_01, "KZT")


def test_a_money_attribute_with_both_columns_null_reads_as_none(holdings):
    holding = Holding(amount=Money(100, "USD"), ceiling=None)
    holdings.add(holding)
    holdings.flush()
    holdings.expire_all()

    assert holdings.get(Holding, holding.id).ceiling is None


def test_replacing_a_money_attribute_updates_both_columns(holdings):
    holding = Holding(amount=Money(100, "USD"))
    holdings.add(holding)
    holdings.flush()

    holding.amount = Money(54510, "KZT")
    holdings.flush()
    holdings.expire_all()

    assert holdings.get(Holding, holding.id).amount == Money(54510, "KZT")


def test_money_attributes_compare_in_queries(holdings):
    holdings.add_all(
        [
            Holding(amount=Money(100, "KZT")),
            Holding(amount=Money(500, "KZT")),
            Holding(amount=Money(500, "USD")),
            Holding(amount=Money(900, "KZT")),
        ]
    )
    holdings.flush()

    def amounts(condition):
        return sorted(
            (h.amount.currency, h.amount.minor) for h in holdings.scalars(select(Holding).where(condition))
        )

    assert amounts(Holding.amount == Money(500, "KZT")) == [("KZT", 500)]
    assert amounts(Holding.amount != Money(500, "KZT")) == [("KZT", 100), ("KZT", 900), ("USD", 500)]
    # Ordering stays inside one currency: 500 USD is neither above nor below an amount in KZT.
    assert amounts(Holding.amount >= Money(500, "KZT")) == [("KZT", 500), ("KZT", 900)]
    assert amounts(Holding.amount < Money(500, "KZT")) == [("KZT", 100)]
    assert amounts(Holding.ceiling == None) == [("KZT", 100), ("KZT", 500), ("KZT", 900), ("USD", 500)]  # noqa: E711
