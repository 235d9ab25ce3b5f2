// Package sanctions parses the official sanctions lists (OFAC, UN, EU, UK, France), normalises
// names, indexes them for fast fuzzy search with explained scores, and screens clients and their
// directors with a memory of reviewed false positives. It holds no storage and no HTTP: the
// postgres and httpapi packages persist list versions, screenings and dispositions around it.
package sanctions

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/credorisk/credo/internal/ledger"
)

// Source names the list an entry comes from.
type Source string

// The lists Credo screens against.
const (
	SourceOFAC Source = "ofac" // US Treasury OFAC SDN list
	SourceUN   Source = "un"   // UN Security Council consolidated list
	SourceEU   Source = "eu"   // EU Financial Sanctions Files
	SourceUK   Source = "uk"   // UK Sanctions List (FCDO)
	SourceFR   Source = "fr"   // French Trésor national freeze register
)

// Sources lists every known source in a stable order.
var Sources = []Source{SourceOFAC, SourceUN, SourceEU, SourceUK, SourceFR}

// Valid reports whether s is one of the known sources.
func (s Source) Valid() bool {
	for _, k := range Sources {
		if s == k {
			return true
		}
	}
	return false
}

// EntryType is what a listed party is.
type EntryType string

// Entry types; the matcher treats a person against a non-person as a weaker match.
const (
	TypePerson   EntryType = "person"
	TypeEntity   EntryType = "entity"
	TypeVessel   EntryType = "vessel"
	TypeAircraft EntryType = "aircraft"
)

// Valid reports whether t is a known entry type.
func (t EntryType) Valid() bool {
	switch t {
	case TypePerson, TypeEntity, TypeVessel, TypeAircraft:
		return true
	}
	return false
}

// NameStrength says how much a listed name can be trusted to identify the party: the lists flag
// some aliases as weak (OFAC "weak a.k.a.", UN and UK "low quality", EU strong="false") because
// they are generic and produce most false positives.
type NameStrength string

// Name strengths, from the most to the least reliable.
const (
	StrengthPrimary NameStrength = "primary"
	StrengthStrong  NameStrength = "strong"
	StrengthWeak    NameStrength = "weak"
)

// Name is one name of a listed party with its strength.
type Name struct {
	Name     string       `json:"name"`
	Strength NameStrength `json:"strength"`
}

// BirthDate is a birth date as precise as the list gives it: a year, optionally a month and day,
// or a year range (ToYear) for "between 1953 and 1958"; Circa marks approximate dates.
type BirthDate struct {
	Year   int  `json:"year"`
	Month  int  `json:"month,omitempty"`
	Day    int  `json:"day,omitempty"`
	ToYear int  `json:"to_year,omitempty"`
	Circa  bool `json:"circa,omitempty"`
}

// yearRange is the span of years the birth date covers, widened by two years when approximate.
func (b BirthDate) yearRange() (int, int) {
	lo, hi := b.Year, b.Year
	if b.ToYear > hi {
		hi = b.ToYear
	}
	if b.Circa {
		lo, hi = lo-2, hi+2
	}
	return lo, hi
}

// Entry is one listed party, whatever its source, in the shape stored as JSONB and returned by
// the API.
type Entry struct {
	Source     Source       `json:"source"`
	SourceID   string       `json:"source_id"`
	Type       EntryType    `json:"type"`
	Names      []Name       `json:"names"`
	Countries  []string     `json:"countries,omitempty"` // ISO 3166 alpha-2: nationality, citizenship, addresses
	BirthDates []BirthDate  `json:"birth_dates,omitempty"`
	Programs   []string     `json:"programs,omitempty"`
	ListedOn   *ledger.Date `json:"listed_on,omitempty"`
	Remarks    string       `json:"remarks,omitempty"`
	// ListVersion is the list version the entry was loaded from, set by the loader (not the
	// parsers) so that screening hits can say which version raised them.
	ListVersion string `json:"list_version,omitempty"`
}

// EntryRef identifies an entry across list versions.
type EntryRef struct {
	Source   Source `json:"source"`
	SourceID string `json:"source_id"`
}

