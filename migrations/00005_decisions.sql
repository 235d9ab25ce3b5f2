-- +goose Up
-- The decision log: append-only (a trigger refuses UPDATE and DELETE), one row per decided quote
-- with the answer given, the full input document the policy read (for replay), the policy version
-- and content hash, the model version, the latencies and the key that asked.
CREATE TABLE decisions (
    decision_id    text PRIMARY KEY,
    quote_id       text NOT NULL UNIQUE,
    client_id      text NOT NULL,
    outcome        text NOT NULL CHECK (outcome IN ('approve', 'review', 'deny')),
    amount         numeric(16,2) NOT NULL,
    credit_limit   numeric(16,2) NOT NULL,
    decided_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    policy_version integer NOT NULL,
    policy_hash    text NOT NULL,
    model_version  text NOT NULL,
    requested_by   text NOT NULL,
    request_hash   text NOT NULL,
    eval_us        bigint NOT NULL,
    total_us       bigint NOT NULL,
    failure        text,
    -- LZ4 rather than the default pglz: the input documents are a few kilobytes each and are
    -- written thousands of times a second.
    decision       jsonb COMPRESSION lz4 NOT NULL,
    input          jsonb COMPRESSION lz4 NOT NULL
);
CREATE INDEX decisions_client ON decisions (client_id, decided_at DESC, decision_id DESC);
CREATE INDEX decisions_time ON decisions (decided_at DESC, decision_id DESC);

-- +goose StatementBegin
CREATE FUNCTION decisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the decision log is append-only: % is refused', TG_OP;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER decisions_append_only BEFORE UPDATE OR DELETE ON decisions
    FOR EACH ROW EXECUTE FUNCTION decisions_append_only();

-- reservations: what approved quotes hold against their client's headroom. One is active until an
-- invoice carrying its quote_id arrives (consumed), it is released, or it expires.
CREATE TABLE reservations (
    decision_id text PRIMARY KEY REFERENCES decisions,
    quote_id    text NOT NULL,
    client_id   text NOT NULL,
    amount      numeric(16,2) NOT NULL CHECK (amount > 0),
    expires_at  timestamptz NOT NULL,
    released_at timestamptz,
    released_by text
);
CREATE INDEX reservations_open ON reservations (client_id, expires_at) WHERE released_at IS NULL;

-- +goose Down
DROP TABLE reservations;
DROP TRIGGER decisions_append_only ON decisions;
DROP FUNCTION decisions_append_only();
DROP TABLE decisions;
