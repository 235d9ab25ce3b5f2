-- +goose Up
-- Risk scores. scores holds the latest recorded score of each client under each model version;
-- score_history a row each time that score or its risk class changed, so finance can see a
-- client drift without a row per computation. Both are written by one statement
-- (postgres.Scores.Record): the upsert of scores locks the client's row, so concurrent
-- computations of one client (several replicas) add at most one history row per change.
CREATE TABLE scores (
    client_id     text NOT NULL,
    model_version text NOT NULL,
    score         integer NOT NULL,
    risk_class    text NOT NULL CHECK (risk_class IN ('A', 'B', 'C', 'D', 'E')),
    pd            double precision NOT NULL CHECK (pd >= 0 AND pd <= 1),
    computed_at   timestamptz NOT NULL,
    PRIMARY KEY (client_id, model_version)
);

-- score_history: inputs_as_of is {ledger, solvency, sanctions_list_version}; features holds the
-- inputs by feature name (null when missing), which with the model version reproduce the
-- explanation line by line.
CREATE TABLE score_history (
    history_id    bigserial PRIMARY KEY,
    client_id     text NOT NULL,
    model_version text NOT NULL,
    score         integer NOT NULL,
    risk_class    text NOT NULL CHECK (risk_class IN ('A', 'B', 'C', 'D', 'E')),
    pd            double precision NOT NULL CHECK (pd >= 0 AND pd <= 1),
    computed_at   timestamptz NOT NULL,
    inputs_as_of  jsonb NOT NULL,
    features      jsonb NOT NULL
);
CREATE INDEX score_history_client ON score_history (client_id, computed_at DESC, history_id DESC);

-- +goose Down
DROP TABLE score_history;
DROP TABLE scores;
