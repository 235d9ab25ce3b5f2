-- +goose Up
-- The receivables ledger. Amounts are numeric(16,2) in the deployment's base currency; every
-- reduction of an invoice's balance is a dated row of allocations, so any balance can be rebuilt
-- as of any date.
CREATE TABLE clients (
    client_id       text PRIMARY KEY,
    name            text NOT NULL,
    registration_id text,
    country         char(2),
    sector          text,
    directors       text[] NOT NULL DEFAULT '{}',
    auto_created    boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX clients_name_prefix ON clients (lower(name) text_pattern_ops, client_id);
CREATE INDEX clients_country ON clients (country, client_id);

-- invoices.client_id and allocations.invoice_id carry no FOREIGN KEY: a per-row foreign key
-- check (and its row lock on the parent) costs more than the insert itself on a million-row
-- import. The store enforces both instead: clients are never deleted; every single write checks
-- its client under the client's row lock; an import checks all its references in one set-based
-- query before it lands anything. TestLedgerConsistency checks there are no orphans.
CREATE TABLE invoices (
    invoice_id  text PRIMARY KEY,
    client_id   text NOT NULL,
    number      text,
    kind        text NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    issue_date  date NOT NULL,
    due_date    date NOT NULL CHECK (due_date >= issue_date),
    amount      numeric(16,2) NOT NULL CHECK (amount > 0),
    currency    char(3) NOT NULL,
    disputed    boolean NOT NULL DEFAULT false,
    quote_id    text,
    applies_to  text,
    -- settled_on: the date the balance reached zero (by any movement); paid_date: the same date
    -- when a payment brought it there. Both are derived from allocations and kept in step.
    settled_on  date,
    paid_date   date,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invoices_client ON invoices (client_id, issue_date);
CREATE INDEX invoices_open ON invoices (client_id, due_date) WHERE settled_on IS NULL AND kind = 'invoice';
CREATE INDEX invoices_quote ON invoices (quote_id) WHERE quote_id IS NOT NULL;

CREATE TABLE payments (
    payment_id text PRIMARY KEY,
    client_id  text NOT NULL REFERENCES clients,
    date       date NOT NULL,
    amount     numeric(16,2) NOT NULL CHECK (amount > 0),
    currency   char(3) NOT NULL,
    reference  text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_client ON payments (client_id, date);

CREATE TABLE write_offs (
    invoice_id text PRIMARY KEY REFERENCES invoices,
    date       date NOT NULL,
    amount     numeric(16,2) NOT NULL CHECK (amount > 0),
    reason     text NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- allocations: every dated reduction of an invoice's balance. source_id is the payment id, the
-- credit note's invoice id, or the written-off invoice's own id. A settlement an import records
-- from an invoice's paid_date column is a payment allocation with source_id 'settle:<invoice id>'
-- and no row in payments (ids starting with settle: are reserved for it).
CREATE TABLE allocations (
    invoice_id text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('payment', 'credit_note', 'write_off')),
    source_id  text NOT NULL,
    date       date NOT NULL,
    amount     numeric(16,2) NOT NULL CHECK (amount > 0),
    PRIMARY KEY (invoice_id, kind, source_id)
);
-- Finding a payment's or credit note's allocations; settlements are found by their invoice, so
-- they stay out of this index (half the index work of a settled-invoices import).
CREATE INDEX allocations_source ON allocations (kind, source_id) WHERE source_id NOT LIKE 'settle:%';

-- +goose Down
DROP TABLE allocations;
DROP TABLE write_offs;
DROP TABLE payments;
DROP TABLE invoices;
DROP TABLE clients;
