package sanctions

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ofacEmpty is how the legacy OFAC files write an empty field.
const ofacEmpty = "-0-"

// ParseOFAC reads the OFAC SDN list in its legacy CSV format: sdn.csv (one row per party), alt.csv
// (aliases), add.csv (addresses) and, optionally, sdn_comments.csv (the overflow of long Remarks;
// pass nil when absent). Remarks are mined for the "a.k.a." names (weak aliases, as OFAC marks
// them there), birth dates, nationality and citizenship. Any malformed row, including a row cut
// short by a truncated download, fails the whole parse.
func ParseOFAC(sdn, alt, add, comments io.Reader) ([]Entry, error) {
	rows, err := readOFACCSV("sdn.csv", sdn, 12)
	if err != nil {
		return nil, err
	}
	entries := make([]Entry, 0, len(rows))
	byID := make(map[string]int, len(rows))
	remarks := make([]string, 0, len(rows))
	for i, r := range rows {
		id := ofacField(r[0])
		if n, err := strconv.Atoi(id); err != nil || n <= 0 {
			return nil, fmt.Errorf("ofac sdn.csv line %d: ent_num %q is not a positive number", i+1, r[0])
		}
		if _, dup := byID[id]; dup {
			return nil, fmt.Errorf("ofac sdn.csv line %d: duplicate ent_num %s", i+1, id)
		}
		typ, err := ofacType(ofacField(r[2]))
		if err != nil {
			return nil, fmt.Errorf("ofac sdn.csv line %d: %w", i+1, err)
		}
		name := ofacField(r[1])
		if name == "" {
			return nil, fmt.Errorf("ofac sdn.csv line %d: ent_num %s has no name", i+1, id)
		}
		e := Entry{Source: SourceOFAC, SourceID: id, Type: typ}
		e.addName(name, StrengthPrimary)
		for _, p := range strings.Split(ofacField(r[3]), "] [") {
			e.addProgram(strings.Trim(p, "[] "))
		}
		if flag := ofacField(r[9]); flag != "" {
			if c, ok := CountryCode(flag); ok {
				e.addCountry(c)
			}
		}
		byID[id] = len(entries)
		entries = append(entries, e)
		remarks = append(remarks, ofacField(r[11]))
	}
	if comments != nil {
		crows, err := readOFACCSV("sdn_comments.csv", comments, 2)
		if err != nil {
			return nil, err
		}
		for _, r := range crows {
			// The comments file of an edition may carry rows for parties of another one; they
			// have nothing to extend.
			if i, ok := byID[ofacField(r[0])]; ok {
				remarks[i] += r[1]
			}
		}
	}
	altRows, err := readOFACCSV("alt.csv", alt, 5)
	if err != nil {
		return nil, err
	}
	for i, r := range altRows {
		e, err := ofacOwner(entries, byID, "alt.csv", i, r[0])
		if err != nil {
			return nil, err
		}
		switch t := ofacField(r[2]); t {
		case "aka", "fka", "nka":
			e.addName(ofacField(r[3]), StrengthStrong)
		default:
			return nil, fmt.Errorf("ofac alt.csv line %d: unknown alt_type %q", i+1, t)
		}
	}
	addRows, err := readOFACCSV("add.csv", add, 6)
	if err != nil {
		return nil, err
	}
	for i, r := range addRows {
		e, err := ofacOwner(entries, byID, "add.csv", i, r[0])
		if err != nil {
			return nil, err
		}
		if c, ok := CountryCode(ofacField(r[4])); ok {
			e.addCountry(c)
		}
	}
	for i := range entries {
		entries[i].Remarks = remarks[i]
		parseOFACRemarks(&entries[i], remarks[i])
	}
	return entries, checkEntries(SourceOFAC, entries)
}

// readOFACCSV reads a whole legacy file: no header, a fixed number of fields, and possibly the
// DOS end-of-file byte (0x1A) OFAC still appends.
func readOFACCSV(file string, r io.Reader, fields int) ([][]string, error) {
	if r == nil {
		return nil, fmt.Errorf("ofac %s: missing", file)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("ofac %s: %w", file, err)
	}
	b = bytes.TrimRight(b, "\x1a\r\n\t ")
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = fields
	cr.ReuseRecord = false
	var rows [][]string
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("ofac %s: %w", file, err)
		}
		rows = append(rows, rec)
	}
	// OFAC writes empty fields as "-0-". Only the very last field of a file may hold a part of
	// that marker (the published add.csv ends with "-0"); anywhere else it is a row cut short.
	for i, rec := range rows {
		for j, f := range rec {
			f = strings.TrimSpace(f)
			if (f == "-" || f == "-0") && (i != len(rows)-1 || j != len(rec)-1) {
				return nil, fmt.Errorf("ofac %s line %d: field %q cut short", file, i+1, f)
			}
			if f == "-" || f == "-0" {
				rec[j] = ofacEmpty
			}
		}
	}
	if len(rows) == 0 && file == "sdn.csv" {
		return nil, fmt.Errorf("ofac %s: no rows", file)
	}
	return rows, nil
}

