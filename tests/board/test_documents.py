"""The board pack and the minutes: what the printed documents say, and the ``fundapp report`` commands.

The meeting is built directly with the models (a board of five, a call with a rubric, proposals with
submitted reviews), so these tests depend on nothing but the board's models.
"""

import io
import re
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from fundapp.applications import sections
from fundapp.applications.models import ProposalState, ProposalVersion
from fundapp.board.documents import (
    board_pack_context,
    minutes_context,
    render_board_pack,
    render_minutes,
)
from fundapp.board.models import (
    AgendaItem,
    Attendance,
    BoardConflict,
    BoardSettings,
    DecisionOutcome,
    Meeting,
    MeetingKind,
    MeetingState,
    Vote,
    VoteChoice,
)
from fundapp.core.money import Money
from fundapp.core.pdf import pdf_sha256
from fundapp.core.permissions import Role
from fundapp.core.storage import save_upload
from fundapp.extensions import db
from tests.applications.factories import make_call, make_officer, make_proposal
from tests.core.sample_files import MINIMAL_PDF
from tests.factories import make_user
from tests.reviews.factories import make_assignment, make_review, make_reviewer, make_rubric

MEMBER_NAMES = (
    "Gulnara Ospanova",  # the chair
    "Timur Kassymov",
    "Helen Marsh",
    "Askar Mukhamediyarov",
    "Saule Tokayeva",
)
CRITERIA = (
    {"title": "Conservation relevance", "weight": 3},
    {"title": "Feasibility and team", "weight": 2},
    {"title": "Value for money", "weight": 2},
    {"title": "Community involvement", "weight": 1, "allow_na": True},
)


