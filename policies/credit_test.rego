# Tests of credit.rego: one per rule and per boundary, run by `go test ./internal/decision/`
# (RunTests) and by `credo policy test --dir policies`.
package credo.credit_test

import data.credo.credit

# A good class B client with fresh solvency data, no overdue and no sanctions hit, asking for
# 30 days on 10,000.00 with 50,000.00 already exposed. Amounts are in cents.
base := {
	"now": "2026-03-02T10:15:00Z",
	"today": "2026-03-02",
	"quote": {
		"quote_id": "Q-1001",
		"amount_cents": 1000000,
		"currency": "EUR",
		"requested_terms_days": 30,
		"end_of_month": false,
		"open_orders_amount_cents": 0,
	},
	"client": {
		"client_id": "C-42",
		"name": "Ateliers Dupont SAS",
		"registration_id": "552100554",
		"country": "FR",
		"sector": "25.62",
		"is_new": false,
	},
	"score": {
		"value": 710,
		"risk_class": "B",
		"pd": 0.012,
		"model_version": "scorecard-2026.1",
		"reasons": [],
	},
	"metrics": {
		"open_ar_cents": 5000000,
		"overdue_cents": 0,
		"overdue_rate": 0,
		"max_days_overdue": 0,
		"weighted_dbt_12m": 2.5,
		"paid_count_12m": 24,
		"dso": 38.5,
	},
	"solvency": {
		"available": true,
		"stale": false,
		"as_of": "2026-02-20",
		"company_status": "active",
		"insolvency": {"open": false, "kind": null, "judgment_date": null},
		"grade": 3,
		"recommended_limit_cents": null,
		"negative_equity": false,
	},
	"sanctions": {"status": "clear", "hits": []},
	"exposure": {
		"open_ar_cents": 5000000,
		"overdue_cents": 0,
		"reserved_cents": 0,
		"open_orders_cents": 0,
		"total_cents": 5000000,
	},
}

# with_patch returns base with the given sections merged in (one level deep per section).
with_patch(patch) := object.union(base, patch)

decide(patch) := d if {
	d := credit.decision with input as with_patch(patch)
}

codes(d) := {r.code | some r in d.reasons}

# --- baseline ---------------------------------------------------------------------------------

test_approve_baseline if {
	d := decide({})
	d.outcome == "approve"
	d.credit_limit_cents == 20000000
	d.payment_terms == {"net_days": 30, "end_of_month": false, "deposit_percent": 0}
	codes(d) == {"WITHIN_LIMIT"}
	d.reasons[0].message == "Exposure after this quote stays within the credit limit of 200000.00."
}

# --- deny rules -------------------------------------------------------------------------------

denied := {"net_days": 0, "end_of_month": false, "deposit_percent": 100}

test_deny_confirmed_sanctions if {
	d := decide({"sanctions": {"status": "confirmed", "hits": [{"entry_id": "ofac-123", "list": "ofac", "matched_name": "DUPONT ATELIERS", "score": 0.97}]}})
	d.outcome == "deny"
	d.credit_limit_cents == 0
	d.payment_terms == denied
	codes(d) == {"SANCTIONS_CONFIRMED"}
}

test_deny_open_insolvency if {
	d := decide({"solvency": object.union(base.solvency, {"insolvency": {"open": true, "kind": "redressement judiciaire", "judgment_date": "2026-01-15"}})})
	d.outcome == "deny"
	d.credit_limit_cents == 0
	d.payment_terms == denied
	codes(d) == {"INSOLVENCY_OPEN"}
	contains(d.reasons[0].message, "redressement judiciaire")
}

test_deny_open_insolvency_without_kind if {
	d := decide({"solvency": object.union(base.solvency, {"insolvency": {"open": true, "kind": null, "judgment_date": null}})})
	d.outcome == "deny"
	contains(d.reasons[0].message, "kind not reported")
}

test_deny_closed_company if {
	d := decide({"solvency": object.union(base.solvency, {"company_status": "closed"})})
	d.outcome == "deny"
	codes(d) == {"COMPANY_CLOSED"}
}

