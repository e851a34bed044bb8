"""The Russian and Kazakh catalogs: complete, consistent with the code, and used by the app.

When a test here fails because strings were added or changed, run
``scripts/translations extract && scripts/translations update``, translate the new (empty or fuzzy) entries in
fundapp/translations/{ru,kk}/LC_MESSAGES/messages.po, then ``scripts/translations compile``.
"""

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.conftest import post_form

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "fundapp" / "translations"
SCRIPT = ROOT / "scripts" / "translations"
LANGUAGES = ("ru", "kk")
PLURAL_FORMS = {
    "ru": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) "
    "? 1 : 2);",
    "kk": "nplurals=2; plural=(n != 1);",
}
#: Functions whose first argument is a message id (as babel.cfg and scripts/translations extract them).
GETTEXT_FUNCTIONS = {"_", "_l", "gettext", "lazy_gettext", "ngettext", "lazy_ngettext"}

#: A printf-style placeholder: %(name)s, %d, %.2f ... (not the escaped %%).
PLACEHOLDER = re.compile(r"%(?:\((?P<name>\w+)\))?[#0 +-]*(?:\d+|\*)?(?:\.\d+)?(?P<type>[diouxXeEfFgGcrsa%])")
#: A placeholder the browser fills in (data attributes read by scripts): {words}.
BRACE_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def catalog_path(language):
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def read_catalog(path):
    with open(path, "rb") as file:
        return read_po(file)


@pytest.fixture(scope="module", params=LANGUAGES)
def catalog(request):
    return request.param, read_catalog(catalog_path(request.param))


def messages(catalog):
    return [message for message in catalog if message.id]


def msgid_key(message):
    return message.id if isinstance(message.id, str) else message.id[0]


def placeholders(text):
    """The placeholders of ``text``: named ones as a set, positional ones in order (they must match), and
    whether a lone per cent sign is left (where the English writes %%, so must the translation)."""
    found = [match for match in PLACEHOLDER.finditer(text) if match["type"] != "%"]
    named = {match["name"] for match in found if match["name"]}
    named |= {"{" + name + "}" for name in BRACE_PLACEHOLDER.findall(text)}
    positional = [match["type"] for match in found if not match["name"]]
    return named, positional, "%" in PLACEHOLDER.sub("", text)


def test_catalogs_declare_their_language_and_plural_forms(catalog):
    language, cat = catalog
    assert str(cat.locale) == language
    assert cat.plural_forms == PLURAL_FORMS[language]
    assert not cat.fuzzy, f"the header of the {language} catalog is marked fuzzy, so it would not compile"


def test_every_message_has_a_checked_translation(catalog):
    language, cat = catalog
    assert len(messages(cat)) > 100, "the catalog looks empty"
    problems = []
    for message in messages(cat):
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        if message.fuzzy:
            problems.append(f"fuzzy (check it, then remove the flag): {msgid_key(message)!r}")
        elif not all(string and string.strip() for string in strings):
            problems.append(f"not translated: {msgid_key(message)!r}")
        elif message.pluralizable and len(strings) != cat.num_plurals:
            problems.append(f"needs {cat.num_plurals} plural forms: {msgid_key(message)!r}")
    assert not problems, f"{language} catalog {catalog_path(language)}:\n" + "\n".join(problems)


def test_translations_keep_the_placeholders(catalog):
    language, cat = catalog
    problems = []
    for message in messages(cat):
        if message.fuzzy:
            continue  # reported as unchecked by the test above
        if message.pluralizable:
            singular, plural = placeholders(message.id[0]), placeholders(message.id[1])
            for index, string in enumerate(message.string):
                # The form for one (index 0) may say "one" in words where English has the number.
                if string and placeholders(string) not in ([plural, singular] if index == 0 else [plural]):
                    problems.append(f"msgstr[{index}] of {message.id[1]!r}: {string!r}")
        elif message.string and placeholders(message.string) != placeholders(message.id):
            problems.append(f"{message.id!r}: {message.string!r}")
    # Babel's own check (the one `pybabel compile` runs): python-format placeholders are usable.
    for message, errors in cat.check():
        if not message.fuzzy:
            problems.extend(f"{msgid_key(message)!r}: {error}" for error in errors)
    assert not problems, f"{language}: placeholders differ between msgid and msgstr:\n" + "\n".join(problems)


