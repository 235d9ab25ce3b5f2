-- +goose Up
-- Receivables metrics (internal/postgres/metrics*.go) scan the portfolio as of any date D. These
-- indexes let the heaviest scans read only the rows they need, from the index alone.

-- Invoices unsettled at a date (settled_on after it, or never): the candidates for "open at D"
-- and "open at the day before the window". The key is the expression the queries filter on.
CREATE INDEX invoices_unsettled ON invoices ((coalesce(settled_on, 'infinity'::date)))
    INCLUDE (settled_on, issue_date, due_date, amount, client_id, invoice_id) WHERE kind = 'invoice';

-- Invoices paid in the year before D (payment behaviour, and the portfolio's weighted dbt that
-- the forecast falls back on).
CREATE INDEX invoices_paid ON invoices (paid_date) INCLUDE (due_date, issue_date, amount, client_id)
    WHERE kind = 'invoice' AND paid_date IS NOT NULL;

-- Write-offs are rare: an invoice whose paid day holds a write-off is not paid, and bad_debt_rate
-- sums write-offs by date. This keeps both lookups off the million-row allocations table (its
-- source index skips settlements, so it cannot serve them).
CREATE INDEX allocations_write_offs ON allocations (invoice_id, date) INCLUDE (amount) WHERE kind = 'write_off';

-- +goose Down
DROP INDEX allocations_write_offs;
DROP INDEX invoices_paid;
DROP INDEX invoices_unsettled;