test_unknown_company_status_is_not_a_deny if {
	d := decide({"solvency": object.union(base.solvency, {"company_status": "unknown"})})
	d.outcome == "approve"
}

test_deny_lists_every_deny_reason_and_only_those if {
	d := decide({
		"sanctions": {"status": "confirmed", "hits": []},
		"solvency": object.union(base.solvency, {"company_status": "closed", "insolvency": {"open": true, "kind": "liquidation judiciaire", "judgment_date": "2026-01-15"}}),
		"quote": object.union(base.quote, {"requested_terms_days": 90}),
	})
	d.outcome == "deny"
	[r.code | some r in d.reasons] == ["COMPANY_CLOSED", "INSOLVENCY_OPEN", "SANCTIONS_CONFIRMED"]
}

test_deny_wins_over_review if {
	d := decide({
		"sanctions": {"status": "confirmed", "hits": []},
		"exposure": object.union(base.exposure, {"total_cents": 100000000}),
	})
	d.outcome == "deny"
}

# --- sanctions reviews ------------------------------------------------------------------------

test_review_potential_sanctions_match if {
	d := decide({"sanctions": {"status": "potential_match", "hits": [{"entry_id": "eu-77", "list": "eu", "matched_name": "DUPONT", "score": 0.81}]}})
	d.outcome == "review"
	"SANCTIONS_POTENTIAL_MATCH" in codes(d)
	d.credit_limit_cents == 20000000
}

test_review_not_screened if {
	d := decide({"sanctions": {"status": "not_screened", "hits": []}})
	d.outcome == "review"
	"SANCTIONS_NOT_SCREENED" in codes(d)
}

# --- solvency freshness for large quotes: the threshold is 50,000.00, inclusive ----------------

stale := object.union(base.solvency, {"stale": true, "as_of": "2025-06-30"})

large(cents) := object.union(base.quote, {"amount_cents": cents})

test_stale_solvency_below_large_quote_approves if {
	d := decide({"solvency": stale, "quote": large(4999999)})
	d.outcome == "approve"
	not "SOLVENCY_STALE" in codes(d)
}

test_stale_solvency_at_large_quote_reviews if {
	d := decide({"solvency": stale, "quote": large(5000000)})
	d.outcome == "review"
	"SOLVENCY_STALE" in codes(d)
	some r in d.reasons
	r.code == "SOLVENCY_STALE"
	contains(r.message, "2025-06-30")
}

test_fresh_solvency_large_quote_approves if {
	d := decide({"quote": large(10000000)})
	d.outcome == "approve"
}

unavailable := object.union(base.solvency, {"available": false, "stale": false, "as_of": null, "grade": null, "recommended_limit_cents": null})

test_unavailable_solvency_large_quote_reviews if {
	d := decide({"solvency": unavailable, "quote": large(5000000)})
	d.outcome == "review"
	codes(d) == {"SOLVENCY_UNAVAILABLE", "WITHIN_LIMIT"}
}

test_unavailable_solvency_small_quote_approves if {
	d := decide({"solvency": unavailable, "quote": large(4999999)})
	d.outcome == "approve"
}

# --- credit limit -----------------------------------------------------------------------------

exposed(cents) := object.union(base.exposure, {"open_ar_cents": cents, "total_cents": cents})

test_limit_by_class if {
	limits := {c: decide({"score": object.union(base.score, {"risk_class": c})}).credit_limit_cents | some c in ["A", "B", "C", "D"]}
	limits == {"A": 50000000, "B": 20000000, "C": 7500000, "D": 2000000}
}

test_exposure_plus_quote_at_limit_approves if {
	d := decide({"exposure": exposed(19000000)})
	d.outcome == "approve"
	"WITHIN_LIMIT" in codes(d)
}

