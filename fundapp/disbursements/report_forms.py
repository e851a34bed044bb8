"""Forms of the grantee report page.

The report form carries the narrative as a WTForms field and one row of inputs per logframe indicator and
budget line, written out in the template (their number comes from the proposal). ``posted_values`` reads
those rows back as the dictionaries ``reporting.save_report`` takes; the operation checks them, so that
its per-field messages are the only ones. The small forms (submit, file removal, accept, ask for changes)
carry a CSRF token and at most a text field.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from fundapp.core.storage import KINDS
from fundapp.disbursements import reporting
from fundapp.disbursements.models import ReportFileKind


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def indicator_field(position, part):
    """The input name of an indicator row's ``part`` ("value" or "comment")."""
    return f"indicator-{position}-{part}"


def spend_field(position, part):
    """The input name of a spend row's ``part`` ("spent" or "explanation")."""
    return f"spend-{position}-{part}"


class ReportForm(FlaskForm):
    """The grantee's draft: the narrative here, the rows in the template (see ``posted_values``)."""

    # Its length is checked by the operation, which answers with the field's message and keeps the text.
    narrative = TextAreaField(
        _l("Narrative"),
        render_kw={"rows": 12},
        description=_l(
            "What the project did in the period, what changed for the species and sites, what did not go "
            "to plan and what comes next."
        ),
    )


def posted_values(formdata, rows):
    """``(indicator_values, spend)`` for ``save_report`` from the posted inputs of ``rows``.

    Only rows whose inputs were posted are returned, so a stale page missing a row leaves it as saved.
    """
    indicator_values = {}
    for row in rows.indicators:
        value_name = indicator_field(row.position, "value")
        if value_name in formdata:
            indicator_values[row.position] = (
                formdata.get(value_name, ""),
                formdata.get(indicator_field(row.position, "comment"), ""),
            )
    spend = {}
    for row in rows.spend:
        spent_name = spend_field(row.position, "spent")
        if spent_name in formdata:
            spend[row.position] = (
                formdata.get(spent_name, ""),
                formdata.get(spend_field(row.position, "explanation"), ""),
            )
    return indicator_values, spend


class ActionForm(FlaskForm):
    """A button that posts nothing but the CSRF token (submit, remove a file)."""


class AcceptForm(FlaskForm):
    comment = TextAreaField(
        _l("Comment for the grantee (optional)"),
        validators=[Optional(), Length(max=reporting.MAX_REASON_LENGTH)],
        filters=[_strip],
        render_kw={"rows": 3},
    )


class ChangesForm(FlaskForm):
    # Required-ness is the operation's rule; its message lands next to this field.
    reason = TextAreaField(
        _l("What should the grantee change?"),
        validators=[Length(max=reporting.MAX_REASON_LENGTH)],
        filters=[_strip],
        render_kw={"rows": 4},
        description=_l("The grantee receives this by email and sees it on the report."),
    )


class ReportFileForm(FlaskForm):
    kind = SelectField(
        _l("What is it?"),
        choices=[
            SelectChoice("", _l("Decide from the file")),
            *(SelectChoice(kind.value, kind.label) for kind in ReportFileKind),
        ],
        validators=[Optional()],
    )
    caption = StringField(
        _l("Caption"),
        validators=[Optional(), Length(max=reporting.MAX_CAPTION_LENGTH)],
        filters=[_strip],
        description=_l("Where and when a photo was taken, or what a document is."),
    )
    file = FileField(
        _l("File"),
        validators=[FileRequired(_l("Choose a file to upload."))],
        # Only a hint for the browser's file picker; the server checks the content.
        render_kw={
            "accept": ",".join(
                extension
                for name in reporting.PHOTO_FILE_KINDS + reporting.DOCUMENT_FILE_KINDS
                for extension in KINDS[name].extensions
            )
        },
    )
