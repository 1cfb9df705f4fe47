"""The contract's clauses: every normative statement of the API brief and of the spec's
descriptions, each with a stable id, its text and where it comes from.

The brief (`api-brief.md`) lives outside the repository, so its rules are catalogued here; the
spec's operation descriptions state the same conventions for every resource, so a clause names the
operations it binds (`*.update` is all three resources' update). Checks declare the ids they verify
(`registry.check(..., clauses=...)`); `conformance.matrix` joins the two. A clause no check can
observe from outside says why in `unobservable`; a clause that binds the spec document or the mock
rather than a server under test says so the same way, so that nothing is silently left out.
Ids are stable: baselines and reports may quote them; add new ids rather than renaming old ones.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Clause:
    """One normative statement of the contract."""

    id: str
    text: str
    source: str  # brief section and/or spec operations (`*.op` is every resource's)
    unobservable: str | None = None  # why no check can verify it from outside, if none can


_SPEC_RULE = "a rule for the spec document, not a behaviour of a server: tests/openapi/test_spec.py and the spec linter check it"
_MOCK_RULE = "a rule for the mock's default data, not for any server under test: tests/mock_server/test_seed_examples.py checks it"

CLAUSES: tuple[Clause, ...] = (
    # ---- the five operations (brief: Resources and operations; spec: every operation)
    Clause(
        "index.answer",
        "index: 200, a JSON array of the matching records, with the four X-Pagination-* headers",
        "brief: Resources and operations; spec: *.index 200",
    ),
    Clause(
        "index.bad-body-422",
        "index: a body member of the wrong type or out of range (per-page or page below 1 or not an integer, history not a boolean) answers 422",
        "brief: Resources and operations, Index semantics; spec: *.index 422",
    ),
    Clause(
        "index.body-optional",
        "index: the body itself and each of its members are optional; no body is the default search",
        "brief: Index semantics; spec: *.index description",
    ),
    Clause(
        "create.answer",
        "create: 201 with the stored record as sent (unset members at their default or null)",
        "brief: Resources and operations; spec: *.create 201",
    ),
    Clause(
        "create.location",
        "create: Location: /v2/{r}/view/{id} names the new record",
        "brief: Resources and operations; spec: *.create 201 Location",
    ),
    Clause(
        "create.listed",
        "create: the new record is then viewable and listed by index",
        "brief: Resources and operations",
    ),
    Clause(
        "create.server-id",
        "create: the id is optional; without one the server makes a fresh id (a UUID) for each record",
        "brief: ActionSession fields, ActionSessionSubscription fields, ActionSessionDate fields; spec: *.create description",
    ),
    Clause(
        "create.id-taken-409",
        "create: an id chosen by the client that is already taken answers 409 and changes nothing",
        "brief: Errors, ActionSession fields; spec: *.create 409",
    ),
    Clause(
        "create.defaults",
        "create: a member not sent is stored at its declared default (subscription done -1, warning 0), else null",
        "brief: ActionSessionSubscription fields; spec: *Create schemas' defaults",
    ),
    Clause(
        "view.answer",
        "view: 200 with the full record (stored plus joined and computed fields)",
        "brief: Resources and operations; spec: *.view 200",
    ),
    Clause(
        "view.unknown-404",
        "view: an unknown id answers 404, for every resource",
        "brief: Resources and operations; spec: *.view 404",
    ),
    Clause(
        "update.answer",
        "update: 200 with the stored record after the change",
        "brief: Resources and operations; spec: *.update 200",
    ),
    Clause(
        "update.partial",
        "update is partial: only the members sent change",
        "brief: ActionSession fields; spec: *.update description",
    ),
    Clause(
        "update.null-clears",
        "update: null sent for a nullable member stores null (null is a value, not an absent member)",
        "brief: ActionSession fields (nullable fields); spec: *Update schemas",
    ),
    Clause(
        "update.unknown-404",
        "update: an unknown id answers 404 and creates nothing, for every resource",
        "brief: Resources and operations; spec: *.update 404",
    ),
    Clause(
        "update.id-fixed",
        "update: the id cannot be changed (an id member sent is ignored)",
        "spec: *.update description",
    ),
    Clause(
        "delete.answer",
        "delete: 204 with no body",
        "brief: Resources and operations; spec: *.delete 204",
    ),
    Clause(
        "delete.unknown-404",
        "delete: an unknown or already deleted id answers 404, for every resource",
        "brief: Delete semantics; spec: *.delete 404",
    ),
    # ---- record members
    Clause(
        "members.write-answers-stored",
        "create and update answer the stored fields only: every stored member, no joined or computed one",
        "brief: ActionSession fields; spec: *.create and *.update descriptions",
    ),
    Clause(
        "members.read-answers-full",
        "view and index answer every declared member of the record, null when unset",
        "brief: ActionSession fields; spec: ActionSession, ActionSessionSubscription, ActionSessionDate",
    ),
    Clause(
        "members.read-only-ignored",
        "joined and computed members are read-only: ignored when sent on create and update",
        "brief: ActionSession fields; spec: *Update descriptions",
    ),
    Clause(
        "members.unknown-ignored",
        "unknown members are ignored on create and update (no 422, nothing stored)",
        "brief: ActionSession fields; spec: *Create and *Update descriptions",
    ),
    Clause(
        "members.body-required-400",
        "create and update need a JSON object body: none at all is 400",
        "brief: ActionSession fields; spec: *.create and *.update 400",
    ),
    Clause(
        "members.invalid-422",
        "create and update: a member of the wrong type or out of its range, or null where the member is not nullable, or a required member missing on create, is 422 and changes nothing",
        "brief: ActionSession fields; spec: *Create and *Update schemas",
    ),
    Clause(
        "members.unknown-reference-422",
        "a reference to a record that does not exist (an unknown action_id, or action_session_id on create or on a move) is 422 and changes nothing",
        "brief: Errors, ActionSession fields, ActionSessionSubscription fields, ActionSessionDate fields; spec: *.create and *.update descriptions",
    ),
    Clause(
        "members.id-syntax",
        "a client-chosen id is 3 to 64 URL-safe characters (a guess, x-guess id-syntax)",
        "brief: What is known and what is guessed; spec: RecordId",
        unobservable="held by no check on purpose: a server accepting other ids is correct until the guess is confirmed (the any_id_length variant of the reference must pass); Schemathesis' negative phase reports a refusal it expected as a warning",
    ),
    Clause(
        "members.guessed-limits",
        "references are at most 255 characters and validity has an upper bound (guesses, x-guess reference-length and validity-maximum)",
        "brief: What is known and what is guessed; spec: Reference, Validity",
        unobservable="held by no check on purpose: the limits are our guesses, so a server with other limits is not wrong; Schemathesis' negative phase reports an accepted value beyond them as a warning",
    ),
    Clause(
        "members.opaque-ids",
        "ids are opaque strings; the spec declares no format: uuid on them",
        "brief: ActionSession fields",
        unobservable=_SPEC_RULE,
    ),
    Clause(
        "session.joined",
        "a session's action_code, action_name and action_type are its action's: the same for every session of one action_id",
        "brief: ActionSession fields",
    ),
    Clause(
        "session.counts",
        "count_subscribed counts all subscriptions, count_done those with done = 1, count_fail done = 0, count_unknown done = -1",
        "brief: ActionSession fields",
    ),
    Clause(
        "session.dates",
        "a session's date_begin/date_end are the earliest begin and latest end of its days, null when it has none",
        "brief: ActionSession fields",
    ),
    Clause(
        "children.parent-follows",
        "a subscription or day added, changed, moved or removed changes its parent sessions' counts and dates at once",
        "brief: ActionSessionSubscription fields, ActionSessionDate fields; spec: action_session_subscription.create/update, action_session_date.create",
    ),
    Clause(
        "day.order-422",
        "a day must end no earlier than it begins, on create and after an update; else 422 and nothing changes",
        "brief: ActionSessionDate fields; spec: action_session_date.create/update descriptions",
    ),
    Clause(
        "day.joined",
        "a day's read-only action_id, action_code, action_name and action_type are its session's",
        "brief: ActionSessionDate fields; spec: ActionSessionDate",
    ),
    # ---- index semantics
    Clause(
        "filter.exact-and",
        "filter: exact equality on each given field, ANDed; every record listed matches",
        "brief: Index semantics; spec: *Filter descriptions",
    ),
    Clause(
        "filter.complete",
        "filter: the filtered result is every matching record and nothing else",
        "brief: Index semantics",
    ),
    Clause(
        "filter.blank-ignored",
        'filter: a key whose value is null or "" is ignored (no condition)',
        "brief: Index semantics; spec: *Filter descriptions",
    ),
    Clause(
        "filter.unknown-key-ignored",
        "filter: unknown keys are ignored",
        "brief: Index semantics; spec: *Filter descriptions",
    ),
    Clause(
        "filter.wrong-type-422",
        "filter: a value of the wrong type or format, or outside the field's enum, is 422",
        "brief: Index semantics",
    ),
    Clause(
        "filter.spec-admits-blank",
        'the spec\'s filter schemas admit null and "" for every field while rejecting other malformed values',
        "brief: Index semantics",
        unobservable=_SPEC_RULE,
    ),
    Clause(
        "page.per-page-default",
        "per-page: default 100",
        "brief: Index semantics; spec: per-page default",
    ),
    Clause(
        "page.per-page-cap",
        "per-page: at most 100 a page; a larger value is served as 100 and X-Pagination-Per-Page says 100",
        "brief: Index semantics; spec: X-Pagination-Per-Page",
    ),
    Clause(
        "page.page-default",
        "page: default 1",
        "brief: Index semantics; spec: page default",
    ),
    Clause(
        "page.past-last",
        "page: a page past the last is served as the last page, and X-Pagination-Current-Page says which",
        "brief: Index semantics; spec: X-Pagination-Current-Page",
    ),
    Clause(
        "page.headers",
        "X-Pagination-Total-Count, -Page-Count (ceil(total / per-page), 0 when total is 0), -Current-Page and -Per-Page are always present integers; a page holds per-page records, the last one the rest",
        "brief: Index semantics; spec: *.index 200 headers",
    ),
    Clause(
        "page.total",
        "X-Pagination-Total-Count is the number of matching records, whatever the page and page size",
        "brief: Index semantics; spec: X-Pagination-Total-Count",
    ),
    Clause(
        "sort.order",
        "sort: one field name, `-` prefix for descending",
        "brief: Index semantics; spec: Sort",
    ),
    Clause(
        "sort.nulls-first",
        "sort: nulls sort first ascending",
        "brief: Index semantics; spec: Sort",
    ),
    Clause(
        "sort.collation",
        "sort: string order is the database's collation (case-insensitive order is valid)",
        "brief: Index semantics; spec: Sort",
    ),
    Clause(
        "sort.unknown-ignored",
        "sort: an unknown field is ignored",
        "brief: Index semantics; spec: Sort",
    ),
    Clause(
        "sort.ties-by-key",
        "sort: ties are broken by the primary key, so consecutive pages never overlap or skip",
        "brief: Index semantics; spec: Sort",
    ),
    Clause(
        "sort.unsorted-order",
        "without sort the order is the server's own",
        "brief: Index semantics",
        unobservable="it permits every order: there is nothing a server could break",
    ),
    Clause(
        "sort.name-alias",
        "sessions: sort `name` is the alias of `action_name` (a guess, x-guess sort-name-alias)",
        "brief: The seed examples; spec: ActionSessionSort x-sort-aliases",
    ),
    Clause(
        "history.default-false",
        "history: default false; no history member lists what history: false lists",
        "brief: Index semantics; spec: History",
    ),
    Clause(
        "history.superset",
        "history: false lists only active records; true lists historized records too",
        "brief: Index semantics; spec: History",
    ),
    Clause(
        "history.which-historized",
        "which records are historized (no longer active)",
        "brief: Index semantics, The default data",
        unobservable="no operation historizes a record or says whether one is; the API only shows that history: true lists no fewer records",
    ),
    # ---- delete semantics
    Clause(
        "delete.force-param",
        "force is a boolean query parameter, default false; a value that is not a boolean (force=yes) is 400 with the plain error object",
        "brief: Delete semantics, Errors; spec: Force",
    ),
    Clause(
        "delete.blocked-400",
        "delete of a session with subscriptions or days, force false: 400, the error object plus `related` listing every record force=true would delete",
        "brief: Delete semantics; spec: action_session.delete, DeleteRefused",
    ),
    Clause(
        "delete.blocked-keeps",
        "a blocked delete deletes nothing",
        "brief: Delete semantics; spec: action_session.delete",
    ),
    Clause(
        "delete.400-forms",
        "the delete's 400 has two forms: the plain error object for a force that is not a boolean, the error object with `related` for a blocked delete",
        "brief: Delete semantics; spec: DeleteRefused",
    ),
    Clause(
        "delete.force-cascades",
        "force=true: 204; the session and all its subscriptions and days are gone (view 404, absent from index even with history=true)",
        "brief: Delete semantics; spec: action_session.delete",
    ),
    Clause(
        "delete.nothing-related",
        "a record with nothing related (every subscription and day, a session without either) is deleted whatever force says: 204",
        "brief: Delete semantics; spec: action_session_subscription.delete, action_session_date.delete",
    ),
    # ---- errors
    Clause(
        "errors.shape",
        "400, 401, 403, 404, 405, 409, 413, 415: {name, message, code, status}, name the HTTP reason phrase, status the response's",
        "brief: Errors; spec: Error",
    ),
    Clause(
        "errors.validation-shape",
        "422: a JSON array of {field, message}, one entry per problem, naming the member at fault",
        "brief: Errors; spec: ValidationErrors",
    ),
    Clause(
        "errors.validation-complete",
        "a 422 lists every problem of the request, one entry each (not only the first found)",
        "brief: Errors; spec: ValidationFailed",
    ),
    Clause(
        "errors.message-texts",
        "the exact `message` texts of error bodies (a guess, x-guess error-message-texts)",
        "brief: What is known and what is guessed; spec: Error.message",
        unobservable="not a rule a server must follow: no public source gives the texts, so a check may only require a string (errors.shape does)",
    ),
    Clause(
        "errors.malformed-json-400",
        "a body that is malformed JSON is 400",
        "brief: Errors; spec: BadRequest",
    ),
    Clause(
        "errors.non-json-415",
        "a body that is not JSON (another media type) is 415",
        "brief: Errors; spec: UnsupportedMediaType",
    ),
    Clause(
        "errors.too-large-413",
        "a body over 1 MiB is 413",
        "brief: Errors; spec: PayloadTooLarge",
    ),
    Clause(
        "errors.method-405",
        "every path answers only the methods the spec declares: others 405 with Allow",
        "brief: Errors; spec: paths",
    ),
    Clause(
        "errors.forbidden-403",
        "403 when a valid credential may not perform the operation",
        "brief: Errors; spec: Forbidden",
        unobservable="the suite holds one credential; provoking a 403 needs a second credential with fewer rights, which the contract does not define",
    ),
    Clause(
        "errors.no-500",
        "no 500 for any input a client can send",
        "brief: Errors",
    ),
    Clause(
        "errors.non-object-body-400",
        "a JSON body that is not an object is 400 (a guess, x-guess non-object-body-400)",
        "brief: What is known and what is guessed; spec: BadRequest",
    ),
    # ---- authentication
    Clause(
        "auth.required-401",
        "missing or unrecognised credentials: 401 with WWW-Authenticate, checked before anything else",
        "brief: Authentication; spec: Unauthorized",
    ),
    Clause(
        "auth.any-scheme",
        "a bearer token (OAuth2 or HTTP bearer) or the access-token query parameter; any one suffices",
        "brief: Authentication; spec: security",
    ),
    Clause(
        "auth.token-url",
        "the OAuth2 password flow's token URL is the real service's Keycloak realm (a guess)",
        "brief: Authentication",
        unobservable="the token URL is the identity provider's, not the API's; the suite only uses it to obtain a token",
    ),
    Clause(
        "auth.mock-tokens",
        "the mock recognises a configurable set of tokens, dev by default",
        "brief: Authentication",
        unobservable=_MOCK_RULE,
    ),
    # ---- the spec document and the mock's data
    Clause(
        "spec.guesses-marked",
        "every guess is marked in the spec (x-guess) and listed",
        "brief: What is known and what is guessed",
        unobservable=_SPEC_RULE,
    ),
    Clause(
        "mock.default-data",
        "the mock starts from data that makes the seed's examples true",
        "brief: The default data",
        unobservable=_MOCK_RULE,
    ),
    Clause(
        "mock.seed-examples",
        "the seed's examples work verbatim against the mock's default data",
        "brief: The seed examples must work verbatim",
        unobservable=_MOCK_RULE,
    ),
)

BY_ID: dict[str, Clause] = {c.id: c for c in CLAUSES}
if len(BY_ID) != len(CLAUSES):  # pragma: no cover - a catalogue edit gone wrong
    raise ValueError("two clauses share an id")
