"""The words for statuses, reviews and actions, said once for both doors and every document, and
the one rule for an overdue action. The standard library only: a one-shot command (``list``,
``actions``) imports this without the engine or the flows.
"""

from __future__ import annotations

from datetime import date, datetime

MODE_LABELS = {"facilitator": "Uppföljningsdialog", "self": "Självskattning"}
STATUS_LABELS = {"prepared": "Förberedd", "in_progress": "Pågår", "finished": "Avslutad", "new": "Ny"}
# A stored dialogue's status in a list ("pågår"); `list --status` takes these words too.
STATUS_WORDS = {status: label.lower() for status, label in STATUS_LABELS.items() if status != "new"}
ACTION_STATUS = {"open": "öppen", "done": "klar"}
OVERDUE = "försenad"  # an open action past its due date, wherever actions are listed
REVIEW_LABELS = {"sent": "skickad", "commented": "kommenterad", "approved": "godkänd"}
NO_REVIEW = "inte skickad"


def review_label(status: str | None) -> str:
    return REVIEW_LABELS.get(status or "", NO_REVIEW)


def review_step_label(status: str, flow) -> str:
    """ "Skickad till Fysioterapimottagning", "Kommenterad av Vårdcentralen", "Godkänd" – the
    party named as the flow names it."""
    party = flow.followed_up_party
    if status == "sent":
        return "Skickad till " + (party.title if party else "parterna")
    if status == "commented":
        return "Kommentarer och rättelser" + (f" från {party.title}" if party else "")
    return "Godkänd"


def action_status_label(status: str, due: str | None, today) -> str:
    label = ACTION_STATUS.get(status, status)
    return f"{label}, {OVERDUE}" if today is not None and action_overdue(status, due, today) else label


def local_today(now: datetime | None = None):
    """The date today where the user is (due dates are local calendar dates)."""
    return (now or datetime.now().astimezone()).astimezone().date()


def action_overdue(status: str | None, due: str | None, today: date) -> bool:
    """An open action whose due date has passed (the day itself is not overdue yet)."""
    if status == "done" or not due:
        return False
    try:
        return date.fromisoformat(str(due)) < today
    except ValueError:
        return False
