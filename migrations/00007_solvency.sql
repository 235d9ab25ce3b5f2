-- +goose Up
-- External solvency data (BODACC, SIRENE, bureau reports, bureau CSV imports): every normalised
-- snapshot a provider gave about a client's company (the last few per provider are kept, with the
-- raw payload), and per client and provider the latest snapshot and the last failed fetch, which
-- decisions and scores read without ever calling a provider.
--
-- company_key is the client's "country|registration_id" when the snapshot was stored: a snapshot
-- describes the company behind that number, so once the client's number or country changes, its
-- earlier snapshots and failures no longer count (readers compare the key with the client's).
--
-- No FOREIGN KEY: a per-row check costs more than the row on a bureau import (as for invoices).
-- The store enforces them instead: every write reads the client in its transaction (clients are
-- never deleted), and a state row only ever points to a snapshot written with it; pruning keeps
-- the snapshots a state row points to.

-- solvency_snapshots: normalised snapshots, one column per field of solvency.Snapshot; raw keeps
-- the provider's payload as received (json, not jsonb, so it is byte for byte what came in).
CREATE TABLE solvency_snapshots (
    snapshot_id              bigserial PRIMARY KEY,
    client_id                text NOT NULL,
    provider                 text NOT NULL CHECK (provider ~ '^[a-z][a-z0-9_]{0,31}$'),
    company_key              text NOT NULL,
    source                   text NOT NULL CHECK (source IN ('fetch', 'import')),
    fetched_at               timestamptz NOT NULL,
    recorded_at              timestamptz NOT NULL DEFAULT now(),
    recorded_by              text NOT NULL,
    not_found                boolean NOT NULL DEFAULT false,
    company_status           text NOT NULL CHECK (company_status IN ('active', 'closed', 'unknown')),
    status_date              date,
    insolvency_open          boolean NOT NULL,
    insolvency_kind          text CHECK (insolvency_kind IN ('safeguard', 'receivership', 'liquidation', 'other')),
    insolvency_judgment_date date,
    insolvency_closed_date   date,
    insolvency_plan          boolean NOT NULL DEFAULT false,
    insolvency_nature        text NOT NULL DEFAULT '',
    grade                    smallint CHECK (grade BETWEEN 1 AND 10),
    raw_score                text NOT NULL DEFAULT '',
    scale                    text NOT NULL DEFAULT '',
    recommended_limit        numeric(16,2) CHECK (recommended_limit >= 0),
    revenue                  numeric(16,2),
    equity                   numeric(16,2),
    negative_equity          boolean,
    negative_information     boolean,
    creation_date            date,
    legal_category           text NOT NULL DEFAULT '',
    naf                      text NOT NULL DEFAULT '',
    size_band                text NOT NULL DEFAULT '',
    warnings                 text[] NOT NULL DEFAULT '{}',
    raw                      json,
    CHECK (NOT insolvency_open OR insolvency_kind IS NOT NULL),
    CHECK (equity IS NULL OR negative_equity = (equity < 0))
);
CREATE INDEX solvency_snapshots_client ON solvency_snapshots (client_id, provider, fetched_at DESC, snapshot_id DESC);

-- solvency_state: per client and provider, the latest snapshot (the newest fetched_at for the
-- company_key) and the last failed fetch with its error. A failure newer than the snapshot marks
-- the client's solvency data stale until the next success; the snapshot itself stays.
CREATE TABLE solvency_state (
    client_id   text NOT NULL,
    provider    text NOT NULL CHECK (provider ~ '^[a-z][a-z0-9_]{0,31}$'),
    company_key text NOT NULL,
    snapshot_id bigint,
    fetched_at  timestamptz,
    failed_at   timestamptz,
    failure     text,
    PRIMARY KEY (client_id, provider),
    CHECK ((snapshot_id IS NULL) = (fetched_at IS NULL)),
    CHECK ((failed_at IS NULL) = (failure IS NULL))
) WITH (fillfactor = 80); -- only the key is indexed and pages keep room: refreshes are HOT updates

-- +goose Down
DROP TABLE solvency_state;
DROP TABLE solvency_snapshots;