def pdf_text(data):
    return subprocess.run(
        ["/usr/bin/pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


def flat(text):
    """The text with every run of white space made one space (table cells wrap over lines)."""
    return re.sub(r"\s+", " ", text)


# -- building a meeting -----------------------------------------------------------------------------------


@dataclass
class Board:
    members: list
    secretary: object
    settings: BoardSettings
    reviewers: list = field(default_factory=list)

    @property
    def chair(self):
        return self.members[0]


def make_board_of_five(*, minutes_name_votes=False, chair_casting_vote=True):
    members = [make_user(roles=(Role.BOARD_MEMBER,), full_name=name) for name in MEMBER_NAMES]
    secretary = make_officer(full_name="Dana Sarsenbayeva")
    settings = BoardSettings(
        chair_id=members[0].id,
        secretary_id=secretary.id,
        quorum_percent=50,
        majority_percent=50,
        chair_casting_vote=chair_casting_vote,
        minutes_name_votes=minutes_name_votes,
    )
    db.session.add(settings)
    db.session.flush()
    return Board(members, secretary, settings)


def make_reviewed_proposal(call, reviewers, *, title, scores, comments, recommendations=None, summary=None):
    """A complete proposal on the agenda with one submitted review per reviewer."""
    proposal = make_proposal(call=call, complete=True, state=ProposalState.ON_AGENDA, title=title)
    if summary is not None:
        proposal.section("summary").content = {"summary": summary}
    for index, reviewer in enumerate(reviewers):
        make_review(
            make_assignment(proposal, reviewer, state="accepted"),
            scores=scores[index],
            comments=comments[index],
            recommendation=(recommendations or ["fund"] * len(reviewers))[index],
        )
    return proposal


def make_meeting(board, *, reference="BRD-T-01", state=MeetingState.SCHEDULED, **fields):
    meeting = Meeting(
        reference=reference,
        title=fields.pop("title", "Board meeting of 12 March 2026"),
        scheduled_at=fields.pop("scheduled_at", datetime(2026, 3, 12, 5, 0, tzinfo=UTC)),
        location=fields.pop("location", "Astana, Mangilik El 55/22, meeting room 3"),
        state=state,
        created_by_id=board.secretary.id,
        **fields,
    )
    db.session.add(meeting)
    db.session.flush()
    return meeting


def add_item(meeting, proposal, *, recommended_minor=None, position=None):
    item = AgendaItem(
        meeting_id=meeting.id,
        proposal_id=proposal.id,
        position=len(meeting.items) if position is None else position,
        recommended_minor=proposal.requested_minor if recommended_minor is None else recommended_minor,
    )
    meeting.items.append(item)
    db.session.flush()
    return item


@dataclass
class Scene:
    board: Board
    call: object
    meeting: Meeting
    proposals: list
    reviewers: list


SEAL_COMMENTS = (
    "The patrol plan is credible and the partnership with the fisheries inspectorate is a real strength.",
    "Bycatch data for the northern shelf are thin; the baseline survey should come first.",
    "Excellent value: the boat serves three haul-outs, and the rangers are already trained divers.",
)
SAIGA_COMMENTS = (
    "Collar data from the Ustyurt population would fill a genuine gap in the corridor maps.",
    "The veterinary budget looks low for an outbreak year; ask for a contingency line.",
    "Community herders are involved from the start, which makes the fence removal realistic.",
)


def make_scene(*, minutes_name_votes=False):
    """A board of five, a call of 300 million KZT and two reviewed proposals on a scheduled meeting."""
    board = make_board_of_five(minutes_name_votes=minutes_name_votes)
    call = make_call(title="Caspian and steppe conservation 2026", envelope_minor=300_000_000_00)
    make_rubric(call, criteria=CRITERIA)
    reviewers = [
        make_reviewer(full_name="Prof. Yerlan Reviewerov", email="yerlan.reviewer@example.org"),
        make_reviewer(full_name="Dr. Marina Scorewell", email="marina.scorewell@example.org"),
        make_reviewer(full_name="Bakhyt Critic", email="bakhyt.critic@example.org"),
    ]
    seal = make_reviewed_proposal(
        call,
        reviewers,
        title="Seal haul-outs of the northern Caspian",
        scores=[{0: 5, 1: 4, 2: 4, 3: 5}, {0: 4, 1: 3, 2: 4, 3: None}, {0: 5, 1: 5, 2: 5, 3: 4}],
        comments=SEAL_COMMENTS,
    )
    saiga = make_reviewed_proposal(
        call,
        reviewers,
        title="Saiga corridors of the Ustyurt plateau",
        scores=[{0: 4, 1: 4, 2: 3, 3: 4}, {0: 2, 1: 3, 2: 2, 3: 3}, {0: 4, 1: 4, 2: 4, 3: 5}],
        comments=SAIGA_COMMENTS,
        recommendations=["fund", "do_not_fund", "fund_with_changes"],
    )
    meeting = make_meeting(board)
    add_item(meeting, seal)
    add_item(meeting, saiga, recommended_minor=saiga.requested_minor - 500_000_00)
    return Scene(board, call, meeting, [seal, saiga], reviewers)


def record_attendance(meeting, members, *, absent=()):
    for member in members:
        meeting.attendance.append(Attendance(user_id=member.id, present=member not in absent))
    db.session.flush()


def vote(item, member, choice, recorded_by):
    item.votes.append(Vote(user_id=member.id, choice=choice, recorded_by_id=recorded_by.id))


def decide_item(
    item, outcome, *, approved_minor=None, conditions="", reason="", eligible=None, participating=None
):
    item.outcome = outcome
    item.approved_minor = approved_minor
    item.conditions = conditions
    item.reason = reason
    item.eligible_count = eligible
    item.participating_count = participating
    item.decided_at = datetime(2026, 3, 12, 6, 30, tzinfo=UTC)
    db.session.flush()


CONDITIONS = (
    "Sign a data-sharing agreement with the Kazakh Agency of Applied Ecology before the first tranche."
)
REJECTION = "The board found no evidence that the corridor fences can be removed within the project period."
DEFERRAL = "The board asks for the akimat's written agreement to the grazing plan and will decide in June."


def make_closed_meeting(*, minutes_name_votes=False):
    """A closed meeting of four items, one of each outcome; the third is a 2-2 tie the chair breaks.

    Helen Marsh is absent; Askar Mukhamediyarov is recused from the second item.
    """
    scene = make_scene(minutes_name_votes=minutes_name_votes)
    board, call, meeting = scene.board, scene.call, scene.meeting
    reviewers = scene.reviewers
    wetlands = make_reviewed_proposal(
        call,
        reviewers,
        title="Wetlands of the Tengiz-Korgalzhyn lakes",
        scores=[{0: 3, 1: 3, 2: 3, 3: 3}] * 3,
        comments=("Sound but modest.", "Could be more ambitious.", "Fine."),
    )
    leopard = make_reviewed_proposal(
        call,
        reviewers,
        title="Snow leopard camera traps in the Ulytau mountains",
        scores=[{0: 2, 1: 2, 2: 2, 3: 2}] * 3,
        comments=("Weak evidence of presence.", "Unclear permits.", "Too early."),
        recommendations=["do_not_fund"] * 3,
    )
    add_item(meeting, wetlands)
    add_item(meeting, leopard)
    seal_item, saiga_item, wetlands_item, leopard_item = meeting.items
    members = board.members
    chair, kassymov, marsh, mukhamediyarov, tokayeva = members
    meeting.state = MeetingState.CLOSED
    meeting.opened_at = datetime(2026, 3, 12, 5, 5, tzinfo=UTC)
    meeting.closed_at = datetime(2026, 3, 12, 7, 45, tzinfo=UTC)
    record_attendance(meeting, members, absent=[marsh])
    present = [chair, kassymov, mukhamediyarov, tokayeva]

    for member in present:
        vote(seal_item, member, VoteChoice.APPROVE, board.secretary)
    decide_item(
        seal_item,
        DecisionOutcome.APPROVED,
        approved_minor=seal_item.recommended_minor,
        eligible=5,
        participating=4,
    )

    saiga_item.conflicts.append(BoardConflict(user_id=mukhamediyarov.id, note="Advises the applicant."))
    for member in (chair, kassymov, tokayeva):
        vote(saiga_item, member, VoteChoice.APPROVE, board.secretary)
    decide_item(
        saiga_item,
        DecisionOutcome.APPROVED_WITH_CONDITIONS,
        approved_minor=saiga_item.recommended_minor,
        conditions=CONDITIONS,
        eligible=4,
        participating=3,
    )

    vote(wetlands_item, chair, VoteChoice.REJECT, board.secretary)
    vote(wetlands_item, kassymov, VoteChoice.REJECT, board.secretary)
    vote(wetlands_item, mukhamediyarov, VoteChoice.APPROVE, board.secretary)
    vote(wetlands_item, tokayeva, VoteChoice.APPROVE, board.secretary)
    decide_item(wetlands_item, DecisionOutcome.REJECTED, reason=REJECTION, eligible=5, participating=4)

    decide_item(leopard_item, DecisionOutcome.DEFERRED, reason=DEFERRAL, eligible=5, participating=4)
    return scene


def store_minutes(meeting):
    """Render and store the minutes as closing does: the file and its SHA-256 on the meeting."""
    data = render_minutes(meeting)
    stored = save_upload(
        db.session,
        io.BytesIO(data),
        allowed_kinds=["pdf"],
        max_bytes=len(data),
        filename=f"{meeting.reference}-minutes.pdf",
    )
    meeting.minutes_file_id = stored.id
    meeting.minutes_sha256 = pdf_sha256(data)
    db.session.flush()
    return data


def plain_types(value, found=None):
    """The types of every value inside ``value`` (walking dicts and lists)."""
    found = set() if found is None else found
    found.add(type(value))
    if isinstance(value, dict):
        for item in value.values():
            plain_types(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            plain_types(item, found)
    return found


PLAIN = {str, int, bool, type(None), dict, list}


def kzt(minor):
    """An amount as the English documents print it (with a no-break space: compare with ``flat`` text
    through ``flat(kzt(...))``)."""
    return Money(minor, "KZT").format("en")


# -- the board pack ---------------------------------------------------------------------------------------


def test_board_pack_shows_each_proposal_with_its_reviews_comments(db):
    scene = make_scene()

    text = flat(pdf_text(render_board_pack(scene.meeting)))

    for proposal in scene.proposals:
        assert proposal.reference in text
        assert proposal.title in text
    for comment in SEAL_COMMENTS + SAIGA_COMMENTS:
        assert comment in text
    assert "Reviewer A" in text and "Reviewer B" in text and "Reviewer C" in text


def test_board_pack_never_names_the_reviewers(db):
    scene = make_scene()

    text = flat(pdf_text(render_board_pack(scene.meeting)))

    for reviewer in scene.reviewers:
        assert reviewer.full_name not in text
        assert reviewer.email not in text
    for word in ("Reviewerov", "Scorewell", "Critic", "example.org"):
        assert word not in text


def test_board_pack_totals_show_the_envelope_and_what_is_available(db):
    scene = make_scene()
    # An earlier meeting approved 40 million of the call's 300 million.
    earlier = make_meeting(scene.board, reference="BRD-T-00", state=MeetingState.CLOSED)
    done = make_proposal(call=scene.call, complete=True, state=ProposalState.APPROVED)
    decide_item(add_item(earlier, done), DecisionOutcome.APPROVED, approved_minor=40_000_000_00)

    text = flat(pdf_text(render_board_pack(scene.meeting)))

    totals = text[text.index("Totals against the budget", text.index("Ranking")) :]
    assert "Envelope of the call KZT 300,000,000.00" in totals
    assert "Already committed by the board KZT 40,000,000.00" in totals
    assert "Available KZT 260,000,000.00" in totals
    requested = sum(proposal.requested_minor for proposal in scene.proposals)
    assert flat(f"Requested on this agenda (2 proposals) {kzt(requested)}") in totals


def test_board_pack_printed_after_the_meeting_gives_the_totals_the_board_had_before_it(db):
    scene = make_closed_meeting()  # two of its items approved

    (totals,) = board_pack_context(db.session, scene.meeting)["budget_totals"]

    assert totals["committed"] == kzt(0)
    assert totals["available"] == kzt(300_000_000_00)
    assert totals["decided_here"] is True


def test_board_pack_ranks_the_agenda_by_mean_score_with_recommended_amounts(db):
    scene = make_scene()
    seal, saiga = scene.proposals

    context = board_pack_context(db.session, scene.meeting)

    (call,) = context["rankings"]
    assert [row["reference"] for row in call["rows"]] == [seal.reference, saiga.reference]
    assert [row["rank"] for row in call["rows"]] == [1, 2]
    assert call["rows"][1]["recommended"] == kzt(saiga.requested_minor - 500_000_00)
    assert call["rows"][1]["flags"]  # the recommendations split: one "do not fund" of three


def test_board_pack_scores_each_criterion_per_reviewer_with_na_shown(db):
    scene = make_scene()

    seal_page = board_pack_context(db.session, scene.meeting)["proposals"][0]

    assert seal_page["labels"] == ["Reviewer A", "Reviewer B", "Reviewer C"]
    assert [row["scores"] for row in seal_page["criteria"]] == [
        ["5", "4", "5"],
        ["4", "3", "5"],
        ["4", "4", "5"],
        ["5", "N/A", "4"],
    ]
    assert [review["recommendation"] for review in seal_page["reviews"]] == ["Fund"] * 3


def test_board_pack_shows_the_summary_as_last_submitted(db):
    scene = make_scene()
    seal = scene.proposals[0]
    frozen = sections.snapshot(seal)
    next(s for s in frozen["sections"] if s["key"] == "summary")["content"] = {
        "summary": "Rangers and divers protect the haul-outs of Kenderli and the Durneva islands."
    }
    stored = save_upload(db.session, io.BytesIO(MINIMAL_PDF), allowed_kinds=["pdf"], filename="v1.pdf")
    db.session.add(
        ProposalVersion(
            proposal_id=seal.id,
            number=1,
            snapshot=frozen,
            pdf_file_id=stored.id,
            pdf_sha256=stored.sha256,
            submitted_by_id=seal.created_by_id,
        )
    )
    db.session.flush()

    text = flat(pdf_text(render_board_pack(scene.meeting)))

    assert "Rangers and divers protect the haul-outs of Kenderli and the Durneva islands." in text
    assert "Version 1" in text


def test_board_pack_context_holds_plain_values_only(db):
    scene = make_scene()

    context = board_pack_context(db.session, scene.meeting)

    assert plain_types(context) <= PLAIN


def test_board_pack_has_the_meeting_as_title_and_a_page_count(db, tmp_path):
    scene = make_scene()
    path = tmp_path / "pack.pdf"
    path.write_bytes(render_board_pack(scene.meeting))

    info = subprocess.run(["/usr/bin/pdfinfo", str(path)], capture_output=True, check=True).stdout.decode()
    text = flat(pdf_text(path.read_bytes()))

    assert "Title: Board pack: Board meeting of 12 March 2026" in flat(info)
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 6  # cover, agenda, ranking, totals, proposals, one per proposal
    assert f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text


def outline(data, tmp_path):
    """The PDF's bookmarks as (depth, title), read with pdftohtml."""
    path = tmp_path / "outline.pdf"
    path.write_bytes(data)
    xml = subprocess.run(
        ["/usr/bin/pdftohtml", "-xml", "-i", "-stdout", str(path)], capture_output=True, check=True
    ).stdout.decode()
    part = xml[xml.index("<outline>") :]
    depth, found = 0, []
    for match in re.finditer(r"<outline>|</outline>|<item[^>]*>([^<]*)</item>", part):
        if match.group(0) == "<outline>":
            depth += 1
        elif match.group(0) == "</outline>":
            depth -= 1
        else:
            found.append((depth, match.group(1).replace("&#183;", "·")))
    return found


def test_board_pack_bookmarks_its_parts_and_each_proposal(db, tmp_path):
    scene = make_scene()
    seal, saiga = scene.proposals

    bookmarks = outline(render_board_pack(scene.meeting), tmp_path)

    assert bookmarks == [
        (1, "Board meeting of 12 March 2026"),
        (2, "1. Agenda"),
        (2, "2. Ranking"),
        (2, "3. Totals against the budget"),
        (2, "4. Proposals"),
        (3, f"1. {seal.reference} · {seal.title}"),
        (3, f"2. {saiga.reference} · {saiga.title}"),
    ]


def test_board_pack_of_an_empty_agenda_says_so(db):
    meeting = make_meeting(make_board_of_five())

    text = flat(pdf_text(render_board_pack(meeting)))

    assert "No proposals are on the agenda yet." in text
    assert "Board meeting of 12 March 2026" in text


def test_board_pack_cover_shows_the_time_in_the_funds_time_zone(db):
    scene = make_scene()

    text = flat(pdf_text(render_board_pack(scene.meeting)))

    assert "March 12, 2026, 10:00 AM (Asia/Almaty)" in text  # 05:00 UTC
    assert "Astana, Mangilik El 55/22, meeting room 3" in text
    assert "BRD-T-01" in text


# -- the minutes ------------------------------------------------------------------------------------------


def test_minutes_state_each_decision(db):
    scene = make_closed_meeting()
    seal, saiga = scene.proposals

    text = flat(pdf_text(render_minutes(scene.meeting)))

    assert flat(f"Decision: approved, {kzt(seal.requested_minor)}.") in text
    assert flat(f"Decision: approved with conditions, {kzt(saiga.requested_minor - 500_000_00)}.") in text
    assert CONDITIONS in text
    assert "Decision: rejected." in text and REJECTION in text
    assert "Decision: deferred to a later meeting." in text and DEFERRAL in text


def test_minutes_record_attendance_chair_and_secretary(db):
    scene = make_closed_meeting()

    text = flat(pdf_text(render_minutes(scene.meeting)))

    assert "Present: Askar Mukhamediyarov, Gulnara Ospanova, Saule Tokayeva, Timur Kassymov" in text
    assert "Absent: Helen Marsh" in text
    assert "Chair Gulnara Ospanova" in text
    assert "Secretary Dana Sarsenbayeva" in text
    assert "The secretary closed the meeting at March 12, 2026, 12:45 PM (Asia/Almaty)." in text


def test_minutes_give_the_quorum_and_recusals_of_each_item(db):
    scene = make_closed_meeting()

    text = flat(pdf_text(render_minutes(scene.meeting)))

    assert len(re.findall(r"\d+ of \d+ eligible members took part: quorate", text)) == 4
    assert "3 of 4 eligible members took part: quorate" in text
    assert "Recusals Askar Mukhamediyarov" in text


def test_minutes_say_when_the_chairs_casting_vote_decided_a_tie(db):
    scene = make_closed_meeting()

    items = minutes_context(db.session, scene.meeting)["items"]
    text = flat(pdf_text(render_minutes(scene.meeting)))

    assert [item["casting_vote_used"] for item in items] == [False, False, True, False]
    assert "2 approve, 2 reject, 0 abstain" in text
    assert "the chair's casting vote rejected the motion" in text


def test_minutes_give_only_counts_when_votes_are_not_named(db):
    scene = make_closed_meeting(minutes_name_votes=False)

    context = minutes_context(db.session, scene.meeting)
    text = pdf_text(render_minutes(scene.meeting))

    assert all(item["named_votes"] == [] for item in context["items"])
    assert "4 approve, 0 reject, 0 abstain" in flat(text)
    assert not re.search(r"Timur Kassymov\s+(Approve|Reject|Abstain)", text)
    assert "Member" not in text


def test_minutes_name_each_members_vote_when_the_board_says_so(db):
    scene = make_closed_meeting(minutes_name_votes=True)

    text = pdf_text(render_minutes(scene.meeting))

    assert re.search(r"Timur Kassymov\s+Reject", text)  # on the tied third item
    assert re.search(r"Saule Tokayeva\s+Approve", text)
    assert len(re.findall(r"Gulnara Ospanova\s+(Approve|Reject)", text)) == 3


def test_minutes_say_when_an_item_had_no_quorum(db):
    scene = make_scene()
    board, meeting = scene.board, scene.meeting
    record_attendance(meeting, board.members, absent=board.members[2:])

    item = minutes_context(db.session, meeting)["items"][0]
    text = flat(pdf_text(render_minutes(meeting)))

    assert (item["eligible"], item["participating"], item["quorate"]) == (5, 2, False)
    assert "2 of 5 eligible members took part: not quorate" in text
    assert "No decision was recorded." in text
    assert "Draft: the meeting is not closed" in text


def test_minutes_of_a_vote_by_correspondence_count_the_members_who_voted(db):
    scene = make_scene()
    board, meeting = scene.board, scene.meeting
    meeting.kind = MeetingKind.CORRESPONDENCE
    meeting.vote_deadline = datetime(2026, 3, 19, 13, 0, tzinfo=UTC)
    chair, kassymov, marsh, _mukhamediyarov, _tokayeva = board.members
    for member in (chair, kassymov, marsh):
        vote(meeting.items[0], member, VoteChoice.APPROVE, board.secretary)
    db.session.flush()

    item = minutes_context(db.session, meeting)["items"][0]
    text = flat(pdf_text(render_minutes(meeting)))

    assert (item["eligible"], item["participating"], item["approve"], item["quorate"]) == (5, 3, 3, True)
    assert "Members who voted: Gulnara Ospanova, Helen Marsh, Timur Kassymov" in text
    assert "Members who did not vote: Askar Mukhamediyarov, Saule Tokayeva" in text
    assert "Voting closed March 19, 2026, 6:00 PM (Asia/Almaty)" in text


def test_minutes_bookmark_each_item(db, tmp_path):
    scene = make_closed_meeting()

    bookmarks = outline(render_minutes(scene.meeting), tmp_path)

    assert [title for depth, title in bookmarks if depth == 3] == [
        f"{number}. {proposal.reference} · {proposal.title}"
        for number, proposal in enumerate([item.proposal for item in scene.meeting.items], 1)
    ]
    assert (2, "Attendance") in bookmarks and (2, "Totals approved") in bookmarks


def test_minutes_total_what_was_approved_per_call(db):
    scene = make_closed_meeting()
    seal, saiga = scene.proposals
    approved = seal.requested_minor + saiga.requested_minor - 500_000_00

    (total,) = minutes_context(db.session, scene.meeting)["totals"]

    assert total["approved_count"] == 2
    assert total["approved"] == kzt(approved)
    assert total["available"] == kzt(300_000_000_00 - approved)


def test_minutes_context_holds_plain_values_only(db):
    scene = make_closed_meeting(minutes_name_votes=True)

    assert plain_types(minutes_context(db.session, scene.meeting)) <= PLAIN


# -- the report commands ----------------------------------------------------------------------------------


def test_report_commands_without_a_reference_list_the_meetings(db, runner):
    board = make_board_of_five()
    make_meeting(
        board, reference="BRD-T-01", title="Board meeting of 12 March 2026", state=MeetingState.CLOSED
    )
    make_meeting(
        board,
        reference="BRD-T-02",
        title="Board meeting of 4 June 2026",
        scheduled_at=datetime(2026, 6, 4, 5, 0, tzinfo=UTC),
    )
    db.session.commit()

    for command in ("board-pack", "minutes"):
        result = runner.invoke(args=["report", command])

        assert result.exit_code == 0, result.output
        assert result.output.splitlines() == [
            "BRD-T-01  Board meeting of 12 March 2026 (closed)",
            "BRD-T-02  Board meeting of 4 June 2026 (scheduled)",
        ]


def test_report_board_pack_writes_the_pdf(db, runner, tmp_path):
    scene = make_scene()
    db.session.commit()
    out = tmp_path / "pack.pdf"

    result = runner.invoke(args=["report", "board-pack", scene.meeting.reference, "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    assert scene.proposals[0].title in flat(pdf_text(out.read_bytes()))


def test_report_minutes_writes_the_stored_file_unchanged(db, runner, tmp_path):
    scene = make_closed_meeting()
    stored = store_minutes(scene.meeting)
    db.session.commit()
    out = tmp_path / "minutes.pdf"

    result = runner.invoke(args=["report", "minutes", scene.meeting.reference, "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert out.read_bytes() == stored
    assert pdf_sha256(out.read_bytes()) == scene.meeting.minutes_sha256
    assert scene.meeting.minutes_sha256 in result.output


def test_report_minutes_of_a_meeting_not_closed_is_refused(db, runner, tmp_path):
    scene = make_scene()
    db.session.commit()
    out = tmp_path / "minutes.pdf"

    result = runner.invoke(args=["report", "minutes", scene.meeting.reference, "--out", str(out)])

    assert result.exit_code == 1
    assert "not closed yet" in result.output
    assert not out.exists()


@pytest.mark.parametrize("command", ["board-pack", "minutes"])
def test_report_with_an_unknown_reference_exits_2(db, runner, tmp_path, command):
    out = tmp_path / "x.pdf"

    result = runner.invoke(args=["report", command, "BRD-1999-99", "--out", str(out)])

    assert result.exit_code == 2
    assert "no meeting has the reference 'BRD-1999-99'" in result.output
    assert not out.exists()
