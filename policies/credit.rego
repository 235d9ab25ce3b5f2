# The default Credo credit policy: decides the outcome, the credit limit and the payment terms of a
# quote from the input document described in README.md and the tables in data.json.
# The engine queries data.credo.credit.decision; everything else here is a helper.
#
# Amounts are integers in cents (names end in _cents): integer arithmetic is exact in OPA, decimal
# arithmetic is not. The engine pre-evaluates this policy once per client state and then runs
# only what depends on the quote and the exposure; README.md ("Writing a fast policy") says which
# constructs keep that working.
package credo.credit

tables := data.tables

class := input.score.risk_class

quote := input.quote

# money renders an amount of cents of at least 0 for a salesperson: 1234550 is "12345.50".
money(cents) := sprintf("%d.%02d", [(cents - cents % 100) / 100, cents % 100])

# ---------------------------------------------------------------------------------------------
# Deny: a company we must not or cannot sell to on credit.

deny_reasons contains {
	"code": "SANCTIONS_CONFIRMED",
	"message": "The client is on a sanctions list (confirmed match): no sale is possible. Contact compliance.",
} if input.sanctions.status == "confirmed"

deny_reasons contains {
	"code": "INSOLVENCY_OPEN",
	"message": sprintf("The client is under an open insolvency proceeding (%s): no credit can be granted.", [insolvency_kind]),
} if input.solvency.insolvency.open

deny_reasons contains {
	"code": "COMPANY_CLOSED",
	"message": "The company is registered as closed: no sale is possible.",
} if input.solvency.company_status == "closed"

insolvency_kind := input.solvency.insolvency.kind if is_string(input.solvency.insolvency.kind)
else := "kind not reported"

denied if count(deny_reasons) > 0

# ---------------------------------------------------------------------------------------------
# Review: a credit manager must look before the quote goes out.

review_reasons contains {
	"code": "SANCTIONS_POTENTIAL_MATCH",
	"message": "The client's name is close to a sanctions list entry: compliance must clear it first.",
} if input.sanctions.status == "potential_match"

# Never approve when screening did not happen (list unavailable, error): that is a failure, not a clear.
review_reasons contains {
	"code": "SANCTIONS_NOT_SCREENED",
	"message": "The client could not be screened against the sanctions lists: compliance must check it.",
} if input.sanctions.status == "not_screened"

large_quote if quote.amount_cents >= tables.large_quote_amount_cents

review_reasons contains {
	"code": "SOLVENCY_UNAVAILABLE",
	"message": sprintf("No solvency data for a quote of %s or more: a credit manager must check the company.", [money(tables.large_quote_amount_cents)]),
} if {
	not input.solvency.available
	large_quote
}

review_reasons contains {
	"code": "SOLVENCY_STALE",
	"message": sprintf("The solvency data is out of date (as of %s) for a quote of %s or more: a credit manager must refresh it.", [solvency_as_of, money(tables.large_quote_amount_cents)]),
} if {
	input.solvency.available
	input.solvency.stale
	large_quote
}

solvency_as_of := input.solvency.as_of if is_string(input.solvency.as_of)
else := "unknown date"

# Payment in advance extends no credit, so the terms and limit checks below do not apply to it.
review_reasons contains {
	"code": "TERMS_ABOVE_CLASS_MAX",
	"message": sprintf("Requested terms of %d days exceed the %d days allowed for risk class %s: terms are cut to %d days unless a credit manager agrees.", [quote.requested_terms_days, class_max_terms, class, net_days]),
} if {
	not in_advance
	quote.requested_terms_days > class_max_terms
}

exposure_after_cents := input.exposure.total_cents + quote.amount_cents

review_reasons contains {
	"code": "LIMIT_EXCEEDED",
	"message": sprintf("This quote of %s takes the exposure to %s, above the credit limit of %s.", [money(quote.amount_cents), money(exposure_after_cents), money(credit_limit_cents)]),
} if {
	not in_advance
	exposure_after_cents > credit_limit_cents
}

# ---------------------------------------------------------------------------------------------
# Credit limit: the class table, capped by the bureau's recommendation when there is one.

class_limit_cents := tables.limit_by_class_cents[class]