test_exposure_plus_quote_one_cent_above_limit_reviews if {
	d := decide({"exposure": exposed(19000001)})
	d.outcome == "review"
	codes(d) == {"LIMIT_EXCEEDED"}
	d.reasons[0].message == "This quote of 10000.00 takes the exposure to 200000.01, above the credit limit of 200000.00."
	d.credit_limit_cents == 20000000
	d.payment_terms.net_days == 30
}

# 44,915.74 + 44,588.36 is exactly 89,504.10: integer cents keep the "equal is within" boundary
# that OPA's decimal addition would blur (it gives 89504.099999999999994).
test_limit_boundary_is_exact_in_cents if {
	d := decide({
		"exposure": exposed(4491574),
		"quote": object.union(base.quote, {"amount_cents": 4458836}),
		"solvency": object.union(base.solvency, {"recommended_limit_cents": 8950410}),
	})
	d.outcome == "approve"
	"WITHIN_LIMIT" in codes(d)
}

test_limit_exceeded_names_the_amounts if {
	d := decide({
		"exposure": exposed(4491574),
		"quote": object.union(base.quote, {"amount_cents": 4458837}),
		"solvency": object.union(base.solvency, {"recommended_limit_cents": 8950410}),
	})
	d.outcome == "review"
	some r in d.reasons
	r.code == "LIMIT_EXCEEDED"
	r.message == "This quote of 44588.37 takes the exposure to 89504.11, above the credit limit of 89504.10."
}

test_money if {
	credit.money(0) == "0.00"
	credit.money(5) == "0.05"
	credit.money(100) == "1.00"
	credit.money(123456789) == "1234567.89"
}

test_bureau_recommendation_caps_limit if {
	d := decide({"solvency": object.union(base.solvency, {"recommended_limit_cents": 8000050})})
	d.credit_limit_cents == 8000050
	"LIMIT_CAPPED_BY_BUREAU" in codes(d)
	d.outcome == "approve"
}

test_bureau_recommendation_counts_for_limit_check if {
	d := decide({"solvency": object.union(base.solvency, {"recommended_limit_cents": 5999999})})
	d.outcome == "review"
	"LIMIT_EXCEEDED" in codes(d)
}

test_bureau_recommendation_equal_to_class_limit_does_not_cap if {
	d := decide({"solvency": object.union(base.solvency, {"recommended_limit_cents": 20000000})})
	d.credit_limit_cents == 20000000
	not "LIMIT_CAPPED_BY_BUREAU" in codes(d)
}

test_bureau_recommendation_above_class_limit_is_ignored if {
	d := decide({"solvency": object.union(base.solvency, {"recommended_limit_cents": 90000000})})
	d.credit_limit_cents == 20000000
}

test_bureau_recommendation_zero_caps_to_zero if {
	d := decide({"solvency": object.union(base.solvency, {"recommended_limit_cents": 0})})
	d.credit_limit_cents == 0
	d.outcome == "review"
}

# --- payment terms ----------------------------------------------------------------------------

terms(days, eom) := object.union(base.quote, {"requested_terms_days": days, "end_of_month": eom})

class(c) := object.union(base.score, {"risk_class": c})

test_terms_at_class_max_approve if {
	d := decide({"score": class("C"), "quote": terms(45, false)})
	d.outcome == "approve"
	d.payment_terms.net_days == 45
}

test_terms_above_class_max_review_and_are_cut if {
	d := decide({"score": class("C"), "quote": terms(46, false)})
	d.outcome == "review"
	codes(d) == {"TERMS_ABOVE_CLASS_MAX", "WITHIN_LIMIT"}
	d.payment_terms.net_days == 45
}

test_terms_at_legal_max_net if {
	d := decide({"quote": terms(60, false)}) with data.tables.max_terms_days_by_class.B as 90
	d.outcome == "approve"
	d.payment_terms.net_days == 60
	not "TERMS_LEGAL_CAP" in codes(d)
}

test_terms_above_legal_max_net_are_capped if {
	d := decide({"quote": terms(61, false)}) with data.tables.max_terms_days_by_class.B as 90
	d.outcome == "approve"
	d.payment_terms.net_days == 60
	"TERMS_LEGAL_CAP" in codes(d)
}

