package sanctions

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/credorisk/credo/internal/fault"
)

// ReviewThreshold is the score from which a screening raises a hit for a credit manager to
// review. It sits where the quality report puts the boundary: pairs OFAC's own tool does not
// return stay below 0.80, and pairs it scores 90 or more mostly reach 0.85.
const ReviewThreshold = 0.80

// screenLimit bounds the hits kept per screened name; more than a few hits above the review
// threshold means a very common name, and the first twenty are enough to review it.
const screenLimit = 20

// maxNoteLength bounds a disposition note.
const maxNoteLength = 2000

// Status is the outcome of screening a client, the value the decision policy reads.
type Status string

// Screening statuses. Only a person confirming a hit makes a client confirmed.
const (
	StatusClear          Status = "clear"           // no hit at or above the review threshold
	StatusPotentialMatch Status = "potential_match" // hits waiting for review
	StatusConfirmed      Status = "confirmed"       // a credit manager confirmed a hit
)

// HitStatus is where a hit stands in the review.
type HitStatus string

// Hit statuses.
const (
	HitOpen      HitStatus = "open"      // to review
	HitConfirmed HitStatus = "confirmed" // confirmed by a person
	HitCleared   HitStatus = "cleared"   // reviewed as a false positive, entry names unchanged
)

// Verdict is a reviewer's decision on a hit.
type Verdict string

// Verdicts.
const (
	VerdictFalsePositive Verdict = "false_positive"
	VerdictConfirmed     Verdict = "confirmed"
)

// Party is a client to screen: its own name (screened as an entity) and its directors (screened
// as persons).
type Party struct {
	ClientID  string     `json:"client_id"`
	Name      string     `json:"name"`
	Country   string     `json:"country,omitempty"` // ISO alpha-2 of the registered office
	Directors []Director `json:"directors,omitempty"`
}

// Director is a person screened with the client.
type Director struct {
	Name      string `json:"name"`
	Country   string `json:"country,omitempty"` // ISO alpha-2 nationality
	BirthYear int    `json:"birth_year,omitempty"`
}

// Disposition is a reviewer's recorded decision on the hit of one listed entry for one client.
// NamesHash is the entry's NamesHash when the decision was taken: a cleared false positive stays
// cleared only while the entry's names are the same.
type Disposition struct {
	ClientID  string    `json:"client_id"`
	Entry     EntryRef  `json:"entry"`
	Verdict   Verdict   `json:"verdict"`
	NamesHash string    `json:"names_hash"`
	Note      string    `json:"note"`
	DecidedBy string    `json:"decided_by"`
	DecidedAt time.Time `json:"decided_at"`
}

// Hit is one listed entry matched by the client or one of its directors. There is one hit per
// entry and client; its ID is the entry reference ("ofac-306"), stable across screenings, so a
// disposition can be recorded against it.
type Hit struct {
	ID          string       `json:"id"`
	Entry       EntryRef     `json:"entry"`
	EntryType   EntryType    `json:"entry_type"`
	EntryName   string       `json:"entry_name"` // the entry's primary name
	MatchedName string       `json:"matched_name"`
	Subject     string       `json:"subject"` // "client" or "director"
	SubjectName string       `json:"subject_name"`
	Score       float64      `json:"score"`
	ListVersion string       `json:"list_version,omitempty"`
	NamesHash   string       `json:"names_hash"`
	Status      HitStatus    `json:"status"`
	Disposition *Disposition `json:"disposition,omitempty"` // the decision that set the status, or the outdated one of a reopened hit
	Explanation *Explanation `json:"explanation,omitempty"`
}

// Result is the screening of one client.
type Result struct {
	ClientID string `json:"client_id"`
	Status   Status `json:"status"`
	// Hits are the open and confirmed hits, best first.
	Hits []Hit `json:"hits"`
	// Cleared are the hits a reviewer cleared as false positives; they still match, and are
	// shown for the record but do not count.
	Cleared []Hit `json:"cleared,omitempty"`
	// Delisted are entries once confirmed for this client that the loaded lists no longer hold.
	Delisted []EntryRef `json:"delisted,omitempty"`
}

