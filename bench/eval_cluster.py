"""Evaluate same-event clustering (feeds/cluster.py, storage/clusters.py) on real news.

The shared corpus's items (../shared/corpus/news/items.jsonl) go through the pipeline's
own steps: one RSS feed per outlet (built as bench/bench_parse.py builds them), parse_feed,
the real classifier, then Store.add_new_stories one story at a time in published order,
as a poller meeting them would. Then the store's clusters are read back and compared
with hand labels (tests/data/cluster-pairs.tsv: link_a, link_b, label, reason; only
links, the outlets' text is not ours to commit).

Pairs listed for labelling:
- merged: every stored story that joined a cluster, with its cluster's lead (the one
  posted; the story is only "also reported by" under it);
- candidate: two stories left in different clusters that plausibly report one event:
  different outlets, published within feeds.cluster.WINDOW (48 h), and either sharing a
  company with a shared figure or >= 2 shared title content words or a title-word
  Jaccard >= 0.25, or, company-less, a title-word Jaccard >= 0.5. (Content words:
  feeds.cluster's title words less its stop words.)

Scores over the labelled pairs (1 = same event, 0 = different):
- merge precision: of the merged (story, lead) pairs, the share labelled same event;
- pair precision / recall: a labelled pair is predicted "same" when both stories end in
  one cluster; recall is over the pairs labelled same event.

    .venv/bin/python bench/eval_cluster.py                        # scores (the labels)
    .venv/bin/python bench/eval_cluster.py --against main         # and revision main's
    .venv/bin/python bench/eval_cluster.py --list pairs.tsv       # pairs to label
    .venv/bin/python bench/eval_cluster.py --show 40              # wrong pairs, titles
    .venv/bin/python bench/eval_cluster.py --half dev --show 99   # one half's only

Halves, fixed before any rule was tuned on them: "dev" holds the labelled (and merged)
pairs whose earlier story was published before SPLIT, "held" the rest. The cut falls in a
three-week gap of the labelled pairs (2023-09-25 .. 10-17), so no event straddles it.
Rules are decided on dev's pairs; a change is kept only if held agrees.
"""
from __future__ import annotations

import argparse
import itertools
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_parse import ITEMS  # noqa: E402

LABELS = ROOT / "tests" / "data" / "cluster-pairs.tsv"
WHEN = datetime(2026, 6, 1, tzinfo=timezone.utc)
SPLIT = datetime(2023, 10, 1, tzinfo=timezone.utc)
HALVES = ("dev", "held")


def corpus_stories(classifier) -> list[tuple[str, object]]:
    """(corpus link, classified Story) for every item, parsed as the poller parses."""
    import json
    from bench.bench_parse import make_rss, _date
    from feeds.parser import parse_feed
    by_outlet: dict[str, list[dict]] = {}
    for line in ITEMS.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        by_outlet.setdefault(item["outlet"], []).append(item)
    out = []
    for n, (outlet, items) in enumerate(by_outlet.items()):
        entries = [{"title": i["title"] or "", "link": _own(i["link"] or "", k),
                    "guid": _own(i["link"] or "", k),
                    "author": outlet, "summary": i["summary"] or "",
                    "content_html": i["content_html"] or "",
                    "published": _date(i["published"])} for k, i in enumerate(items)]
        parsed = parse_feed(make_rss(outlet, entries), feed_url=f"https://eval.invalid/{n}.xml",
                            source=outlet, fetched_at=WHEN).stories
        if len(parsed) != len(items):
            raise SystemExit(f"eval_cluster: {outlet}: {len(parsed)} stories from {len(items)} items")
        for item, story in zip(items, parsed):
            out.append((item["link"], story.with_classification(
                classifier.classify(story.title, story.text))))
    return out


def _own(link: str, k: int) -> str:
    """Yahoo's items were captured as consent pages that differ only in a sessionId,
    which story links drop as a credential: one story for all of them. A key of its
    own keeps each item a story, as its real article link would."""
    return f"{link}&item={k}" if "consent.yahoo.com" in link else link


