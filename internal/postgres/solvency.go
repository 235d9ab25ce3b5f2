package postgres

import (
	"context"
	"encoding/json"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/solvency"
)

// Solvency stores solvency snapshots (the last keptSnapshots per client and provider, with their
// raw payloads) and, per client and provider, the latest snapshot and the last failed fetch.
// Every read answers for the client's current company: rows stored under another company key
// (the client's registration id or country has changed since) are ignored.
type Solvency struct{ db *DB }

// NewSolvency returns the solvency store.
func NewSolvency(db *DB) *Solvency { return &Solvency{db: db} }

var _ solvency.ServiceStore = (*Solvency)(nil)

// keptSnapshots is how many snapshots of a client by one provider are kept: the latest and a few
// before it, to see what changed. Older ones are pruned when a new one is stored.
const keptSnapshots = 10

// maxFailureLen bounds the stored error text of a failed fetch.
const maxFailureLen = 2000

// solvencyCompanyKey is the company a client's snapshots describe: its country and registration id.
const solvencyCompanyKey = `(coalesce(c.country::text, '') || '|' || coalesce(c.registration_id, ''))`

// Company returns the client's company as the providers look it up.
func (s *Solvency) Company(ctx context.Context, clientID string) (solvency.Company, error) {
	var c solvency.Company
	err := s.db.Pool.QueryRow(ctx, `SELECT client_id, name, coalesce(registration_id, ''), coalesce(country::text, '')
		FROM clients WHERE client_id = $1`, clientID).Scan(&c.ClientID, &c.Name, &c.RegistrationID, &c.Country)
	if isNoRows(err) {
		return c, fault.Errorf(fault.NotFound, "no client %q", clientID)
	}
	return c, unavailable(err, "read client company")
}

// DueStates lists the clients a background pass should fetch (solvency.ServiceStore). Only
// companies the providers can look up are listed: a French SIREN, SIRET or VAT number.
func (s *Solvency) DueStates(ctx context.Context, q solvency.DueQuery) ([]solvency.FetchState, error) {
	if len(q.Providers) == 0 || q.Limit <= 0 {
		return nil, nil
	}
	rows, err := s.db.Pool.Query(ctx, `
		WITH due AS (
			SELECT c.client_id, min(coalesce(st.fetched_at, '-infinity')) AS oldest
			FROM clients c
			CROSS JOIN unnest($1::text[]) AS p(provider)
			LEFT JOIN solvency_state st ON st.client_id = c.client_id AND st.provider = p.provider
				AND st.company_key = `+solvencyCompanyKey+`
			WHERE c.registration_id ~ '^([0-9]{9}|[0-9]{14}|FR[0-9]{11})$' AND coalesce(c.country, 'FR') = 'FR'
				AND (st.fetched_at IS NULL OR st.fetched_at < $2)
				AND NOT (st.failed_at IS NOT NULL AND st.failed_at > coalesce(st.fetched_at, '-infinity') AND st.failed_at > $3)
			GROUP BY c.client_id
			ORDER BY oldest, c.client_id
			LIMIT $4)
		SELECT c.client_id, c.name, coalesce(c.registration_id, ''), coalesce(c.country::text, ''), st.provider, st.fetched_at, st.failed_at
		FROM due JOIN clients c USING (client_id)
		LEFT JOIN solvency_state st ON st.client_id = c.client_id AND st.company_key = `+solvencyCompanyKey+`
		ORDER BY due.oldest, c.client_id`, q.Providers, q.StaleBefore, q.FailedSince, q.Limit)
	if err != nil {
		return nil, unavailable(err, "list due solvency fetches")
	}
	defer rows.Close()
	var out []solvency.FetchState
	for rows.Next() {
		var c solvency.Company
		var provider *string
		var fetched, failed *time.Time
		if err := rows.Scan(&c.ClientID, &c.Name, &c.RegistrationID, &c.Country, &provider, &fetched, &failed); err != nil {
			return nil, unavailable(err, "list due solvency fetches")
		}
		if len(out) == 0 || out[len(out)-1].Company.ClientID != c.ClientID {
			out = append(out, solvency.FetchState{Company: c, LastSnapshot: map[string]time.Time{}, LastFailure: map[string]time.Time{}})
		}
		st := &out[len(out)-1]
		if provider != nil && fetched != nil {
			st.LastSnapshot[*provider] = fetched.UTC()
		}
		if provider != nil && failed != nil {
			st.LastFailure[*provider] = failed.UTC()
		}
	}
	return out, unavailable(rows.Err(), "list due solvency fetches")
}

