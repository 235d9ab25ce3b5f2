package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/credorisk/credo/internal/sanctions"
)

const subjectColumns = `c.client_id, c.name, coalesce(c.country, ''), c.directors, c.updated_at`

// Subject returns a client with its dispositions and its stored screening (nil if none).
func (s *Sanctions) Subject(ctx context.Context, clientID string) (sanctions.Subject, *sanctions.Screening, error) {
	var sub sanctions.Subject
	var names []string
	var result, dispositions []byte
	var serial *int64
	var clientUpdatedAt *time.Time
	var dig *string
	// One round trip: this is on the path of every quote decision.
	err := s.db.Pool.QueryRow(ctx, `SELECT `+subjectColumns+`, s.result, s.lists_serial, s.client_updated_at, s.digest,
			(SELECT coalesce(json_agg(json_build_object('client_id', d.client_id,
				'entry', json_build_object('source', d.entry_source, 'source_id', d.entry_source_id),
				'verdict', d.verdict, 'names_hash', d.names_hash, 'note', d.note, 'decided_by', d.decided_by,
				'decided_at', to_char(d.decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
				ORDER BY d.decided_at, d.disposition_id), '[]')
			FROM sanctions_dispositions d WHERE d.client_id = c.client_id)
		FROM clients c LEFT JOIN sanctions_screenings s USING (client_id) WHERE c.client_id = $1`, clientID).
		Scan(&sub.Party.ClientID, &sub.Party.Name, &sub.Party.Country, &names, &sub.UpdatedAt, &result, &serial, &clientUpdatedAt, &dig, &dispositions)
	if isNoRows(err) {
		return sub, nil, notFound("client", clientID)
	}
	if err != nil {
		return sub, nil, unavailable(err, "read client screening")
	}
	sub.Party.Directors = directors(names)
	var stored *sanctions.Screening
	if result != nil {
		stored = &sanctions.Screening{}
		if err := json.Unmarshal(result, stored); err != nil {
			return sub, nil, fmt.Errorf("screening of %s: %w", clientID, err)
		}
		stored.ListsSerial, stored.ClientUpdatedAt, stored.Digest = *serial, *clientUpdatedAt, *dig
		sub.Screened = &sanctions.ScreeningMark{ListsSerial: *serial, ClientUpdatedAt: *clientUpdatedAt, Digest: *dig}
	}
	if err := json.Unmarshal(dispositions, &sub.Dispositions); err != nil {
		return sub, nil, fmt.Errorf("dispositions of %s: %w", clientID, err)
	}
	if len(sub.Dispositions) == 0 {
		sub.Dispositions = nil
	}
	return sub, stored, nil
}

func directors(names []string) []sanctions.Director {
	out := make([]sanctions.Director, 0, len(names))
	for _, n := range names {
		out = append(out, sanctions.Director{Name: n})
	}
	return out
}