// ScreenParty screens a client and its directors against the index, and applies the earlier
// dispositions of this client: a confirmed hit makes the client confirmed while its entry is
// listed; a false positive is cleared while the entry's names are those the reviewer saw.
// Dispositions of other clients are ignored; for one entry the latest decision counts.
func ScreenParty(ix *Index, p Party, prev []Disposition) (Result, error) {
	if ix == nil {
		return Result{}, errNotLoaded
	}
	if strings.TrimSpace(p.ClientID) == "" {
		return Result{}, fault.Validation("invalid party", fault.Field("client_id", "must not be empty"))
	}
	res := Result{ClientID: p.ClientID, Hits: []Hit{}} // [] rather than null in JSON when clear
	hits := map[EntryRef]*Hit{}
	screen := func(subject string, q Query) error {
		q.Limit, q.MinScore = screenLimit, ReviewThreshold
		ms, err := ix.Search(q)
		if err != nil {
			return err
		}
		for i := range ms {
			m := &ms[i]
			ref := m.Entry.Ref()
			if h, ok := hits[ref]; ok && h.Score >= m.Score {
				continue
			}
			ex := m.Explanation
			hits[ref] = &Hit{
				ID: ref.String(), Entry: ref, EntryType: m.Entry.Type, EntryName: m.Entry.PrimaryName(),
				MatchedName: m.MatchedName, Subject: subject, SubjectName: q.Name, Score: m.Score,
				ListVersion: m.Entry.ListVersion, NamesHash: NamesHash(&m.Entry), Status: HitOpen, Explanation: &ex,
			}
		}
		return nil
	}
	if err := screen("client", Query{Name: p.Name, Type: TypeEntity, Country: p.Country}); err != nil {
		return Result{}, err
	}
	for i, d := range p.Directors {
		if err := screen("director", Query{Name: d.Name, Type: TypePerson, Country: d.Country, BirthYear: d.BirthYear}); err != nil {
			return Result{}, prefixFields(err, "directors["+strconv.Itoa(i)+"].")
		}
	}

	for ref, d := range latestDispositions(p.ClientID, prev) {
		e, listed := ix.Entry(ref)
		h := hits[ref]
		switch d.Verdict {
		case VerdictConfirmed:
			if !listed {
				res.Delisted = append(res.Delisted, ref)
				continue
			}
			if h == nil { // confirmed identity stands even when the name no longer scores high
				h = &Hit{ID: ref.String(), Entry: ref, EntryType: e.Type, EntryName: e.PrimaryName(),
					ListVersion: e.ListVersion, NamesHash: NamesHash(&e)}
				hits[ref] = h
			}
			h.Status, h.Disposition = HitConfirmed, &d
		case VerdictFalsePositive:
			if h == nil {
				continue
			}
			h.Disposition = &d
			if d.NamesHash == h.NamesHash {
				h.Status = HitCleared
			}
		}
	}

	res.Status = StatusClear
	for _, h := range hits {
		switch h.Status {
		case HitCleared:
			res.Cleared = append(res.Cleared, *h)
			continue
		case HitConfirmed:
			res.Status = StatusConfirmed
		case HitOpen:
			if res.Status == StatusClear {
				res.Status = StatusPotentialMatch
			}
		}
		res.Hits = append(res.Hits, *h)
	}
	byScore := func(a, b Hit) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), strings.Compare(a.ID, b.ID))
	}
	slices.SortFunc(res.Hits, byScore)
	slices.SortFunc(res.Cleared, byScore)
	slices.SortFunc(res.Delisted, func(a, b EntryRef) int { return strings.Compare(a.String(), b.String()) })
	return res, nil
}

// latestDispositions keeps, per entry, the latest decision about this client.
func latestDispositions(clientID string, prev []Disposition) map[EntryRef]Disposition {
	out := map[EntryRef]Disposition{}
	for _, d := range prev {
		if d.ClientID != clientID {
			continue
		}
		if cur, ok := out[d.Entry]; !ok || d.DecidedAt.After(cur.DecidedAt) {
			out[d.Entry] = d
		}
	}
	return out
}

// NewDisposition records a reviewer's decision on a hit, checking the verdict and the note. The
// disposition carries the hit's NamesHash, so that a false positive comes back if the entry's
// names change.
func NewDisposition(clientID string, h Hit, verdict Verdict, note, by string, at time.Time) (Disposition, error) {
	var fields []fault.FieldError
	if verdict != VerdictFalsePositive && verdict != VerdictConfirmed {
		fields = append(fields, fault.Field("verdict", "must be false_positive or confirmed"))
	}
	note = strings.TrimSpace(note)
	switch {
	case note == "":
		fields = append(fields, fault.Field("note", "must explain the decision"))
	case utf8.RuneCountInString(note) > maxNoteLength:
		fields = append(fields, fault.Field("note", "must be at most %d characters", maxNoteLength))
	}
	if strings.TrimSpace(by) == "" {
		fields = append(fields, fault.Field("decided_by", "must name the reviewer"))
	}
	if len(fields) > 0 {
		return Disposition{}, fault.Validation("invalid disposition", fields...)
	}
	return Disposition{ClientID: clientID, Entry: h.Entry, Verdict: verdict, NamesHash: h.NamesHash,
		Note: note, DecidedBy: by, DecidedAt: at.UTC()}, nil
}

// prefixFields qualifies the field names of a validation error ("name" becomes
// "directors[0].name").
func prefixFields(err error, prefix string) error {
	var fe *fault.Error
	if !errors.As(err, &fe) {
		return err
	}
	out := *fe
	out.Fields = make([]fault.FieldError, len(fe.Fields))
	for i, f := range fe.Fields {
		f.Field = prefix + f.Field
		out.Fields[i] = f
	}
	return &out
}