// solvencySnapshotColumns are the columns of solvency_snapshots written from a Snapshot, in COPY order.
var solvencySnapshotColumns = []string{"snapshot_id", "client_id", "provider", "company_key", "source", "fetched_at", "recorded_by",
	"not_found", "company_status", "status_date", "insolvency_open", "insolvency_kind", "insolvency_judgment_date",
	"insolvency_closed_date", "insolvency_plan", "insolvency_nature", "grade", "raw_score", "scale", "recommended_limit",
	"revenue", "equity", "negative_equity", "negative_information", "creation_date", "legal_category", "naf", "size_band",
	"warnings", "raw"}

// solvencyReplaces is true when the new state row's snapshot (excluded) should replace the stored one:
// another company, none stored, or at least as recent.
const solvencyReplaces = `(st.company_key <> excluded.company_key OR st.fetched_at IS NULL OR excluded.fetched_at >= st.fetched_at)`

// SaveSnapshots stores snapshots by COPY in one transaction and moves each client's latest
// pointer (solvency.ServiceStore).
func (s *Solvency) SaveSnapshots(ctx context.Context, snaps []solvency.Snapshot, info solvency.SaveInfo) ([]int, error) {
	if len(snaps) == 0 {
		return nil, nil
	}
	for i := range snaps {
		if err := snaps[i].Validate(); err != nil {
			return nil, err // a caller's defect: the Refresher and imports validate first
		}
	}
	var missing []int
	err := s.db.inTx(ctx, "save solvency snapshots", func(tx pgx.Tx) error {
		missing = nil
		ids := make([]string, 0, len(snaps))
		seen := map[string]bool{}
		for _, sn := range snaps {
			if !seen[sn.ClientID] {
				seen[sn.ClientID] = true
				ids = append(ids, sn.ClientID)
			}
		}
		keys := map[string]string{}
		rows, err := tx.Query(ctx, `SELECT c.client_id, `+solvencyCompanyKey+` FROM clients c WHERE c.client_id = ANY($1)`, ids)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, key string
			if err := rows.Scan(&id, &key); err != nil {
				rows.Close()
				return err
			}
			keys[id] = key
		}
		if err := rows.Err(); err != nil {
			return err
		}
		var keep []int
		for i, sn := range snaps {
			if _, ok := keys[sn.ClientID]; ok {
				keep = append(keep, i)
			} else {
				missing = append(missing, i)
			}
		}
		if len(keep) == 0 || info.Atomic && len(missing) > 0 {
			return nil
		}
		var snapIDs []int64
		if err := tx.QueryRow(ctx, `SELECT array_agg(nextval('solvency_snapshots_snapshot_id_seq')) FROM generate_series(1, $1)`,
			len(keep)).Scan(&snapIDs); err != nil {
			return err
		}
		src := pgx.CopyFromSlice(len(keep), func(i int) ([]any, error) {
			sn := snaps[keep[i]]
			return solvencySnapshotValues(snapIDs[i], sn, keys[sn.ClientID], info), nil
		})
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"solvency_snapshots"}, solvencySnapshotColumns, src); err != nil {
			return err
		}
		latest := solvencyLatest(snaps, keep, snapIDs, keys)
		if _, err := tx.Exec(ctx, `
			INSERT INTO solvency_state AS st (client_id, provider, company_key, snapshot_id, fetched_at)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::timestamptz[])
			ON CONFLICT (client_id, provider) DO UPDATE SET
				company_key = excluded.company_key,
				snapshot_id = CASE WHEN `+solvencyReplaces+` THEN excluded.snapshot_id ELSE st.snapshot_id END,
				fetched_at = CASE WHEN `+solvencyReplaces+` THEN excluded.fetched_at ELSE st.fetched_at END,
				failed_at = CASE WHEN st.company_key <> excluded.company_key OR st.failed_at <= excluded.fetched_at THEN NULL ELSE st.failed_at END,
				failure = CASE WHEN st.company_key <> excluded.company_key OR st.failed_at <= excluded.fetched_at THEN NULL ELSE st.failure END`,
			latest.clients, latest.providers, latest.keys, latest.ids, latest.at); err != nil {
			return err
		}
		// History beyond keptSnapshots per client and provider, newest first through the index;
		// never a snapshot a state row points to.
		if _, err := tx.Exec(ctx, `
			DELETE FROM solvency_snapshots s USING (
				SELECT o.snapshot_id FROM unnest($1::text[], $2::text[]) AS p(client_id, provider)
				CROSS JOIN LATERAL (
					SELECT x.snapshot_id FROM solvency_snapshots x WHERE x.client_id = p.client_id AND x.provider = p.provider
					ORDER BY x.fetched_at DESC, x.snapshot_id DESC OFFSET $3) o) old
			WHERE s.snapshot_id = old.snapshot_id
				AND NOT EXISTS (SELECT 1 FROM solvency_state st
					WHERE st.client_id = s.client_id AND st.provider = s.provider AND st.snapshot_id = s.snapshot_id)`,
			latest.clients, latest.providers, keptSnapshots); err != nil {
			return err
		}
		if info.Source != solvency.SourceImport {
			return nil
		}
		return audit(ctx, tx, info.Actor, "solvency.import", "solvency", snaps[0].Provider, map[string]any{
			"snapshots": len(keep), "clients": len(keys), "missing": len(missing)})
	})
	if err != nil {
		return nil, err
	}
	return missing, nil
}

