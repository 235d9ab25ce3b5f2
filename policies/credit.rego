# The default Credo credit policy: decides the outcome, the credit limit and the payment terms of a
# quote from the input document described in README.md and the tables in data.json.
# The engine queries data.credo.credit.decision; everything else here is a helper.
package credo.credit

tables := data.tables

class := input.score.risk_class

amount := input.quote.amount

# money renders an amount for a salesperson: two decimals, no exponent.
money(x) := sprintf("%.2f", [x])

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

large_quote if amount >= tables.large_quote_amount

review_reasons contains {
	"code": "SOLVENCY_UNAVAILABLE",
	"message": sprintf("No solvency data for a quote of %s or more: a credit manager must check the company.", [money(tables.large_quote_amount)]),
} if {
	large_quote
	not input.solvency.available
}

review_reasons contains {
	"code": "SOLVENCY_STALE",
	"message": sprintf("The solvency data is out of date (as of %s) for a quote of %s or more: a credit manager must refresh it.", [solvency_as_of, money(tables.large_quote_amount)]),
} if {
	large_quote
	input.solvency.available
	input.solvency.stale
}

solvency_as_of := input.solvency.as_of if is_string(input.solvency.as_of)
else := "unknown date"

# Payment in advance extends no credit, so the terms and limit checks below do not apply to it.
review_reasons contains {
	"code": "TERMS_ABOVE_CLASS_MAX",
	"message": sprintf("Requested terms of %d days exceed the %d days allowed for risk class %s: terms are cut to %d days unless a credit manager agrees.", [input.quote.requested_terms_days, class_max_terms, class, net_days]),
} if {
	not in_advance
	input.quote.requested_terms_days > class_max_terms
}

exposure_after := input.exposure.total + amount

review_reasons contains {
	"code": "LIMIT_EXCEEDED",
	"message": sprintf("Exposure of %s plus this quote of %s exceeds the credit limit of %s.", [money(input.exposure.total), money(amount), money(credit_limit)]),
} if {
	not in_advance
	exposure_after > credit_limit
}

# ---------------------------------------------------------------------------------------------
# Credit limit: the class table, capped by the bureau's recommendation when there is one.

class_limit := tables.limit_by_class[class]

bureau_caps if {
	input.solvency.available
	is_number(input.solvency.recommended_limit)
	input.solvency.recommended_limit < class_limit
}

credit_limit := input.solvency.recommended_limit if bureau_caps
else := class_limit

info_reasons contains {
	"code": "LIMIT_CAPPED_BY_BUREAU",
	"message": sprintf("The credit limit is the bureau's recommendation of %s, below the %s of risk class %s.", [money(credit_limit), money(class_limit), class]),
} if bureau_caps

info_reasons contains {
	"code": "WITHIN_LIMIT",
	"message": sprintf("Exposure after this quote is %s of a credit limit of %s.", [money(exposure_after), money(credit_limit)]),
} if {
	not in_advance
	exposure_after <= credit_limit
}

# ---------------------------------------------------------------------------------------------
# Payment terms: requested days, capped by the class and by French law (Code de commerce
# L441-10: 60 days from the invoice date, or 45 days end of month).

class_max_terms := tables.max_terms_days_by_class[class]

legal_max_terms := tables.legal_max_terms.end_of_month_days if input.quote.end_of_month
else := tables.legal_max_terms.net_days

net_days := min([input.quote.requested_terms_days, class_max_terms, legal_max_terms])

info_reasons contains {
	"code": "TERMS_LEGAL_CAP",
	"message": sprintf("French law caps payment terms at %d days%s: requested %d days.", [legal_max_terms, eom_label, input.quote.requested_terms_days]),
} if {
	not in_advance
	input.quote.requested_terms_days > legal_max_terms
}

eom_label := " end of month" if input.quote.end_of_month
else := " from the invoice date"

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

payment_terms := {"net_days": 0, "end_of_month": false, "deposit_percent": 100} if in_advance
else := {
	"net_days": net_days,
	"end_of_month": input.quote.end_of_month,
	"deposit_percent": deposit_percent,
}

# ---------------------------------------------------------------------------------------------
# The decision. A deny grants nothing (limit 0, payment in advance) and gives only its own reasons,
# so the salesperson sees why without terms that no longer matter.

outcome := "deny" if count(deny_reasons) > 0
else := "review" if count(review_reasons) > 0
else := "approve"

decision := {
	"outcome": "deny",
	"credit_limit": 0,
	"payment_terms": {"net_days": 0, "end_of_month": false, "deposit_percent": 100},
	"reasons": sort(deny_reasons),
} if outcome == "deny"
else := {
	"outcome": outcome,
	"credit_limit": credit_limit,
	"payment_terms": payment_terms,
	"reasons": array.concat(sort(review_reasons), sort(info_reasons)),
}
