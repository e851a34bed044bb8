"""Forms for editing reference data. Field-level checks live here; the rules that need the database
(a code unique within its list, a parent that exists) live in operations."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp

from fundapp.reference.operations import EDITABLE_FIELDS, MAX_CODE_LENGTH, MAX_LABEL_LENGTH, MAX_SORT_ORDER


def _strip(value):
    return value.strip() if isinstance(value, str) else value


_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
_CODE_MESSAGE = _l("Use letters, digits, dots, hyphens and underscores only, e.g. KZ-10 or 5.4.2.")


class ReferenceItemForm(FlaskForm):
    label_en = StringField(
        _l("Name in English"), validators=[InputRequired(), Length(max=MAX_LABEL_LENGTH)], filters=[_strip]
    )
    label_ru = StringField(
        _l("Name in Russian"), validators=[Optional(), Length(max=MAX_LABEL_LENGTH)], filters=[_strip]
    )
    label_kk = StringField(
        _l("Name in Kazakh"), validators=[Optional(), Length(max=MAX_LABEL_LENGTH)], filters=[_strip]
    )
    sort_order = IntegerField(
        _l("Position in the list"),
        validators=[InputRequired(), NumberRange(min=0, max=MAX_SORT_ORDER)],
        description=_l("Items are listed by this number, smallest first."),
    )
    #: An inactive item stays on the records that already use it but is no longer offered.
    is_active = BooleanField(_l("Active (offered in forms)"))

    def item_data(self):
        return {name: self[name].data for name in EDITABLE_FIELDS}


class NewReferenceItemForm(ReferenceItemForm):
    code = StringField(
        _l("Code"),
        validators=[
            InputRequired(),
            Length(max=MAX_CODE_LENGTH),
            Regexp(_CODE_PATTERN, message=_CODE_MESSAGE),
        ],
        filters=[_strip],
        description=_l("Unique within this list; it cannot be changed later."),
    )
    parent_code = StringField(
        _l("Parent code"),
        validators=[Optional(), Length(max=MAX_CODE_LENGTH), Regexp(_CODE_PATTERN, message=_CODE_MESSAGE)],
        filters=[_strip],
        description=_l("For a sub-item of a classification, the code of the item it belongs under."),
    )
    sort_order = IntegerField(
        _l("Position in the list"),
        validators=[Optional(), NumberRange(min=0, max=MAX_SORT_ORDER)],
        description=_l("Leave empty to add the item at the end of the list."),
    )
    is_active = BooleanField(_l("Active (offered in forms)"), default=True)

    def item_data(self):
        return {"code": self.code.data, "parent_code": self.parent_code.data, **super().item_data()}