def _pybabel():
    beside_python = Path(sys.executable).with_name("pybabel")
    return str(beside_python) if beside_python.exists() else shutil.which("pybabel")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The messages the code has now, extracted the way ``scripts/translations extract`` does."""
    pybabel = _pybabel()
    if pybabel is None:
        pytest.fail("pybabel is not installed (it comes with Babel, a dependency of Flask-Babel)")
    pot = tmp_path_factory.mktemp("translations") / "messages.pot"
    env = {**os.environ, "PYBABEL": pybabel, "POT": str(pot)}
    result = subprocess.run(
        ["bash", str(SCRIPT), "extract"], env=env, capture_output=True, text=True, check=False, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return read_catalog(pot)


def test_catalogs_have_every_message_of_the_code(extracted):
    assert len(messages(extracted)) > 100, "extraction found almost nothing: check babel.cfg"
    missing = {}
    for language in LANGUAGES:
        cat = read_catalog(catalog_path(language))
        absent = [
            msgid_key(message)
            for message in messages(extracted)
            if cat.get(message.id, context=message.context) is None
        ]
        if absent:
            missing[language] = absent
    assert not missing, (
        "messages in the code but not in the catalogs; run `scripts/translations extract && "
        "scripts/translations update` and translate them:\n"
        + "\n".join(f"{language}: {msgid!r}" for language, ids in missing.items() for msgid in ids)
    )


def test_no_message_has_a_stray_percent_sign(extracted):
    """A literal per cent sign that formatting would trip on.

    Jinja formats every message of a template, with or without values, so "(30%)" there raises an error
    when the page renders: write "(30%%)". In Python code a message is formatted only when given values, but
    "(% of the cost)" still reads as a "% o" placeholder to gettext tools, and no translation of it compiles.
    """
    stray = []
    for message in messages(extracted):
        in_template = any(path.startswith("templates/") for path, _line in message.locations)
        for text in message.id if message.pluralizable else [message.id]:
            found = list(PLACEHOLDER.finditer(text))
            lone = "%" in PLACEHOLDER.sub("", text)
            if (in_template and lone) or any(not match["name"] and " " in match[0] for match in found):
                path, line = message.locations[0]
                stray.append(f"{path}:{line}: {text!r}")
    assert not stray, (
        "a per cent sign here is read as a placeholder: in a template write %%; in Python code reword "
        "(e.g. 'as a percentage of') or write %% and pass the values as arguments:\n" + "\n".join(stray)
    )


def _gettext_calls(tree):
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        first = node.args[0]
        if name in GETTEXT_FUNCTIONS and isinstance(first, ast.Constant) and isinstance(first.value, str):
            yield node.lineno, first.value


def test_every_literal_message_in_python_is_extracted(extracted):
    """pybabel silently skips some calls (a ``_("or")`` nested in another call's arguments, say)."""
    known = {msgid_key(message) for message in messages(extracted)}
    skipped = []
    for path in sorted((ROOT / "fundapp").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, msgid in _gettext_calls(tree):
            if msgid not in known:
                skipped.append(f"{path.relative_to(ROOT)}:{line}: {msgid!r}")
    assert not skipped, (
        "pybabel does not extract these messages, so they are never translated; give each its own "
        "statement (e.g. `conjunction = _('or')`) outside other calls' arguments:\n" + "\n".join(skipped)
    )


def test_gettext_is_given_the_text_itself():
    """``_(problem)`` translates only what pybabel found elsewhere: a message returned as a plain string is
    never extracted, so it stays English. Mark the text where it is written and pass the result on."""
    dynamic = []
    for path in sorted((ROOT / "fundapp").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in GETTEXT_FUNCTIONS
                and node.args
                and not (isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str))
            ):
                dynamic.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert not dynamic, (
        "gettext called on a value, not on text: write _l('...') where the text is (e.g. the return "
        "statements that produce it) and pass the lazy string on:\n" + "\n".join(dynamic)
    )


def _compiled_or_skip(language):
    mo = catalog_path(language).with_suffix(".mo")
    if not mo.exists():
        reason = f"{mo.relative_to(ROOT)} is not compiled: run `scripts/translations compile`"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (make install does it)")
        pytest.skip(reason)


def _translation(language, msgid):
    message = read_catalog(catalog_path(language)).get(msgid)
    assert message is not None and message.string, f"{msgid!r} has no {language} translation"
    return message.string


@pytest.mark.parametrize("language", LANGUAGES)
def test_login_page_speaks_the_chosen_language(client, language):
    _compiled_or_skip(language)
    response = post_form(client, "/language", {"language": language})
    assert response.status_code == 302
    html = client.get("/login").get_data(as_text=True)
    assert f'<html lang="{language}">' in html
    assert _translation(language, "Log in") in html
    assert _translation(language, "Forgot your password?") in html
    assert "Forgot your password?" not in html
