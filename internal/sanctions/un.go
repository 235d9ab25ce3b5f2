package sanctions

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// unParty holds the fields of an INDIVIDUAL or ENTITY element of the UN consolidated list.
type unParty struct {
	DataID      string    `xml:"DATAID"`
	First       string    `xml:"FIRST_NAME"`
	Second      string    `xml:"SECOND_NAME"`
	Third       string    `xml:"THIRD_NAME"`
	Fourth      string    `xml:"FOURTH_NAME"`
	ListType    string    `xml:"UN_LIST_TYPE"`
	Reference   string    `xml:"REFERENCE_NUMBER"`
	ListedOn    string    `xml:"LISTED_ON"`
	Comments    string    `xml:"COMMENTS1"`
	Original    string    `xml:"NAME_ORIGINAL_SCRIPT"`
	Nationality []string  `xml:"NATIONALITY>VALUE"`
	Aliases     []unAlias `xml:"INDIVIDUAL_ALIAS"`
	EntAliases  []unAlias `xml:"ENTITY_ALIAS"`
	Births      []unBirth `xml:"INDIVIDUAL_DATE_OF_BIRTH"`
	Addresses   []string  `xml:"INDIVIDUAL_ADDRESS>COUNTRY"`
	EntAddress  []string  `xml:"ENTITY_ADDRESS>COUNTRY"`
}

type unAlias struct {
	Quality string `xml:"QUALITY"`
	Name    string `xml:"ALIAS_NAME"`
}

type unBirth struct {
	Type string `xml:"TYPE_OF_DATE"`
	Date string `xml:"DATE"`
	Year string `xml:"YEAR"`
	From string `xml:"FROM_YEAR"`
	To   string `xml:"TO_YEAR"`
}

// ParseUN reads the UN Security Council Consolidated List XML
// (CONSOLIDATED_LIST/INDIVIDUALS/INDIVIDUAL and ENTITIES/ENTITY). Individuals' names are their
// FIRST to FOURTH_NAME in that order; "Low" quality aliases are weak, "Good" ones strong; the
// name in original script is kept as a strong alias (Cyrillic ones are transliterated when
// matched).
func ParseUN(r io.Reader) ([]Entry, error) {
	var entries []Entry
	items := map[string]bool{"INDIVIDUAL": true, "ENTITY": true}
	err := streamXML(SourceUN, r, "CONSOLIDATED_LIST", items, func(d *xml.Decoder, se xml.StartElement) error {
		var p unParty
		if err := d.DecodeElement(&p, &se); err != nil {
			return fmt.Errorf("un: %s: %w", se.Name.Local, err)
		}
		e, err := p.entry(se.Name.Local == "INDIVIDUAL")
		if err != nil {
			return err
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return entries, checkEntries(SourceUN, entries)
}

func (p *unParty) entry(person bool) (Entry, error) {
	e := Entry{Source: SourceUN, SourceID: strings.TrimSpace(p.DataID), Type: TypeEntity}
	if e.SourceID == "" {
		return e, fmt.Errorf("un: an element without DATAID (reference %q)", p.Reference)
	}
	aliases, addresses := p.EntAliases, p.EntAddress
	if person {
		e.Type = TypePerson
		aliases, addresses = p.Aliases, p.Addresses
	}
	e.addName(joinNonEmpty(p.First, p.Second, p.Third, p.Fourth), StrengthPrimary)
	for _, a := range aliases {
		s := StrengthStrong
		if strings.EqualFold(strings.TrimSpace(a.Quality), "low") {
			s = StrengthWeak
		}
		e.addName(a.Name, s)
	}
	e.addName(p.Original, StrengthStrong)
	if len(e.Names) == 0 {
		return e, fmt.Errorf("un: DATAID %s has no name", e.SourceID)
	}
	for _, c := range append(append([]string(nil), p.Nationality...), addresses...) {
		if code, ok := CountryCode(c); ok {
			e.addCountry(code)
		}
	}
	for _, b := range p.Births {
		if bd, ok := b.birthDate(); ok {
			e.addBirthDate(bd)
		}
	}
	e.addProgram(p.ListType)
	e.ListedOn = isoDate(p.ListedOn)
	if ref := strings.TrimSpace(p.Reference); ref != "" {
		e.Remarks = "Reference " + ref + "."
	}
	e.Remarks = joinNonEmpty(e.Remarks, p.Comments)
	return e, nil
}

func (b unBirth) birthDate() (BirthDate, bool) {
	var bd BirthDate
	switch {
	case len(strings.TrimSpace(b.Date)) >= 10:
		d := isoDate(b.Date)
		if d == nil {
			return bd, false
		}
		y, m, day := d.Parts()
		bd = BirthDate{Year: y, Month: int(m), Day: day}
	case b.Year != "":
		bd.Year = atoiOr(b.Year)
	case b.From != "":
		bd.Year, bd.ToYear = atoiOr(b.From), atoiOr(b.To)
		if bd.ToYear <= bd.Year {
			bd.ToYear = 0
		}
	}
	if strings.EqualFold(strings.TrimSpace(b.Type), "APPROXIMATELY") {
		bd.Circa = true
	}
	return bd, bd.Year > 0
}
