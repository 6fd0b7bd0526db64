"""An answer with its claims marked: each quote highlighted where it stands, followed by a
badge with the verdict that opens the claim's evidence (a native popover: no script)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from app.claims.highlight import Mark, highlight
from app.claims.service import ClaimView


def evidence_id(claim_id: str) -> str:
    """The element id of a claim's evidence popover."""
    return f"claim-{claim_id}"


def badge_html(view: ClaimView, label: str) -> str:
    return (
        f'<button type="button" class="claim-badge claim-{view.status}" '
        f'popovertarget="{escape(evidence_id(view.id))}" data-claim="{escape(view.id)}" '
        f'data-verdict="{view.status}">{escape(label)}</button>'
    )


def annotate(answer_html: str, views: Sequence[ClaimView], label: Callable[[str], str]) -> str:
    """``answer_html`` with every claim's quote marked and badged; ``label(status)`` is
    the badge's text in the reader's language."""
    marks = [
        Mark(
            claim_id=view.id,
            quote_md=view.quote,
            badge_html=badge_html(view, label(view.status)),
            css_class=f"claim claim-{view.status}",
        )
        for view in views
    ]
    return highlight(answer_html, marks) if marks else answer_html
