"""Same-event detection: do two stories' signatures (feeds/cluster.py) report one event?

`same_event` weighs agreement (shared companies, figures, kinds of event, distinctive
title terms, title overlap) against conflict (rival headline companies, different kinds
of event or amounts). Pure: no I/O, no clock.
"""
from __future__ import annotations

from feeds.cluster import WINDOW, Signature, signature
from feeds.models import Story

THRESHOLD = 3.25
ANCHOR_OVERLAP = 0.34


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not (a and b):
        return 0.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)   # the union's size, without building it


def _figure_score(a: Signature, b: Signature) -> float:
    score = 0.0
    if a.amounts & b.amounts:
        score += 2.0
    elif a.amounts and b.amounts:
        score -= 1.5   # both name an amount, never the same one: likely two deals
    if a.others & b.others:
        score += 1.0
    return score


def match_score(a: Signature, b: Signature) -> float:
    """Evidence that two signatures describe one event (>= THRESHOLD: same)."""
    return _score(a, b, a.companies & b.companies, _jaccard(a.words, b.words))


def _score(a: Signature, b: Signature, shared: frozenset[str], overlap: float) -> float:
    # More shared companies add evidence only when a title or lead names them: a company
    # found deep in both texts (a photo credit, "Getty Images"; a passing comparison)
    # says nothing about which event this is.
    if len(shared) > 1:
        score = 1.0 + 0.75 * min(max(len(shared & (a.named | b.named)) - 1, 0), 2)
    else:
        score = 1.0 if shared else 0.0
    score += _figure_score(a, b)
    if a.events & b.events:
        score += 1.0
    elif a.events and b.events:
        score -= 2.0   # "cuts prices" vs "invests in": same company, different news
    common_terms = a.terms & b.terms
    if common_terms:
        score += 0.75 * min(len(common_terms), 3)
    elif a.terms and b.terms:
        score -= 1.0   # "launches GPT-5" vs "launches Sora": different products
    return score + 2.0 * overlap


def _anchored(a: Signature, b: Signature, overlap: float) -> bool:
    """Shared words about a company are not enough ("ChatGPT", "data"): one event needs
    a shared kind of event, a shared figure or largely the same title."""
    return (not a.events.isdisjoint(b.events) or not a.figures.isdisjoint(b.figures)
            or overlap >= ANCHOR_OVERLAP or len(a.terms & b.terms) >= 3)


def _rival_headliners(a: Signature, b: Signature) -> bool:
    """Each headline names a company the other story never mentions ("Microsoft invests
    $10bn in OpenAI" / "... in Mistral"): two deals, however much else agrees."""
    # Subset tests, not set differences: two thirds of a backfill's comparisons end
    # here, and a test builds no set.
    return not (a.headliners <= b.companies or b.headliners <= a.companies)


def _absent_subject(a: Signature, b: Signature) -> bool:
    """One headline leads with a company the other story never mentions ("Microsoft hires
    ex-OpenAI chief" / "OpenAI chief will not return"; "Baidu spins off chip unit" /
    "Nvidia invests $2bn in ..." naming Nvidia only in passing): another event, the
    shared company being only a party to, or a mention in, one of them."""
    return bool(a.subject and a.subject not in b.companies
                or b.subject and b.subject not in a.companies)


def same_signature(a: Signature, b: Signature) -> bool:
    """Signatures alone (the time window is the caller's, see `same_event`)."""
    if not (a.companies and b.companies) or a.shopping or b.shopping:
        # Unclassified or company-less stories, and shopping posts (one product's price
        # is another's news only when the headline is the same): only near-identical
        # titles merge.
        return _jaccard(a.words, b.words) >= 0.7
    if (a.companies.isdisjoint(b.companies) or _rival_headliners(a, b)
            or _absent_subject(a, b)):
        return False
    overlap = _jaccard(a.words, b.words)   # once: the anchor and the score both use it
    return (_anchored(a, b, overlap)
            and _score(a, b, a.companies & b.companies, overlap) >= THRESHOLD)


def same_event(a: Story, b: Story) -> bool:
    """True when `a` and `b` report one event: within WINDOW of each other, sharing
    companies and enough of figures, event kind and distinctive terms."""
    if abs(a.published - b.published) > WINDOW:
        return False
    return same_signature(signature(a), signature(b))