// StaleSubjects returns clients never screened, changed since, or screened against lists older
// than f.ListsSerial, in client_id order.
func (s *Sanctions) StaleSubjects(ctx context.Context, f sanctions.StaleFilter) ([]sanctions.Subject, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT `+subjectColumns+`, s.lists_serial, s.client_updated_at, s.digest
		FROM clients c LEFT JOIN sanctions_screenings s USING (client_id)
		WHERE ($1::text[] IS NULL OR c.client_id = ANY($1)) AND c.client_id > $2
			AND (s.client_id IS NULL OR s.lists_serial < $3 OR s.client_updated_at <> c.updated_at)
		ORDER BY c.client_id LIMIT $4`, f.IDs, f.After, f.ListsSerial, f.Limit)
	if err != nil {
		return nil, unavailable(err, "find clients to screen")
	}
	subs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (sanctions.Subject, error) {
		var sub sanctions.Subject
		var names []string
		var serial *int64
		var clientUpdatedAt *time.Time
		var dig *string
		err := r.Scan(&sub.Party.ClientID, &sub.Party.Name, &sub.Party.Country, &names, &sub.UpdatedAt, &serial, &clientUpdatedAt, &dig)
		sub.Party.Directors = directors(names)
		if serial != nil {
			sub.Screened = &sanctions.ScreeningMark{ListsSerial: *serial, ClientUpdatedAt: *clientUpdatedAt, Digest: *dig}
		}
		return sub, err
	})
	if err != nil {
		return nil, unavailable(err, "find clients to screen")
	}
	if len(subs) == 0 {
		return subs, nil
	}
	keys := make([]string, len(subs))
	for i := range subs {
		keys[i] = subs[i].Party.ClientID
	}
	ds, err := s.dispositions(ctx, keys)
	if err != nil {
		return nil, err
	}
	for i := range subs {
		subs[i].Dispositions = ds[subs[i].Party.ClientID]
	}
	return subs, nil
}

// dispositions reads the dispositions of clients, oldest first.
func (s *Sanctions) dispositions(ctx context.Context, clientIDs []string) (map[string][]sanctions.Disposition, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT client_id, entry_source, entry_source_id, verdict, names_hash, note, decided_by, decided_at
		FROM sanctions_dispositions WHERE client_id = ANY($1) ORDER BY client_id, decided_at, disposition_id`, clientIDs)
	if err != nil {
		return nil, unavailable(err, "read dispositions")
	}
	out := map[string][]sanctions.Disposition{}
	_, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct{}, error) {
		var d sanctions.Disposition
		var src, verdict string
		err := r.Scan(&d.ClientID, &src, &d.Entry.SourceID, &verdict, &d.NamesHash, &d.Note, &d.DecidedBy, &d.DecidedAt)
		d.Entry.Source, d.Verdict, d.DecidedAt = sanctions.Source(src), sanctions.Verdict(verdict), d.DecidedAt.UTC()
		out[d.ClientID] = append(out[d.ClientID], d)
		return struct{}{}, err
	})
	return out, unavailable(err, "read dispositions")
}

// SaveScreenings stores screenings, replacing each client's hits, and returns the clients whose
// status or hits changed (a first screening counts as a change); each change is audited. A
// screening is skipped when the client changed after it was read, or when the stored one was
// computed from newer lists or newer client data: concurrent screenings (a request and the
// background pass, two replicas) never put an older result back.
func (s *Sanctions) SaveScreenings(ctx context.Context, scs []sanctions.Screening, actor string) ([]string, error) {
	if len(scs) == 0 {
		return nil, nil
	}
	ids := make([]string, len(scs))
	for i := range scs {
		ids[i] = scs[i].ClientID
	}
	var changed []string
	err := s.db.inTx(ctx, "save screenings", func(tx pgx.Tx) error {
		type prevRow struct {
			status, digest string
			serial         int64
			clientAt       time.Time
		}
		prev := map[string]prevRow{}
		rows, err := tx.Query(ctx, `SELECT client_id, status, digest, lists_serial, client_updated_at FROM sanctions_screenings
			WHERE client_id = ANY($1) ORDER BY client_id FOR UPDATE`, ids)
		if err != nil {
			return err
		}
		_, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct{}, error) {
			var id string
			var p prevRow
			err := r.Scan(&id, &p.status, &p.digest, &p.serial, &p.clientAt)
			prev[id] = p
			return struct{}{}, err
		})
		if err != nil {
			return err
		}
		updated := map[string]time.Time{}
		rows, err = tx.Query(ctx, `SELECT client_id, updated_at FROM clients WHERE client_id = ANY($1)`, ids)
		if err != nil {
			return err
		}
		_, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct{}, error) {
			var id string
			var at time.Time
			err := r.Scan(&id, &at)
			updated[id] = at
			return struct{}{}, err
		})
		if err != nil {
			return err
		}
		var w screeningRows
		for i := range scs {
			sc := &scs[i]
			at, ok := updated[sc.ClientID]
			if !ok || !at.Equal(sc.ClientUpdatedAt) {
				continue // the client changed (or went) after it was read: a newer screening follows
			}
			p, had := prev[sc.ClientID]
			if had && (p.serial > sc.ListsSerial || p.clientAt.After(sc.ClientUpdatedAt)) {
				continue
			}
			if err := w.add(sc); err != nil {
				return err
			}
			if !had || p.digest != sc.Digest {
				changed = append(changed, sc.ClientID)
				if err := audit(ctx, tx, actor, "screening.changed", "client", sc.ClientID, map[string]any{
					"status": sc.Status, "previous_status": prevStatus(p.status, had), "hits": hitIDs(sc.Hits),
					"cleared": hitIDs(sc.Cleared), "list_versions": sc.ListVersions}); err != nil {
					return err
				}
			}
		}
		return w.write(ctx, tx)
	})
	if err != nil {
		return nil, err
	}
	return changed, nil
}