test_terms_at_legal_max_end_of_month if {
	d := decide({"quote": terms(45, true)})
	d.outcome == "approve"
	d.payment_terms == {"net_days": 45, "end_of_month": true, "deposit_percent": 0}
	not "TERMS_LEGAL_CAP" in codes(d)
}

test_terms_above_legal_max_end_of_month_are_capped if {
	d := decide({"quote": terms(46, true)})
	d.outcome == "approve"
	d.payment_terms == {"net_days": 45, "end_of_month": true, "deposit_percent": 0}
	some r in d.reasons
	r.code == "TERMS_LEGAL_CAP"
	r.message == "French law caps payment terms at 45 days end of month: requested 46 days."
}

test_terms_legal_cap_message_from_the_invoice_date if {
	d := decide({"quote": terms(61, false)}) with data.tables.max_terms_days_by_class.B as 90
	some r in d.reasons
	r.code == "TERMS_LEGAL_CAP"
	r.message == "French law caps payment terms at 60 days from the invoice date: requested 61 days."
}

test_terms_above_class_and_legal_max_give_both_reasons if {
	d := decide({"quote": terms(75, false)})
	d.outcome == "review"
	d.payment_terms.net_days == 60
	{"TERMS_ABOVE_CLASS_MAX", "TERMS_LEGAL_CAP"} - codes(d) == set()
}

# --- deposits and payment in advance ----------------------------------------------------------

test_class_d_pays_a_deposit if {
	d := decide({"score": class("D"), "exposure": exposed(0)})
	d.outcome == "approve"
	d.payment_terms == {"net_days": 30, "end_of_month": false, "deposit_percent": 30}
	"DEPOSIT_REQUIRED" in codes(d)
}

test_class_e_pays_in_advance if {
	d := decide({"score": class("E"), "quote": terms(60, true)})
	d.outcome == "approve"
	d.credit_limit_cents == 0
	d.payment_terms == {"net_days": 0, "end_of_month": false, "deposit_percent": 100}
	codes(d) == {"PAYMENT_IN_ADVANCE_CLASS"}
}

overdue_days(n) := object.union(base.metrics, {"max_days_overdue": n, "overdue_cents": 120000})

test_sixty_days_overdue_keeps_credit if {
	d := decide({"metrics": overdue_days(60)})
	d.payment_terms.deposit_percent == 0
	not "PAYMENT_IN_ADVANCE_OVERDUE" in codes(d)
}

test_more_than_sixty_days_overdue_pays_in_advance if {
	d := decide({"metrics": overdue_days(61)})
	d.outcome == "approve"
	d.payment_terms == {"net_days": 0, "end_of_month": false, "deposit_percent": 100}
	codes(d) == {"PAYMENT_IN_ADVANCE_OVERDUE"}
}

test_payment_in_advance_skips_the_limit_check if {
	d := decide({"metrics": overdue_days(90), "exposure": exposed(50000000)})
	d.outcome == "approve"
	not "LIMIT_EXCEEDED" in codes(d)
}

test_payment_in_advance_still_reviews_sanctions if {
	d := decide({"score": class("E"), "sanctions": {"status": "potential_match", "hits": []}})
	d.outcome == "review"
	"SANCTIONS_POTENTIAL_MATCH" in codes(d)
}

# --- output shape -----------------------------------------------------------------------------

test_reasons_list_reviews_before_information if {
	d := decide({"score": class("D"), "exposure": exposed(1500000), "quote": terms(45, false)})
	[r.code | some r in d.reasons] == ["LIMIT_EXCEEDED", "TERMS_ABOVE_CLASS_MAX", "DEPOSIT_REQUIRED"]
}

test_every_reason_has_a_message if {
	d := decide({"solvency": stale, "quote": terms(75, true), "exposure": exposed(19900000)})
	count(d.reasons) > 2
	every r in d.reasons {
		count(r.message) > 20
	}
}
