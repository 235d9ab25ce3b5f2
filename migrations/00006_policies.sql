-- +goose Up
-- policy_versions: every credit policy version ever created, numbered 1, 2, 3... without gaps.
-- A version is immutable once created (a trigger refuses any change to its content and every
-- DELETE): only its status moves, through activation. modules maps each Rego file name to its
-- source (tests included); data is the data tables exactly as given (text, so that the content
-- hash computed at creation, decision.ContentHash, can be recomputed from what is stored).
CREATE TABLE policy_versions (
    version    integer PRIMARY KEY CHECK (version > 0),
    parent     integer REFERENCES policy_versions (version),
    modules    jsonb NOT NULL CHECK (jsonb_typeof(modules) = 'object'),
    data       text NOT NULL,
    hash       text NOT NULL CHECK (hash ~ '^sha256:[0-9a-f]{64}$'),
    author     text NOT NULL CHECK (author <> ''),
    comment    text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    status     text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'retired'))
);
-- At most one version is active: what every replica serves.
CREATE UNIQUE INDEX policy_versions_one_active ON policy_versions ((true)) WHERE status = 'active';

-- +goose StatementBegin
CREATE FUNCTION policy_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION 'policy versions are never deleted: % is refused', TG_OP;
    END IF;
    IF NEW.version IS DISTINCT FROM OLD.version OR NEW.parent IS DISTINCT FROM OLD.parent
        OR NEW.modules IS DISTINCT FROM OLD.modules OR NEW.data IS DISTINCT FROM OLD.data
        OR NEW.hash IS DISTINCT FROM OLD.hash OR NEW.author IS DISTINCT FROM OLD.author
        OR NEW.comment IS DISTINCT FROM OLD.comment OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        RAISE EXCEPTION 'policy version % is immutable: only its status changes, through activation', OLD.version;
    END IF;
    -- draft or retired -> active (an activation, or a rollback), active -> retired (replaced).
    IF NEW.status <> OLD.status AND NOT (NEW.status = 'active' OR (OLD.status = 'active' AND NEW.status = 'retired')) THEN
        RAISE EXCEPTION 'policy version %: status % cannot become %', OLD.version, OLD.status, NEW.status;
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER policy_versions_immutable BEFORE UPDATE OR DELETE ON policy_versions
    FOR EACH ROW EXECUTE FUNCTION policy_versions_immutable();
CREATE TRIGGER policy_versions_no_truncate BEFORE TRUNCATE ON policy_versions
    FOR EACH STATEMENT EXECUTE FUNCTION policy_versions_immutable();

-- policy_activations: the history of what was served when, append-only. previous is the version
-- the activation retired (NULL for the first one); activating an older version is a rollback.
CREATE TABLE policy_activations (
    activation_id bigserial PRIMARY KEY,
    version       integer NOT NULL REFERENCES policy_versions (version),
    previous      integer REFERENCES policy_versions (version),
    activated_by  text NOT NULL,
    activated_at  timestamptz NOT NULL DEFAULT now(),
    comment       text NOT NULL DEFAULT ''
);
CREATE INDEX policy_activations_version ON policy_activations (version, activated_at DESC);

-- +goose StatementBegin
CREATE FUNCTION policy_activations_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the policy activation history is append-only: % is refused', TG_OP;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER policy_activations_append_only BEFORE UPDATE OR DELETE ON policy_activations
    FOR EACH ROW EXECUTE FUNCTION policy_activations_append_only();

-- +goose Down
DROP TABLE policy_activations;
DROP FUNCTION policy_activations_append_only();
DROP TABLE policy_versions;
DROP FUNCTION policy_versions_immutable();