func ofacOwner(entries []Entry, byID map[string]int, file string, line int, id string) (*Entry, error) {
	i, ok := byID[ofacField(id)]
	if !ok {
		return nil, fmt.Errorf("ofac %s line %d: ent_num %q is not in sdn.csv", file, line+1, id)
	}
	return &entries[i], nil
}

// ofacField trims a field and reads "-0-" as empty.
func ofacField(s string) string {
	s = strings.TrimSpace(s)
	if s == ofacEmpty {
		return ""
	}
	return s
}

func ofacType(s string) (EntryType, error) {
	switch strings.ToLower(s) {
	case "individual":
		return TypePerson, nil
	case "vessel":
		return TypeVessel, nil
	case "aircraft":
		return TypeAircraft, nil
	case "":
		return TypeEntity, nil
	}
	return "", fmt.Errorf("unknown SDN_Type %q", s)
}

// parseOFACRemarks mines the free-text Remarks, a list of "; "-separated items such as
// "DOB 04 Jul 1965", "alt. DOB circa 1960", "nationality Iran", "citizen Cuba",
// "a.k.a. 'BNC'" and "f.k.a. 'OSIS'".
func parseOFACRemarks(e *Entry, remarks string) {
	for _, item := range strings.Split(remarks, ";") {
		item = strings.TrimSpace(item)
		item = strings.TrimPrefix(item, "alt. ")
		switch {
		case strings.HasPrefix(item, "a.k.a. "), strings.HasPrefix(item, "f.k.a. "), strings.HasPrefix(item, "n.k.a. "):
			rest := strings.TrimSuffix(strings.TrimSpace(item[7:]), ".")
			if i, j := strings.IndexByte(rest, '\''), strings.LastIndexByte(rest, '\''); i >= 0 && j > i {
				rest = rest[i+1 : j]
			}
			e.addName(rest, StrengthWeak)
		case strings.HasPrefix(item, "DOB "):
			if b, ok := parseOFACDate(item[4:]); ok {
				e.addBirthDate(b)
			}
		case strings.HasPrefix(item, "nationality "), strings.HasPrefix(item, "citizen "):
			_, country, _ := strings.Cut(item, " ")
			if c, ok := CountryCode(strings.TrimSuffix(country, ".")); ok {
				e.addCountry(c)
			}
		}
	}
}

// parseOFACDate reads "04 Jul 1965", "Jul 1965", "1965", "circa 1965", "1950 to 1955",
// "01 Jan 1950 to 31 Dec 1955" and "1962-1965".
func parseOFACDate(s string) (BirthDate, bool) {
	s = strings.TrimSuffix(strings.TrimSpace(s), ".")
	var b BirthDate
	if rest, ok := strings.CutPrefix(s, "circa "); ok {
		b.Circa = true
		s = rest
	}
	from, to, isRange := strings.Cut(s, " to ")
	if !isRange {
		from, to, isRange = strings.Cut(s, "-")
	}
	y, m, d, ok := parseOFACDay(from)
	if !ok {
		return BirthDate{}, false
	}
	b.Year, b.Month, b.Day = y, m, d
	if isRange {
		ty, _, _, ok := parseOFACDay(to)
		if !ok || ty < y {
			return BirthDate{}, false
		}
		if ty != y {
			b.ToYear, b.Month, b.Day = ty, 0, 0
		}
	}
	return b, true
}

func parseOFACDay(s string) (year, month, day int, ok bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"02 Jan 2006", "Jan 2006", "2006"} {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		switch layout {
		case "2006":
			return t.Year(), 0, 0, true
		case "Jan 2006":
			return t.Year(), int(t.Month()), 0, true
		}
		return t.Year(), int(t.Month()), t.Day(), true
	}
	return 0, 0, 0, false
}