def cluster_corpus(code: tuple | None = None) -> dict:
    """Store the corpus in published order; returns link -> row dict (cluster lead link,
    outlet, published, title, summary, companies, strategy)."""
    if code is None:
        from feeds.classify import Classifier
        from storage.store import Store
    else:
        Classifier, Store = code
    stories = corpus_stories(Classifier())
    stories.sort(key=lambda p: (p[1].published, p[0]))
    tmp = Path(tempfile.mkdtemp(prefix="ainews-eval-cluster-"))
    store = Store(tmp / "c.db")
    try:
        link_of = {}
        for link, story in stories:
            store.add_new_stories([story], backlog=True, now=WHEN)
            link_of[story.id] = link
        rows = store.db.execute("SELECT s.id, l.id FROM stories s JOIN stories l "
                                "ON l.pk = s.cluster_id").fetchall()
    finally:
        store.close()
        shutil.rmtree(tmp, ignore_errors=True)
    by_link = {link: story for link, story in stories}
    lead = {link_of[sid]: link_of[lid] for sid, lid in rows}
    return {link: {"lead": lead[link], "story": by_link[link]} for link, _ in stories}


def merged_pairs(clusters: dict) -> list[tuple[str, str]]:
    """(lead, story) for every story that joined another's cluster."""
    return [(row["lead"], link) for link, row in clusters.items() if row["lead"] != link]


def candidate_pairs(clusters: dict) -> list[tuple[str, str]]:
    """Unmerged pairs that plausibly report one event (the rule in the module doc)."""
    from feeds.cluster import WINDOW, _STOP, _title_words, figures
    info = []
    for link, row in clusters.items():
        s = row["story"]
        words = frozenset(w for w in _title_words(s.title) if w and w not in _STOP
                          and not w.isdigit())
        info.append((link, s, words, frozenset(c.casefold() for c in s.classification.companies),
                     figures(f"{s.title}\n{s.summary or s.text[:400]}")))
    info.sort(key=lambda x: x[1].published)
    out = []
    for i, (la, a, wa, ca, fa) in enumerate(info):
        for lb, b, wb, cb, fb in itertools.islice(info, i + 1, None):
            if b.published - a.published > WINDOW:
                break
            if a.source == b.source or clusters[la]["lead"] == clusters[lb]["lead"]:
                continue
            common = len(wa & wb)
            jac = common / len(wa | wb) if wa and wb else 0.0
            if ca & cb:
                ok = bool(fa & fb) or common >= 2 or jac >= 0.25
            else:
                ok = not (ca or cb) and jac >= 0.5
            if ok:
                out.append((la, lb))
    return out


def load_labels(path: Path) -> dict[frozenset, tuple[int, str]]:
    labels = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            a, b, label, *reason = line.rstrip("\r").split("\t", 3)
            labels[frozenset((a, b))] = (a, b, int(label), reason[0] if reason else "")
    return labels


def half_of(clusters: dict, a: str, b: str) -> str:
    """"dev" or "held": which half of the labels the pair (a, b) falls in (see SPLIT)."""
    first = min(clusters[a]["story"].published, clusters[b]["story"].published)
    return "dev" if first < SPLIT else "held"


def score(clusters: dict, labels: dict, name: str, show: int = 0,
          half: str | None = None) -> dict:
    """Scores over all labelled pairs, or over one half's (`half`: "dev" or "held")."""
    if half:
        name = f"{name} [{half}]"
        labels = {k: v for k, v in labels.items() if v[0] in clusters and v[1] in clusters
                  and half_of(clusters, v[0], v[1]) == half}
    merged = [p for p in merged_pairs(clusters)
              if not half or half_of(clusters, *p) == half]
    m_same = sum(labels.get(frozenset(p), (0, 0, None))[2] == 1 for p in merged)
    m_diff = sum(labels.get(frozenset(p), (0, 0, None))[2] == 0 for p in merged)
    m_unl = len(merged) - m_same - m_diff
    tp = fp = fn = tn = 0
    wrong, together_ = [], {}
    for a, b, label, reason in labels.values():   # in the file's order
        if a not in clusters or b not in clusters:
            continue
        together = together_[a, b] = clusters[a]["lead"] == clusters[b]["lead"]
        if together and label:
            tp += 1
        elif together:
            fp += 1
            wrong.append(("false merge", a, b, reason))
        elif label:
            fn += 1
            wrong.append(("missed", a, b, reason))
        else:
            tn += 1
    mp = m_same / (m_same + m_diff) if m_same + m_diff else 0.0
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    print(f"{name}: stories={len(clusters)} merged={len(merged)} (labelled same={m_same} "
          f"different={m_diff} unlabelled={m_unl}) merge precision={mp:.3f}")
    print(f"{name}: labelled pairs={tp + fp + fn + tn} (same event {tp + fn}): "
          f"pair precision={p:.3f} recall={r:.3f} (tp={tp} fp={fp} fn={fn} tn={tn})")
    for kind, a, b, reason in wrong[:show]:
        sa, sb = clusters[a]["story"], clusters[b]["story"]
        print(f"  {kind}: [{sa.source}] {sa.title!r}\n{'':>{len(kind) + 4}}[{sb.source}] "
              f"{sb.title!r}  ({reason})")
    if show:
        for a, b in merged:
            if frozenset((a, b)) not in labels:
                print(f"  unlabelled merge: {clusters[a]['story'].title!r} / "
                      f"{clusters[b]['story'].title!r}")
    return {"merged": len(merged), "merge_precision": mp, "precision": p, "recall": r,
            "tp": tp, "fp": fp, "fn": fn, "tn": tn, "together": together_}


