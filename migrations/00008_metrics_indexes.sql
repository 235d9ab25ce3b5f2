-- +goose Up
-- Receivables metrics (internal/postgres/metrics*.go). Write-offs are rare; the paid-invoice
-- groups exclude an invoice whose last movement day includes a write-off, and bad_debt_rate sums
-- write-offs by date. This partial index keeps both lookups off the million-row allocations table
-- (its source index skips settlements, so it cannot serve them).
CREATE INDEX allocations_write_offs ON allocations (invoice_id, date) INCLUDE (amount) WHERE kind = 'write_off';

-- +goose Down
DROP INDEX allocations_write_offs;
