package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/credorisk/credo/internal/scoring"
)

// Scores keeps the latest score of each client per model version and the history of its
// changes (migrations/00003_scores.sql); it implements scoring.Store.
type Scores struct {
	db *DB
}

// NewScores returns the score store over db.
func NewScores(db *DB) *Scores { return &Scores{db: db} }

// recordSQL upserts the latest scores and adds a history row for each one that changed, in one
// statement. prev is read from the statement's snapshot, before the upsert, to report the
// class each client had. The upsert's WHERE leaves an unchanged score alone, and its row lock
// makes a concurrent recording of the same change wait and then find nothing to change: two
// replicas scoring one client at once add one history row, not two.
const recordSQL = `
WITH input AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::float8[], $6::timestamptz[], $7::jsonb[], $8::jsonb[])
		AS u(client_id, model_version, score, risk_class, pd, computed_at, inputs_as_of, features)
), prev AS (
	SELECT s.client_id, s.model_version, s.risk_class FROM scores s JOIN input i USING (client_id, model_version)
), up AS (
	INSERT INTO scores AS s (client_id, model_version, score, risk_class, pd, computed_at)
	SELECT client_id, model_version, score, risk_class, pd, computed_at FROM input
	ON CONFLICT (client_id, model_version) DO UPDATE
		SET score = excluded.score, risk_class = excluded.risk_class, pd = excluded.pd, computed_at = excluded.computed_at
		WHERE (s.score, s.risk_class) IS DISTINCT FROM (excluded.score, excluded.risk_class)
	RETURNING s.client_id, s.model_version, s.risk_class
), hist AS (
	INSERT INTO score_history (client_id, model_version, score, risk_class, pd, computed_at, inputs_as_of, features)
	SELECT i.client_id, i.model_version, i.score, i.risk_class, i.pd, i.computed_at, i.inputs_as_of, i.features
	FROM input i JOIN up USING (client_id, model_version)
)
SELECT up.client_id, coalesce(prev.risk_class, ''), up.risk_class FROM up LEFT JOIN prev USING (client_id, model_version)`

// Record implements scoring.Store: entries become their clients' latest scores, and those whose
// score or class changed (or that are the first) get a history row. Each client may appear
// once per model version in one call.
func (s *Scores) Record(ctx context.Context, entries []scoring.HistoryEntry) ([]scoring.Change, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	n := len(entries)
	ids, versions, classes := make([]string, n), make([]string, n), make([]string, n)
	scores, pds, at := make([]int32, n), make([]float64, n), make([]time.Time, n)
	inputs, features := make([][]byte, n), make([][]byte, n)
	for i, e := range entries {
		ids[i], versions[i], classes[i] = e.ClientID, e.ModelVersion, e.RiskClass
		scores[i], pds[i], at[i] = int32(e.Score), e.PD, e.ComputedAt
		var err error
		if inputs[i], err = json.Marshal(e.InputsAsOf); err != nil {
			return nil, err
		}
		if features[i], err = json.Marshal(e.Features); err != nil {
			return nil, err
		}
	}
	rows, err := s.db.Pool.Query(ctx, recordSQL, ids, versions, scores, classes, pds, at, jsonbArg(inputs), jsonbArg(features))
	if err != nil {
		return nil, unavailable(err, "record scores")
	}
	defer rows.Close()
	var out []scoring.Change
	for rows.Next() {
		var c scoring.Change
		if err := rows.Scan(&c.ClientID, &c.From, &c.To); err != nil {
			return nil, unavailable(err, "record scores")
		}
		out = append(out, c)
	}
	return out, unavailable(rows.Err(), "record scores")
}

// jsonbArg sends JSON documents as text, which Postgres casts to jsonb[]: pgx would otherwise
// encode a [][]byte as bytea[].
func jsonbArg(docs [][]byte) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = string(d)
	}
	return out
}

// History implements scoring.Store: the client's recorded scores, newest first.
func (s *Scores) History(ctx context.Context, clientID string, limit int) ([]scoring.HistoryEntry, error) {
	rows, err := s.db.Pool.Query(ctx, `
		SELECT h.model_version, h.score, h.risk_class, h.pd, h.computed_at, h.inputs_as_of, h.features
		FROM clients c LEFT JOIN LATERAL (
			SELECT * FROM score_history h WHERE h.client_id = c.client_id
			ORDER BY h.computed_at DESC, h.history_id DESC LIMIT $2) h ON true
		WHERE c.client_id = $1`, clientID, limit)
	if err != nil {
		return nil, unavailable(err, "score history")
	}
	defer rows.Close()
	found := false
	out := []scoring.HistoryEntry{}
	for rows.Next() {
		found = true
		var (
			version, class   *string
			score            *int32
			pd               *float64
			at               *time.Time
			inputs, features []byte
		)
		if err := rows.Scan(&version, &score, &class, &pd, &at, &inputs, &features); err != nil {
			return nil, unavailable(err, "score history")
		}
		if version == nil {
			continue // the client, without any score yet
		}
		e := scoring.HistoryEntry{ClientID: clientID, ModelVersion: *version, Score: int(*score), RiskClass: *class,
			PD: *pd, ComputedAt: at.UTC()}
		if err := json.Unmarshal(inputs, &e.InputsAsOf); err != nil {
			return nil, fmt.Errorf("score history of %s: inputs_as_of: %w", clientID, err)
		}
		if err := json.Unmarshal(features, &e.Features); err != nil {
			return nil, fmt.Errorf("score history of %s: features: %w", clientID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(err, "score history")
	}
	if !found {
		return nil, notFound("client", clientID)
	}
	return out, nil
}

var _ scoring.Store = (*Scores)(nil)

// ClientIDs implements scoring.Store: every client id, in order.
func (s *Scores) ClientIDs(ctx context.Context) ([]string, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT client_id FROM clients ORDER BY client_id`)
	if err != nil {
		return nil, unavailable(err, "list clients")
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, unavailable(err, "list clients")
		}
		out = append(out, id)
	}
	return out, unavailable(rows.Err(), "list clients")
}