func prevStatus(s string, had bool) string {
	if !had {
		return string(sanctions.StatusNotScreened)
	}
	return s
}

func hitIDs(hs []sanctions.Hit) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.ID
	}
	return out
}

// screeningRows gathers screenings and their hits as column arrays for set-based writes.
type screeningRows struct {
	ids, statuses, digests, results []string
	serials                         []int64
	clientAts, screenedAts          []time.Time

	hClient, hID, hSource, hSourceID, hStatus, hSubject, hSubjectName, hMatched, hListVersion, hNamesHash []string
	hScore                                                                                                []float64
}

func (w *screeningRows) add(sc *sanctions.Screening) error {
	b, err := json.Marshal(sc)
	if err != nil {
		return fmt.Errorf("encode screening of %s: %w", sc.ClientID, err)
	}
	screened := time.Now().UTC()
	if sc.ScreenedAt != nil {
		screened = *sc.ScreenedAt
	}
	w.ids = append(w.ids, sc.ClientID)
	w.statuses = append(w.statuses, string(sc.Status))
	w.digests = append(w.digests, sc.Digest)
	w.results = append(w.results, string(b))
	w.serials = append(w.serials, sc.ListsSerial)
	w.clientAts = append(w.clientAts, sc.ClientUpdatedAt)
	w.screenedAts = append(w.screenedAts, screened)
	for _, hs := range [][]sanctions.Hit{sc.Hits, sc.Cleared} {
		for _, h := range hs {
			w.hClient = append(w.hClient, sc.ClientID)
			w.hID = append(w.hID, h.ID)
			w.hSource = append(w.hSource, string(h.Entry.Source))
			w.hSourceID = append(w.hSourceID, h.Entry.SourceID)
			w.hStatus = append(w.hStatus, string(h.Status))
			w.hSubject = append(w.hSubject, h.Subject)
			w.hSubjectName = append(w.hSubjectName, h.SubjectName)
			w.hMatched = append(w.hMatched, h.MatchedName)
			w.hScore = append(w.hScore, h.Score)
			w.hListVersion = append(w.hListVersion, h.ListVersion)
			w.hNamesHash = append(w.hNamesHash, h.NamesHash)
		}
	}
	return nil
}

func (w *screeningRows) write(ctx context.Context, tx pgx.Tx) error {
	if len(w.ids) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO sanctions_screenings (client_id, status, lists_serial, client_updated_at, digest, result, screened_at)
		SELECT id, st, serial, cat, dig, res::jsonb, sat
		FROM unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[], $5::text[], $6::text[], $7::timestamptz[])
			AS t(id, st, serial, cat, dig, res, sat)
		ON CONFLICT (client_id) DO UPDATE SET status = EXCLUDED.status, lists_serial = EXCLUDED.lists_serial,
			client_updated_at = EXCLUDED.client_updated_at, digest = EXCLUDED.digest, result = EXCLUDED.result,
			screened_at = EXCLUDED.screened_at`,
		w.ids, w.statuses, w.serials, w.clientAts, w.digests, w.results, w.screenedAts); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM sanctions_screening_hits WHERE client_id = ANY($1)`, w.ids); err != nil {
		return err
	}
	if len(w.hID) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO sanctions_screening_hits (client_id, hit_id, entry_source, entry_source_id, status, subject,
			subject_name, matched_name, score, list_version, names_hash)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::text[], $9::float8[], $10::text[], $11::text[])`,
		w.hClient, w.hID, w.hSource, w.hSourceID, w.hStatus, w.hSubject, w.hSubjectName, w.hMatched, w.hScore, w.hListVersion, w.hNamesHash)
	return err
}

// AddDisposition records a reviewer's decision, audited.
func (s *Sanctions) AddDisposition(ctx context.Context, d sanctions.Disposition, actor string) error {
	return s.db.inTx(ctx, "add disposition", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO sanctions_dispositions (client_id, entry_source, entry_source_id, verdict, names_hash, note, decided_by, decided_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			d.ClientID, string(d.Entry.Source), d.Entry.SourceID, string(d.Verdict), d.NamesHash, d.Note, d.DecidedBy, d.DecidedAt)
		if pgCode(err) == pgForeignKeyViolation {
			return notFound("client", d.ClientID)
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, actor, "screening.disposition", "client", d.ClientID, d)
	})
}