// Ref returns the entry's identity.
func (e *Entry) Ref() EntryRef { return EntryRef{Source: e.Source, SourceID: e.SourceID} }

// String formats the reference as "source-id" (for example "ofac-306"), the form used as a hit id.
func (r EntryRef) String() string { return string(r.Source) + "-" + r.SourceID }

// ParseEntryRef reads the "source-id" form written by EntryRef.String.
func ParseEntryRef(s string) (EntryRef, error) {
	src, id, ok := strings.Cut(s, "-")
	if !ok || !Source(src).Valid() || id == "" {
		return EntryRef{}, fmt.Errorf("entry reference %q: want <source>-<id> with source one of ofac, un, eu, uk, fr", s)
	}
	return EntryRef{Source: Source(src), SourceID: id}, nil
}

// PrimaryName is the entry's first primary name, or its first name when none is marked primary.
func (e *Entry) PrimaryName() string {
	for _, n := range e.Names {
		if n.Strength == StrengthPrimary {
			return n.Name
		}
	}
	if len(e.Names) > 0 {
		return e.Names[0].Name
	}
	return ""
}

// NamesHash fingerprints the entry's names so that a cleared false positive can be raised again
// when the list changes them. It hashes the raw names (case and spacing folded, order ignored)
// rather than their normalised tokens, so that an improvement of the normaliser does not reopen
// every cleared hit.
func NamesHash(e *Entry) string {
	names := make([]string, 0, len(e.Names))
	for _, n := range e.Names {
		names = append(names, strings.ToLower(strings.Join(strings.Fields(n.Name), " ")))
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		h.Write([]byte(n))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// addName appends a name unless it is empty or already present (same text, case-insensitively);
// a repeated name keeps the stronger of the two strengths.
func (e *Entry) addName(name string, s NameStrength) {
	name = strings.Join(strings.Fields(name), " ")
	if name == "" {
		return
	}
	for i := range e.Names {
		if strings.EqualFold(e.Names[i].Name, name) {
			if strengthRank(s) < strengthRank(e.Names[i].Strength) {
				e.Names[i].Strength = s
			}
			return
		}
	}
	e.Names = append(e.Names, Name{Name: name, Strength: s})
}

func strengthRank(s NameStrength) int {
	switch s {
	case StrengthPrimary:
		return 0
	case StrengthStrong:
		return 1
	default:
		return 2
	}
}

// addCountry appends an ISO code once.
func (e *Entry) addCountry(code string) {
	if code == "" {
		return
	}
	for _, c := range e.Countries {
		if c == code {
			return
		}
	}
	e.Countries = append(e.Countries, code)
}

// addProgram appends a programme once.
func (e *Entry) addProgram(p string) {
	p = strings.TrimSpace(p)
	if p == "" {
		return
	}
	for _, x := range e.Programs {
		if x == p {
			return
		}
	}
	e.Programs = append(e.Programs, p)
}

// addBirthDate appends a birth date once.
func (e *Entry) addBirthDate(b BirthDate) {
	if b.Year == 0 {
		return
	}
	for _, x := range e.BirthDates {
		if x == b {
			return
		}
	}
	e.BirthDates = append(e.BirthDates, b)
}

// checkEntries rejects a parsed list with duplicate ids or an entry without a name: both mean the
// file is not what the parser expects, and loading it would silently hide parties.
func checkEntries(src Source, entries []Entry) error {
	seen := make(map[string]bool, len(entries))
	for i := range entries {
		e := &entries[i]
		if e.SourceID == "" {
			return fmt.Errorf("%s: entry %d has no id", src, i+1)
		}
		if seen[e.SourceID] {
			return fmt.Errorf("%s: duplicate id %q", src, e.SourceID)
		}
		seen[e.SourceID] = true
		if len(e.Names) == 0 {
			return fmt.Errorf("%s: entry %q has no name", src, e.SourceID)
		}
	}
	if len(entries) == 0 {
		return fmt.Errorf("%s: the file holds no entries", src)
	}
	return nil
}
