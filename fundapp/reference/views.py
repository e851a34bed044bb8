"""Admin pages for the reference lists: see each list, edit an item, add one."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import and_, case, func, select

from fundapp.core.audit import AuditEvent
from fundapp.core.errors import DomainError
from fundapp.core.permissions import Role, role_required
from fundapp.core.web import show_domain_error
from fundapp.extensions import db
from fundapp.reference import operations
from fundapp.reference.forms import NewReferenceItemForm, ReferenceItemForm
from fundapp.reference.models import ReferenceItem, Vocabulary, reference_items

bp = Blueprint("reference", __name__)

#: What each list is called and where it comes from, for the admin pages.
VOCABULARY_INFO = {
    Vocabulary.REGION: (_l("Regions"), _l("ISO 3166-2 regions and cities of the fund's country.")),
    Vocabulary.RED_LIST_CATEGORY: (
        _l("IUCN Red List categories"),
        _l("IUCN Red List Categories, version 3.1."),
    ),
    Vocabulary.PROTECTED_AREA_CATEGORY: (
        _l("Protected area categories"),
        _l("IUCN protected area management categories."),
    ),
    Vocabulary.THREAT: (_l("Threats"), _l("IUCN-CMP Threats Classification Scheme, two levels.")),
    Vocabulary.CONSERVATION_ACTION: (
        _l("Conservation actions"),
        _l("IUCN-CMP Conservation Actions Classification Scheme."),
    ),
    Vocabulary.GBF_TARGET: (
        _l("Global Biodiversity Framework targets"),
        _l("The 23 targets of the Kunming-Montreal framework."),
    ),
    Vocabulary.DAC_SECTOR: (_l("DAC sectors"), _l("OECD DAC purpose codes, reported to IATI.")),
}


def _describe(vocabulary):
    return VOCABULARY_INFO.get(vocabulary, (vocabulary.value, ""))


def _vocabulary_or_404(value):
    try:
        return Vocabulary(value)
    except ValueError:
        abort(404)


def _item_or_404(vocabulary, item_id):
    item = db.session.get(ReferenceItem, item_id)
    if item is None or item.vocabulary != vocabulary.value:
        abort(404)
    return item


def _depths(items):
    """How deep each item sits under its parents (0 for a top-level item), for indenting the list."""
    parents = {item.code: item.parent_code for item in items}
    depths = {}
    for code in parents:
        depth, parent, seen = 0, parents[code], {code}
        while parent in parents and parent not in seen:  # an unknown or looping parent ends the walk
            depth, seen, parent = depth + 1, seen | {parent}, parents[parent]
        depths[code] = depth
    return depths


@bp.route("/")
@role_required(Role.ADMIN)
def index():
    rows = db.session.execute(
        select(
            ReferenceItem.vocabulary,
            func.count(),
            func.sum(case((ReferenceItem.is_active.is_(True), 1), else_=0)),
        ).group_by(ReferenceItem.vocabulary)
    ).all()
    counts = {vocabulary: (total, active or 0) for vocabulary, total, active in rows}
    vocabularies = []
    for vocabulary in Vocabulary:
        name, description = _describe(vocabulary)
        total, active = counts.get(vocabulary.value, (0, 0))
        vocabularies.append(
            {
                "vocabulary": vocabulary,
                "name": name,
                "description": description,
                "total": total,
                "active": active,
            }
        )
    return render_template("reference/index.html", vocabularies=vocabularies)


@bp.route("/<vocabulary>")
@role_required(Role.ADMIN)
def vocabulary(vocabulary):
    vocabulary = _vocabulary_or_404(vocabulary)
    name, description = _describe(vocabulary)
    items = reference_items(vocabulary, active_only=False)
    depths = _depths(items)
    return render_template(
        "reference/vocabulary.html",
        vocabulary=vocabulary,
        name=name,
        description=description,
        items=items,
        depths=depths,
        nested=any(depths.values()),
    )


@bp.route("/<vocabulary>/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_item(vocabulary):
    vocabulary = _vocabulary_or_404(vocabulary)
    form = NewReferenceItemForm()
    if form.validate_on_submit():
        try:
            item = operations.add_reference_item(db.session, current_user, vocabulary, form.item_data())
        except DomainError as error:
            db.session.rollback()
            show_domain_error(error, form)
        else:
            db.session.commit()
            flash(_("Added %(code)s to the list.", code=item.code), "success")
            return redirect(url_for("reference.vocabulary", vocabulary=vocabulary.value))
    return render_template(
        "reference/new_item.html", vocabulary=vocabulary, name=_describe(vocabulary)[0], form=form
    )


@bp.route("/<vocabulary>/<int:item_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_item(vocabulary, item_id):
    vocabulary = _vocabulary_or_404(vocabulary)
    item = _item_or_404(vocabulary, item_id)
    form = ReferenceItemForm(obj=item)
    if form.validate_on_submit():
        try:
            operations.update_reference_item(db.session, current_user, item, form.item_data())
        except DomainError as error:
            db.session.rollback()
            show_domain_error(error, form)
        else:
            db.session.commit()
            flash(_("Saved %(code)s.", code=item.code), "success")
            return redirect(url_for("reference.vocabulary", vocabulary=vocabulary.value))
    events = db.session.scalars(
        select(AuditEvent)
        .where(and_(AuditEvent.entity_type == "ReferenceItem", AuditEvent.entity_id == str(item.id)))
        .order_by(AuditEvent.id.desc())
        .limit(20)
    ).all()
    return render_template(
        "reference/edit_item.html",
        vocabulary=vocabulary,
        name=_describe(vocabulary)[0],
        item=item,
        form=form,
        events=events,
        field_labels={field.name: field.label.text for field in form},
    )