def write_list(clusters: dict, path: Path) -> None:
    """The pairs to label, with what a labeller reads (kept outside the repository)."""
    def cell(s) -> str:
        return " ".join(str(s).split())
    with path.open("w", encoding="utf-8") as f:
        f.write("kind\tlink_a\tlink_b\thours\tsource_a\ttitle_a\tcompanies_a\tsummary_a"
                "\tsource_b\ttitle_b\tcompanies_b\tsummary_b\n")
        for kind, pairs in (("merged", merged_pairs(clusters)),
                            ("candidate", candidate_pairs(clusters))):
            for a, b in pairs:
                sa, sb = clusters[a]["story"], clusters[b]["story"]
                hours = (sb.published - sa.published).total_seconds() / 3600
                f.write("\t".join(cell(x) for x in (
                    kind, a, b, f"{hours:.1f}",
                    sa.source, sa.title, ",".join(sa.classification.companies),
                    (sa.summary or sa.text)[:300],
                    sb.source, sb.title, ",".join(sb.classification.companies),
                    (sb.summary or sb.text)[:300])) + "\n")


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=Path, default=LABELS)
    ap.add_argument("--against", metavar="REV", help="also score git revision REV's code")
    ap.add_argument("--list", type=Path, metavar="TSV",
                    help="write the merged and candidate pairs, with titles, to TSV")
    ap.add_argument("--show", type=int, default=0, help="print up to N wrong pairs")
    ap.add_argument("--half", choices=HALVES,
                    help="score (and show) one half of the labels only (see SPLIT)")
    args = ap.parse_args(argv)
    if not ITEMS.exists():
        raise SystemExit("eval_cluster: the shared corpus (../shared/corpus/news) is missing")
    labels = load_labels(args.labels) if args.labels.exists() else {}
    results = {}
    if args.against:
        from bench.bench_backfill import code_at
        old_clusters = cluster_corpus(code_at(args.against))
        results[args.against] = score(old_clusters, labels, args.against, args.show,
                                      args.half)
        for half in () if args.half else HALVES:
            score(old_clusters, labels, args.against, half=half)
    clusters = cluster_corpus()
    results["this tree"] = score(clusters, labels, "this tree", args.show, args.half)
    for half in () if args.half else HALVES:
        results[half] = score(clusters, labels, "this tree", half=half)
    if args.against:   # the labelled pairs the two revisions decide differently
        old, new = results[args.against]["together"], results["this tree"]["together"]
        for a, b in (p for p in new if new[p] != old.get(p)):
            if args.half and half_of(clusters, a, b) != args.half:
                continue
            label = labels[frozenset((a, b))][2]
            verdict = "now merged" if new[a, b] else "now apart"
            print(f"  {verdict} ({'right' if new[a, b] == bool(label) else 'wrong'}): "
                  f"{clusters[a]['story'].title!r} / {clusters[b]['story'].title!r}")
    if args.list:
        write_list(clusters, args.list)
        print(f"wrote {args.list}")
    return results


if __name__ == "__main__":
    main()
