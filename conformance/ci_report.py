"""Reports CI systems read, besides JUnit: a Markdown summary (GitHub's `$GITHUB_STEP_SUMMARY`),
a self-contained HTML report and a JSON report, each with every finding's status (failure,
warning on a guessed clause, accepted by the baseline), request, response and curl line.

Every renderer returns text that has already passed through the run's redactor.
"""

from __future__ import annotations

import html
import json
from typing import Any

from conformance.redact import redactor_for
from conformance.report import summary
from conformance.runner import Result
from conformance.verdict import ACCEPTED, FAILURE, WARNING, Judged, Verdict

JSON_FORMAT = "conformance-report/1"
_STATUS_WORD = {FAILURE: "failure", WARNING: "warning (guess)", ACCEPTED: "accepted (baseline)"}


def _finding_data(j: Judged) -> dict[str, Any]:
    f = j.finding
    return {
        "status": j.status,
        "check": f.check,
        "title": f.title,
        "clause": f.clause,
        "operation": j.operation,
        "fingerprint": j.fingerprint,
        "guess": (
            {"id": j.guess.id, "note": j.guess.note, "pointer": j.guess.pointer}
            if j.guess
            else None
        ),
        "detail": f.detail,
        "request": f.request,
        "response": f.response,
        "curl": f.curl,
    }


def render_json(result: Result, verdict: Verdict) -> str:
    """The run as one JSON object (`"format": "conformance-report/1"`)."""
    s = result.settings
    data = {
        "format": JSON_FORMAT,
        "ok": verdict.ok,
        "base_url": s.base_url,
        "profile": s.profile.value,
        "seed": s.seed,
        "run_id": s.run_id,
        "strict": s.strict,
        "requests": result.requests,
        "seconds": round(result.seconds, 3),
        "summary": {
            "failures": len(verdict.failures),
            "warnings": len(verdict.warnings),
            "accepted": len(verdict.accepted),
            "stale_baseline_entries": len(verdict.stale),
            "checks_passed": result.count("passed"),
            "checks_failed": result.count("failed"),
        },
        "checks": [
            {"name": o.name, "status": o.status, "seconds": round(o.seconds, 3), "notes": o.notes}
            for o in result.outcomes
        ],
        "findings": [_finding_data(j) for j in verdict.judged],
        "stale_baseline_entries": [
            {
                "fingerprint": e.fingerprint,
                "check": e.check,
                "operation": e.operation,
                "title": e.title,
            }
            for e in verdict.stale
        ],
    }
    return json.dumps(redactor_for(s).data(data), indent=2) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _fence(text: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}\n{text}\n{fence}"


def render_markdown(result: Result, verdict: Verdict) -> str:
    """A Markdown summary for a CI job page: verdict, counts, one row per finding, details."""
    s = result.settings
    mark = "✅" if verdict.ok else "❌"
    lines = [
        f"## {mark} ActionSession conformance: {'conforms' if verdict.ok else 'violations found'}",
        "",
        f"`{s.base_url}` · profile `{s.profile.value}` · seed `{s.seed}` · run `{s.run_id}`"
        f"{' · strict' if s.strict else ''}",
        "",
        "| failures | warnings (guesses) | accepted (baseline) | baseline entries gone | checks passed | requests | time |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {len(verdict.failures)} | {len(verdict.warnings)} | {len(verdict.accepted)} | "
        f"{len(verdict.stale)} | {result.count('passed')} of {len(result.outcomes)} | "
        f"{result.requests} | {result.seconds:.1f} s |",
    ]
    if verdict.judged:
        lines += [
            "",
            "| status | check | operation | finding | fingerprint |",
            "|---|---|---|---|---|",
        ]
        order = {FAILURE: 0, WARNING: 1, ACCEPTED: 2}
        for j in sorted(verdict.judged, key=lambda j: order[j.status]):
            lines.append(
                f"| {_STATUS_WORD[j.status]} | `{j.finding.check}` | {_cell(j.operation) or '—'} | "
                f"{_cell(j.finding.title)} | `{j.fingerprint}` |"
            )
        for j in verdict.judged:
            if j.status == ACCEPTED:
                continue
            f = j.finding
            lines += ["", f"<details><summary>{html.escape(_STATUS_WORD[j.status])}: "]
            lines[-1] += f"{html.escape(f.title)} (<code>{html.escape(f.check)}</code>)</summary>"
            lines += ["", f"**Contract:** {f.clause}"]
            if j.guess is not None:
                lines += ["", f"**Guessed clause:** {j.guess.describe()}"]
            lines += ["", "**Why:**", "", _fence(f.detail)]
            for label, text in (("Request", f.request), ("Response", f.response)):
                if text:
                    lines += ["", f"**{label}:**", "", _fence(text)]
            if f.curl:
                lines += ["", "**Reproduce** (`TOKEN` from your secret store):", "", _fence(f.curl)]
            lines += ["", "</details>"]
    if verdict.stale:
        lines += [
            "",
            "**Baseline entries that no longer occur** (remove them from the baseline):",
            "",
        ]
        lines += [f"- `{e.fingerprint}` {e.check}: {_cell(e.title)}" for e in verdict.stale]
    lines += ["", summary(result, verdict), ""]
    return redactor_for(s)("\n".join(lines))


