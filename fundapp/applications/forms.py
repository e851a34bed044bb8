"""Forms of the proposal pages.

The section editor is not a WTForms form: its fields repeat and nest (objectives, outputs, activities),
so the page posts plain names such as ``lines-2-unit_cost`` which ``content_from_form`` turns into the
JSON the section cleaner reads (the editor's script builds the same JSON in the browser). Only the CSRF
token and the base version go through WTForms.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from fundapp.reference.models import Vocabulary, reference_items

#: Section fields that hold several values (checkbox groups), read with ``getlist``.
MULTI_VALUE_FIELDS = frozenset({"threats", "actions", "targets"})
#: Names the editor posts that are not content.
_NOT_CONTENT = frozenset({"csrf_token", "base_version", "save"})


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _theme_choices(call):
    labels = {item.code: item.label for item in reference_items(Vocabulary.THEME, active_only=False)}
    return [SelectChoice("", _l("Choose a theme"))] + [
        SelectChoice(code, labels.get(code, code)) for code in call.themes
    ]


class ProposalDetailsForm(FlaskForm):
    title = StringField(
        _l("Title of the proposal"), validators=[InputRequired(), Length(max=300)], filters=[_strip]
    )
    theme = SelectField(_l("Theme"), validators=[Optional()])

    def __init__(self, call, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.theme.choices = _theme_choices(call)


class ApplyForm(ProposalDetailsForm):
    organisation = SelectField(_l("Organisation applying"), coerce=int, validators=[InputRequired()])

    def __init__(self, call, organisations, *args, **kwargs):
        super().__init__(call, *args, **kwargs)
        self.organisation.choices = [SelectChoice(o.id, o.name_en) for o in organisations]
        self.question_fields = [getattr(self, f"question_{q.id}") for q in call.questions]


def apply_form(call, organisations, **kwargs):
    """The apply form of ``call``: one yes/no question per eligibility question, then title and theme."""

    class _ApplyForm(ApplyForm):
        pass

    for question in call.questions:
        setattr(
            _ApplyForm,
            f"question_{question.id}",
            RadioField(
                question.text,
                choices=[SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))],
                validators=[InputRequired(_l("Answer this question."))],
            ),
        )
    return _ApplyForm(call, organisations, **kwargs)


def answers_from(form, call):
    """The form's eligibility answers as {question id (str): bool}."""
    return {str(q.id): getattr(form, f"question_{q.id}").data == "yes" for q in call.questions}


class SectionForm(FlaskForm):
    """The CSRF token and the version the editor started from (``content_from_form`` reads the rest)."""

    base_version = HiddenField()


class MergeForm(SectionForm):
    pass


def _nest(flat):
    """{"lines-0-unit_cost": v} -> {"lines": {"0": {"unit_cost": v}}}; then digit-keyed dicts to lists."""
    root = {}
    for name, value in flat.items():
        parts = name.split("-")
        node = root
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
    return _lists(root)


def _lists(node):
    if not isinstance(node, dict):
        return node
    if node and all(key.isdigit() for key in node):
        return [_lists(node[key]) for key in sorted(node, key=int)]
    return {key: _lists(value) for key, value in node.items()}


def content_from_form(formdata):
    """The section content a posted editor form holds, shaped as the section cleaner reads it."""
    flat = {}
    for name in formdata:
        if name in _NOT_CONTENT or not name or len(name) > 200:
            continue
        flat[name] = formdata.getlist(name) if name in MULTI_VALUE_FIELDS else formdata.get(name)
    return _nest(flat)
