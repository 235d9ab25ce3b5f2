-- +goose Up
-- The console's secret (internal/web): it seals the session cookies and derives the CSRF tokens.
-- Every replica must use the same one, so that a session opened on one replica is valid on the
-- others: the first replica to start stores a random one here. CREDO_CONSOLE_SECRET, when set,
-- is used instead and this row is never read.
CREATE TABLE console_secret (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    secret     bytea NOT NULL CHECK (length(secret) >= 32),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE console_secret;