// solvencyLatestRows are, per client and provider, the newest of the snapshots just stored, as
// the columns of solvency_state.
type solvencyLatestRows struct {
	clients, providers, keys []string
	ids                      []int64
	at                       []time.Time
}

// solvencyLatest picks the newest stored snapshot per client and provider (the later one of a
// tie, as its id is larger).
func solvencyLatest(snaps []solvency.Snapshot, keep []int, ids []int64, keys map[string]string) solvencyLatestRows {
	type pair struct{ client, provider string }
	best := map[pair]int{} // pair -> position in keep
	var order []pair
	for i, k := range keep {
		p := pair{snaps[k].ClientID, snaps[k].Provider}
		j, seen := best[p]
		if !seen {
			order = append(order, p)
		}
		if !seen || !snaps[k].FetchedAt.Before(snaps[keep[j]].FetchedAt) {
			best[p] = i
		}
	}
	var out solvencyLatestRows
	for _, p := range order {
		i := best[p]
		out.clients, out.providers, out.keys = append(out.clients, p.client), append(out.providers, p.provider), append(out.keys, keys[p.client])
		out.ids, out.at = append(out.ids, ids[i]), append(out.at, snaps[keep[i]].FetchedAt.UTC().Truncate(time.Microsecond))
	}
	return out
}

// solvencySnapshotValues is a snapshot as a COPY row (solvencySnapshotColumns).
func solvencySnapshotValues(id int64, sn solvency.Snapshot, key string, info solvency.SaveInfo) []any {
	ins := sn.Insolvency
	var grade *int16
	if sn.Grade != nil {
		g := int16(*sn.Grade)
		grade = &g
	}
	warnings := make([]string, len(sn.Warnings))
	for i, w := range sn.Warnings {
		warnings[i] = snapText(w)
	}
	return []any{id, sn.ClientID, sn.Provider, key, info.Source, sn.FetchedAt.UTC().Truncate(time.Microsecond), snapText(info.Actor),
		sn.NotFound, sn.CompanyStatus, snapDate(sn.StatusDate), ins.Open, nullable(ins.Kind), snapDate(ins.JudgmentDate),
		snapDate(ins.ClosedDate), ins.Plan, snapText(ins.Nature), grade, snapText(sn.RawScore), snapText(sn.Scale), snapMoney(sn.RecommendedLimit),
		snapMoney(sn.Revenue), snapMoney(sn.Equity), sn.NegativeEquity, sn.NegativeInformation, snapDate(sn.CreationDate),
		snapText(sn.LegalCategory), snapText(sn.NAF), snapText(sn.SizeBand), warnings, snapRaw(sn.Raw)}
}

func snapDate(d *ledger.Date) pgtype.Date {
	if d == nil {
		return pgtype.Date{}
	}
	return pgtype.Date{Time: d.Time(), Valid: true}
}

func snapMoney(m *ledger.Money) pgtype.Numeric {
	if m == nil {
		return pgtype.Numeric{}
	}
	return pgtype.Numeric{Int: big.NewInt(int64(*m)), Exp: -2, Valid: true}
}

// snapText makes provider text storable: Postgres text holds no NUL and only valid UTF-8.
func snapText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.ReplaceAll(s, "\x00", "")
}

