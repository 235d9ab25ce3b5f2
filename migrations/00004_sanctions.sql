-- +goose Up
-- Sanctions lists: every accepted version of each list with its entries, so that a restart or a
-- new replica loads them from here without downloading; the state of each source (its current
-- version and the outcome of the last refresh, refused downloads included); client screenings
-- with their hits; and reviewers' dispositions. Every write is audited in its transaction.

-- sanctions_list_versions: one row per accepted list version, kept for the record even when its
-- entries are pruned. version_id grows with every accepted version of any source, so the largest
-- current version id orders the sets of lists a client was screened against.
CREATE TABLE sanctions_list_versions (
    version_id   bigserial PRIMARY KEY,
    source       text NOT NULL CHECK (source IN ('ofac', 'un', 'eu', 'uk', 'fr')),
    content_hash text NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    entry_count  integer NOT NULL CHECK (entry_count > 0),
    origin       text NOT NULL CHECK (origin IN ('download', 'file')),
    location     text NOT NULL,
    loaded_at    timestamptz NOT NULL DEFAULT now(),
    loaded_by    text NOT NULL
);
CREATE INDEX sanctions_list_versions_source ON sanctions_list_versions (source, version_id);

-- sanctions_list_entries: the parsed entries of a version, in file order (ordinal), as JSONB.
CREATE TABLE sanctions_list_entries (
    version_id bigint NOT NULL REFERENCES sanctions_list_versions ON DELETE CASCADE,
    ordinal    integer NOT NULL,
    source_id  text NOT NULL,
    entry      jsonb NOT NULL,
    PRIMARY KEY (version_id, ordinal),
    UNIQUE (version_id, source_id)
);

-- sanctions_lists: per source, the version every replica serves and the last refresh attempt
-- (which may have been refused: the current version is then the last good one). validators
-- holds the ETag and Last-Modified of each downloaded file of the current version, for
-- conditional requests.
CREATE TABLE sanctions_lists (
    source          text PRIMARY KEY CHECK (source IN ('ofac', 'un', 'eu', 'uk', 'fr')),
    version_id      bigint REFERENCES sanctions_list_versions,
    validators      jsonb NOT NULL DEFAULT '{}',
    checked_at      timestamptz,
    outcome         text CHECK (outcome IN ('loaded', 'unchanged', 'not_modified', 'refused', 'failed')),
    message         text NOT NULL DEFAULT '',
    last_success_at timestamptz
);

-- sanctions_screenings: the latest screening of each client. client_updated_at is the client's
-- updated_at when it was screened and lists_serial the largest list version id screened against:
-- a screening is out of date when either is behind. digest fingerprints the status and the hit
-- set, so that a rescreen that changes nothing is not reported as a change.
CREATE TABLE sanctions_screenings (
    client_id         text PRIMARY KEY REFERENCES clients ON DELETE CASCADE,
    status            text NOT NULL CHECK (status IN ('clear', 'potential_match', 'confirmed')),
    lists_serial      bigint NOT NULL,
    client_updated_at timestamptz NOT NULL,
    digest            text NOT NULL,
    result            jsonb NOT NULL,
    screened_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sanctions_screenings_status ON sanctions_screenings (status, client_id) WHERE status <> 'clear';

-- sanctions_screening_hits: the hits of the latest screening (open, confirmed and cleared).
CREATE TABLE sanctions_screening_hits (
    client_id       text NOT NULL REFERENCES sanctions_screenings ON DELETE CASCADE,
    hit_id          text NOT NULL,
    entry_source    text NOT NULL,
    entry_source_id text NOT NULL,
    status          text NOT NULL CHECK (status IN ('open', 'confirmed', 'cleared')),
    subject         text NOT NULL,
    subject_name    text NOT NULL,
    matched_name    text NOT NULL,
    score           double precision NOT NULL,
    list_version    text NOT NULL,
    names_hash      text NOT NULL,
    PRIMARY KEY (client_id, hit_id)
);
CREATE INDEX sanctions_screening_hits_entry ON sanctions_screening_hits (entry_source, entry_source_id);

-- sanctions_dispositions: reviewers' decisions, append-only; for a client and an entry the
-- latest one counts. names_hash is the entry's names when decided: a cleared false positive is
-- raised again when they change.
CREATE TABLE sanctions_dispositions (
    disposition_id  bigserial PRIMARY KEY,
    client_id       text NOT NULL REFERENCES clients ON DELETE CASCADE,
    entry_source    text NOT NULL CHECK (entry_source IN ('ofac', 'un', 'eu', 'uk', 'fr')),
    entry_source_id text NOT NULL,
    verdict         text NOT NULL CHECK (verdict IN ('false_positive', 'confirmed')),
    names_hash      text NOT NULL,
    note            text NOT NULL CHECK (note <> ''),
    decided_by      text NOT NULL,
    decided_at      timestamptz NOT NULL
);
CREATE INDEX sanctions_dispositions_client ON sanctions_dispositions (client_id, decided_at);

-- +goose Down
DROP TABLE sanctions_dispositions;
DROP TABLE sanctions_screening_hits;
DROP TABLE sanctions_screenings;
DROP TABLE sanctions_lists;
DROP TABLE sanctions_list_entries;
DROP TABLE sanctions_list_versions;
