"""Checks of the identifiers organisations give us: Kazakh BIN/IIN and IBAN."""

from flask_babel import lazy_gettext as _l

_WEIGHTS_FIRST = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_WEIGHTS_SECOND = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


def bin_check_digit(first_eleven):
    """The 12th digit of a BIN/IIN for its first 11 digits, or None if no valid check digit exists.

    The rule (Kazakhstan's national identifier): the digits weighted 1..11, summed, modulo 11; if that
    gives 10, weighted again 3..11,1,2; if it is 10 again the number cannot be issued.
    """
    digits = [int(c) for c in first_eleven]
    check = sum(d * w for d, w in zip(digits, _WEIGHTS_FIRST, strict=True)) % 11
    if check == 10:
        check = sum(d * w for d, w in zip(digits, _WEIGHTS_SECOND, strict=True)) % 11
    return None if check == 10 else check


def normalise_bin(value):
    return "".join((value or "").split())


def bin_problem(value):
    """Why ``value`` is not a valid BIN, or None if it is."""
    value = normalise_bin(value)
    if len(value) != 12 or not value.isdigit():
        return _l("A BIN has exactly 12 digits.")
    if bin_check_digit(value[:11]) != int(value[11]):
        return _l("This BIN's check digit is wrong: check the number on your registration certificate.")
    return None


def normalise_iban(value):
    return "".join((value or "").split()).upper()


def iban_problem(value):
    """Why ``value`` is not a valid IBAN (ISO 13616 mod-97 check), or None."""
    iban = normalise_iban(value)
    if not (15 <= len(iban) <= 34) or not iban[:2].isalpha() or not iban[2:4].isdigit() or not iban.isalnum():
        return _l("An IBAN starts with a country code and two check digits, e.g. KZ86 125K ZT50 0410 0100.")
    if iban.startswith("KZ") and len(iban) != 20:
        return _l("A Kazakh IBAN has 20 characters.")
    rearranged = iban[4:] + iban[:4]
    number = int("".join(str(int(c, 36)) for c in rearranged))
    if number % 97 != 1:
        return _l("This IBAN's check digits are wrong: copy it again from your bank statement.")
    return None