bureau_caps if {
	input.solvency.available
	is_number(input.solvency.recommended_limit_cents)
	input.solvency.recommended_limit_cents < class_limit_cents
}

credit_limit_cents := input.solvency.recommended_limit_cents if bureau_caps
else := class_limit_cents

info_reasons contains {
	"code": "LIMIT_CAPPED_BY_BUREAU",
	"message": sprintf("The credit limit is the bureau's recommendation of %s, below the %s of risk class %s.", [money(credit_limit_cents), money(class_limit_cents), class]),
} if bureau_caps

# The answer carries the exposure and the headroom; the message names the limit only, so it is
# the same for every quote of the client.
info_reasons contains {
	"code": "WITHIN_LIMIT",
	"message": sprintf("Exposure after this quote stays within the credit limit of %s.", [money(credit_limit_cents)]),
} if {
	not in_advance
	exposure_after_cents <= credit_limit_cents
}

# ---------------------------------------------------------------------------------------------
# Payment terms: requested days, capped by the class and by French law (Code de commerce
# L441-10: 60 days from the invoice date, or 45 days end of month).

class_max_terms := tables.max_terms_days_by_class[class]

# The legal cap for the way the terms are counted, looked up by quote.end_of_month.
legal_max_terms := {
	true: tables.legal_max_terms.end_of_month_days,
	false: tables.legal_max_terms.net_days,
}[quote.end_of_month]

net_days := min([quote.requested_terms_days, class_max_terms, legal_max_terms])

info_reasons contains {
	"code": "TERMS_LEGAL_CAP",
	"message": sprintf("French law caps payment terms at %d days end of month: requested %d days.", [tables.legal_max_terms.end_of_month_days, quote.requested_terms_days]),
} if {
	not in_advance
	quote.end_of_month
	quote.requested_terms_days > tables.legal_max_terms.end_of_month_days
}

info_reasons contains {
	"code": "TERMS_LEGAL_CAP",
	"message": sprintf("French law caps payment terms at %d days from the invoice date: requested %d days.", [tables.legal_max_terms.net_days, quote.requested_terms_days]),
} if {
	not in_advance
	not quote.end_of_month
	quote.requested_terms_days > tables.legal_max_terms.net_days
}

overdue_advance if input.metrics.max_days_overdue > tables.advance_payment_days_overdue

class_deposit := tables.deposit_percent_by_class[class]

deposit_percent := 100 if overdue_advance
else := class_deposit

in_advance if deposit_percent >= 100

info_reasons contains {
	"code": "DEPOSIT_REQUIRED",
	"message": sprintf("Risk class %s requires a deposit of %d%% with the order.", [class, deposit_percent]),
} if {
	not in_advance
	deposit_percent > 0
}

info_reasons contains {
	"code": "PAYMENT_IN_ADVANCE_CLASS",
	"message": sprintf("Risk class %s: payment in advance only, no credit.", [class]),
} if class_deposit >= 100

info_reasons contains {
	"code": "PAYMENT_IN_ADVANCE_OVERDUE",
	"message": sprintf("The client has an invoice %d days past due (more than %d): payment in advance only until it is settled.", [input.metrics.max_days_overdue, tables.advance_payment_days_overdue]),
} if overdue_advance

advance_terms := {"net_days": 0, "end_of_month": false, "deposit_percent": 100}

payment_terms := advance_terms if in_advance

payment_terms := {
	"net_days": net_days,
	"end_of_month": quote.end_of_month,
	"deposit_percent": deposit_percent,
} if not in_advance

# ---------------------------------------------------------------------------------------------
# The decision. A deny grants nothing (limit 0, payment in advance) and gives only its own reasons,
# so the salesperson sees why without terms that no longer matter. Otherwise the review reasons
# come first, then the information, each sorted by code.

outcome := "review" if count(review_reasons) > 0

outcome := "approve" if count(review_reasons) == 0

decision := {
	"outcome": "deny",
	"credit_limit_cents": 0,
	"payment_terms": advance_terms,
	"reasons": sort(deny_reasons),
} if denied

decision := {
	"outcome": outcome,
	"credit_limit_cents": credit_limit_cents,
	"payment_terms": payment_terms,
	"reasons": array.concat(sort(review_reasons), sort(info_reasons)),
} if not denied
