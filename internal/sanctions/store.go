package sanctions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"
)

// Origin says how a list version came in.
type Origin string

// Origins of a list version.
const (
	OriginDownload Origin = "download" // fetched by the refresh job
	OriginFile     Origin = "file"     // loaded offline with `credo sanctions load`
)

// ListVersion is one accepted version of a list. Its ID grows with every accepted version of any
// source, which orders the sets of lists clients were screened against (see Screening.ListsSerial).
type ListVersion struct {
	ID          int64     `json:"version_id"`
	Source      Source    `json:"source"`
	ContentHash string    `json:"content_hash"`
	EntryCount  int       `json:"entry_count"`
	Origin      Origin    `json:"origin"`
	Location    string    `json:"location"` // the files or addresses it came from
	LoadedAt    time.Time `json:"loaded_at"`
	LoadedBy    string    `json:"loaded_by"`
}

// Validator is what a server said about a downloaded file, sent back in a conditional request so
// that an unchanged list costs a 304 and no transfer.
type Validator struct {
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
}

// Outcome is the result of one refresh of one list.
type Outcome string

// Refresh outcomes. Only loaded changes the list; refused and failed keep the last good version.
const (
	OutcomeLoaded      Outcome = "loaded"       // a new version was accepted
	OutcomeUnchanged   Outcome = "unchanged"    // downloaded again, same content hash
	OutcomeNotModified Outcome = "not_modified" // the server answered 304 to the conditional request
	OutcomeRefused     Outcome = "refused"      // unparsable, or fewer than half the previous entries
	OutcomeFailed      Outcome = "failed"       // the download itself failed after its retries
)

// RefreshOutcome records one refresh attempt of a list.
type RefreshOutcome struct {
	At      time.Time `json:"at"`
	Outcome Outcome   `json:"outcome"`
	Message string    `json:"message,omitempty"`
}

// Succeeded reports whether the attempt confirmed the list is current.
func (o RefreshOutcome) Succeeded() bool {
	return o.Outcome == OutcomeLoaded || o.Outcome == OutcomeUnchanged || o.Outcome == OutcomeNotModified
}

// ListState is what the store knows of one source: the version every replica should serve, the
// validators of its download, and the last refresh attempt.
type ListState struct {
	Source        Source
	Current       *ListVersion // nil when no version was ever accepted
	Validators    map[string]Validator
	LastRefresh   *RefreshOutcome
	LastSuccessAt *time.Time
}

// Subject is a client as screening sees it: the party, when its data last changed, its
// reviewers' dispositions, and the bookkeeping of its stored screening (if any).
type Subject struct {
	Party        Party
	UpdatedAt    time.Time
	Dispositions []Disposition
	// Screened is the stored screening's bookkeeping; nil when the client was never screened.
	Screened *ScreeningMark
}

// ScreeningMark says what a stored screening was computed from.
type ScreeningMark struct {
	ListsSerial     int64
	ClientUpdatedAt time.Time
	Digest          string
}

// current reports whether a screening computed from these lists and this client data is still
// the one to use.
func (m *ScreeningMark) current(serial int64, updatedAt time.Time) bool {
	return m != nil && m.ListsSerial >= serial && m.ClientUpdatedAt.Equal(updatedAt)
}

// Screening is the stored screening of one client: the result, when it was computed, and the
// list versions it was computed against.
type Screening struct {
	Result
	ScreenedAt *time.Time `json:"screened_at,omitempty"` // nil when not screened
	// ListVersions are the version ids of the lists screened against, by source.
	ListVersions map[Source]int64 `json:"list_versions"`
	// ListsSerial is the largest of ListVersions: a screening with a smaller serial than the
	// loaded lists' is out of date.
	ListsSerial int64 `json:"-"`
	// ClientUpdatedAt is the client's updated_at when screened: the screening is out of date
	// once the client changes.
	ClientUpdatedAt time.Time `json:"-"`
	// Digest fingerprints the status and the hits with their review status, so that a rescreen
	// that changes neither is not reported as a change.
	Digest string `json:"-"`
}

// digest fingerprints what a screening's consumers act on: the status, each hit with its review
// status, and the delisted confirmed entries. Scores are left out: they move a little with every
// list version (word frequencies) without changing anything a reviewer or a policy sees.
func digest(r *Result) string {
	parts := []string{string(r.Status)}
	for _, hs := range [][]Hit{r.Hits, r.Cleared} {
		for _, h := range hs {
			parts = append(parts, h.ID+"="+string(h.Status))
		}
	}
	for _, d := range r.Delisted {
		parts = append(parts, d.String()+"=delisted")
	}
	slices.Sort(parts[1:])
	sum := sha256.Sum256([]byte(strings.Join(parts, "\n")))
	return hex.EncodeToString(sum[:])
}

// StaleFilter selects the clients whose screening is missing or out of date: never screened,
// changed since, or screened against lists older than ListsSerial. With IDs, only those clients;
// otherwise a page in client_id order after After.
type StaleFilter struct {
	ListsSerial int64
	IDs         []string
	After       string
	Limit       int
}

// Store is what the sanctions service needs from storage; postgres.Sanctions implements it.
// Every write is audited in its own transaction.
type Store interface {
	// ListStates returns the state of every source that has one.
	ListStates(ctx context.Context) ([]ListState, error)
	// ListEntries returns a version's entries in file order.
	ListEntries(ctx context.Context, versionID int64) ([]Entry, error)
	// AddListVersion stores a version with its entries and makes it the source's current one,
	// unless the current version is no longer expectedCurrent (0: none), which is a
	// fault.Conflict: another loader got there first.
	AddListVersion(ctx context.Context, v ListVersion, entries []Entry, validators map[string]Validator, expectedCurrent int64, actor string) (ListVersion, error)
	// RecordRefresh records a refresh attempt that did not change the list; validators, when not
	// nil, replace the stored ones.
	RecordRefresh(ctx context.Context, src Source, o RefreshOutcome, validators map[string]Validator, actor string) error

	// Subject returns a client with its dispositions and its stored screening (nil if none);
	// fault.NotFound when the client does not exist.
	Subject(ctx context.Context, clientID string) (Subject, *Screening, error)
	// StaleSubjects returns clients whose screening is missing or out of date.
	StaleSubjects(ctx context.Context, f StaleFilter) ([]Subject, error)
	// SaveScreenings stores screenings and returns the ids of the clients whose status or hits
	// changed. A screening is skipped when the client changed since it was read, or when a
	// screening against newer lists is already stored.
	SaveScreenings(ctx context.Context, s []Screening, actor string) ([]string, error)
	// AddDisposition records a reviewer's decision.
	AddDisposition(ctx context.Context, d Disposition, actor string) error
}