// snapRaw is the payload for the json column; one that is not JSON is kept as a JSON string, so
// nothing a provider sent is lost.
func snapRaw(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	if !json.Valid(raw) || strings.Contains(string(raw), `\u0000`) {
		b, _ := json.Marshal(snapText(string(raw)))
		return string(b)
	}
	return string(raw)
}

// MissingClients returns the ids that are no client (solvency.ServiceStore).
func (s *Solvency) MissingClients(ctx context.Context, clientIDs []string) ([]string, error) {
	if len(clientIDs) == 0 {
		return nil, nil
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT id FROM unnest($1::text[]) AS u(id)
		WHERE NOT EXISTS (SELECT 1 FROM clients c WHERE c.client_id = u.id) ORDER BY id`, clientIDs)
	if err != nil {
		return nil, unavailable(err, "check clients")
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, unavailable(err, "check clients")
}

// RecordFailure notes a failed fetch under the client's current company (solvency.ServiceStore);
// a failure recorded under another company drops that company's snapshot from the state.
func (s *Solvency) RecordFailure(ctx context.Context, clientID, provider string, at time.Time, cause error) error {
	msg := "unknown error"
	if cause != nil {
		msg = snapText(cause.Error())
	}
	if len(msg) > maxFailureLen {
		msg = strings.ToValidUTF8(msg[:maxFailureLen], "") + "…"
	}
	tag, err := s.db.Pool.Exec(ctx, `
		INSERT INTO solvency_state AS st (client_id, provider, company_key, failed_at, failure)
		SELECT c.client_id, $2, `+solvencyCompanyKey+`, $3, $4 FROM clients c WHERE c.client_id = $1
		ON CONFLICT (client_id, provider) DO UPDATE SET
			company_key = excluded.company_key,
			snapshot_id = CASE WHEN st.company_key = excluded.company_key THEN st.snapshot_id END,
			fetched_at = CASE WHEN st.company_key = excluded.company_key THEN st.fetched_at END,
			failed_at = CASE WHEN st.company_key <> excluded.company_key OR st.failed_at IS NULL OR excluded.failed_at >= st.failed_at
				THEN excluded.failed_at ELSE st.failed_at END,
			failure = CASE WHEN st.company_key <> excluded.company_key OR st.failed_at IS NULL OR excluded.failed_at >= st.failed_at
				THEN excluded.failure ELSE st.failure END`,
		clientID, provider, at.UTC(), msg)
	if err != nil {
		return unavailable(err, "record solvency failure")
	}
	if tag.RowsAffected() == 0 {
		return fault.Errorf(fault.NotFound, "no client %q", clientID)
	}
	return nil
}

// solvencyStateSelect reads state rows with their snapshots; every snapshot column may be NULL (a state
// holding only a failure). $2 asks for the raw payload.
const solvencyStateSelect = `
	SELECT c.client_id, st.provider, st.failed_at, st.failure,
		s.fetched_at, s.not_found, s.company_status, ` + "(s.status_date - " + epoch + ")" + `, s.insolvency_open,
		s.insolvency_kind, ` + "(s.insolvency_judgment_date - " + epoch + "), (s.insolvency_closed_date - " + epoch + ")" + `,
		s.insolvency_plan, s.insolvency_nature, s.grade, s.raw_score, s.scale,
		(s.recommended_limit * 100)::bigint, (s.revenue * 100)::bigint, (s.equity * 100)::bigint,
		s.negative_equity, s.negative_information, ` + "(s.creation_date - " + epoch + ")" + `,
		s.legal_category, s.naf, s.size_band, s.warnings, CASE WHEN $2::boolean THEN s.raw::text END
	FROM clients c
	LEFT JOIN solvency_state st ON st.client_id = c.client_id AND st.company_key = ` + solvencyCompanyKey + `
	LEFT JOIN solvency_snapshots s ON s.snapshot_id = st.snapshot_id`

// solvencyStateRow is one scanned row of solvencyStateSelect.
type solvencyStateRow struct {
	clientID                               string
	provider, failure                      *string
	failedAt, fetchedAt                    *time.Time
	notFound, open, plan, negEq, negInfo   *bool
	status, kind, nature, rawScore, scale  *string
	statusDate, judgment, closed, creation *int32
	grade                                  *int16
	limit, revenue, equity                 *int64
	legal, naf, sizeBand                   *string
	warnings                               []string
	raw                                    *string
}

func (r *solvencyStateRow) scan(rows pgx.Rows) error {
	return rows.Scan(&r.clientID, &r.provider, &r.failedAt, &r.failure, &r.fetchedAt, &r.notFound, &r.status, &r.statusDate,
		&r.open, &r.kind, &r.judgment, &r.closed, &r.plan, &r.nature, &r.grade, &r.rawScore, &r.scale, &r.limit, &r.revenue,
		&r.equity, &r.negEq, &r.negInfo, &r.creation, &r.legal, &r.naf, &r.sizeBand, &r.warnings, &r.raw)
}

func snapZero[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func snapCents(p *int64) *ledger.Money {
	if p == nil {
		return nil
	}
	m := ledger.Money(*p)
	return &m
}

// state builds the provider state of a row; ok is false for a client without any state.
func (r *solvencyStateRow) state() (solvency.ProviderState, bool) {
	if r.provider == nil {
		return solvency.ProviderState{}, false
	}
	st := solvency.ProviderState{Provider: *r.provider, Failure: snapZero(r.failure)}
	if r.failedAt != nil {
		t := r.failedAt.UTC()
		st.FailedAt = &t
	}
	if r.fetchedAt == nil {
		return st, true
	}
	sn := solvency.Snapshot{Provider: *r.provider, ClientID: r.clientID, FetchedAt: r.fetchedAt.UTC(), NotFound: snapZero(r.notFound),
		CompanyStatus: snapZero(r.status), StatusDate: optDate(r.statusDate),
		Insolvency: solvency.Insolvency{Open: snapZero(r.open), Kind: snapZero(r.kind), JudgmentDate: optDate(r.judgment),
			ClosedDate: optDate(r.closed), Plan: snapZero(r.plan), Nature: snapZero(r.nature)},
		RawScore: snapZero(r.rawScore), Scale: snapZero(r.scale), RecommendedLimit: snapCents(r.limit), Revenue: snapCents(r.revenue),
		Equity: snapCents(r.equity), NegativeEquity: r.negEq, NegativeInformation: r.negInfo, CreationDate: optDate(r.creation),
		LegalCategory: snapZero(r.legal), NAF: snapZero(r.naf), SizeBand: snapZero(r.sizeBand)}
	if r.grade != nil {
		g := int(*r.grade)
		sn.Grade = &g
	}
	if len(r.warnings) > 0 {
		sn.Warnings = r.warnings
	}
	if r.raw != nil {
		sn.Raw = json.RawMessage(*r.raw)
	}
	st.Snapshot = &sn
	return st, true
}

// States returns the client's state per provider (solvency.ServiceStore).
func (s *Solvency) States(ctx context.Context, clientID string, withRaw bool) ([]solvency.ProviderState, error) {
	rows, err := s.db.Pool.Query(ctx, solvencyStateSelect+` WHERE c.client_id = $1 ORDER BY st.provider`, clientID, withRaw)
	if err != nil {
		return nil, unavailable(err, "read solvency state")
	}
	defer rows.Close()
	found := false
	out := []solvency.ProviderState{}
	for rows.Next() {
		found = true
		var r solvencyStateRow
		if err := r.scan(rows); err != nil {
			return nil, unavailable(err, "read solvency state")
		}
		if st, ok := r.state(); ok {
			out = append(out, st)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(err, "read solvency state")
	}
	if !found {
		return nil, fault.Errorf(fault.NotFound, "no client %q", clientID)
	}
	return out, nil
}

// StatesByClient returns the states of many clients, without raw payloads (solvency.ServiceStore).
func (s *Solvency) StatesByClient(ctx context.Context, clientIDs []string) (map[string][]solvency.ProviderState, error) {
	out := map[string][]solvency.ProviderState{}
	if len(clientIDs) == 0 {
		return out, nil
	}
	rows, err := s.db.Pool.Query(ctx, solvencyStateSelect+` WHERE c.client_id = ANY($1) AND st.provider IS NOT NULL`, clientIDs, false)
	if err != nil {
		return nil, unavailable(err, "read solvency states")
	}
	defer rows.Close()
	for rows.Next() {
		var r solvencyStateRow
		if err := r.scan(rows); err != nil {
			return nil, unavailable(err, "read solvency states")
		}
		if st, ok := r.state(); ok {
			out[r.clientID] = append(out[r.clientID], st)
		}
	}
	return out, unavailable(rows.Err(), "read solvency states")
}