_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em;color:#222}
h1{font-size:1.4em}.ok{color:#1a7f37}.bad{color:#cf222e}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}
section{border:1px solid #ddd;border-radius:6px;margin:1em 0;padding:.5em 1em}
section.failure{border-left:6px solid #cf222e}section.warning{border-left:6px solid #bf8700}
section.accepted{border-left:6px solid #8c959f}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
dt{font-weight:600}code{background:#f6f8fa;padding:0 .2em}
"""


def render_html(result: Result, verdict: Verdict) -> str:
    """A self-contained HTML page (no external resource): summary, then every finding with its
    request, response and curl line."""
    s = result.settings
    e = html.escape
    state = "ok" if verdict.ok else "bad"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Conformance report {e(s.run_id)}</title><style>{_CSS}</style></head><body>",
        f'<h1 class="{state}">ActionSession conformance: '
        f"{'conforms' if verdict.ok else 'violations found'}</h1>",
        f"<p><code>{e(s.base_url)}</code> · profile {e(s.profile.value)} · seed {s.seed} · "
        f"run {e(s.run_id)}{' · strict' if s.strict else ''}</p>",
        "<table><tr><th>failures</th><th>warnings (guesses)</th><th>accepted (baseline)</th>"
        "<th>baseline entries gone</th><th>checks passed</th><th>requests</th><th>time</th></tr>",
        f"<tr><td>{len(verdict.failures)}</td><td>{len(verdict.warnings)}</td>"
        f"<td>{len(verdict.accepted)}</td><td>{len(verdict.stale)}</td>"
        f"<td>{result.count('passed')} of {len(result.outcomes)}</td><td>{result.requests}</td>"
        f"<td>{result.seconds:.1f} s</td></tr></table>",
        "<h2>Checks</h2><table><tr><th>check</th><th>result</th><th>time</th></tr>",
    ]
    parts += [
        f"<tr><td>{e(o.name)}</td><td>{e(o.status)}</td><td>{o.seconds:.1f} s</td></tr>"
        for o in result.outcomes
    ]
    parts.append("</table>")
    if verdict.judged:
        parts.append("<h2>Findings</h2>")
    for n, j in enumerate(verdict.judged, 1):
        f = j.finding
        parts.append(f'<section class="{j.status}" id="finding-{n}">')
        parts.append(f"<h3>{n}. {e(f.title)} <small>({e(_STATUS_WORD[j.status])})</small></h3><dl>")
        rows = [
            ("check", f"<code>{e(f.check)}</code>"),
            ("operation", e(j.operation) or "—"),
            ("contract", e(f.clause)),
            ("fingerprint", f"<code>{e(j.fingerprint)}</code>"),
        ]
        if j.guess is not None:
            rows.append(("guessed clause", e(j.guess.describe())))
        parts += [f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows]
        for label, text in (
            ("why", f.detail),
            ("request", f.request),
            ("response", f.response),
            ("reproduce (curl; set TOKEN first)", f.curl),
        ):
            if text:
                parts.append(f"<dt>{label}</dt><dd><pre>{e(text)}</pre></dd>")
        parts.append("</dl></section>")
    if verdict.stale:
        parts.append("<h2>Baseline entries that no longer occur</h2><ul>")
        parts += [
            f"<li><code>{e(x.fingerprint)}</code> {e(x.check)}: {e(x.title)}</li>"
            for x in verdict.stale
        ]
        parts.append("</ul>")
    notes = [(o.name, note) for o in result.outcomes for note in o.notes]
    if notes:
        parts.append("<h2>Notes (not failures)</h2><ul>")
        parts += [f"<li>{e(name)}: {e(text)}</li>" for name, text in notes]
        parts.append("</ul>")
    parts.append(f"<p>{e(summary(result, verdict))}</p></body></html>")
    return redactor_for(s)("\n".join(parts)) + "\n"
